// The one model every view renders: a snapshot of what is known about each traced process,
// cumulative since attach. Built only by the Aggregator (user/session/aggregator.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gort::session {

struct GoroutineCounts {
	uint64_t created = 0;   // user goroutines created since attach
	uint64_t exited = 0;
	int64_t live = 0;       // alive at attach + created - exited
	int64_t peak = 0;
	uint64_t live_at_attach = 0;
	uint64_t system_created = 0;  // runtime-internal goroutines (not in runtime.NumGoroutine)
	uint64_t system_exited = 0;
};

struct Site {
	std::string function;    // the function the goroutines run (go wrappers resolved)
	std::string created_by;  // the function holding the go statement
	std::string created_at;  // "main.go:42" (file base name and line)
	bool system = false;     // started in the runtime (GC workers, ...)
	uint64_t created = 0;
	uint64_t exited = 0;
	int64_t live = 0;
};

// Durations of one kind of pause; percentiles are exact (over every pause seen).
struct PauseStats {
	uint64_t count = 0;
	uint64_t total_ns = 0;
	uint64_t max_ns = 0;
	uint64_t p50_ns = 0;
	uint64_t p99_ns = 0;
};

struct SyscallStats {
	std::string name;  // "read", "nanosleep", ... ("syscall_NNN" if unknown)
	uint64_t count = 0;
	uint64_t total_ns = 0;
	uint64_t max_ns = 0;
	// For goroutine syscalls: slow calls per creation site function ("main.worker" -> n).
	std::map<std::string, uint64_t> by_function;
};

// What tracing costs the target (issue 9): the goroutine probes are one uprobe trap per
// goroutine created or ended. In "exact" mode they are always on; in "sampled" mode the totals
// and live counts come from the runtime's own state and the probes run only for a fraction of
// each interval, so per-site created/exited are estimates (counts in the windows / fraction).
struct ProbeCost {
	std::string mode = "exact";     // "exact" or "sampled" (now)
	bool forced = true;             // --exact (or a recording/library default): never switches
	double sample_fraction = 1;     // share of the last interval the goroutine probes counted
	bool sites_estimated = false;   // per-site created/exited include scaled windows
	double traps_per_sec = 0;       // goroutine-probe traps in the target per second (last interval)
	double exact_traps_per_sec = 0; // what exact mode would trap (window rate scaled up)
	double trap_ns = 0;             // calibrated cost of one trap on this machine (0: unknown)
	double cpu_percent = 0;         // traps_per_sec * trap_ns: CPU imposed on the target, % of one CPU
	double budget_percent = 0;      // --overhead
	uint64_t mode_changes = 0;
};

struct ProcessSnapshot {
	pid_t pid = 0;
	std::string comm;
	std::string exe;
	std::string go_version;
	bool exited = false;  // the process ended during the session
	double seconds = 0;   // since attach

	GoroutineCounts goroutines;
	// Per-second rates over the last interval, and a short history of live (oldest first).
	double created_per_sec = 0;
	double exited_per_sec = 0;
	double gc_per_sec = 0;
	std::vector<int64_t> live_history;

	std::vector<Site> sites;  // sorted by live descending, then created descending

	uint64_t gc_cycles = 0;
	PauseStats stw_gc;     // GC sweep + mark termination
	PauseStats stw_other;  // ReadMemStats, GOMAXPROCS, goroutine profile, ...
	std::map<std::string, PauseStats> stw_by_reason;  // reason text as the runtime names it

	uint64_t syscall_threshold_ns = 0;
	std::vector<SyscallStats> syscalls;       // goroutine syscalls >= threshold, by total desc
	std::vector<SyscallStats> runtime_waits;  // the runtime's own waits on g0 >= threshold

	uint64_t lost_events = 0;
	ProbeCost cost;
};

struct Snapshot {
	std::string time;  // RFC 3339 UTC, e.g. "2026-11-28T04:05:06Z"
	std::vector<ProcessSnapshot> processes;
};

constexpr uint64_t kSlowPauseNs = 10'000'000;  // an STW pause over 10 ms is trouble

} // namespace gort::session
