// The contracts the layers meet at: what the probes deliver (a stream of records and counters),
// what names their addresses (process symbols), what time it is (the clock) and when the model
// moves on (the tick). The probes implement some of them, the session and the recorder consume
// them, and a replayed recording implements them again from a file: each side depends on this
// header, none on the other. It depends only on include/gort/ and the standard library, so that
// every folder of user/ may include it (scripts/check-layering.sh).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gort/bpf_shared.h"

namespace gort {

// A moment, on the clock BPF stamps events with (CLOCK_MONOTONIC) and on the wall clock.
struct Clock {
	uint64_t mono_ns = 0;
	int64_t wall_ns = 0;  // since the Unix epoch
};
Clock clock__now();
std::string clock__rfc3339(int64_t wall_ns);

// "read", "nanosleep", ... for the x86-64 syscall numbers the records carry.
std::string syscall_name(uint32_t nr);

// Receives every ring-buffer record; `data` starts with the header.
class EventSink {
public:
	virtual ~EventSink() = default;
	virtual void on_event(const gort_event_header &hdr, const void *data, size_t size) = 0;
};

// What a process has now that no counter holds: read from the process when asked (live), the
// last values a recording stored (replay).
struct ProcessGauges {
	uint64_t os_threads = 0;     // 0: unknown
	bool heap_known = false;     // heap_alloc and heap_objects were read
	uint64_t heap_alloc = 0;     // MemStats.HeapAlloc, computed as ReadMemStats does (goprocess/heap_reader.h)
	uint64_t heap_objects = 0;   // MemStats.HeapObjects
	int32_t gomaxprocs = 0;      // runtime.gomaxprocs now; 0: unknown
	bool operator==(const ProcessGauges &) const = default;
};

// Cumulative counters of a process since attach, as BPF keeps them (or as a recording last
// stored them).
class CounterSource {
public:
	virtual ~CounterSource() = default;
	virtual gort_proc_stats stats(pid_t pid) const = 0;
	virtual std::vector<std::pair<gort_site_key, gort_site_stats>> sites(pid_t pid) const = 0;
	virtual std::vector<std::pair<gort_syscall_key, gort_syscall_stats>> syscalls(pid_t pid) const = 0;
	// What the process has now that no counter holds (live: read from it; replay: stored).
	virtual ProcessGauges gauges(pid_t) const { return {}; }
};

// A creation site as people read it.
struct SiteNames {
	std::string function;    // what the goroutines run (go wrappers resolved)
	std::string created_by;  // the function with the go statement
	std::string created_at;  // "main.go:42"
	bool system = false;     // runtime-internal (not counted by runtime.NumGoroutine)
};

// Names for the runtime addresses (as the probes see them, load bias included) of one process:
// from its binary while it runs, from the names a recording stored when it is replayed.
class ProcessSymbols {
public:
	virtual ~ProcessSymbols() = default;
	virtual SiteNames site(uint64_t startpc, uint64_t gopc) const = 0;
	virtual std::string stw_reason(uint32_t reason) const = 0;
};

// One step of the model's time. A live session takes one every --interval (`top` renders a
// snapshot there, `record` writes every process's counters and a tick record); the replay of a
// recording takes one at each tick record, so that rates and live history advance at the same
// moments in both.
class TickSink {
public:
	virtual ~TickSink() = default;
	virtual void on_tick(Clock now) = 0;
};

} // namespace gort
