#include "user/cli/commands/selection.h"

#include <regex>

namespace gort::cli {

session::SessionOptions session_options__for(const Selection &select, std::chrono::nanoseconds syscall_threshold)
{
	session::SessionOptions so;
	so.slow_syscall_ns = static_cast<uint64_t>(syscall_threshold.count());
	so.system_wide = select.all;
	if (!select.comm.empty())
		so.filter.comm = std::regex(select.comm);
	so.filter.exclude.insert(select.exclude.begin(), select.exclude.end());
	so.filter.max_procs = select.max_procs;
	return so;
}

session::DriverOptions driver_options__for(const Selection &select, std::chrono::nanoseconds interval,
					   std::optional<std::chrono::nanoseconds> duration)
{
	session::DriverOptions o;
	o.pids = select.pids;
	o.all = select.all;
	o.comm = select.comm;
	o.interval = interval;
	o.duration = duration;
	return o;
}

} // namespace gort::cli
