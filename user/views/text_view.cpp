// The view for a pipe or a log file: plain lines, one `key=value` fact after another, so that
// `grep`, `awk` and a human reading a log all find the same figures in the same place.
#include <algorithm>
#include <ostream>

#include <fmt/format.h>

#include "user/views/views.h"

namespace gort::views {

namespace {

constexpr size_t kTopSites = 10;
constexpr size_t kTopFunctions = 3;

// A value as one whitespace-free token: names from the target may be empty or contain spaces
// (comm can), and either would shift every later field for a field-splitting reader.
std::string text__token(const std::string &s)
{
	if (s.empty())
		return "?";
	if (s.find_first_of(" \t\"=") == std::string::npos)
		return s;
	std::string quoted = "\"";
	for (char c : s) {
		if (c == '"' || c == '\\')
			quoted += '\\';
		quoted += c;
	}
	return quoted + "\"";
}

std::string text__by_function(const session::SyscallStats &s)
{
	const auto &functions = s.top_functions;
	std::string out;
	for (size_t i = 0; i < functions.size() && i < kTopFunctions; i++)
		out += fmt::format("{}{}:{}", i ? "," : " by=", text__token(functions[i].first), functions[i].second);
	return out;
}

void text__process(std::string &out, const std::string &time, const session::ProcessSnapshot &p)
{
	auto o = std::back_inserter(out);
	fmt::format_to(o, "{} pid={} comm={} go={} up={:.1f}s{}\n", text__token(time), p.pid, text__token(p.comm),
		text__token(p.go_version), p.seconds, p.exited ? " exited" : "");

	const auto &g = p.goroutines;
	fmt::format_to(o,
		"  goroutines live={} (+{:.1f}/s created, {:.1f}/s exited) created={} exited={} peak={} at_attach={}"
		" system_created={} system_exited={} growth={}\n",
		g.live, p.created_per_sec, p.exited_per_sec, g.created, g.exited, g.peak, g.live_at_attach,
		g.system_created, g.system_exited, p.live_growth);

	// Runtime goroutines (GC workers, ...) are noise next to the program's own, but when the
	// program has created none they are all there is to see.
	bool any_user = std::any_of(p.sites.begin(), p.sites.end(), [](const auto &s) { return !s.system; });
	size_t shown = 0;
	for (const auto &s : p.sites) {
		if (s.system == any_user)
			continue;
		if (shown++ == kTopSites)
			break;
		fmt::format_to(o, "  site {} created_by={} at={} live={} created={} exited={}{}", text__token(s.function),
			text__token(s.created_by), text__token(s.created_at), s.live, s.created, s.exited,
			s.system ? " system" : "");
		if (!s.waits.empty())
			fmt::format_to(o, " waiting=\"{}\"", format__site_waits(s, 3));
		fmt::format_to(o, "\n");
	}

	const auto &gc = p.stw_gc;
	fmt::format_to(o, "  gc cycles={}  stw gc: n={} p50={} p99={} max={} total={}  other: n={} max={}  worst={}\n",
		p.gc_cycles, gc.count, format__duration_ns(gc.p50_ns), format__duration_ns(gc.p99_ns),
		format__duration_ns(gc.max_ns), format__duration_ns(gc.total_ns), p.stw_other.count,
		format__duration_ns(p.stw_other.max_ns), format__duration_ns(p.stw_worst_ns));
	if (p.heap.known) {
		const auto &h = p.heap;
		fmt::format_to(o, "  heap live={} goal={} gogc={} memory_limit={} gomaxprocs={} gc_cpu={:.2f}% threads={}",
			format__bytes(h.live), format__bytes(h.goal), format__gogc(h.gogc), format__memory_limit(h.memory_limit),
			h.gomaxprocs, h.gc_cpu_fraction * 100, h.os_threads);
		if (h.alloc_known)
			fmt::format_to(o, " alloc={} objects={}", format__bytes(h.alloc), h.objects);
		fmt::format_to(o, "\n");
	}
	for (const auto &[reason, r] : p.stw_by_reason) {
		// Reasons are the runtime's phrases ("GC mark termination"), so always quoted.
		fmt::format_to(o, "  stw reason=\"{}\" n={} p99={} max={} total={}\n", reason, r.count,
			format__duration_ns(r.p99_ns), format__duration_ns(r.max_ns), format__duration_ns(r.total_ns));
	}

	fmt::format_to(o, "  slow_syscalls n={} threshold={}\n", p.slow_syscalls, format__duration_ns(p.syscall_threshold_ns));
	for (const auto &s : p.syscalls) {
		fmt::format_to(o, "  syscall {} n={} total={} max={}{}\n", text__token(s.name), s.count,
			format__duration_ns(s.total_ns), format__duration_ns(s.max_ns), text__by_function(s));
	}
	for (const auto &w : p.runtime_waits) {
		fmt::format_to(o, "  runtime-waits {} n={} total={} max={}\n", text__token(w.name), w.count,
			format__duration_ns(w.total_ns), format__duration_ns(w.max_ns));
	}
	fmt::format_to(o, "  probes mode={} traps_per_sec={:.0f} trap_ns={:.0f} cpu_percent={:.3f} sample_fraction={:.3f} "
			  "sites_estimated={}\n",
		p.cost.mode, p.cost.traps_per_sec, p.cost.trap_ns, p.cost.cpu_percent, p.cost.sample_fraction,
		p.cost.sites_estimated ? "yes" : "no");
	for (const auto &m : p.cost.modes) {
		fmt::format_to(o, "  mode {} from={:.1f}s to={:.1f}s reason={}", m.mode, m.from_s, m.to_s, m.reason);
		if (m.reason == "over_budget" || m.reason == "under_budget")
			fmt::format_to(o, " exact_cost={:.2f}%", m.cost_percent);
		if (m.mode != "exact")
			fmt::format_to(o, " probes_on={:.1f}%", m.sample_fraction * 100);
		fmt::format_to(o, "\n");
	}
	auto list = [](const std::vector<std::string> &v) {
		std::string s;
		for (const auto &x : v)
			s += (s.empty() ? "" : ",") + x;
		return s.empty() ? std::string("none") : s;
	};
	fmt::format_to(o, "  estimated={} exact={}", list(probe_cost__estimated(p.cost)), list(probe_cost__exact(p.cost)));
	// Sampled: the totals and live counts are the last reading's, not the probes' up to now.
	if (p.cost.mode == "sampled" && p.cost.last_reading_s >= 0)
		fmt::format_to(o, " as_of={:.1f}s", p.cost.last_reading_s);
	fmt::format_to(o, "\n");
	fmt::format_to(o, "  lost_events={}\n", p.lost_events);
}

} // namespace

void text__write(std::ostream &out, const session::Snapshot &snap_in)
{
	const session::Snapshot snap = snapshot__for_terminal(snap_in);
	std::string block;
	for (const auto &p : snap.processes)
		text__process(block, snap.time, p);
	out << block;
	// Written whole and flushed so a reader of the pipe never sees half an interval.
	out.flush();
}

} // namespace gort::views
