#include "user/cli/commands/selection.h"
#include "user/views/live_view.h"

namespace gort::cli {

int top__run(const TopOptions &opts)
{
	session::SessionOptions so = session_options__for(opts.select, opts.syscall_threshold);
	so.goroutine_mode = opts.goroutine_mode;
	so.overhead = opts.overhead;
	// Sampled figures come from the reading of the runtime's state: one per refresh, or a
	// process shown every 100 ms would show per-site live counts up to a second old.
	so.sample_interval = opts.interval;
	session::Driver driver(so, driver_options__for(opts.select, opts.interval, opts.duration));
	views::LiveView view(driver.session(), opts.json, opts.select.all);
	driver.attach(view);
	return driver.run(view);
}

} // namespace gort::cli
