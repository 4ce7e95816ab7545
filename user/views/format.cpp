// Number formatting shared by the text and terminal views, so both speak the same units.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include <cstdint>
#include <iterator>

#include "user/common/escape.h"
#include "user/views/views.h"

namespace gort::views {

// Three significant digits in the largest unit that keeps the figure under 1000: enough to
// compare pauses at a glance without the noise of full nanosecond precision.
std::string format__duration_ns(uint64_t ns)
{
	if (ns < 1000)
		return fmt::format("{}ns", ns);
	struct Unit {
		double divisor;
		const char *name;
	};
	static constexpr Unit units[] = {{1e3, "µs"}, {1e6, "ms"}, {1e9, "s"}};
	for (size_t i = 0; i < std::size(units); i++) {
		double v = static_cast<double>(ns) / units[i].divisor;
		// The thresholds sit where rounding would add a digit ("9.999" -> "10.0", not "10.00"),
		// and a figure that would round to 1000 moves to the next unit instead ("1.00ms").
		if (v < 9.995)
			return fmt::format("{:.2f}{}", v, units[i].name);
		if (v < 99.95)
			return fmt::format("{:.1f}{}", v, units[i].name);
		if (v < 999.5 || i + 1 == std::size(units))
			return fmt::format("{:.0f}{}", v, units[i].name);
	}
	return {};  // unreachable: the last unit always returns
}

// Scaled between the minimum and the maximum of the values shown, because what the eye looks
// for is the trend (a leak's ramp), which a scale from zero flattens when the base is large. A
// constant series is a flat line at the bottom. Only the newest `width` values are drawn.
std::string format__bytes(uint64_t bytes)
{
	if (bytes < 1024)
		return fmt::format("{}B", bytes);
	const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = bytes / 1024.0;
	size_t u = 0;
	while (v >= 1024 && u + 1 < std::size(units)) {
		v /= 1024;
		u++;
	}
	int decimals = v < 10 ? 2 : v < 100 ? 1 : 0;
	return fmt::format("{:.{}f}{}", v, decimals, units[u]);
}

std::string format__gogc(int32_t gogc)
{
	return gogc < 0 ? "off" : fmt::format("{}", gogc);
}

std::string format__memory_limit(int64_t limit)
{
	// math.MaxInt64 is the runtime's "no limit" (GOMEMLIMIT unset).
	return limit == INT64_MAX ? "none" : format__bytes(static_cast<uint64_t>(limit));
}

std::string format__sparkline(const std::vector<int64_t> &values, size_t width)
{
	static constexpr const char *bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	size_t n = std::min(values.size(), width);
	if (n == 0)
		return {};
	auto first = values.end() - static_cast<std::ptrdiff_t>(n);
	auto [lo, hi] = std::minmax_element(first, values.end());
	double min = static_cast<double>(*lo);
	double range = static_cast<double>(*hi) - min;
	std::string out;
	for (auto it = first; it != values.end(); ++it) {
		size_t level = 0;
		if (range > 0)
			level = static_cast<size_t>(std::lround((static_cast<double>(*it) - min) * 7.0 / range));
		out += bars[std::min<size_t>(level, 7)];
	}
	return out;
}

// Every name in the model came from someone else: comm and exe from whoever started the process,
// site and STW reason names from the binary (or a recording). The terminal views escape them all
// here, once, so no view can forget one; JSON keeps them exact (nlohmann escapes controls).
session::Snapshot snapshot__for_terminal(const session::Snapshot &snap)
{
	session::Snapshot out = snap;
	out.time = text__escape(out.time);
	for (auto &p : out.processes) {
		p.comm = text__escape(p.comm);
		p.exe = text__escape(p.exe);
		p.go_version = text__escape(p.go_version);
		for (auto &s : p.sites) {
			s.function = text__escape(s.function);
			s.created_by = text__escape(s.created_by);
			s.created_at = text__escape(s.created_at);
			for (auto &w : s.waits)
				w.reason = text__escape(w.reason);
		}
		std::map<std::string, session::PauseStats> reasons;
		for (const auto &[reason, stats] : p.stw_by_reason)
			reasons[text__escape(reason)] = stats;
		p.stw_by_reason = std::move(reasons);
		for (auto *list : {&p.syscalls, &p.runtime_waits}) {
			for (auto &sc : *list) {
				sc.name = text__escape(sc.name);
				std::map<std::string, uint64_t> by;
				for (const auto &[fn, n] : sc.by_function)
					by[text__escape(fn)] += n;
				sc.by_function = std::move(by);
				for (auto &[fn, n] : sc.top_functions)
					fn = text__escape(fn);
			}
		}
	}
	return out;
}

std::string format__site_waits(const session::Site &s, size_t max_items)
{
	std::string out;
	for (size_t i = 0; i < s.waits.size() && i < max_items; i++) {
		const auto &w = s.waits[i];
		if (!out.empty())
			out += "; ";
		out += fmt::format("{} {}", w.count, w.reason);
		if (w.change)
			out += fmt::format(" ({:+})", w.change);  // since the previous census: a leak grows
		// The runtime sets g.waitsince when a GC first sees the goroutine blocked: an age is
		// shown once one has.
		if (w.oldest_ns) {
			uint64_t sec = w.oldest_ns / 1'000'000'000;
			out += sec < 60 ? fmt::format(", oldest {}s", sec)
					: sec < 3600 ? fmt::format(", oldest {}m", sec / 60)
						     : fmt::format(", oldest {}h{:02}m", sec / 3600, sec / 60 % 60);
		}
	}
	if (s.waits.size() > max_items)
		out += fmt::format("; +{} more", s.waits.size() - max_items);
	return out;
}

std::string format__probe_cost(const session::ProbeCost &c, bool short_form)
{
	std::string cpu = c.trap_ns > 0 ? fmt::format("{:.2f}%", c.cpu_percent) : "?";
	if (short_form)
		return c.mode + " " + cpu;
	std::string mode = c.mode == "sampled" ? fmt::format("sampled {:.0f}%", c.sample_fraction * 100) : c.mode;
	return fmt::format("{} {:.0f} traps/s ≈{} CPU", mode, c.traps_per_sec, cpu);
}

std::vector<std::string> probe_cost__estimated(const session::ProbeCost &c)
{
	if (!c.sites_estimated)
		return {};
	return {"sites.created", "sites.exited"};
}

std::vector<std::string> probe_cost__exact(const session::ProbeCost &c)
{
	// Totals and per-site live come from the runtime's own state in sampled mode; GC, STW and
	// syscall probes never sample.
	std::vector<std::string> exact = {"goroutines", "sites.live", "gc", "heap", "stw", "syscalls", "runtime_waits"};
	if (!c.sites_estimated)
		exact.insert(exact.begin() + 2, {"sites.created", "sites.exited"});
	return exact;
}

} // namespace gort::views
