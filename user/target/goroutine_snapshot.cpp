// Goroutines of a live process from runtime.allgs (notes §11): every g the process ever had,
// read through /proc/PID/mem with the g layout from DWARF, without stopping the target.
#include "user/target/goroutine_snapshot.h"

#include <algorithm>
#include <cstring>

#include "user/common/error.h"
#include "user/target/runtime_globals.h"

namespace gort::target {

namespace {

// _Gscan (runtime2.go) is OR-ed into atomicstatus while the GC scans a stack.
constexpr uint32_t G_SCAN = 0x1000;
// allgs only grows; a larger value means we read garbage (a torn slice header).
constexpr uint64_t MAX_GS = 10'000'000;

} // namespace

std::vector<GoroutineRecord> goroutine_snapshot__read(const GoBinary &bin, const ProcessMemory &mem, uint64_t load_bias)
{
	// DWARF offsets, or gort's table for this Go version (throws the refusal if neither).
	StructOffsets offs = StructOffsets::of(bin);
	auto allgs = runtime_globals__allgs(bin, offs);
	if (!allgs)
		throw UserError(ExitCode::unsupported, bin.path() + ": cannot find runtime.allgs (no symbol, and "
								    "runtime.allgadd does not show it); rebuild without -ldflags=-s");
	auto goid = offs.get("runtime.g", "goid");
	auto status = offs.get("runtime.g", "atomicstatus");
	auto startpc = offs.get("runtime.g", "startpc");
	auto gopc = offs.get("runtime.g", "gopc");
	if (!goid || !status || !startpc || !gopc)
		throw UserError(ExitCode::unsupported, bin.path() + ": no offsets of runtime.g's goid, atomicstatus, "
								    "startpc and gopc; rebuild without -ldflags=-w");

	// allgs is a []*g {ptr, len, cap}; allglen is the count published for lock-free readers
	// (proc.go allgadd: it is stored after the slice is updated), so prefer it when present.
	uint64_t hdr[3];
	if (!mem.read(*allgs + load_bias, hdr, sizeof hdr))
		throw UserError(ExitCode::no_process, "cannot read runtime.allgs of " + bin.path() +
							      " from the process (did it exit?)");
	uint64_t n = hdr[1];
	if (auto allglen = runtime_globals__allglen(bin, offs))
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

	// One read per g covering every field we need, batched.
	auto waitreason = offs.get("runtime.g", "waitreason");
	size_t span = std::max({*goid + 8u, *status + 4u, *startpc + 8u, *gopc + 8u, waitreason ? *waitreason + 1u : 0u});
	std::vector<uint8_t> buf(span * n);
	std::vector<bool> ok;
	mem.read_spans(ptrs.data(), n, span, buf.data(), ok);
	std::vector<GoroutineRecord> out;
	out.reserve(n);
	for (uint64_t i = 0; i < n; i++) {
		if (!ptrs[i] || !ok[i])
			continue;
		const uint8_t *g = buf.data() + i * span;
		auto u64 = [&](uint32_t off) {
			uint64_t v;
			memcpy(&v, g + off, 8);
			return v;
		};
		GoroutineRecord r;
		r.g = ptrs[i];
		r.goid = u64(*goid);
		uint32_t st;
		memcpy(&st, g + *status, 4);
		r.status = st & ~G_SCAN;
		uint64_t spc = u64(*startpc), cpc = u64(*gopc);
		r.startpc = spc ? spc - load_bias : 0;
		r.gopc = cpc ? cpc - load_bias : 0;
		if (waitreason)
			r.waitreason = g[*waitreason];
		out.push_back(r);
	}
	return out;
}

} // namespace gort::target
