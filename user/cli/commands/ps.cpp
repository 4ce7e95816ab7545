// gort ps: every Go process, found as `--all` finds them (session/discovery.h), with how it was
// built and whether gort can trace it — and, with -v, where each probe would go.
#include <cstdio>

#include <fmt/format.h>

#include "user/cli/commands/commands.h"
#include "user/common/output.h"
#include "user/session/discovery.h"
#include "user/views/ps_view.h"

namespace gort::cli {

int ps__run(bool json, bool verbose)
{
	size_t hidden = 0;
	std::vector<session::GoProcessReport> procs = session::go_processes__report(hidden);
	// Said first, on stderr: an empty or short list must not read as "no other Go process".
	if (hidden > 0)
		fmt::print(stderr, "gort: {} process{} of other users not looked at (their binaries are readable only "
			   "by root): run gort ps as root to see every Go process\n", hidden, hidden == 1 ? "" : "es");
	stdout__write(json ? views::ps__json(procs, verbose) : views::ps__text(procs, verbose));
	return 0;
}

} // namespace gort::cli
