// Goroutines of a live process from runtime.allgs (notes §11): every g the process ever had,
// read through /proc/PID/mem with the g layout from DWARF, without stopping the target.
#include "user/target/goroutine_snapshot.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

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
	// DWARF offsets, else derived from the binary, else gort's table for this minor version.
	StructOffsets offs = StructOffsets::of(bin);
	auto allgs = runtime_globals__allgs(bin, offs);
	if (!allgs)
		throw UserError(ExitCode::unsupported, bin.path() + ": cannot find runtime.allgs (no symbol, and "
								    "runtime.allgadd does not show it); rebuild without -ldflags=-s");
	std::optional<uint32_t> goid, status, startpc, gopc;
	for (auto [member, out] : {std::pair{"goid", &goid}, {"atomicstatus", &status}, {"startpc", &startpc}, {"gopc", &gopc}}) {
		ResolvedOffset r = offs.resolve("runtime.g", member);
		if (!r.value)
			throw UserError(ExitCode::unsupported, fmt::format("{} ({}): cannot read goroutines without the offset of {}; "
									   "rebuild it without -ldflags='-s -w' or update gort",
									   bin.path(), bin.build_info().version.raw, r.problem));
		*out = r.value;
	}

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

	// One read per g covering every field we need.
	size_t span = std::max({*goid + 8u, *status + 4u, *startpc + 8u, *gopc + 8u});
	std::vector<uint8_t> buf(span);
	std::vector<GoroutineRecord> out;
	out.reserve(n);
	auto u64 = [&](uint32_t off) {
		uint64_t v;
		memcpy(&v, buf.data() + off, 8);
		return v;
	};
	for (uint64_t gp : ptrs) {
		if (!gp || !mem.read(gp, buf.data(), span))
			continue;
		GoroutineRecord r;
		r.g = gp;
		r.goid = u64(*goid);
		uint32_t st;
		memcpy(&st, buf.data() + *status, 4);
		r.status = st & ~G_SCAN;
		uint64_t spc = u64(*startpc), cpc = u64(*gopc);
		r.startpc = spc ? spc - load_bias : 0;
		r.gopc = cpc ? cpc - load_bias : 0;
		out.push_back(r);
	}
	return out;
}

} // namespace gort::target
