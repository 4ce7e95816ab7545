// Goroutines of a live process from runtime.allgs (notes §11): every g the process ever had,
// read through /proc/PID/mem with the g layout from DWARF, without stopping the target.
#include "user/target/goroutine_snapshot.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <thread>

#include "user/common/error.h"
#include "user/target/runtime_globals.h"

namespace gort::target {

namespace {

// _Gscan (runtime2.go) is OR-ed into atomicstatus while the GC scans a stack.
constexpr uint32_t G_SCAN = 0x1000;
// allgs only grows; a larger value means we read garbage (a torn slice header).
constexpr uint64_t MAX_GS = 10'000'000;
// runtime2.go: the statuses a g passes through while it is being created or is ending.
constexpr uint32_t G_IDLE = 0, G_RUNNABLE = 1, G_RUNNING = 2, G_DEAD = 6;

// Reads single g's: one read per g covering every field we need.
class GReader {
public:
	GReader(const GoBinary &bin, const ProcessMemory &mem, uint64_t load_bias) : mem_(mem), bias_(load_bias)
	{
		// DWARF offsets, or gort's table for this Go version (throws the refusal if neither).
		StructOffsets offs = StructOffsets::of(bin);
		allgs_ = runtime_globals__allgs(bin, offs);
		if (!allgs_)
			throw UserError(ExitCode::unsupported, bin.path() + ": cannot find runtime.allgs (no symbol, and "
									    "runtime.allgadd does not show it); rebuild without -ldflags=-s");
		allglen_ = runtime_globals__allglen(bin, offs);
		auto goid = offs.get("runtime.g", "goid");
		auto status = offs.get("runtime.g", "atomicstatus");
		auto startpc = offs.get("runtime.g", "startpc");
		auto gopc = offs.get("runtime.g", "gopc");
		if (!goid || !status || !startpc || !gopc)
			throw UserError(ExitCode::unsupported, bin.path() + ": no offsets of runtime.g's goid, atomicstatus, "
									    "startpc and gopc; rebuild without -ldflags=-w");
		goid_ = *goid, status_ = *status, startpc_ = *startpc, gopc_ = *gopc;
		buf_.resize(std::max({goid_ + 8u, status_ + 4u, startpc_ + 8u, gopc_ + 8u}));
	}

	std::optional<uint64_t> allgs() const { return allgs_; }
	std::optional<uint64_t> allglen() const { return allglen_; }

	std::optional<GoroutineRecord> read(uint64_t gp)
	{
		if (!gp || !mem_.read(gp, buf_.data(), buf_.size()))
			return std::nullopt;
		GoroutineRecord r;
		r.g = gp;
		r.goid = u64(goid_);
		uint32_t st;
		memcpy(&st, buf_.data() + status_, 4);
		r.status = st & ~G_SCAN;
		uint64_t spc = u64(startpc_), cpc = u64(gopc_);
		r.startpc = spc ? spc - bias_ : 0;
		r.gopc = cpc ? cpc - bias_ : 0;
		return r;
	}

private:
	uint64_t u64(uint32_t off) const
	{
		uint64_t v;
		memcpy(&v, buf_.data() + off, 8);
		return v;
	}

	const ProcessMemory &mem_;
	uint64_t bias_;
	std::optional<uint64_t> allgs_, allglen_;
	uint32_t goid_ = 0, status_ = 0, startpc_ = 0, gopc_ = 0;
	std::vector<uint8_t> buf_;
};

} // namespace

std::vector<GoroutineRecord> goroutine_snapshot__read(const GoBinary &bin, const ProcessMemory &mem, uint64_t load_bias)
{
	GReader reader(bin, mem, load_bias);
	// allgs is a []*g {ptr, len, cap}; allglen is the count published for lock-free readers
	// (proc.go allgadd: it is stored after the slice is updated), so prefer it when present.
	uint64_t hdr[3];
	if (!mem.read(*reader.allgs() + load_bias, hdr, sizeof hdr))
		throw UserError(ExitCode::no_process, "cannot read runtime.allgs of " + bin.path() +
							      " from the process (did it exit?)");
	uint64_t n = hdr[1];
	if (auto allglen = reader.allglen())
		if (auto v = mem.read_u64(*allglen + load_bias); v && *v <= hdr[1])
			n = *v;
	if (n == 0 || !hdr[0])
		return {};
	if (n > MAX_GS)
		throw UserError(ExitCode::failure, "runtime.allgs of " + bin.path() + " reads as " + std::to_string(n) +
							   " goroutines; the memory read raced, try again");
	std::vector<uint64_t> ptrs(n);
	if (!mem.read(hdr[0], ptrs.data(), n * sizeof(uint64_t)))
		throw UserError(ExitCode::no_process, "cannot read the goroutine list of " + bin.path() + " (did it exit?)");

	std::vector<GoroutineRecord> out;
	out.reserve(n);
	for (uint64_t gp : ptrs)
		if (auto r = reader.read(gp))
			out.push_back(*r);
	return out;
}

size_t goroutine_snapshot__settle(const GoBinary &bin, const ProcessMemory &mem, uint64_t load_bias,
				  std::vector<GoroutineRecord> &records,
				  const std::function<std::set<uint64_t>()> &created_since, std::chrono::milliseconds limit)
{
	GReader reader(bin, mem, load_bias);
	std::vector<GoroutineRecord *> pending;
	for (auto &r : records)
		if (r.status == G_RUNNABLE || r.status == G_RUNNING)
			pending.push_back(&r);
	auto deadline = std::chrono::steady_clock::now() + limit;
	while (!pending.empty()) {
		std::set<uint64_t> created = created_since();
		std::erase_if(pending, [&](GoroutineRecord *r) {
			if (created.count(r->g))
				return true; // its creation was recorded: the caller leaves it out
			auto now = reader.read(r->g);
			if (!now)
				return false;
			if (r->status == G_RUNNABLE)
				return now->status != G_RUNNABLE; // it ran, so newproc.func1 passed the probe
			if (now->goid != r->goid || now->status == G_DEAD || now->status == G_IDLE) {
				// It ended. Had it ended after the start, goexit1's probe recorded it before
				// the g went dead (the caller counts it from there): allgs caught a goroutine
				// that had passed goexit1 before the probes started.
				r->status = G_DEAD;
				return true;
			}
			return now->status != G_RUNNING; // still alive: parked, in a syscall, runnable again
		});
		if (pending.empty() || std::chrono::steady_clock::now() >= deadline)
			break;
		std::this_thread::sleep_for(std::chrono::microseconds(500));
	}
	return pending.size();
}

} // namespace gort::target
