// Owns gort's BPF object: loads it once, attaches each traced process's probes, reads its maps
// and drains its ring buffer. Every libbpf object has exactly one owner here, so nothing gort
// attached outlives it (pass or fail, signal or exception).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "gort/bpf_shared.h"
#include "user/contracts/contracts.h"
#include "user/goprocess/process.h"
#include "user/gobinary/runtime_layout.h"

struct gort_bpf;
struct bpf_link;
struct ring_buffer;

namespace gort::probes {

struct TracerOptions {
	uint64_t slow_syscall_ns = 1'000'000;
	bool record_lifecycle = false;  // every goroutine create/exit through the ring buffer
	bool follow_exec = false;       // report every execve (GORT_EV_EXEC), for system-wide mode
};

// Who a process's uprobes belong to. Uprobes are set on a file (inode), not a process:
//  - process: links filtered to one PID (`top -p`): other processes running the same binary
//    never hit a breakpoint;
//  - binary: one set of links per inode shared by every traced process of that binary (`--all`):
//    50 copies of a service cost one set of probes; BPF tells them apart by the procs map.
//    The goroutine creation/exit probes are shared too while they may be (every process of the
//    binary counting exactly): registering a uprobe takes the kernel's dup_mmap_sem for writing
//    and an RCU grace period (50-300 ms per attach here), which a 300 ms program would not
//    survive. The sole traced process of a binary can still be sampled: its shared goroutine
//    probes become its own (see can_pause_goroutine_probes).
enum class AttachScope { process, binary };

// What the goroutine probes note for the attach baseline (bpf/goroutines.bpf.c).
struct BaselineRecords {
	std::set<uint64_t> created;  // g addresses given a new goroutine in GORT_PHASE_BASELINE
	std::vector<std::pair<uint64_t, gort_site_key>> exited;  // goid, site: older ones ended then
	std::set<uint64_t> exited_before_attach;  // goids past goexit1 in GORT_PHASE_ATTACHING
};

// The goroutine creation/exit probes (sampled mode turns them off between windows).
bool probe__is_goroutine(const gobinary::ProbeAttachment &p);

struct LinkDeleter {
	void operator()(bpf_link *link) const;
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

struct SkeletonDeleter {
	void operator()(gort_bpf *skel) const;
};
struct RingBufferDeleter {
	void operator()(ring_buffer *rb) const;
};

class Tracer : public CounterSource {
public:
	// Throws UserError(permission) without CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN and CAP_SYS_PTRACE.
	Tracer(const TracerOptions &opts, EventSink &sink);
	~Tracer();
	Tracer(const Tracer &) = delete;
	Tracer &operator=(const Tracer &) = delete;

	// Writes the process's config and zeroed counters and attaches every probe of `layout` to
	// /proc/PID/exe filtered to that process, idle (GORT_PHASE_ATTACHING) until the caller starts
	// them all at once with set_phase (user/session/alive_at_attach.h). Throws UserError
	// (no_process if it exited).
	void attach(pid_t pid, const gobinary::RuntimeLayout &layout, uint64_t load_bias,
		    AttachScope scope = AttachScope::process);
	void set_phase(pid_t pid, gort_phase phase);
	// Sampled mode: removes (off) or re-attaches (on) the process's goroutine creation and exit
	// uprobes, so that no breakpoint traps between sampling windows. A removal waits for the
	// kernel's grace period (tens of ms here). Returns false if PID is not attached. Throws
	// UserError like attach().
	bool set_goroutine_probes(pid_t pid, bool on);
	bool goroutine_probes_attached(pid_t pid) const;
	// Whether set_goroutine_probes(pid, false) would stop PID's goroutine traps: false while
	// other traced processes of its binary share them (AttachScope::binary).
	bool can_pause_goroutine_probes(pid_t pid) const;
	// Destroys the process's links and deletes all its map entries.
	void detach(pid_t pid);
	// The links of PID's binary (AttachScope::binary) stay while the result is held, even once
	// no traced process runs it: removing a uprobe waits for a grace period (tens of ms per link
	// here), so a caller that expects more processes of that binary (a restarting service, a loop
	// of short runs) keeps them, for as long as it decides. Empty if PID's probes are its own.
	std::shared_ptr<const void> hold_binary_links(pid_t pid);

	// Delivers ring-buffer records to the sink; returns how many.
	int poll(int timeout_ms);

	// CounterSource: the BPF maps.
	gort_proc_stats stats(pid_t pid) const override;
	std::vector<std::pair<gort_site_key, gort_site_stats>> sites(pid_t pid) const override;
	std::vector<std::pair<gort_syscall_key, gort_syscall_stats>> syscalls(pid_t pid) const override;
	// OS threads: the entries of /proc/PID/task (the runtime's own count, sched.mnext -
	// sched.nmfreed, would need its lock; the kernel's is the same set of threads). The heap
	// figures and GOMAXPROCS: read from the process's memory (goprocess/heap_reader.h). Once the
	// process has ended, the last figures read (at the latest refresh, else at attach).
	ProcessGauges gauges(pid_t pid) const override;
		// What BPF noted of the process for the attach baseline (user/session/alive_at_attach.h),
	// and its deletion.
	BaselineRecords baseline(pid_t pid) const;
	void clear_baseline(pid_t pid);

	// Nanoseconds one uprobe trap running gort's goroutine program costs here (calibrate.h).
	double calibrate_trap_ns();

	size_t link_count() const;
	// Exec records lost to a full ring buffer (system-wide mode rescans /proc when it moves).
	uint64_t exec_lost() const;

private:
	struct BinaryKey {
		dev_t dev = 0;
		ino_t ino = 0;
		auto operator<=>(const BinaryKey &) const = default;
	};
	struct BinaryLinks {
		std::vector<LinkPtr> links;      // every probe but the goroutine ones
		std::vector<LinkPtr> goroutine;  // the goroutine probes, while shared
		std::vector<gobinary::ProbeAttachment> goroutine_probes;
		std::set<pid_t> sharing;         // traced processes counting through `goroutine`
		size_t users = 0;
		std::weak_ptr<const void> held;  // hold_binary_links()
	};
	void release_idle_binaries();

	void attach_tracepoints();
	std::vector<LinkPtr> attach_links(pid_t pid, const std::vector<gobinary::ProbeAttachment> &probes, pid_t filter_pid,
					  uint32_t generation = 0);
	void forget(pid_t pid);

	std::unique_ptr<gort_bpf, SkeletonDeleter> skel_;
	std::unique_ptr<ring_buffer, RingBufferDeleter> ring_;
	std::vector<LinkPtr> tracepoint_links_;
	std::map<pid_t, std::vector<LinkPtr>> process_links_;
	std::map<pid_t, std::vector<LinkPtr>> goroutine_links_;
	std::map<pid_t, std::vector<gobinary::ProbeAttachment>> goroutine_probes_;
	std::map<BinaryKey, BinaryLinks> binary_links_;
	std::map<pid_t, BinaryKey> binary_of_;
	struct GaugeSource {
		gobinary::HeapLayout heap;
		uint64_t load_bias = 0;
		std::unique_ptr<goprocess::ProcessMemory> mem;
		ProcessGauges last;
	};
	mutable std::map<pid_t, GaugeSource> gauges_;
	EventSink &sink_;
	bool record_lifecycle_ = false;

	// Removing a uprobe waits for the kernel's grace period: 50-650 ms here while the target
	// runs. Sampled mode removes the goroutine probes after every window, so the removal runs
	// on this thread (bpf_link__destroy only closes the link's fd; the object stays loaded),
	// which the destructor joins before the skeleton goes.
	void reap(std::vector<LinkPtr> links);
	std::mutex reap_mu_;
	std::condition_variable reap_cv_;
	std::vector<std::vector<LinkPtr>> reap_queue_;
	bool reap_stop_ = false;
	std::thread reaper_;
};

} // namespace gort::probes
