// gort ps: every Go process, found as `--all` finds them (session/discovery.h), with how it was
// built and whether gort can trace it — and, with -v, where each probe would go and what one
// trap costs here.
#include <cstdio>

#include <fmt/format.h>

#include "user/cli/commands/commands.h"
#include "user/common/error.h"
#include "user/common/output.h"
#include "user/probes/tracer.h"
#include "user/session/discovery.h"
#include "user/views/ps_view.h"

namespace gort::cli {

namespace {

// What one goroutine-probe trap costs a target on this machine, as top and record calibrate it
// (probes/calibrate.h). Not measured (and why) without the privileges to load BPF.
views::TrapCost trap_cost()
{
	struct Ignore : EventSink {
		void on_event(const gort_event_header &, const void *, size_t) override {}
	} ignore;
	try {
		probes::Tracer tracer(probes::TracerOptions{}, ignore);
		return {tracer.calibrate_trap_ns(), ""};
	} catch (const UserError &e) {
		return {0, e.what()};
	}
}

} // namespace

int ps__run(bool json, bool verbose)
{
	size_t hidden = 0;
	std::vector<session::GoProcessReport> procs = session::go_processes__report(hidden);
	// Said first, on stderr: an empty or short list must not read as "no other Go process".
	if (hidden > 0)
		fmt::print(stderr, "gort: {} process{} of other users not looked at (their binaries are readable only "
			   "by root): run gort ps as root to see every Go process\n", hidden, hidden == 1 ? "" : "es");
	views::TrapCost trap = verbose ? trap_cost() : views::TrapCost{};
	stdout__write(json ? views::ps__json(procs, verbose, trap) : views::ps__text(procs, verbose, trap));
	return 0;
}

} // namespace gort::cli
