// The one aggregator: folds counters (a CounterSource) and ring-buffer records into the model
// (user/session/model.h). Every figure any view shows is computed here and nowhere else; a live
// session and the replay of a recording both go through it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gort/bpf_shared.h"
#include "user/contracts/contracts.h"
#include "user/session/duration_sketch.h"
#include "user/session/model.h"
#include "user/session/sources.h"
#include "user/goprocess/goroutine_snapshot.h"
#include "user/goprocess/runtime_state.h"

namespace gort::session {

// Runtime addresses (as the probes see them) of a creation site.
struct SiteAddr {
	uint64_t startpc = 0, gopc = 0;
	auto operator<=>(const SiteAddr &) const = default;
};

// One goroutine of a census (a read of allgs): its site and what it is doing.
struct CensusGoroutine {
	SiteAddr site;
	std::string state;      // wait reason while waiting, else "running", "runnable", "syscall"
	int64_t waitsince = 0;  // the runtime's g.waitsince (CLOCK_MONOTONIC); 0 if unset
};

// What the aggregator knows about one traced process.
struct TracedProcess {
	pid_t pid = 0;
	std::string comm, exe, go_version;
	std::shared_ptr<const ProcessSymbols> symbols;
	std::map<SiteAddr, uint64_t> alive_at_attach;  // goroutines alive at attach, per site
	uint64_t attached_mono_ns = 0;
	bool ended = false;  // set by Aggregator::freeze
};

// User goroutines (runtime.NumGoroutine's) alive at attach: those not started in the runtime.
uint64_t traced_process__live_at_attach(const TracedProcess &p);

// One site of a census (a read of runtime.allgs) as the accounting uses it: the goroutines alive
// there now, and the IDs of those at a runtime-internal site (they took goroutine IDs without
// being user goroutines: on_reading tells the new ones apart by ID). Only that is kept, so that a
// recording stores a census in a few bytes per site, not per goroutine.
struct CensusSite {
	SiteAddr site;  // runtime addresses (load bias included)
	int64_t live = 0;
	std::vector<uint64_t> system_goids;
};

// One look at a traced process's runtime state, taken by the Session in sampled/auto mode
// (user/session/sampler.cpp): the runtime's own totals and a census of runtime.allgs, with how
// much of the interval since the previous reading the goroutine probes were counting.
struct GoroutineReading {
	Clock at;
	goprocess::RuntimeCounts counts;
	std::vector<CensusSite> sites;  // Aggregator::census_sites
	double fraction = 1;    // probes counting / interval since the previous reading
	bool sampled = false;   // the mode from this reading on
	bool forced = false;    // never switches (--sampled for tests)
	double budget = 0;      // --overhead, fraction of one CPU
	double trap_ns = 0;     // the calibrated cost of one trap the figures used (for a recording)
};

// Why a process changed mode (issue 9): --sampled; exact mode's traps cost more than the budget;
// back well under it.
enum class ModeReason : uint8_t { forced = 1, over_budget = 2, under_budget = 3 };
const char *mode_reason__name(ModeReason r);

struct ModeChange {
	Clock at;
	bool sampled = false;  // the mode from now on
	ModeReason reason = ModeReason::forced;
	double cost = 0;       // what exact mode was estimated to cost then, share of one CPU
	double budget = 0;     // --overhead, share of one CPU
};

// The BPF counters a reading was taken with, copied once: the aggregator and a recorder see the
// same values (the maps move between two reads while the probes count), and a replay rebuilds it
// from the file.
class ReadingCounters : public CounterSource {
public:
	ReadingCounters(pid_t pid, gort_proc_stats stats, std::vector<std::pair<gort_site_key, gort_site_stats>> sites)
	    : pid_(pid), stats_(stats), sites_(std::move(sites))
	{
	}
	ReadingCounters(pid_t pid, const CounterSource &live) : ReadingCounters(pid, live.stats(pid), live.sites(pid)) {}
	gort_proc_stats stats(pid_t pid) const override { return pid == pid_ ? stats_ : gort_proc_stats{}; }
	std::vector<std::pair<gort_site_key, gort_site_stats>> sites(pid_t pid) const override
	{
		return pid == pid_ ? sites_ : std::vector<std::pair<gort_site_key, gort_site_stats>>{};
	}
	std::vector<std::pair<gort_syscall_key, gort_syscall_stats>> syscalls(pid_t) const override { return {}; }

private:
	pid_t pid_;
	gort_proc_stats stats_;
	std::vector<std::pair<gort_site_key, gort_site_stats>> sites_;
};

// What sampled/auto mode decides besides the ring-buffer records: each reading (with the
// counters it was taken with) and each change of mode. A recorder implements it, so that the
// replay feeds the same readings to the aggregator and `report` shows what `top` showed.
class ReadingSink {
public:
	virtual ~ReadingSink() = default;
	virtual void on_reading(pid_t pid, const GoroutineReading &r, const CounterSource &counters) = 0;
	virtual void on_mode_change(pid_t pid, const ModeChange &c) = 0;
};

class Aggregator : public EventSink {
public:
	explicit Aggregator(uint64_t slow_syscall_ns) : slow_syscall_ns_(slow_syscall_ns) {}

	void add_process(TracedProcess proc);
	void on_event(const gort_event_header &hdr, const void *data, size_t size) override;
	// The latest census of a process's goroutines, taken at `mono_ns`: per site, what they wait on.
	void set_census(pid_t pid, const std::vector<CensusGoroutine> &gs, uint64_t mono_ns);

	// The model at `now`, from the counters of every process still running.
	Snapshot snapshot(const CounterSource &counters, Clock now);
	// Keeps the process's last figures: it ended (later snapshots show them, marked exited).
	void freeze(pid_t pid, const CounterSource &counters, Clock now);
	// What a snapshot at `now` would do to the process's rates and live history, without
	// building the rest (the replay of a recording takes one per tick: O(1), so replay stays
	// linear in the file's length; the pause percentiles are computed only when rendered).
	void advance(pid_t pid, const CounterSource &counters, Clock now);
	// Live goroutines of the process now (its last figure if it ended); nullopt if unknown.
	std::optional<int64_t> live_goroutines(pid_t pid, const CounterSource &counters) const;
	// Forgets a process entirely (system-wide mode, after its exit was reported).
	void drop(pid_t pid) { procs_.erase(pid); }
	bool has_live_processes() const;

	// Sampled/auto mode: the process's totals and per-site live counts come from readings from
	// now on (the first one is the baseline), per-site created/exited from the BPF counts scaled
	// by each interval's fraction. Returns the cost figures the budget decides on.
	ProbeCost on_reading(pid_t pid, const GoroutineReading &r, const CounterSource &counters);
	// A census of the process (link-time addresses, as goroutine_snapshot__read gives them)
	// reduced to what on_reading keeps of it.
	std::vector<CensusSite> census_sites(pid_t pid, const std::vector<goprocess::GoroutineRecord> &census,
					     uint64_t load_bias);
	// The process's mode changed (the next readings say so too): kept for the mode history. A
	// change to sampled pauses the probes as on_probes_paused does, so that a replay, which has
	// the mode changes, keeps the same figures.
	void on_mode_change(pid_t pid, const ModeChange &c);
	// Sampled/auto mode: the goroutine probes of PID stop counting (a window ends, or auto mode
	// leaves exact). Until the next reading, the figures stay those of the last reading.
	void on_probes_paused(pid_t pid);
	// The calibrated cost of one uprobe trap on this machine (probes/calibrate.h).
	void set_trap_ns(double ns) { trap_ns_ = ns; }
	double trap_ns() const { return trap_ns_; }
	std::vector<pid_t> live_pids() const;
	const TracedProcess *process(pid_t pid) const;

private:
	// Pauses of one kind: count, total, max and the histogram buckets exact; percentiles from a
	// sketch within DurationSketch::kRelativeError, so memory does not grow with the session.
	struct Durations {
		DurationSketch sketch;
		uint64_t total = 0, max = 0;
		DurationBuckets buckets{};
		void add(uint64_t d);
		PauseStats stats() const;
	};
	// What sampled/auto mode keeps per process (the figures come from readings, not BPF totals).
	struct Accounting {
		uint64_t handed_out0 = 0;
		int64_t alive0 = 0;
		goprocess::RuntimeCounts at_attach;
		std::set<uint64_t> system_new;  // goids of system goroutines created since the baseline
		uint64_t created = 0, exited = 0;
		int64_t live = 0, peak = 0;
		std::map<SiteAddr, int64_t> site_live;
		std::map<SiteAddr, std::pair<double, double>> site_counts;  // created, exited (estimated)
		std::map<SiteAddr, gort_site_stats> bpf_seen;  // BPF site counts at the last reading
		gort_proc_stats bpf_totals_seen{};              // BPF totals at the last reading
		// The probes have counted every goroutine since the last reading (exact mode): the
		// figures are the reading's plus what BPF counted since, so they stay current between
		// readings and a process that ends before the next one keeps its exact totals.
		bool counting_since_reading = false;
		uint64_t traps_seen = 0, last_ns = 0;
		goprocess::RuntimeCounts prev;  // the previous reading
		int64_t prev_all_alive = 0;
		std::map<SiteAddr, std::pair<double, double>> mix;  // the last window's share per site
		ProbeCost cost;
	};

	struct ProcessState {
		TracedProcess proc;
		std::map<SiteAddr, SiteNames> names;  // symbolised once per site
		std::map<std::string, Durations> stw_by_reason;  // every pause's duration
		Durations stw_gc, stw_other;
		std::map<uint32_t, std::map<std::string, uint64_t>> syscall_functions;  // nr -> function -> n
		std::map<uint32_t, DurationBuckets> syscall_buckets;  // nr -> slow goroutine syscall durations
		std::vector<int64_t> live_history;
		std::map<SiteAddr, std::vector<SiteWait>> census;  // the latest, per site
		std::vector<GcCycle> gc_recent;
		std::vector<int64_t> heap_history;
		uint64_t last_created = 0, last_exited = 0, last_gc = 0, last_mono_ns = 0;
		double created_per_sec = 0, exited_per_sec = 0, gc_per_sec = 0;
		// traced_process__live_at_attach, computed once at the first figure: a recording names
		// the alive-at-attach sites just after the process record.
		mutable std::optional<uint64_t> live_at_attach;
		uint64_t alive_at_attach() const;
		bool frozen = false;
		ProcessSnapshot last;
		std::optional<Accounting> acct;
		// The modes over the session, oldest first; the last one is open (to_s set at build).
		std::vector<ModeSpan> modes;
		double span_counted_s = 0, span_read_s = 0;  // the open span's readings: probes counting / covered
		uint64_t last_traps = 0;
		double traps_per_sec = 0;
	};

	ProcessSnapshot build(ProcessState &st, const CounterSource &counters, Clock now);
	// What the rates and the live history advance from: the model's own figures (sampled mode
	// takes them from the runtime's state, not from the BPF counters).
	struct RateInputs {
		uint64_t created = 0, exited = 0;
		int64_t live = 0;
		uint64_t gc_cycles = 0, traps = 0;
	};
	void rates__advance(ProcessState &st, const RateInputs &in, Clock now);
	std::vector<Site> sites__finish(ProcessState &st, std::map<SiteAddr, Site> sites);
	const SiteNames &site_names(ProcessState &st, const SiteAddr &addr);

	// `stats`, `sites`: the BPF counters build() read for this snapshot (read once, used twice).
	void apply_accounting(ProcessState &st, ProcessSnapshot &s, const gort_proc_stats &stats,
			      const std::vector<std::pair<gort_site_key, gort_site_stats>> &sites);
	// The readings' totals now: plus the BPF counts since the last reading while exact.
	// `now`: the process's BPF counters as just read.
	RateInputs accounting__totals(const Accounting &a, const gort_proc_stats &now) const;
	std::vector<ModeSpan> modes__at(const ProcessState &st, Clock now) const;

	uint64_t slow_syscall_ns_;
	double trap_ns_ = 0;
	std::map<pid_t, ProcessState> procs_;
};

// A GORT_EV_GC_TRACE record as the runtime's gctrace line reads it (the CPU figures are the
// same formulas as gcMarkTermination's: stwprocs x the STW phase's wall time).
GcCycle gc_cycle__from_event(const gort_gc_trace_event &ev);

// Exact nearest-rank percentile (q in (0,1]) of the values; 0 if empty. Sorts in place.
uint64_t percentile(std::vector<uint64_t> &values, double q);
PauseStats pause_stats(std::vector<uint64_t> values);
// Adds one duration to cumulative histogram buckets (kDurationBucketsNs).
void duration_buckets__add(DurationBuckets &b, uint64_t ns);

} // namespace gort::session
