#include "user/session/aggregator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace gort::session {

namespace {

constexpr size_t kLiveHistory = 60;

const std::map<uint32_t, std::string> &syscall_names()
{
	static const std::map<uint32_t, std::string> names = {
#include "syscall_names.inc"
	};
	return names;
}

} // namespace

Clock clock__now()
{
	timespec mono{}, wall{};
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	return {static_cast<uint64_t>(mono.tv_sec) * 1'000'000'000ull + mono.tv_nsec,
		static_cast<int64_t>(wall.tv_sec) * 1'000'000'000ll + wall.tv_nsec};
}

std::string clock__rfc3339(int64_t wall_ns)
{
	std::time_t t = static_cast<std::time_t>(wall_ns / 1'000'000'000);
	std::tm tm{};
	gmtime_r(&t, &tm);
	char buf[32];
	std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

std::string syscall_name(uint32_t nr)
{
	auto it = syscall_names().find(nr);
	return it != syscall_names().end() ? it->second : fmt::format("syscall_{}", nr);
}

uint64_t percentile(std::vector<uint64_t> &values, double q)
{
	if (values.empty())
		return 0;
	std::sort(values.begin(), values.end());
	size_t rank = static_cast<size_t>(std::ceil(q * values.size()));
	return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

PauseStats pause_stats(std::vector<uint64_t> values)
{
	PauseStats s;
	s.count = values.size();
	for (uint64_t v : values) {
		s.total_ns += v;
		s.max_ns = std::max(s.max_ns, v);
	}
	s.p50_ns = percentile(values, 0.50);
	s.p99_ns = percentile(values, 0.99);
	return s;
}

uint64_t traced_process__live_at_attach(const TracedProcess &p)
{
	uint64_t n = 0;
	for (const auto &[addr, alive] : p.alive_at_attach)
		if (!p.symbols->site(addr.startpc, addr.gopc).system)
			n += alive;
	return n;
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
		st.stw_by_reason[st.proc.symbols->stw_reason(ev.reason)].push_back(d);
		(target::runtime_layout__stw_reason_is_gc(ev.reason) ? st.stw_gc : st.stw_other).push_back(d);
		break;
	}
	case GORT_EV_SLOW_SYSCALL: {
		if (size < sizeof(gort_syscall_event))
			return;
		gort_syscall_event ev;
		std::memcpy(&ev, data, sizeof ev);
		const SiteNames &names = site_names(st, {ev.startpc, ev.gopc});
		st.syscall_functions[ev.nr][names.function]++;
		break;
	}
	default:
		break; // GC cycles and goroutine lifecycles are counted in BPF maps
	}
}

const SiteNames &Aggregator::site_names(ProcessState &st, const SiteAddr &addr)
{
	auto it = st.names.find(addr);
	if (it == st.names.end())
		it = st.names.emplace(addr, st.proc.symbols->site(addr.startpc, addr.gopc)).first;
	return it->second;
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

	g.live_at_attach = traced_process__live_at_attach(p);
	std::map<SiteAddr, Site> sites;
	for (const auto &[addr, alive] : p.alive_at_attach)
		sites[addr].live = static_cast<int64_t>(alive);
	for (const auto &[key, counts] : source.sites(pid)) {
		Site &site = sites[SiteAddr{key.startpc, key.gopc}];
		site.created += counts.created;
		site.exited += counts.exited;
		site.live += static_cast<int64_t>(counts.created) - static_cast<int64_t>(counts.exited);
	}
	for (auto &[addr, site] : sites) {
		const SiteNames &n = site_names(st, addr);
		site.function = n.function;
		site.created_by = n.created_by;
		site.created_at = n.created_at;
		site.system = n.system;
		s.sites.push_back(site);
	}
	std::sort(s.sites.begin(), s.sites.end(), [](const Site &a, const Site &b) {
		if (a.system != b.system)
			return !a.system;
		if (a.live != b.live)
			return a.live > b.live;
		if (a.created != b.created)
			return a.created > b.created;
		return a.function < b.function;
	});

	g.live = static_cast<int64_t>(g.live_at_attach) + counters.live_delta;
	g.peak = static_cast<int64_t>(g.live_at_attach) + std::max<int64_t>(counters.peak_delta, 0);
	if (st.acct)
		apply_accounting(st, s);
	uint64_t traps = counters.created + counters.exited + counters.sys_created + counters.sys_exited;

	double dt = now.mono_ns > st.last_mono_ns ? (now.mono_ns - st.last_mono_ns) / 1e9 : 0;
	if (dt > 0.05) {
		s.created_per_sec = (g.created - st.last_created) / dt;
		s.exited_per_sec = (g.exited - st.last_exited) / dt;
		s.gc_per_sec = (counters.gc_cycles - st.last_gc) / dt;
		st.last_created = g.created;
		st.last_exited = g.exited;
		st.last_gc = counters.gc_cycles;
		st.traps_per_sec = (traps - st.last_traps) / dt;
		st.last_traps = traps;
		st.last_mono_ns = now.mono_ns;
		st.live_history.push_back(g.live);
		if (st.live_history.size() > kLiveHistory)
			st.live_history.erase(st.live_history.begin());
	} else {
		s.created_per_sec = st.last.created_per_sec;
		s.exited_per_sec = st.last.exited_per_sec;
		s.gc_per_sec = st.last.gc_per_sec;
	}
	s.live_history = st.live_history;
	if (!st.acct) { // exact: every goroutine probe hit is a trap
		s.cost.traps_per_sec = s.cost.exact_traps_per_sec = st.traps_per_sec;
		s.cost.trap_ns = trap_ns_;
		s.cost.cpu_percent = st.traps_per_sec * trap_ns_ / 1e7;
	}

	s.gc_cycles = counters.gc_cycles;
	s.stw_gc = pause_stats(st.stw_gc);
	s.stw_other = pause_stats(st.stw_other);
	for (const auto &[reason, durations] : st.stw_by_reason)
		s.stw_by_reason[reason] = pause_stats(durations);

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
			s.syscalls.push_back(std::move(sc));
		} else {
			s.runtime_waits.push_back(std::move(sc));
		}
	}
	auto by_total = [](const SyscallStats &a, const SyscallStats &b) { return a.total_ns > b.total_ns; };
	std::sort(s.syscalls.begin(), s.syscalls.end(), by_total);
	std::sort(s.runtime_waits.begin(), s.runtime_waits.end(), by_total);
	s.lost_events = counters.lost_events;
	return s;
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
