#include "user/cli/commands/selection.h"
#include "user/views/live_view.h"

namespace gort::cli {

int top__run(const TopOptions &opts)
{
	session::SessionOptions so = session_options__for(opts.select, opts.syscall_threshold);
	so.goroutine_mode = opts.goroutine_mode;
	so.overhead = opts.overhead;
	session::Driver driver(so, driver_options__for(opts.select, opts.interval, opts.duration));
	views::LiveView view(driver.session(), opts.json, opts.select.all);
	driver.attach(view);
	return driver.run(view);
}

} // namespace gort::cli
