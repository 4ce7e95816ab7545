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

// Durations of one kind of pause; percentiles and buckets are exact (over every pause seen).
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
	// For goroutine syscalls: durations of the slow calls whose ring-buffer record arrived
	// (all of them unless lost_events moved), capped at count.
	DurationBuckets buckets{};
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
};

struct Snapshot {
	std::string time;  // RFC 3339 UTC, e.g. "2026-11-28T04:05:06Z"
	std::vector<ProcessSnapshot> processes;
};

constexpr uint64_t kSlowPauseNs = 10'000'000;  // an STW pause over 10 ms is trouble

} // namespace gort::session
