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
	for (const auto &cs : r.sites) {
		a.site_live[cs.site] += cs.live;
		for (uint64_t goid : cs.system_goids)
			if (!goprocess::runtime_counts__handed_out(a.at_attach, goid))
				a.system_new.insert(goid);
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
	a.cost.last_reading_s = r.at.mono_ns > st.proc.attached_mono_ns ? (r.at.mono_ns - st.proc.attached_mono_ns) / 1e9 : 0;
	std::string mode = r.sampled ? "sampled" : "exact";
	if (!first && mode != a.cost.mode)
		a.cost.mode_changes++;
	a.cost.mode = mode;
	a.cost.forced = r.forced;
	a.cost.trap_ns = trap_ns_;
	a.cost.budget_percent = r.budget * 100;
	a.cost.cpu_percent = a.cost.traps_per_sec * trap_ns_ / 1e7;
	if (!first && dt > 0 && r.sampled) {
		st.span_counted_s += r.fraction * dt;
		st.span_read_s += dt;
	}
	return a.cost;
}

std::vector<CensusSite> Aggregator::census_sites(pid_t pid, const std::vector<goprocess::GoroutineRecord> &census,
						 uint64_t load_bias)
{
	std::map<SiteAddr, CensusSite> by_site;
	auto it = procs_.find(pid);
	for (const auto &g : census) {
		if (!goprocess::goroutine__alive(g))
			continue;
		SiteAddr addr{g.startpc + load_bias, g.gopc + load_bias};
		CensusSite &cs = by_site[addr];
		cs.site = addr;
		cs.live++;
		if (it != procs_.end() && site_names(it->second, addr).system)
			cs.system_goids.push_back(g.goid);
	}
	std::vector<CensusSite> sites;
	for (auto &[addr, cs] : by_site)
		sites.push_back(std::move(cs));
	return sites;
}

namespace {

constexpr size_t kMaxModeSpans = 64;

// The share of a sampled span the probes counted, from its readings; none yet: 0 (after a switch
// the probes stay off until the next interval's window).
double span__fraction(const ModeSpan &span, double counted_s, double read_s)
{
	if (span.mode == "mixed")
		return span.sample_fraction;  // folded: kept as it was folded
	if (span.mode != "sampled")
		return 1;
	return read_s > 0 ? counted_s / read_s : 0;
}

} // namespace

const char *mode_reason__name(ModeReason r)
{
	switch (r) {
	case ModeReason::forced:
		return "forced";
	case ModeReason::over_budget:
		return "over_budget";
	case ModeReason::under_budget:
		return "under_budget";
	}
	return "unknown";
}

void Aggregator::on_mode_change(pid_t pid, const ModeChange &c)
{
	auto it = procs_.find(pid);
	if (it == procs_.end() || it->second.frozen)
		return;
	ProcessState &st = it->second;
	if (st.acct && c.sampled)
		st.acct->counting_since_reading = false;  // the probes count only in windows from now on
	double at = c.at.mono_ns > st.proc.attached_mono_ns ? (c.at.mono_ns - st.proc.attached_mono_ns) / 1e9 : 0;
	if (st.modes.empty())
		st.modes.push_back({});
	ModeSpan &open = st.modes.back();
	open.sample_fraction = span__fraction(open, st.span_counted_s, st.span_read_s);
	open.to_s = at;
	ModeSpan next{c.sampled ? "sampled" : "exact", mode_reason__name(c.reason), at, at, c.cost * 100, 1};
	// A change within a millisecond of the span's start (--sampled right after the baseline
	// reading) replaces it: the process never ran in the old mode.
	if (at - open.from_s < 1e-3) {
		next.from_s = open.from_s;
		open = next;
	} else {
		st.modes.push_back(next);
	}
	st.span_counted_s = st.span_read_s = 0;
	// A service whose load comes and goes switches all day: the oldest spans fold into one
	// ("mixed" if they differ), so the history every snapshot carries stays bounded.
	if (st.modes.size() > kMaxModeSpans) {
		ModeSpan &first = st.modes[0];
		const ModeSpan &second = st.modes[1];
		double a_s = first.to_s - first.from_s, b_s = second.to_s - second.from_s;
		double fraction = (first.mode == "exact" ? 1 : first.sample_fraction) * a_s +
				  (second.mode == "exact" ? 1 : second.sample_fraction) * b_s;
		first.sample_fraction = a_s + b_s > 0 ? fraction / (a_s + b_s) : 1;
		if (first.mode != second.mode)
			first.mode = "mixed";
		first.to_s = second.to_s;
		st.modes.erase(st.modes.begin() + 1);
	}
}

// The mode history up to `now` (the open span ends there).
std::vector<ModeSpan> Aggregator::modes__at(const ProcessState &st, Clock now) const
{
	std::vector<ModeSpan> modes = st.modes;
	if (modes.empty())
		modes.push_back({});
	ModeSpan &open = modes.back();
	open.to_s = now.mono_ns > st.proc.attached_mono_ns ? (now.mono_ns - st.proc.attached_mono_ns) / 1e9 : 0;
	open.sample_fraction = span__fraction(open, st.span_counted_s, st.span_read_s);
	return modes;
}

Aggregator::RateInputs Aggregator::accounting__totals(const Accounting &a, const gort_proc_stats &now) const
{
	RateInputs t{a.created, a.exited, a.live, 0, 0};
	if (!a.counting_since_reading)
		return t;
	const gort_proc_stats &then = a.bpf_totals_seen;
	t.created += now.created - then.created;
	t.exited += now.exited - then.exited;
	t.live += now.live_delta - then.live_delta;
	return t;
}

void Aggregator::on_probes_paused(pid_t pid)
{
	auto it = procs_.find(pid);
	if (it != procs_.end() && !it->second.frozen && it->second.acct)
		it->second.acct->counting_since_reading = false;
}

// Replaces the BPF-derived goroutine figures of a snapshot with the readings', plus what the
// probes counted since the last reading if they counted everything since (exact mode).
void Aggregator::apply_accounting(ProcessState &st, ProcessSnapshot &s, const gort_proc_stats &stats,
				  const std::vector<std::pair<gort_site_key, gort_site_stats>> &bpf_sites)
{
	const Accounting &a = *st.acct;
	GoroutineCounts &g = s.goroutines;
	RateInputs t = accounting__totals(a, stats);
	g.created = t.created;
	g.exited = t.exited;
	g.live = t.live;
	g.peak = std::max(a.peak, t.live);
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
		for (const auto &[key, counts] : bpf_sites) {
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
