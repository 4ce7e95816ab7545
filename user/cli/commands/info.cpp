// `gort info`: one line per thing gort needs from this kernel and this process (what `bpftrace
// --info` is to bpftrace), each "ok" or what is missing and what to do. The probing is in
// user/probes/kernel_features; this only renders it and picks the exit code.
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "user/cli/commands/commands.h"
#include "user/probes/kernel_features.h"

namespace gort::cli {

int info__run()
{
	auto checks = probes::kernel_features__probe();
	size_t width = 0;
	for (const auto &c : checks)
		width = std::max(width, c.name.size());
	for (const auto &c : checks) {
		const char *status = c.ok ? "ok" : c.required ? "MISSING" : "unavailable";
		fmt::print("{:<{}}  {}: {}\n", c.name, width, status, c.detail);
	}
	ExitCode verdict = probes::kernel_features__verdict(checks);
	if (verdict == ExitCode::ok) {
		fmt::print("gort can trace Go programs here\n");
	} else {
		std::fflush(stdout);
		fmt::print(stderr, "gort: cannot trace here: fix the lines marked MISSING above\n");
	}
	return static_cast<int>(verdict);
}

} // namespace gort::cli
