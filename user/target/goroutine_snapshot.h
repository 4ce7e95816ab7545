// The goroutines of a live process, read from its memory without probes: runtime.allgs is a
// slice of *g holding every g the process ever had (dead ones are kept for reuse).
#pragma once

#include <cstdint>
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
	uint8_t waitreason = 0;  // g.waitreason (a waitReason enum value) while _Gwaiting
};

// _Gidle (0) and _Gdead (6) are not goroutines that exist; nor is _Gdeadextra (11, Go 1.26+
// runtime2.go), the dead g kept on an extra M for C threads that call into Go (cgo), which
// runtime.NumGoroutine does not count. No earlier version has a status 11.
inline bool goroutine__alive(const GoroutineRecord &g) { return g.status != 0 && g.status != 6 && g.status != 11; }

// Reads runtime.allgs/allglen. Throws UserError(unsupported) if the symbols or the g offsets
// are missing. Values race with the running program; parked goroutines are stable. The gs are
// read in batches (process_vm_readv); a g that cannot be read is skipped, a g that changes while
// read yields a record that is a mix of its before and after (never a crash: every field is
// just a number here).
std::vector<GoroutineRecord> goroutine_snapshot__read(const GoBinary &bin, const ProcessMemory &mem,
						      uint64_t load_bias);

} // namespace gort::target
