// Every goroutine of a live Go process with its wait and its stack, read from the process's
// memory (no probes, no ptrace stop, no stop-the-world): runtime.allgs for the g structs, each
// stack unwound from the g's saved scheduling context (g.sched, or g.syscallsp/pc in a syscall)
// with the pclntab's pcsp tables, as the runtime's own traceback does, and symbolised with the
// pclntab's line tables and inline trees. What the runtime would print for it (runtime.Stack,
// pprof debug=2) is decided here too: which frames traceback level 1 shows, the status text.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "user/goprocess/goroutine_snapshot.h"

namespace gort::goprocess {

struct GoFrame {
	std::string function;  // as the runtime prints it (type parameters folded to [...])
	std::string file;      // "?" where the runtime has no position
	int line = 0;
	bool inlined = false;  // an inlined call: printed "(...)" without "+0x"
	uint64_t pc = 0;       // process address of the physical frame's pc (a return address)
	uint64_t offset = 0;   // pc minus its function's entry ("+0x..")
	bool shown = true;     // runtime.Stack (traceback level 1) prints it: not runtime-internal
	bool elided = false;   // shown, but beyond the runtime's frame limit (see elision)
};

struct CreatedBy {
	bool known = false;    // gopc resolved to a function
	bool shown = false;    // the runtime prints the line (not for goid 1 or runtime creators)
	std::string function, file;
	int line = 0;
	uint64_t offset = 0;
	uint64_t parent_goid = 0;  // Go 1.21+; 0 if unknown
};

enum class StackState {
	ok,          // unwound to the goroutine's first function
	running,     // on a thread right now: its saved context is stale, no stack is claimed
	changed,     // the g changed under every read: no stack is claimed
	truncated,   // the unwind stopped early (unknown pc, stack bounds): frames are a prefix
	none,        // no saved context (e.g. a g being created)
};

struct GoroutineInfo {
	GoroutineRecord rec;
	std::string status;       // the header's status: the wait reason while waiting, else the state
	std::string wait_reason;  // waitReasonStrings[g.waitreason] while waiting/leaked; else ""
	int64_t wait_ns = -1;     // now - g.waitsince; -1 while the runtime has not set waitsince
	bool waiting = false;     // parked (_Gwaiting, or _Gleaked on 1.26+)
	bool leaked = false;      // _Gleaked: the runtime's own leak detection marked it (1.26+)
	bool system = false;      // runtime.isSystemGoroutine: runtime.Stack leaves it out
	std::string start_function;
	StackState state = StackState::none;
	// Innermost first; shared between goroutines with the same stack.
	std::shared_ptr<const std::vector<GoFrame>> stack;
	// The runtime's line where it elides frames ("...150 frames elided..." at the first elided
	// frame, Go 1.21+; "...additional frames elided..." after the 100th before); "" if none.
	std::string elision;
	const std::vector<GoFrame> &frames() const
	{
		static const std::vector<GoFrame> none;
		return stack ? *stack : none;
	}
	CreatedBy created_by;
};

struct GoroutineDump {
	pid_t pid = 0;
	std::string go_version;   // runtime.Version() of the binary
	std::string binary;
	int64_t taken_ns = 0;     // CLOCK_MONOTONIC (the runtime's nanotime) when it was read
	std::vector<GoroutineInfo> goroutines;  // live ones, in allgs order
	size_t changed = 0;       // goroutines whose stack could not be read stably
};

// Opens the process once (binary, layout, wait reasons); dump() reads it, again and again.
class GoroutineInspector {
public:
	// Throws UserError: no_process (no such PID, or it exited), unsupported (not Go, no layout).
	explicit GoroutineInspector(pid_t pid);
	~GoroutineInspector();
	// One consistent read of every goroutine. Throws UserError(no_process) if the process ends
	// meanwhile: a dump is complete or not made.
	GoroutineDump dump();

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

// runtime.printFuncName: "pkg.F[go.shape.int]" -> "pkg.F[...]".
std::string goroutine_stacks__print_name(const std::string &name);

// traceback.go showfuncinfo at level 1 for a frame named `name` whose funcID is the version's
// wrapper id (`wrapper`), `first` when no frame was printed yet, `callee` the inner frame's name.
bool goroutine_stacks__shown(const std::string &name, bool wrapper, bool first, const std::string &callee);

class ProcessMemory;

// Whether every stack word an unwind used still holds the value it read: `slots` has one list
// per goroutine of address, value, address, value... (ascending addresses); a failed read is
// "no". A goroutine's span of up to `max_span` bytes is read as one region while the bytes read
// whole stay under `max_total`; other words are read one by one.
std::vector<bool> goroutine_stacks__slots_hold(const ProcessMemory &mem, const std::vector<std::vector<uint64_t>> &slots,
					       uint64_t max_span, uint64_t max_total);

} // namespace gort::goprocess
