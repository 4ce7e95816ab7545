// The runtime's own GODEBUG=gctrace=1 line (runtime/mgc.go gcMarkTermination, Go 1.19-1.27),
// byte for byte: its number formatting (itoaDiv, fmtNSAsMS) is reproduced here, and its JSON
// twin carries the same figures unrounded.
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "user/views/views.h"

namespace gort::views {

namespace {

// runtime.itoaDiv: val / 10^dec with exactly dec decimals.
std::string itoa_div(uint64_t val, int dec)
{
	std::string digits = std::to_string(val);
	if (dec == 0)
		return digits;
	if (digits.size() <= static_cast<size_t>(dec))
		digits.insert(0, dec + 1 - digits.size(), '0');
	digits.insert(digits.size() - dec, ".");
	return digits;
}

// runtime.fmtNSAsMS: whole milliseconds from 10 ms, else two significant digits, at most three
// decimals.
std::string ns_as_ms(uint64_t ns)
{
	if (ns >= 10'000'000)
		return itoa_div(ns / 1'000'000, 0);
	uint64_t x = ns / 1000;
	if (x == 0)
		return "0";
	int dec = 3;
	while (x >= 100) {
		x /= 10;
		dec--;
	}
	return itoa_div(x, dec);
}

} // namespace

std::string gctrace__line(const session::GcCycle &c)
{
	return fmt::format("gc {} @{}s {}%: {}+{}+{} ms clock, {}+{}/{}/{}+{} ms cpu, {}->{}->{} MB, {} MB goal, "
			   "{} MB stacks, {} MB globals, {} P{}",
			   c.num, itoa_div(c.since_start_ns / 1'000'000, 3), static_cast<int>(c.cpu_fraction * 100),
			   ns_as_ms(c.clock_sweep_term_ns), ns_as_ms(c.clock_mark_ns), ns_as_ms(c.clock_mark_term_ns),
			   ns_as_ms(c.cpu_sweep_term_ns), ns_as_ms(c.cpu_assist_ns), ns_as_ms(c.cpu_background_ns),
			   ns_as_ms(c.cpu_idle_ns), ns_as_ms(c.cpu_mark_term_ns), c.heap_start >> 20, c.heap_end >> 20,
			   c.heap_marked >> 20, c.heap_goal >> 20, c.stacks >> 20, c.globals >> 20, c.procs,
			   c.forced ? " (forced)" : "");
}

nlohmann::json gctrace__json(const session::GcCycle &c)
{
	return {
		{"pid", c.pid},
		{"gc", c.num},
		{"since_start_ns", c.since_start_ns},
		{"start_monotonic_ns", c.start_mono_ns},
		{"gc_cpu_fraction", c.cpu_fraction},
		{"clock_ns", {{"sweep_termination", c.clock_sweep_term_ns}, {"mark", c.clock_mark_ns},
			      {"mark_termination", c.clock_mark_term_ns}}},
		{"cpu_ns", {{"sweep_termination", c.cpu_sweep_term_ns}, {"assist", c.cpu_assist_ns},
			    {"background", c.cpu_background_ns}, {"idle", c.cpu_idle_ns},
			    {"mark_termination", c.cpu_mark_term_ns}}},
		{"heap_start_bytes", c.heap_start},
		{"heap_end_bytes", c.heap_end},
		{"heap_marked_bytes", c.heap_marked},
		{"heap_goal_bytes", c.heap_goal},
		{"stacks_bytes", c.stacks},
		{"globals_bytes", c.globals},
		{"procs", c.procs},
		{"forced", c.forced},
		{"pause_ns", c.pause_ns},
		{"pause_total_ns", c.pause_total_ns},
		{"gogc", c.gogc},
		{"memory_limit_bytes", c.memory_limit},
	};
}

} // namespace gort::views
