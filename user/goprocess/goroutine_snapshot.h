// The goroutines of a live process, read from its memory without probes: runtime.allgs is a
// slice of *g holding every g the process ever had (dead ones are kept for reuse).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "user/gobinary/go_binary.h"
#include "user/gobinary/offsets_table.h"
#include "user/goprocess/process.h"

namespace gort::goprocess {

struct GoroutineRecord {
	uint64_t g = 0;       // the g's address in the process (what the probes see as newg)
	uint64_t goid = 0;
	uint32_t status = 0;  // g.atomicstatus without the _Gscan bit (0x1000)
	uint64_t startpc = 0; // link-time address (load bias removed)
	uint64_t gopc = 0;    // link-time address (load bias removed)
	// The rest is filled when the binary's g layout has the member (DWARF or gort's table);
	// addresses below are the process's own (load bias included), as the runtime stores them.
	bool scan = false;          // the _Gscan bit was set: the GC is scanning this stack
	uint8_t waitreason = 0;     // index into runtime.waitReasonStrings (meaningful while waiting)
	// g.trackingSeq: casgstatus adds 1 every time the g leaves _Grunning (every Go 1.19..1.27),
	// so two reads that agree on it saw no run in between (bar a multiple of 256 runs).
	uint8_t tracking_seq = 0;
	int64_t waitsince = 0;      // nanotime() the runtime first saw it blocked; 0 if not yet
	uint64_t parent_goid = 0;   // Go 1.21+; 0 before
	uint64_t sched_sp = 0, sched_pc = 0, sched_bp = 0;  // g.sched: where it stopped running
	uint64_t syscall_sp = 0, syscall_pc = 0, syscall_bp = 0;  // set while in a syscall
	uint64_t stack_lo = 0, stack_hi = 0;
	bool locked_to_thread = false;  // g.lockedm != 0
	bool has_sched = false;     // g.sched and g.stack offsets were known
};

// _Gidle (0) and _Gdead (6) are not goroutines that exist; nor is _Gdeadextra (11, Go 1.26+
// runtime2.go), the dead g kept on an extra M for C threads that call into Go (cgo), which
// runtime.NumGoroutine does not count. No earlier version has a status 11.
inline bool goroutine__alive(const GoroutineRecord &g) { return g.status != 0 && g.status != 6 && g.status != 11; }

// The g status values of runtime2.go (the same 0-9 in 1.17-1.27; 10-11 from 1.26).
enum GStatus : uint32_t {
	G_IDLE = 0, G_RUNNABLE = 1, G_RUNNING = 2, G_SYSCALL = 3, G_WAITING = 4, G_DEAD = 6,
	G_COPYSTACK = 8, G_PREEMPTED = 9, G_LEAKED = 10, G_DEADEXTRA = 11,
};

// The runtime's name of a status (traceback.go gStatusStrings): "running", "waiting", ...
std::string goroutine__status_name(uint32_t status);

// Reads g structs of one process with one layout (offsets resolved once).
class GoroutineReader {
public:
	// Throws UserError(unsupported) if runtime.allgs or the g offsets cannot be found.
	GoroutineReader(const gobinary::GoBinary &bin, const ProcessMemory &mem, uint64_t load_bias);

	// Every g in allgs (throws UserError(no_process) if the process's memory cannot be read).
	std::vector<GoroutineRecord> read_all() const;
	// One g again (for the stability check of a g read while it runs); false if unreadable.
	bool read_one(uint64_t gp, GoroutineRecord &out) const;
	// Many g's in few system calls; out[i] is valid where the result is true.
	std::vector<bool> read_batch(const std::vector<uint64_t> &gps, std::vector<GoroutineRecord> &out) const;
	bool has_stacks() const { return sched_ && stack_; }

private:
	void decode(uint64_t gp, const uint8_t *buf, GoroutineRecord &r) const;

	const gobinary::GoBinary &bin_;
	const ProcessMemory &mem_;
	uint64_t bias_;
	uint64_t allgs_ = 0;
	std::optional<uint64_t> allglen_;
	uint32_t goid_ = 0, status_ = 0, startpc_ = 0, gopc_ = 0;
	std::optional<uint32_t> waitreason_, tracking_seq_, waitsince_, parent_, sched_, sp_, pc_, bp_, syscallsp_, syscallpc_,
		syscallbp_, stack_, lo_, hi_, lockedm_;
	size_t span_ = 0;
};

// Reads runtime.allgs/allglen. Throws UserError(unsupported) if the symbols or the g offsets
// are missing. Values race with the running program; parked goroutines are stable. The gs are
// read in batches (process_vm_readv); a g that cannot be read is skipped, a g that changes while
// read yields a record that is a mix of its before and after (never a crash: every field is
// just a number here).
std::vector<GoroutineRecord> goroutine_snapshot__read(const gobinary::GoBinary &bin, const ProcessMemory &mem,
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
size_t goroutine_snapshot__settle(const gobinary::GoBinary &bin, const ProcessMemory &mem, uint64_t load_bias,
				  std::vector<GoroutineRecord> &records,
				  const std::function<std::set<uint64_t>()> &created_since, std::chrono::milliseconds limit);

} // namespace gort::goprocess
