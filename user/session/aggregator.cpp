#include "user/session/aggregator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace gort::session {

namespace {

constexpr size_t kLiveHistory = 60;
constexpr size_t kGcRecent = 16;

} // namespace

uint64_t percentile(std::vector<uint64_t> &values, double q)
{
	if (values.empty())
		return 0;
	std::sort(values.begin(), values.end());
	size_t rank = static_cast<size_t>(std::ceil(q * values.size()));
	return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

void duration_buckets__add(DurationBuckets &b, uint64_t ns)
{
	for (size_t i = 0; i < kDurationBucketsNs.size(); i++)
		if (ns <= kDurationBucketsNs[i])
			b[i]++;
}

PauseStats pause_stats(std::vector<uint64_t> values)
{
	PauseStats s;
	s.count = values.size();
	for (uint64_t v : values) {
		s.total_ns += v;
		s.max_ns = std::max(s.max_ns, v);
		duration_buckets__add(s.buckets, v);
	}
	s.p50_ns = percentile(values, 0.50);
	s.p99_ns = percentile(values, 0.99);
	return s;
}

GcCycle gc_cycle__from_event(const gort_gc_trace_event &ev)
{
	const __u64 *v = ev.v;
	auto diff = [](uint64_t a, uint64_t b) -> uint64_t { return a - b; };  // uint64(ns-prev), as printed
	GcCycle c;
	c.pid = static_cast<pid_t>(ev.hdr.tgid);
	c.num = static_cast<uint32_t>(v[GORT_GC_NUMGC]);
	c.start_mono_ns = v[GORT_GC_T_SWEEP_TERM];
	c.since_start_ns = diff(v[GORT_GC_T_SWEEP_TERM], v[GORT_GC_RUNTIME_INIT_TIME]);
	std::memcpy(&c.cpu_fraction, &v[GORT_GC_CPU_FRACTION], sizeof c.cpu_fraction);
	c.clock_sweep_term_ns = diff(v[GORT_GC_T_MARK], v[GORT_GC_T_SWEEP_TERM]);
	c.clock_mark_ns = diff(v[GORT_GC_T_MARK_TERM], v[GORT_GC_T_MARK]);
	c.clock_mark_term_ns = diff(v[GORT_GC_T_END], v[GORT_GC_T_MARK_TERM]);
	int64_t stwprocs = static_cast<int32_t>(v[GORT_GC_STWPROCS]);
	c.cpu_sweep_term_ns = static_cast<uint64_t>(stwprocs * static_cast<int64_t>(c.clock_sweep_term_ns));
	c.cpu_assist_ns = v[GORT_GC_ASSIST_TIME];
	c.cpu_background_ns = v[GORT_GC_DEDICATED_MARK_TIME] + v[GORT_GC_FRACTIONAL_MARK_TIME];
	c.cpu_idle_ns = v[GORT_GC_IDLE_MARK_TIME];
	c.cpu_mark_term_ns = static_cast<uint64_t>(stwprocs * static_cast<int64_t>(c.clock_mark_term_ns));
	c.heap_start = v[GORT_GC_HEAP0];
	c.heap_end = v[GORT_GC_HEAP1];
	c.heap_marked = v[GORT_GC_HEAP2];
	c.heap_goal = v[GORT_GC_HEAP_GOAL];
	c.stacks = v[GORT_GC_STACK_SCAN];
	c.globals = v[GORT_GC_GLOBALS_SCAN];
	c.procs = static_cast<uint32_t>(v[GORT_GC_MAXPROCS]);
	c.forced = v[GORT_GC_USER_FORCED] != 0;
	c.pause_ns = v[GORT_GC_PAUSE_NS];
	c.pause_total_ns = v[GORT_GC_PAUSE_TOTAL_NS];
	c.gogc = static_cast<int32_t>(v[GORT_GC_GC_PERCENT]);
	c.memory_limit = static_cast<int64_t>(v[GORT_GC_MEMORY_LIMIT]);
	c.gomaxprocs = static_cast<int32_t>(v[GORT_GC_GOMAXPROCS]);
	return c;
}

uint64_t traced_process__live_at_attach(const TracedProcess &p)
{
	uint64_t n = 0;
	for (const auto &[addr, alive] : p.alive_at_attach)
		if (!p.symbols->site(addr.startpc, addr.gopc).system)
			n += alive;
	return n;
}

void Aggregator::Durations::add(uint64_t d)
{
	sketch.add(d);
	total += d;
	max = std::max(max, d);
	duration_buckets__add(buckets, d);
}

PauseStats Aggregator::Durations::stats() const
{
	PauseStats s;
	s.count = sketch.count();
	s.total_ns = total;
	s.max_ns = max;
	s.p50_ns = sketch.quantile(0.50);
	s.p99_ns = sketch.quantile(0.99);
	s.buckets = buckets;
	return s;
}

uint64_t Aggregator::ProcessState::alive_at_attach() const
{
	if (!live_at_attach)
		live_at_attach = traced_process__live_at_attach(proc);
	return *live_at_attach;
}

void Aggregator::add_process(TracedProcess proc)
{
	pid_t pid = proc.pid;
	ProcessState st;
	st.last_mono_ns = proc.attached_mono_ns;
	st.proc = std::move(proc);
	procs_.insert_or_assign(pid, std::move(st));
}

void Aggregator::on_event(const gort_event_header &hdr, const void *data, size_t size)
{
	auto it = procs_.find(static_cast<pid_t>(hdr.tgid));
	if (it == procs_.end() || it->second.frozen)
		return;
	ProcessState &st = it->second;
	switch (hdr.kind) {
	case GORT_EV_STW: {
		if (size < sizeof(gort_stw_event))
			return;
		gort_stw_event ev;
		std::memcpy(&ev, data, sizeof ev);
		uint64_t d = ev.end_ns > ev.start_ns ? ev.end_ns - ev.start_ns : 0;
		st.stw_by_reason[st.proc.symbols->stw_reason(ev.reason)].add(d);
		(gobinary::runtime_layout__stw_reason_is_gc(ev.reason) ? st.stw_gc : st.stw_other).add(d);
		break;
	}
	case GORT_EV_SLOW_SYSCALL: {
		if (size < sizeof(gort_syscall_event))
			return;
		gort_syscall_event ev;
		std::memcpy(&ev, data, sizeof ev);
		const SiteNames &names = site_names(st, {ev.startpc, ev.gopc});
		st.syscall_functions[ev.nr][names.function]++;
		if (ev.kind == GORT_SYSCALL_GOROUTINE)
			duration_buckets__add(st.syscall_buckets[ev.nr], ev.duration_ns);
		break;
	}
	case GORT_EV_GC_TRACE: {
		if (size < sizeof(gort_gc_trace_event))
			return;
		gort_gc_trace_event ev;
		std::memcpy(&ev, data, sizeof ev);
		GcCycle c = gc_cycle__from_event(ev);
		st.gc_recent.push_back(c);
		if (st.gc_recent.size() > kGcRecent)
			st.gc_recent.erase(st.gc_recent.begin());
		st.heap_history.push_back(static_cast<int64_t>(c.heap_marked));
		if (st.heap_history.size() > kLiveHistory)
			st.heap_history.erase(st.heap_history.begin());
		break;
	}
	default:
		break; // GC cycles and goroutine lifecycles are counted in BPF maps
	}
}

void Aggregator::set_census(pid_t pid, const std::vector<CensusGoroutine> &gs, uint64_t mono_ns)
{
	auto it = procs_.find(pid);
	if (it == procs_.end() || it->second.frozen)
		return;
	std::map<SiteAddr, std::map<std::string, SiteWait>> by_site;
	for (const auto &g : gs) {
		SiteWait &w = by_site[g.site][g.state];
		w.reason = g.state;
		w.count++;
		if (g.waitsince > 0 && static_cast<uint64_t>(g.waitsince) < mono_ns)
			w.oldest_ns = std::max(w.oldest_ns, mono_ns - static_cast<uint64_t>(g.waitsince));
	}
	auto &census = it->second.census;
	std::map<std::pair<SiteAddr, std::string>, uint64_t> before;
	bool first = census.empty();
	for (const auto &[site, waits] : census)
		for (const auto &w : waits)
			before[{site, w.reason}] = w.count;
	census.clear();
	for (auto &[site, waits] : by_site) {
		auto &v = census[site];
		for (auto &[reason, w] : waits) {
			auto b = before.find({site, reason});
			if (!first)
				w.change = static_cast<int64_t>(w.count) - static_cast<int64_t>(b == before.end() ? 0 : b->second);
			v.push_back(std::move(w));
		}
		std::stable_sort(v.begin(), v.end(), [](const SiteWait &a, const SiteWait &b) { return a.count > b.count; });
	}
}

const SiteNames &Aggregator::site_names(ProcessState &st, const SiteAddr &addr)
{
	auto it = st.names.find(addr);
	if (it == st.names.end())
		it = st.names.emplace(addr, st.proc.symbols->site(addr.startpc, addr.gopc)).first;
	return it->second;
}

// The model's site list: names, what the census last saw them wait on, user sites first, then by
// live and created (the order every view shows).
std::vector<Site> Aggregator::sites__finish(ProcessState &st, std::map<SiteAddr, Site> sites)
{
	std::vector<Site> out;
	out.reserve(sites.size());
	for (auto &[addr, site] : sites) {
		if (auto it = st.census.find(addr); it != st.census.end())
			site.waits = it->second;
		const SiteNames &n = site_names(st, addr);
		site.function = n.function;
		site.created_by = n.created_by;
		site.created_at = n.created_at;
		site.system = n.system;
		out.push_back(std::move(site));
	}
	std::sort(out.begin(), out.end(), [](const Site &a, const Site &b) {
		if (a.system != b.system)
			return !a.system;
		if (a.live != b.live)
			return a.live > b.live;
		if (a.created != b.created)
			return a.created > b.created;
		return a.function < b.function;
	});
	return out;
}

ProcessSnapshot Aggregator::build(ProcessState &st, const CounterSource &source, Clock now)
{
	const TracedProcess &p = st.proc;
	pid_t pid = p.pid;
	ProcessSnapshot s;
	s.pid = pid;
	s.comm = p.comm;
	s.exe = p.exe;
	s.go_version = p.go_version;
	s.seconds = now.mono_ns > p.attached_mono_ns ? (now.mono_ns - p.attached_mono_ns) / 1e9 : 0;

	gort_proc_stats counters = source.stats(pid);
	GoroutineCounts &g = s.goroutines;
	g.created = counters.created;
	g.exited = counters.exited;
	g.system_created = counters.sys_created;
	g.system_exited = counters.sys_exited;

	g.live_at_attach = st.alive_at_attach();
	std::map<SiteAddr, Site> sites;
	for (const auto &[addr, alive] : p.alive_at_attach)
		sites[addr].live = static_cast<int64_t>(alive);
	const auto bpf_sites = source.sites(pid);
	for (const auto &[key, counts] : bpf_sites) {
		Site &site = sites[SiteAddr{key.startpc, key.gopc}];
		site.created += counts.created;
		site.exited += counts.exited;
		site.live += static_cast<int64_t>(counts.created) - static_cast<int64_t>(counts.exited);
	}
	s.sites = sites__finish(st, std::move(sites));

	g.live = static_cast<int64_t>(g.live_at_attach) + counters.live_delta;
	g.peak = static_cast<int64_t>(g.live_at_attach) + std::max<int64_t>(counters.peak_delta, 0);
	if (st.acct)
		apply_accounting(st, s, counters, bpf_sites);
	uint64_t traps = proc_stats__traps(counters);

	rates__advance(st, {g.created, g.exited, g.live, counters.gc_cycles, traps}, now);
	s.created_per_sec = st.created_per_sec;
	s.exited_per_sec = st.exited_per_sec;
	s.gc_per_sec = st.gc_per_sec;
	s.live_history = st.live_history;
	s.live_growth = s.live_history.size() < 2 ? 0 : s.live_history.back() - s.live_history.front();
	if (!st.acct) { // exact: every goroutine probe hit is a trap
		s.cost.traps_per_sec = s.cost.exact_traps_per_sec = st.traps_per_sec;
		s.cost.trap_ns = trap_ns_;
		s.cost.cpu_percent = st.traps_per_sec * trap_ns_ / 1e7;
	}
	s.cost.modes = modes__at(st, now);

	s.gc_cycles = counters.gc_cycles;
	s.stw_gc = st.stw_gc.stats();
	s.stw_other = st.stw_other.stats();
	for (auto &[reason, durations] : st.stw_by_reason)
		s.stw_by_reason[reason] = durations.stats();
	s.stw_worst_ns = std::max(s.stw_gc.max_ns, s.stw_other.max_ns);

	s.gc_recent = st.gc_recent;
	if (!st.gc_recent.empty()) {
		const GcCycle &last = st.gc_recent.back();
		HeapStats &h = s.heap;
		h.known = true;
		h.num_gc = last.num;
		h.pause_total_ns = last.pause_total_ns;
		h.live = last.heap_marked;
		h.goal = last.heap_goal;
		h.gogc = last.gogc;
		h.memory_limit = last.memory_limit;
		// Without runtime.gomaxprocs (stripped binaries): the GOMAXPROCS the cycle started with.
		h.gomaxprocs = last.gomaxprocs ? last.gomaxprocs : static_cast<int32_t>(last.procs);
		h.gc_cpu_fraction = last.cpu_fraction;
		h.live_history = st.heap_history;
	}
	ProcessGauges gauges = source.gauges(pid);
	s.heap.os_threads = gauges.os_threads;
	s.heap.alloc_known = gauges.heap_known;
	s.heap.alloc = gauges.heap_alloc;
	s.heap.objects = gauges.heap_objects;
	if (gauges.gomaxprocs)
		s.heap.gomaxprocs = gauges.gomaxprocs;  // now, rather than when the last cycle ended

	s.syscall_threshold_ns = slow_syscall_ns_;
	for (const auto &[key, agg] : source.syscalls(pid)) {
		SyscallStats sc;
		sc.name = syscall_name(key.nr);
		sc.count = agg.count;
		sc.total_ns = agg.total_ns;
		sc.max_ns = agg.max_ns;
		if (key.kind == GORT_SYSCALL_GOROUTINE) {
			auto it = st.syscall_functions.find(key.nr);
			if (it != st.syscall_functions.end())
				sc.by_function = it->second;
			sc.top_functions.assign(sc.by_function.begin(), sc.by_function.end());
			std::stable_sort(sc.top_functions.begin(), sc.top_functions.end(),
					 [](const auto &a, const auto &b) { return a.second > b.second; });
			// The count comes from the BPF map, the buckets from records: a record can be
			// delivered before the map is read, never more records than calls.
			if (auto b = st.syscall_buckets.find(key.nr); b != st.syscall_buckets.end())
				for (size_t i = 0; i < sc.buckets.size(); i++)
					sc.buckets[i] = std::min(b->second[i], sc.count);
			s.syscalls.push_back(std::move(sc));
		} else {
			s.runtime_waits.push_back(std::move(sc));
		}
	}
	auto by_total = [](const SyscallStats &a, const SyscallStats &b) { return a.total_ns > b.total_ns; };
	std::sort(s.syscalls.begin(), s.syscalls.end(), by_total);
	for (const auto &sc : s.syscalls)
		s.slow_syscalls += sc.count;
	std::sort(s.runtime_waits.begin(), s.runtime_waits.end(), by_total);
	s.lost_events = counters.lost_events;
	return s;
}

// Rates over the time since the last advance (at least 50 ms, so two snapshots in a row do not
// divide by nothing), and one live-history point per advance.
void Aggregator::rates__advance(ProcessState &st, const RateInputs &in, Clock now)
{
	double dt = now.mono_ns > st.last_mono_ns ? (now.mono_ns - st.last_mono_ns) / 1e9 : 0;
	if (dt <= 0.05)
		return;
	st.created_per_sec = (in.created - st.last_created) / dt;
	st.exited_per_sec = (in.exited - st.last_exited) / dt;
	st.gc_per_sec = (in.gc_cycles - st.last_gc) / dt;
	st.traps_per_sec = (in.traps - st.last_traps) / dt;
	st.last_created = in.created;
	st.last_exited = in.exited;
	st.last_gc = in.gc_cycles;
	st.last_traps = in.traps;
	st.last_mono_ns = now.mono_ns;
	st.live_history.push_back(in.live);
	if (st.live_history.size() > kLiveHistory)
		st.live_history.erase(st.live_history.begin());
}

void Aggregator::advance(pid_t pid, const CounterSource &counters, Clock now)
{
	auto it = procs_.find(pid);
	if (it == procs_.end() || it->second.frozen)
		return;
	ProcessState &st = it->second;
	gort_proc_stats c = counters.stats(pid);
	uint64_t traps = proc_stats__traps(c);
	// What build() advances from: the readings' figures once there are readings.
	if (st.acct) {
		RateInputs t = accounting__totals(*st.acct, c);
		rates__advance(st, {t.created, t.exited, t.live, c.gc_cycles, traps}, now);
	}
	else
		rates__advance(st, {c.created, c.exited, static_cast<int64_t>(st.alive_at_attach()) + c.live_delta, c.gc_cycles, traps},
			       now);
}

std::optional<int64_t> Aggregator::live_goroutines(pid_t pid, const CounterSource &counters) const
{
	auto it = procs_.find(pid);
	if (it == procs_.end())
		return std::nullopt;
	if (it->second.frozen)
		return it->second.last.goroutines.live;
	if (it->second.acct)
		return accounting__totals(*it->second.acct, counters.stats(pid)).live;
	return static_cast<int64_t>(it->second.alive_at_attach()) + counters.stats(pid).live_delta;
}

Snapshot Aggregator::snapshot(const CounterSource &counters, Clock now)
{
	Snapshot snap;
	snap.time = clock__rfc3339(now.wall_ns);
	for (auto &[pid, st] : procs_) {
		if (!st.frozen)
			st.last = build(st, counters, now);
		snap.processes.push_back(st.last);
	}
	return snap;
}

void Aggregator::freeze(pid_t pid, const CounterSource &counters, Clock now)
{
	auto it = procs_.find(pid);
	if (it == procs_.end() || it->second.frozen)
		return;
	it->second.last = build(it->second, counters, now);
	it->second.last.exited = true;
	it->second.frozen = true;
	it->second.proc.ended = true;
}

bool Aggregator::has_live_processes() const
{
	return std::any_of(procs_.begin(), procs_.end(), [](const auto &kv) { return !kv.second.frozen; });
}

const TracedProcess *Aggregator::process(pid_t pid) const
{
	auto it = procs_.find(pid);
	return it == procs_.end() ? nullptr : &it->second.proc;
}

std::vector<pid_t> Aggregator::live_pids() const
{
	std::vector<pid_t> pids;
	for (const auto &[pid, st] : procs_)
		if (!st.frozen)
			pids.push_back(pid);
	return pids;
}

} // namespace gort::session
