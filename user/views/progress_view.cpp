// `gort record`'s progress line on a terminal: how long, how much, and whether anything was lost.
#include <chrono>

#include <fmt/format.h>

#include "user/views/views.h"

namespace gort::views {

namespace {

std::string progress__bytes(uint64_t n)
{
	if (n < 1024)
		return fmt::format("{} B", n);
	if (n < 1024 * 1024)
		return fmt::format("{:.1f} KiB", n / 1024.0);
	return fmt::format("{:.1f} MiB", n / (1024.0 * 1024.0));
}

std::string progress__elapsed(std::chrono::nanoseconds d)
{
	auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
	return s < 60 ? fmt::format("{}s", s) : fmt::format("{}m{:02}s", s / 60, s % 60);
}

} // namespace

std::string record_progress__line(const std::string &output, std::chrono::nanoseconds elapsed, uint64_t events,
				  uint64_t bytes, uint64_t lost)
{
	return fmt::format("gort: recording to {}: {}, {} events, {}, {} lost", output, progress__elapsed(elapsed), events,
			   progress__bytes(bytes), lost);
}

} // namespace gort::views
