#include <unistd.h>

#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "user/cli/commands/commands.h"
#include "user/common/error.h"
#include "user/target/go_binary.h"
#include "user/target/process.h"
#include "user/target/runtime_layout.h"

namespace gort::cli {

namespace {

struct GoProcess {
	target::ProcessInfo info;
	std::string go_version;
	bool traceable = false;
	std::string why_not;
};

// Go processes are recognised by their binary's Go build info, never by name.
std::vector<GoProcess> go_processes()
{
	std::vector<GoProcess> out;
	for (pid_t pid : target::process__list_all()) {
		if (pid == getpid())
			continue;
		try {
			target::ProcessInfo info = target::process__info(pid);
			if (info.kernel_thread)
				continue;
			auto bin = target::GoBinary::open(fmt::format("/proc/{}/exe", pid));
			GoProcess p{info, bin->build_info().version.raw, true, ""};
			try {
				target::runtime_layout__inspect(*bin);
			} catch (const UserError &e) {
				p.traceable = false;
				p.why_not = e.what();
			}
			out.push_back(std::move(p));
		} catch (const std::exception &) {
			continue; // not a Go program, or it ended while being looked at
		}
	}
	return out;
}

} // namespace

int ps__run(bool json, bool /*verbose*/)
{
	std::vector<GoProcess> procs = go_processes();
	if (json) {
		nlohmann::json arr = nlohmann::json::array();
		for (const auto &p : procs)
			arr.push_back({{"pid", p.info.pid}, {"comm", p.info.comm}, {"exe", p.info.exe},
				       {"go_version", p.go_version}, {"traceable", p.traceable}, {"reason", p.why_not}});
		std::cout << arr.dump() << "\n";
		return 0;
	}
	fmt::print("{:>8}  {:<16} {:<12} {:<9} {}\n", "PID", "COMMAND", "GO", "TRACEABLE", "EXE");
	for (const auto &p : procs) {
		fmt::print("{:>8}  {:<16} {:<12} {:<9} {}\n", p.info.pid, p.info.comm, p.go_version,
			   p.traceable ? "yes" : "no", p.info.exe);
		if (!p.traceable)
			fmt::print("{:>8}  why not: {}\n", "", p.why_not);
	}
	return 0;
}

} // namespace gort::cli
