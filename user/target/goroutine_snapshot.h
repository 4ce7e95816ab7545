// The goroutines of a live process, read from its memory without probes: runtime.allgs is a
// slice of *g holding every g the process ever had (dead ones are kept for reuse).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <vector>

#include "user/target/go_binary.h"
#include "user/target/process.h"

namespace gort::target {

struct GoroutineRecord {
	uint64_t g = 0;       // the g's address in the process (what the probes see as newg)
	uint64_t goid = 0;
	uint32_t status = 0;  // g.atomicstatus without the _Gscan bit (0x1000)
	uint64_t startpc = 0; // link-time address (load bias removed)
	uint64_t gopc = 0;    // link-time address (load bias removed)
};

// _Gidle (0) and _Gdead (6) are not goroutines that exist; nor is _Gdeadextra (11, Go 1.26+
// runtime2.go), the dead g kept on an extra M for C threads that call into Go (cgo), which
// runtime.NumGoroutine does not count. No earlier version has a status 11.
inline bool goroutine__alive(const GoroutineRecord &g) { return g.status != 0 && g.status != 6 && g.status != 11; }

// Reads runtime.allgs/allglen. Throws UserError(unsupported) if the symbols or the g offsets
// are missing. Values race with the running program; parked goroutines are stable.
std::vector<GoroutineRecord> goroutine_snapshot__read(const GoBinary &bin, const ProcessMemory &mem,
						      uint64_t load_bias);

// allgs read just after the probes started can catch a g mid-transition, for as long as a loaded
// machine keeps its thread descheduled: _Grunnable before newproc.func1's creation probe has
// fired (newproc1 marks the g runnable first), or still _Grunning after its goroutine passed
// goexit1 (goexit0/gdestroy marks it dead later), perhaps before goexit1's probe was attached.
// While the baseline probes still record, this re-reads those g's until each has moved on:
// a runnable one has run (so its creation probe has fired and, if that was after the start,
// recorded the g in created_since()) or was created since; a running one that has ended is
// marked _Gdead (had it ended after the start, goexit1's probe recorded it before the g went
// dead). Gives up after `limit` (a goroutine that runs all along) and returns how many records
// were still unsettled then; those keep the status read.
size_t goroutine_snapshot__settle(const GoBinary &bin, const ProcessMemory &mem, uint64_t load_bias,
				  std::vector<GoroutineRecord> &records,
				  const std::function<std::set<uint64_t>()> &created_since, std::chrono::milliseconds limit);

} // namespace gort::target
