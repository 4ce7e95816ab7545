#include "user/goprocess/runtime_state.h"

#include <fmt/format.h>

#include "user/common/error.h"
#include "user/gobinary/offsets_table.h"
#include "user/gobinary/runtime_globals.h"

namespace gort::goprocess {

namespace {

// Bounds a torn read can exceed: allp has GOMAXPROCS entries (at most 2^20 in any runtime).
constexpr uint64_t kMaxProcs = 1 << 20;

} // namespace

bool runtime_counts__handed_out(const RuntimeCounts &c, uint64_t goid)
{
	if (goid > c.goidgen)
		return false;
	for (const auto &[lo, hi] : c.unused)
		if (goid >= lo && goid < hi)
			return false;
	return true;
}

RuntimeStateReader::RuntimeStateReader(const gobinary::GoBinary &bin, uint64_t load_bias)
{
	gobinary::StructOffsets offs = gobinary::StructOffsets::of(bin);
	auto need = [&](std::string_view type, std::string_view member) {
		auto v = offs.get(type, member);
		if (!v)
			throw UserError(ExitCode::unsupported, fmt::format("{}: no offset of {}.{} (no DWARF, and its Go "
									   "version is not in gort's offsets table): sampled "
									   "mode needs it; use --exact",
									   bin.path(), type, member));
		return *v;
	};
	goidgen_ = need("runtime.schedt", "goidgen");  // uint64, or atomic.Uint64 (value first) 1.20+
	ngsys_ = need("runtime.schedt", "ngsys");      // uint32, or atomic.Int32 1.21+
	uint32_t sched_gfree = need("runtime.schedt", "gFree");
	p_goidcache_ = need("runtime.p", "goidcache");
	p_goidcacheend_ = need("runtime.p", "goidcacheend");
	uint32_t p_gfree = need("runtime.p", "gFree");
	// The globals after the offsets (runtime_globals__sched needs schedt's): from .symtab, else
	// (stripped binaries) decoded from the runtime code that uses them.
	auto sched = gobinary::runtime_globals__sched(bin, offs);
	auto allp = gobinary::runtime_globals__allp(bin);
	auto allglen = gobinary::runtime_globals__allglen(bin, offs);
	if (!sched || !allp || !allglen)
		throw UserError(ExitCode::unsupported,
				fmt::format("{}: runtime.{} not found (stripped binary whose runtime code gort does not "
					    "recognise): sampled mode needs it; use --exact, or rebuild without -ldflags=-s",
					    bin.path(), !sched ? "sched" : !allp ? "allp" : "allglen"));
	sched_ = *sched + load_bias;
	allp_ = *allp + load_bias;
	allglen_ = *allglen + load_bias;

	// runtime2.go: Go 1.26 gave gList a size (head guintptr; size int32) and dropped the
	// separate counters; gcount() sums sched.gFree.stack.size + noStack.size + pp.gFree.size.
	// Before: sched.gFree is struct{lock mutex; stack, noStack gList; n int32} and p.gFree is
	// struct{gList; n int32}, gList being one pointer and mutex {lockRankStruct (empty without
	// GOEXPERIMENT=staticlockranking); key uintptr}: n sits 24 and 8 bytes in.
	if (auto size = offs.get("runtime.gList", "size")) {
		sched_free_ = {sched_gfree + 8 + *size, sched_gfree + 8 + 16 + *size};
		p_free_ = p_gfree + *size;
	} else {
		sched_free_ = {sched_gfree + 24};
		p_free_ = p_gfree + 8;
	}
}

std::optional<RuntimeCounts> RuntimeStateReader::read_once(const ProcessMemory &mem) const
{
	RuntimeCounts c;
	auto i32 = [&](uint64_t addr) -> std::optional<int64_t> {
		int32_t v;
		if (!mem.read(addr, &v, sizeof v))
			return std::nullopt;
		return v;
	};
	auto goidgen = mem.read_u64(sched_ + goidgen_);
	auto allglen = mem.read_u64(allglen_);
	auto ngsys = i32(sched_ + ngsys_);
	uint64_t allp[3];
	if (!goidgen || !allglen || !ngsys || !mem.read(allp_, allp, sizeof allp) || allp[2] > kMaxProcs || allp[1] > allp[2])
		return std::nullopt;
	c.goidgen = *goidgen;
	c.system = *ngsys;
	int64_t alive = static_cast<int64_t>(*allglen) - *ngsys;
	for (uint32_t off : sched_free_) {
		auto n = i32(sched_ + off);
		if (!n)
			return std::nullopt;
		alive -= *n;
	}
	// Every P up to the capacity holds a goid cache; gcount() subtracts the free lists of the Ps
	// in use (allp[:len]); Ps beyond it were destroyed by procresize, which moved their free gs
	// to sched.gFree (gfpurge), so theirs are empty.
	std::vector<uint64_t> ps(allp[2]);
	if (!ps.empty() && !mem.read(allp[0], ps.data(), ps.size() * 8))
		return std::nullopt;
	uint64_t unused = 0;
	for (size_t i = 0; i < ps.size(); i++) {
		if (!ps[i])
			continue;
		auto lo = mem.read_u64(ps[i] + p_goidcache_);
		auto hi = mem.read_u64(ps[i] + p_goidcacheend_);
		if (!lo || !hi)
			return std::nullopt;
		if (*hi > *lo && *hi - *lo <= 16) { // _GoidCacheBatch; both 0 for a P that never made one
			c.unused.push_back({*lo, *hi});
			unused += *hi - *lo;
		}
		if (i < allp[1]) {
			auto n = i32(ps[i] + p_free_);
			if (!n)
				return std::nullopt;
			alive -= *n;
		}
	}
	c.handed_out = c.goidgen - unused;
	// gcount() clamps at 1 ("at least the current goroutine is running").
	c.alive = alive < 1 ? 1 : alive;
	return c;
}

std::optional<RuntimeCounts> RuntimeStateReader::read(const ProcessMemory &mem, bool *stable) const
{
	std::optional<RuntimeCounts> prev = read_once(mem);
	for (int i = 0; i < 8 && prev; i++) {
		auto next = read_once(mem);
		if (!next)
			return std::nullopt;
		if (next->handed_out == prev->handed_out && next->alive == prev->alive && next->system == prev->system) {
			if (stable)
				*stable = true;
			return next;
		}
		prev = next;
	}
	if (stable)
		*stable = false;
	return prev;
}

} // namespace gort::goprocess
