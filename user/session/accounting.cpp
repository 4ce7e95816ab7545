// Sampled/auto mode's figures (issue 9), part of the aggregator: totals from the runtime's own
// counters, per-site live from a census of allgs, per-site created/exited from the goroutine
// probes' counts in sampling windows scaled to the whole interval.
#include <algorithm>
#include <cmath>

#include "user/session/aggregator.h"

namespace gort::session {

ProbeCost Aggregator::on_reading(pid_t pid, const GoroutineReading &r, const CounterSource &counters)
{
	auto it = procs_.find(pid);
	if (it == procs_.end() || it->second.frozen)
		return {};
	ProcessState &st = it->second;
	bool first = !st.acct;
	if (first) {
		st.acct.emplace();
		st.acct->at_attach = r.counts;
		st.acct->handed_out0 = r.counts.handed_out;
		st.acct->alive0 = r.counts.alive;
		st.acct->last_ns = r.at.mono_ns;
		st.acct->peak = r.counts.alive;
	}
	Accounting &a = *st.acct;

	// Per site, alive now; and the system goroutines created since the baseline, which took
	// goroutine IDs but are not counted by runtime.NumGoroutine (isSystemGoroutine). System
	// goroutines are long-lived (GC workers, the finalizer and cleanup goroutines): one that was
	// created and ended between two readings is not seen, and is counted as a user goroutine
	// that exited.
	a.site_live.clear();
	for (const auto &g : r.census) {
		if (!goprocess::goroutine__alive(g))
			continue;
		SiteAddr addr{g.startpc + r.load_bias, g.gopc + r.load_bias};
		a.site_live[addr]++;
		if (site_names(st, addr).system && !goprocess::runtime_counts__handed_out(a.at_attach, g.goid))
			a.system_new.insert(g.goid);
	}
	uint64_t handed = r.counts.handed_out >= a.handed_out0 ? r.counts.handed_out - a.handed_out0 : 0;
	a.created = handed >= a.system_new.size() ? handed - a.system_new.size() : 0;
	a.live = r.counts.alive;
	a.peak = std::max(a.peak, a.live);
	int64_t exited = a.alive0 + static_cast<int64_t>(a.created) - a.live;
	a.exited = exited > 0 ? static_cast<uint64_t>(exited) : 0;

	// The probes' counts since the previous reading: exact in exact mode. In sampled mode the
	// runtime says exactly how many goroutines were created (IDs handed out) and ended (that
	// minus the change in alive, system ones included) over the whole interval; the window only
	// says how they split between sites. That is a better estimate than scaling the window's
	// counts by its share of the interval: the target is slower while it traps, and goroutines
	// come in bursts.
	std::vector<std::pair<SiteAddr, gort_site_stats>> delta;
	double window_created = 0, window_exited = 0;
	for (const auto &[key, counts] : counters.sites(pid)) {
		SiteAddr addr{key.startpc, key.gopc};
		gort_site_stats &seen = a.bpf_seen[addr];
		gort_site_stats d{counts.created - seen.created, counts.exited - seen.exited};
		window_created += d.created;
		window_exited += d.exited;
		delta.push_back({addr, d});
		seen = counts;
	}
	int64_t all_alive = r.counts.alive + r.counts.system;
	double interval_created = first ? 0 : static_cast<double>(r.counts.handed_out - a.prev.handed_out);
	double interval_exited = std::max(0.0, interval_created - static_cast<double>(all_alive - a.prev_all_alive));
	double scale_created = r.fraction >= 1 ? 1 : window_created > 0 ? interval_created / window_created : 0;
	double scale_exited = r.fraction >= 1 ? 1 : window_exited > 0 ? interval_exited / window_exited : 0;
	// A window that saw none of the interval's creations (or exits) cannot split them: no window
	// this interval (auto mode opens one every few intervals), or one that had barely begun
	// when the reading came (attaching the probes took 0.3-0.8 s on this 2-core VM under load,
	// and a reading then followed the attach within a millisecond: fraction 0.0005, nothing
	// seen, the interval's goroutines lost). The last window's mix splits them instead.
	bool mix_created = !first && r.fraction < 1 && window_created == 0;
	bool mix_exited = !first && r.fraction < 1 && window_exited == 0;
	if (!first) {
		for (const auto &[addr, share] : a.mix) {
			auto &[created, exited_n] = a.site_counts[addr];
			if (mix_created)
				created += interval_created * share.first;
			if (mix_exited)
				exited_n += interval_exited * share.second;
		}
		for (const auto &[addr, d] : delta) {
			auto &[created, exited_n] = a.site_counts[addr];
			if (!mix_created)
				created += d.created * scale_created;
			if (!mix_exited)
				exited_n += d.exited * scale_exited;
		}
		if (window_created > 0)
			for (auto &[addr, share] : a.mix)
				share.first = 0;
		if (window_exited > 0)
			for (auto &[addr, share] : a.mix)
				share.second = 0;
		for (const auto &[addr, d] : delta) {
			if (window_created > 0)
				a.mix[addr].first = d.created / window_created;
			if (window_exited > 0)
				a.mix[addr].second = d.exited / window_exited;
		}
	}
	a.prev = r.counts;
	a.prev_all_alive = all_alive;
	if (!first && r.fraction < 1)
		a.cost.sites_estimated = true;

	gort_proc_stats totals = counters.stats(pid);
	a.bpf_totals_seen = totals;
	a.counting_since_reading = !r.sampled;
	uint64_t traps = proc_stats__traps(totals);
	double dt = r.at.mono_ns > a.last_ns ? (r.at.mono_ns - a.last_ns) / 1e9 : 0;
	if (!first && dt > 0) {
		a.cost.traps_per_sec = (traps - a.traps_seen) / dt;
		if (r.fraction > 0.001)
			a.cost.exact_traps_per_sec = a.cost.traps_per_sec / r.fraction;
		a.cost.sample_fraction = r.fraction;
	}
	a.traps_seen = traps;
	a.last_ns = r.at.mono_ns;
	std::string mode = r.sampled ? "sampled" : "exact";
	if (!first && mode != a.cost.mode)
		a.cost.mode_changes++;
	a.cost.mode = mode;
	a.cost.forced = r.forced;
	a.cost.trap_ns = trap_ns_;
	a.cost.budget_percent = r.budget * 100;
	a.cost.cpu_percent = a.cost.traps_per_sec * trap_ns_ / 1e7;
	return a.cost;
}

void Aggregator::on_probes_paused(pid_t pid)
{
	auto it = procs_.find(pid);
	if (it != procs_.end() && !it->second.frozen && it->second.acct)
		it->second.acct->counting_since_reading = false;
}

// Replaces the BPF-derived goroutine figures of a snapshot with the readings', plus what the
// probes counted since the last reading if they counted everything since (exact mode).
void Aggregator::apply_accounting(ProcessState &st, ProcessSnapshot &s, const CounterSource &counters)
{
	const Accounting &a = *st.acct;
	GoroutineCounts &g = s.goroutines;
	g.created = a.created;
	g.exited = a.exited;
	g.live = a.live;
	g.peak = a.peak;
	g.live_at_attach = static_cast<uint64_t>(std::max<int64_t>(a.alive0, 0));
	g.system_created = a.system_new.size();
	g.system_exited = 0;

	std::map<SiteAddr, Site> sites;
	for (const auto &[addr, n] : a.site_live)
		sites[addr].live = n;
	for (const auto &[addr, counts] : a.site_counts) {
		Site &site = sites[addr];
		site.created = static_cast<uint64_t>(std::llround(counts.first));
		site.exited = static_cast<uint64_t>(std::llround(counts.second));
	}
	if (a.counting_since_reading) {
		gort_proc_stats now = counters.stats(s.pid);
		const gort_proc_stats &then = a.bpf_totals_seen;
		g.created += now.created - then.created;
		g.exited += now.exited - then.exited;
		g.live += now.live_delta - then.live_delta;
		g.peak = std::max(g.peak, g.live);
		for (const auto &[key, counts] : counters.sites(s.pid)) {
			SiteAddr addr{key.startpc, key.gopc};
			auto seen = a.bpf_seen.find(addr);
			gort_site_stats d = counts;
			if (seen != a.bpf_seen.end())
				d = {counts.created - seen->second.created, counts.exited - seen->second.exited};
			if (d.created == 0 && d.exited == 0)
				continue;
			Site &site = sites[addr];
			site.created += d.created;
			site.exited += d.exited;
			site.live += static_cast<int64_t>(d.created) - static_cast<int64_t>(d.exited);
		}
	}
	s.sites = sites__finish(st, std::move(sites));
	s.cost = a.cost;
}

} // namespace gort::session
