// Number formatting shared by the text and terminal views, so both speak the same units.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

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

std::string format__probe_cost(const session::ProbeCost &c, bool short_form)
{
	std::string cpu = c.trap_ns > 0 ? fmt::format("{:.2f}%", c.cpu_percent) : "?";
	if (short_form)
		return c.mode + " " + cpu;
	std::string mode = c.mode == "sampled" ? fmt::format("sampled {:.0f}%", c.sample_fraction * 100) : c.mode;
	return fmt::format("{} {:.0f} traps/s ≈{} CPU", mode, c.traps_per_sec, cpu);
}

} // namespace gort::views
