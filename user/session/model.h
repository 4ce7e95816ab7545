// The one model every view renders: a snapshot of what is known about each traced process,
// cumulative since attach. Built only by the Aggregator (user/session/aggregator.h).
#pragma once

#include <sys/types.h>

#include <array>
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

// What a site's live goroutines were doing at the last census (a periodic read of the process's
// runtime.allgs, no probes): e.g. 498 in "chan receive", the longest for 14 minutes.
struct SiteWait {
	std::string reason;      // the runtime's wait reason; or "running", "runnable", "syscall"
	uint64_t count = 0;
	uint64_t oldest_ns = 0;  // longest wait by the runtime's g.waitsince; 0 while none is set
	int64_t change = 0;      // count minus the previous census's (a growing leak: > 0 each time)
};

struct Site {
	std::string function;    // the function the goroutines run (go wrappers resolved)
	std::string created_by;  // the function holding the go statement
	std::string created_at;  // "main.go:42" (file base name and line)
	bool system = false;     // started in the runtime (GC workers, ...)
	uint64_t created = 0;
	uint64_t exited = 0;
	int64_t live = 0;
	std::vector<SiteWait> waits;  // at the last census, most common first; empty without one
};

// Upper bounds of the duration histograms (Prometheus export): 10 µs to 10 s, with 10 ms (a
// pause worth an alert, kSlowPauseNs) as a bound. buckets[i] counts durations <= bound i.
inline constexpr std::array<uint64_t, 16> kDurationBucketsNs = {
	10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000,
	25'000'000, 50'000'000, 100'000'000, 250'000'000, 1'000'000'000, 10'000'000'000,
};
using DurationBuckets = std::array<uint64_t, kDurationBucketsNs.size()>;  // cumulative counts

// Durations of one kind of pause: count, total, max and buckets exact (over every pause seen);
// p50/p99 within 1/256 of the exact nearest-rank value (session/duration_sketch.h).
struct PauseStats {
	uint64_t count = 0;
	uint64_t total_ns = 0;
	uint64_t max_ns = 0;
	uint64_t p50_ns = 0;
	uint64_t p99_ns = 0;
	DurationBuckets buckets{};
};

struct SyscallStats {
	std::string name;  // "read", "nanosleep", ... ("syscall_NNN" if unknown)
	uint64_t count = 0;
	uint64_t total_ns = 0;
	uint64_t max_ns = 0;
	// For goroutine syscalls: slow calls per creation site function ("main.worker" -> n).
	std::map<std::string, uint64_t> by_function;
	// The same, most slow calls first (ties by name): what the views list first.
	std::vector<std::pair<std::string, uint64_t>> top_functions;
	// For goroutine syscalls: durations of the slow calls whose ring-buffer record arrived
	// (all of them unless lost_events moved), capped at count.
	DurationBuckets buckets{};
};

// One completed GC cycle from the runtime's own bookkeeping (bpf/gc.bpf.c): the figures of its
// GODEBUG=gctrace=1 line (runtime/mgc.go gcMarkTermination), unrounded.
struct GcCycle {
	pid_t pid = 0;
	uint32_t num = 0;               // "gc N": memstats.numgc, cycles since the program started
	uint64_t start_mono_ns = 0;     // work.tSweepTerm (nanotime(): CLOCK_MONOTONIC)
	uint64_t since_start_ns = 0;    // "@T s": tSweepTerm - runtimeInitTime
	double cpu_fraction = 0;        // "P%": memstats.gc_cpu_fraction, over the program's life
	// Wall clock: sweep termination (STW), concurrent mark, mark termination (STW).
	uint64_t clock_sweep_term_ns = 0, clock_mark_ns = 0, clock_mark_term_ns = 0;
	// CPU: STW sweep termination, mark assist, background (dedicated + fractional), idle mark,
	// STW mark termination.
	uint64_t cpu_sweep_term_ns = 0, cpu_assist_ns = 0, cpu_background_ns = 0, cpu_idle_ns = 0,
		 cpu_mark_term_ns = 0;
	uint64_t heap_start = 0;   // work.heap0: heap live when the cycle began (bytes)
	uint64_t heap_end = 0;     // work.heap1: when marking ended
	uint64_t heap_marked = 0;  // work.heap2: marked live
	uint64_t heap_goal = 0;    // gcController.lastHeapGoal
	uint64_t stacks = 0;       // scannable stack bytes
	uint64_t globals = 0;      // scannable globals bytes
	uint32_t procs = 0;        // "N P": work.maxprocs
	bool forced = false;       // runtime.GC() or debug.FreeOSMemory()
	uint64_t pause_ns = 0;     // work.pauseNS: both STW pauses of this cycle
	uint64_t pause_total_ns = 0;  // memstats.pause_total_ns (MemStats.PauseTotalNs)
	int32_t gogc = 0;          // gcController.gcPercent (-1: off)
	int64_t memory_limit = 0;  // gcController.memoryLimit (math.MaxInt64: none)
	int32_t gomaxprocs = 0;    // runtime.gomaxprocs when the cycle ended (0: unknown)
};

// The heap and pacer as the last completed cycle left them (known once a cycle was seen).
struct HeapStats {
	bool known = false;
	uint32_t num_gc = 0;          // MemStats.NumGC
	uint64_t pause_total_ns = 0;  // MemStats.PauseTotalNs
	uint64_t live = 0;            // heap marked live by the last cycle (bytes)
	uint64_t goal = 0;            // the heap goal it set (MemStats.NextGC while GOGC and the limit hold)
	int32_t gogc = 0;
	int64_t memory_limit = 0;
	int32_t gomaxprocs = 0;
	double gc_cpu_fraction = 0;   // MemStats.GCCPUFraction
	uint64_t os_threads = 0;      // threads of the process now (/proc/PID/task)
	// Read from the process now (not from the last cycle), computed as ReadMemStats does:
	bool alloc_known = false;
	uint64_t alloc = 0;           // MemStats.HeapAlloc
	uint64_t objects = 0;         // MemStats.HeapObjects
	std::vector<int64_t> live_history;  // heap live after each cycle, oldest first
};

// What tracing costs the target (issue 9): the goroutine probes are one uprobe trap per
// goroutine created or ended. In "exact" mode they are always on; in "sampled" mode the totals
// and live counts come from the runtime's own state and the probes run only for a fraction of
// each interval, so per-site created/exited are estimates (counts in the windows / fraction).
// One stretch of a session in one mode, for the record of what was estimated when.
struct ModeSpan {
	std::string mode = "exact";  // "exact", "sampled", or "mixed" (the oldest spans, folded past 64)
	std::string reason = "start";  // why it began: "start", "forced", "over_budget", "under_budget"
	double from_s = 0, to_s = 0;   // seconds since attach (the last span: to the snapshot's time)
	double cost_percent = 0;       // exact mode's estimated cost when it began, % of one CPU (switches only)
	double sample_fraction = 1;    // sampled: share of the span the goroutine probes counted
};

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
	std::vector<ModeSpan> modes;    // the mode over the session, oldest first
	// Seconds since attach of the last reading of the runtime's state (-1: none, exact mode's
	// BPF counts). While sampled, goroutine totals and per-site live are that reading's.
	double last_reading_s = -1;
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
	// Net goroutines over the live history (newest minus oldest): a leak is a steady positive
	// number here, what the --all table sorts on.
	int64_t live_growth = 0;

	std::vector<Site> sites;  // sorted by live descending, then created descending

	uint64_t gc_cycles = 0;
	PauseStats stw_gc;     // GC sweep + mark termination
	PauseStats stw_other;  // ReadMemStats, GOMAXPROCS, goroutine profile, ...
	std::map<std::string, PauseStats> stw_by_reason;  // reason text as the runtime names it
	uint64_t stw_worst_ns = 0;  // the longest pause of either kind: a process's trouble at a glance
	HeapStats heap;
	std::vector<GcCycle> gc_recent;  // the last few cycles, oldest first

	uint64_t syscall_threshold_ns = 0;
	std::vector<SyscallStats> syscalls;       // goroutine syscalls >= threshold, by total desc
	uint64_t slow_syscalls = 0;               // their count, every syscall together
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
