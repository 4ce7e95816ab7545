// Sampled and auto mode (issue 9): per traced process, a reading of the runtime's own state
// every interval (the aggregator turns it into figures), and the goroutine probes switched on
// for a window of each interval in sampled mode. Auto mode moves a process between exact and
// sampled as the trap rate the aggregator measures, times the calibrated cost of one trap,
// crosses the budget.
#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "user/session/session.h"
#include "user/goprocess/goroutine_snapshot.h"

namespace gort::session {

// The trap's cost, once: every mode shows the CPU its traps impose (where the probes stay on, a
// failed calibration only leaves it unknown). ~250 ms here: system-wide mode does it before it
// follows anything, so that the first process to start is not kept waiting.
void Session::sampling__calibrate()
{
	if (aggregator_.trap_ns() != 0)
		return;
	try {
		aggregator_.set_trap_ns(opts_.trap_ns > 0 ? opts_.trap_ns : tracer_.calibrate_trap_ns());
	} catch (const UserError &) {
		if (opts_.goroutine_mode != GoroutineMode::exact)
			throw;
	}
}

void Session::sampling__start(pid_t pid, std::shared_ptr<const gobinary::GoBinary> binary, uint64_t load_bias)
{
	sampling__calibrate();
	if (opts_.goroutine_mode == GoroutineMode::exact)
		return;
	Sampling s;
	try {
		s.reader = std::make_unique<goprocess::RuntimeStateReader>(*binary, load_bias);
		s.mem = std::make_unique<goprocess::ProcessMemory>(pid);
	} catch (const UserError &e) {
		// Stays exact: a runtime global or struct offset the reader needs was found neither in
		// .symtab nor decoded (a stripped binary whose runtime code or Go version gort does
		// not know); say so once.
		notes_.push_back(fmt::format("gort: PID {} stays in exact mode: {}", pid, e.what()));
		return;
	}
	s.binary = std::move(binary);
	s.load_bias = load_bias;
	uint64_t now = clock__now().mono_ns;
	s.counting_since = s.interval_start = s.watch_ns = now;
	s.watch_traps = proc_stats__traps(tracer_.stats(pid));
	sampling__reading(pid, s, now); // the baseline
	if (opts_.goroutine_mode == GoroutineMode::sampled && sampling__may_sample(pid, s)) {
		// Sampled from the start: a first interval in exact mode would cost the target a whole
		// interval of traps.
		sampling__mode(pid, s, true, ModeReason::forced);
		sampling__count(pid, s, false, clock__now().mono_ns);
	}
	sampling_.emplace(pid, std::move(s));
}

// Auto mode while exact: the trap rate is looked at every kWatch, not only at readings, so that
// a process whose goroutine rate jumps (a service taking load) pays at most kWatch of exact
// mode's cost beyond the budget, not a whole interval (0.5x throughput for a second here).
void Session::sampling__watch(pid_t pid, Sampling &s, uint64_t now)
{
	constexpr uint64_t kWatch = 50'000'000;
	if (now - s.watch_ns < kWatch)
		return;
	uint64_t traps = proc_stats__traps(tracer_.stats(pid));
	double cost = static_cast<double>(traps - s.watch_traps) * aggregator_.trap_ns() / static_cast<double>(now - s.watch_ns);
	s.watch_ns = now;
	s.watch_traps = traps;
	if (cost <= opts_.overhead || !sampling__may_sample(pid, s))
		return;
	// A reading first, while the probes still count everything: the figures are exact up to the
	// switch, not only up to the last interval's reading (a process that ends soon after would
	// keep those).
	sampling__reading(pid, s, now);
	s.exact_cost = cost;
	sampling__mode(pid, s, true, ModeReason::over_budget);
	s.intervals_since_window = 0;
	sampling__count(pid, s, false, now);
}

// A switch between exact and sampled: the model's mode history and a recorder hear of it.
void Session::sampling__mode(pid_t pid, Sampling &s, bool sampled, ModeReason why)
{
	s.sampled = sampled;
	ModeChange c{clock__now(), sampled, why, s.exact_cost, opts_.overhead};
	aggregator_.on_mode_change(pid, c);
	if (reading_sink_)
		reading_sink_->on_mode_change(pid, c);
}

// System-wide, copies of one binary share their goroutine probes (probes/tracer.h AttachScope):
// while another traced process of its binary runs, a process cannot stop its own traps.
bool Session::sampling__may_sample(pid_t pid, Sampling &s)
{
	if (tracer_.can_pause_goroutine_probes(pid))
		return true;
	if (!s.shared_noted) {
		s.shared_noted = true;
		notes_.push_back(fmt::format("gort: PID {} stays in exact mode while other traced processes run its "
					     "binary (they share its goroutine probes)", pid));
	}
	return false;
}

int Session::sampling__timeout(int timeout_ms) const
{
	// A window ends on time, not at the caller's next poll (up to 100 ms later: a 2 ms window
	// was measured lasting 141 ms, 70x its traps).
	uint64_t now = clock__now().mono_ns;
	for (const auto &[pid, s] : sampling_) {
		if (!s.sampled || !s.counting)
			continue;
		uint64_t end = s.counting_since + s.window_ns;
		int left = end > now ? static_cast<int>((end - now + 999'999) / 1'000'000) : 0;
		timeout_ms = std::min(timeout_ms, left);
	}
	return timeout_ms;
}

void Session::sampling__count(pid_t pid, Sampling &s, bool on, uint64_t now)
{
	if (on == s.counting)
		return;
	if (on) {
		tracer_.set_goroutine_probes(pid, true); // attached paused: counting starts below
		uint64_t attached = clock__now().mono_ns;
		if (std::getenv("GORT_DEBUG"))
			fmt::print(stderr, "gort debug: PID {} goroutine probes on in {:.2f} ms, window {:.1f} ms\n", pid,
				   (attached - now) / 1e6, s.sampled ? s.window_ns / 1e6 : 0.0);
		now = attached;
		tracer_.set_phase(pid, GORT_PHASE_TRACING);
		s.counting_since = now;
	} else {
		tracer_.set_phase(pid, GORT_PHASE_PAUSED);
		aggregator_.on_probes_paused(pid);
		s.counted_ns += now - s.counting_since;
		tracer_.set_goroutine_probes(pid, false); // no traps until the next window
	}
	s.counting = on;
}

void Session::sampling__reading(pid_t pid, Sampling &s, uint64_t now)
{
	if (s.counting) {
		s.counted_ns += now - s.counting_since;
		s.counting_since = now;
	}
	GoroutineReading r;
	r.at = clock__now();
	uint64_t interval = now > s.interval_start ? now - s.interval_start : 0;
	r.fraction = interval ? std::min(1.0, static_cast<double>(s.counted_ns) / interval) : 1;
	s.counted_ns = 0;
	s.interval_start = now;
	auto counts = s.reader->read(*s.mem);
	if (!counts)
		return; // the process is ending: poll() freezes it
	r.counts = *counts;
	try {
		r.sites = aggregator_.census_sites(pid, goprocess::goroutine_snapshot__read(*s.binary, *s.mem, s.load_bias),
						   s.load_bias);
	} catch (const UserError &) {
		return;
	}
	r.sampled = s.sampled;
	r.forced = opts_.goroutine_mode == GoroutineMode::sampled;
	r.budget = opts_.overhead;
	r.trap_ns = aggregator_.trap_ns();
	ReadingCounters counters(pid, tracer_);  // one copy: the recorder gets what the aggregator got
	ProbeCost cost = aggregator_.on_reading(pid, r, counters);
	if (reading_sink_)
		reading_sink_->on_reading(pid, r, counters);
	if (std::getenv("GORT_DEBUG"))
		fmt::print(stderr, "gort debug: PID {} reading: interval {:.1f} ms, fraction {:.3f}, traps/s {:.0f}, {} alive\n", pid,
			   interval / 1e6, r.fraction, cost.traps_per_sec, r.counts.alive);
	s.exact_cost = cost.exact_traps_per_sec * cost.trap_ns / 1e9;
}

void Session::sampling__tick()
{
	for (auto it = sampling_.begin(); it != sampling_.end();) {
		pid_t pid = it->first;
		Sampling &s = it->second;
		const TracedProcess *p = aggregator_.process(pid);
		if (!p || p->ended) {
			it = sampling_.erase(it);
			continue;
		}
		++it;
		try {
			uint64_t now = clock__now().mono_ns;
			if (s.sampled && s.counting && now - s.counting_since >= s.window_ns)
				sampling__count(pid, s, false, now); // the window is over
			if (!s.sampled && opts_.goroutine_mode == GoroutineMode::auto_)
				sampling__watch(pid, s, now);
			if (now - s.interval_start < static_cast<uint64_t>(opts_.sample_interval.count()))
				continue;
			sampling__reading(pid, s, now);
			bool forced = opts_.goroutine_mode == GoroutineMode::sampled;
			// Hysteresis: back to exact only well under the budget.
			if (!s.sampled && (forced || s.exact_cost > opts_.overhead) && sampling__may_sample(pid, s)) {
				sampling__mode(pid, s, true, forced ? ModeReason::forced : ModeReason::over_budget);
				sampling__count(pid, s, false, clock__now().mono_ns);
				continue; // the first window opens next interval
			}
			if (s.sampled && !forced && s.exact_cost < opts_.overhead / 2) {
				sampling__mode(pid, s, false, ModeReason::under_budget);
				sampling__count(pid, s, true, now);
				s.watch_ns = clock__now().mono_ns;
				s.watch_traps = proc_stats__traps(tracer_.stats(pid));
				continue;
			}
			// Attaching and removing the probes costs the target too (the removal's grace
			// period keeps the breakpoints in for up to ~0.5 s here): auto mode opens a window
			// every kWindowEvery intervals and splits the others by the last window's mix.
			constexpr unsigned kWindowEvery = 5;
			if (s.sampled && !forced && ++s.intervals_since_window < kWindowEvery)
				continue;
			s.intervals_since_window = 0;
			if (s.sampled) {
				// The window: the configured share of the interval, less if even that would
				// cost more than the budget (the rate seen in the last window decides).
				double share = opts_.sample_fraction;
				if (!forced && s.exact_cost > 0)
					share = std::min(share, opts_.overhead / s.exact_cost);
				s.window_ns = std::max<uint64_t>(static_cast<uint64_t>(share * opts_.sample_interval.count()), 2'000'000);
				sampling__count(pid, s, true, now);
			}
		} catch (const UserError &) {
			// The process is ending (re-attach failed): poll() freezes and detaches it.
		}
	}
}

} // namespace gort::session
