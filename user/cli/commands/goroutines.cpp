// `gort goroutines -p PID`: every goroutine of a running Go process with its wait and stack, read
// from its memory (no probes, no stop). The whole output is built before anything is written:
// a process that ends mid-read gives one error line, never a partial dump.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "user/cli/commands/commands.h"
#include "user/common/stop_signals.h"
#include "user/common/error.h"
#include "user/goprocess/goroutine_groups.h"
#include "user/goprocess/goroutine_stacks.h"
#include "user/views/goroutine_dump.h"

namespace gort::cli {

namespace {

void write_all(const std::string &text)
{
	size_t done = 0;
	while (done < text.size()) {
		ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			throw UserError(ExitCode::failure, fmt::format("cannot write the dump to stdout: {}", std::strerror(errno)));
		done += static_cast<size_t>(n);
	}
}

} // namespace

int goroutines__run(const GoroutinesOptions &opts)
{
	if (geteuid() != 0)
		throw UserError(ExitCode::permission, "gort goroutines reads another process's memory: run it as root (sudo)");
	goprocess::GoroutineInspector inspector(opts.pid);
	std::ostringstream out;
	if (!opts.leaks) {
		goprocess::GoroutineDump d = inspector.dump();
		if (opts.json)
			views::goroutine_dump__json(out, d, opts.runtime);
		else if (opts.group)
			views::goroutine_dump__groups(out, d, goprocess::goroutine_groups__by_stack(d, opts.runtime), opts.runtime);
		else
			views::goroutine_dump__text(out, d, opts.runtime);
		if (d.changed)
			fmt::print(stderr, "gort: {} goroutines changed while read (shown without a stack)\n", d.changed);
		write_all(out.str());
		return 0;
	}

	goprocess::GoroutineDump first = inspector.dump();
	int64_t watch_ns = 0;
	std::vector<goprocess::GoroutineGroup> earlier;
	goprocess::GoroutineDump d;
	if (opts.watch) {
		earlier = goprocess::goroutine_groups__waiting(first, 1, opts.runtime);
		StopSignals stop;
		if (!stop.wait_for(*opts.watch))
			throw UserError(ExitCode::failure, "interrupted before the second read: no leak report");
		d = inspector.dump();
		watch_ns = d.taken_ns - first.taken_ns;
	} else {
		d = std::move(first);
	}
	auto groups = goprocess::goroutine_groups__waiting(d, opts.min_count, opts.runtime);
	if (opts.watch)
		goprocess::goroutine_groups__compare(groups, earlier);
	if (opts.json)
		out << views::goroutine_dump__leaks_json(d, groups, watch_ns).dump() << "\n";
	else
		views::goroutine_dump__leaks(out, d, groups, watch_ns);
	write_all(out.str());
	return 0;
}

} // namespace gort::cli
