// `gort ps`: every Go process with how it was built and whether gort can trace it — and, with
// -v, where each probe would go and where each offset came from. The figures come from
// session::go_processes__report; this only renders them.
#include <fmt/format.h>

#include "user/common/escape.h"
#include "user/views/ps_view.h"

namespace gort::views {

namespace {

std::string join(const std::vector<std::string> &v, const char *sep)
{
	std::string s;
	for (const auto &x : v)
		s += (s.empty() ? "" : sep) + x;
	return s;
}

} // namespace

std::string ps__json(const std::vector<session::GoProcessReport> &procs, bool verbose, const TrapCost &trap)
{
	nlohmann::json arr = nlohmann::json::array();
	for (const auto &p : procs) {
		nlohmann::json e = {{"pid", p.info.pid}, {"ns_pid", p.info.ns_pid}, {"comm", p.info.comm},
				    {"exe", p.info.exe}, {"go_version", p.go_version}, {"build", p.build},
				    {"traceable", p.traceable}, {"reason", p.why_not}};
		if (verbose) {
			nlohmann::json points = nlohmann::json::array();
			for (size_t i = 0; i < p.probes.size(); i++) {
				const auto &pr = p.probes[i];
				points.push_back({{"program", pr.program}, {"function", pr.point.function},
						  {"at", p.probe_at[i]},
						  {"address", fmt::format("{:#x}", pr.point.vaddr)},
						  {"file_offset", pr.point.file_offset}, {"instruction", pr.point.instruction},
						  {"emulated", pr.point.emulated}, {"why", pr.point.why}});
			}
			e["attach_points"] = points;
			nlohmann::json offsets = nlohmann::json::array();
			for (const auto &o : p.offsets)
				offsets.push_back({{"name", o.name}, {"value", o.value}, {"source", o.origin}});
			e["offsets"] = offsets;
			// The machine's figure, on each process it applies to (the array stays an array).
			e["trap_ns"] = trap.ns;
		}
		arr.push_back(e);
	}
	// Names are the kernel's bytes: invalid UTF-8 is replaced rather than refused.
	return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string ps__text(const std::vector<session::GoProcessReport> &procs, bool verbose, const TrapCost &trap)
{
	std::string text;
	auto o = std::back_inserter(text);
	fmt::format_to(o, "{:>8}  {:<16} {:<12} {:<22} {:<9} {}\n", "PID", "COMMAND", "GO", "BUILD", "TRACEABLE", "EXE");
	for (const auto &p : procs) {
		std::string build = p.build.empty() ? "-" : join(p.build, ",");
		fmt::format_to(o, "{:>8}  {:<16} {:<12} {:<22} {:<9} {}\n", p.info.pid, text__escape(p.info.comm),
			   text__escape(p.go_version), build, p.traceable ? "yes" : "no", text__escape(p.info.exe));
		if (p.info.ns_pid != p.info.pid)
			fmt::format_to(o, "{:>8}  pid {} in its PID namespace (container)\n", "", p.info.ns_pid);
		if (!p.traceable)
			fmt::format_to(o, "{:>8}  why not: {}\n", "", text__escape(p.why_not));
		if (!verbose || !p.traceable)
			continue;
		// Where each offset came from: DWARF, type descriptor, instructions, table go1.N.
		for (const auto &off : p.offsets)
			fmt::format_to(o, "{:>8}    offset {:<34} {:<10} {}\n", "", off.name,
				   off.name.starts_with("runtime.g.") || off.name.starts_with("runtime.m.")
					   ? std::to_string(off.value)
					   : fmt::format("{:#x}", off.value),
				   off.origin);
		for (size_t i = 0; i < p.probes.size(); i++) {
			const auto &pt = p.probes[i].point;
			fmt::format_to(o, "{:>8}    {:<22} {:<40} {:#x}  {:<28} {}  {}\n", "", p.probes[i].program,
				   text__escape(p.probe_at[i]), pt.vaddr, text__escape(pt.instruction),
				   pt.emulated ? "emulated      " : "single-stepped", pt.why);
		}
	}
	if (verbose) {
		if (trap.ns > 0)
			fmt::format_to(o, "one goroutine-probe trap costs a target {:.2f} us of CPU on this machine (calibrated now: "
					  "gort's exit program on an emulated instruction); auto mode keeps traps/s x this "
					  "under --overhead\n",
				   trap.ns / 1000);
		else
			fmt::format_to(o, "the cost of a goroutine-probe trap was not measured: {}\n", text__escape(trap.not_measured));
	}
	return text;
}

} // namespace gort::views
