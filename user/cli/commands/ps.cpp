// gort ps: every Go process, recognised by its binary's Go build info (never by name), with how
// it was built and whether gort can trace it — and, with -v, where each probe would go.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "user/common/escape.h"
#include "user/common/output.h"
#include "user/cli/commands/commands.h"
#include "user/common/error.h"
#include "user/gobinary/go_binary.h"
#include "user/goprocess/process.h"
#include "user/gobinary/runtime_layout.h"
#include "user/probes/tracer.h"

namespace gort::cli {

namespace {

struct GoProcess {
	goprocess::ProcessInfo info;
	std::string go_version;
	std::vector<std::string> build;  // pie, cgo, static, stripped, no-dwarf, pgo
	bool traceable = false;
	std::string why_not;
	std::vector<gobinary::ProbeAttachment> probes;
	std::vector<std::string> probe_at;  // "runtime.goexit1+0x6", per probe
	std::vector<gobinary::OffsetOrigin> offsets;  // each offset traced with, and its source
};

std::vector<std::string> build_modes(const gobinary::BuildInfo &b)
{
	std::vector<std::string> m;
	if (b.pie)
		m.push_back("pie");
	if (b.cgo)
		m.push_back("cgo");
	if (b.static_link)
		m.push_back("static");
	if (b.stripped)
		m.push_back("stripped");
	else if (!b.has_dwarf)
		m.push_back("no-dwarf");
	if (b.pgo)
		m.push_back("pgo");
	return m;
}

// `hidden`: processes whose binary this user may not read (another user's, without root).
std::vector<GoProcess> go_processes(size_t &hidden)
{
	std::vector<GoProcess> out;
	for (pid_t pid : goprocess::process__list_all()) {
		if (pid == getpid())
			continue;
		struct stat st {};
		if (stat(fmt::format("/proc/{}/exe", pid).c_str(), &st) != 0 && errno == EACCES) {
			hidden += geteuid() != 0;  // root is refused only where nobody could look
			continue;
		}
		try {
			goprocess::ProcessInfo info = goprocess::process__info(pid);
			if (info.kernel_thread)
				continue;
			// /proc/PID/exe reaches the binary even in another mount namespace (containers)
			// or after it was deleted or replaced on disk.
			auto bin = gobinary::GoBinary::open(fmt::format("/proc/{}/exe", pid));
			GoProcess p{info, bin->build_info().version.raw, build_modes(bin->build_info()), true, "", {}, {}, {}};
			try {
				auto layout = gobinary::runtime_layout__inspect(*bin);
				p.probes = std::move(layout.probes);
				p.offsets = std::move(layout.offset_origins);
				for (const auto &pr : p.probes) {
					auto f = bin->function(pr.point.function);
					p.probe_at.push_back(fmt::format("{}+{:#x}", pr.point.function,
									 pr.point.vaddr - (f ? f->addr : pr.point.vaddr)));
				}
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

std::string join(const std::vector<std::string> &v, const char *sep)
{
	std::string s;
	for (const auto &x : v)
		s += (s.empty() ? "" : sep) + x;
	return s;
}

// What one goroutine-probe trap costs a target on this machine, as top and record calibrate it
// (probes/calibrate.h): the figure their budget multiplies the trap rate by. 0 and the reason
// when it cannot be measured (no privileges).
std::pair<double, std::string> trap_cost()
{
	struct Ignore : probes::EventSink {
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
	std::vector<GoProcess> procs = go_processes(hidden);
	// Said first, on stderr: an empty or short list must not read as "no other Go process".
	if (hidden > 0)
		fmt::print(stderr, "gort: {} process{} of other users not looked at (their binaries are readable only "
			   "by root): run gort ps as root to see every Go process\n", hidden, hidden == 1 ? "" : "es");
	auto [trap_ns, trap_why] = verbose ? trap_cost() : std::pair<double, std::string>{};
	if (json) {
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
				e["trap_ns"] = trap_ns;
			}
			arr.push_back(e);
		}
		// Names are the kernel's bytes: invalid UTF-8 is replaced rather than refused.
		stdout__write(arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
		return 0;
	}
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
		for (const auto &o : p.offsets)
			fmt::print("{:>8}    offset {:<34} {:<10} {}\n", "", o.name,
				   o.name.starts_with("runtime.g.") || o.name.starts_with("runtime.m.") ? std::to_string(o.value)
													: fmt::format("{:#x}", o.value),
				   o.origin);
		for (size_t i = 0; i < p.probes.size(); i++) {
			const auto &pt = p.probes[i].point;
			fmt::format_to(o, "{:>8}    {:<22} {:<40} {:#x}  {:<28} {}  {}\n", "", p.probes[i].program,
				   text__escape(p.probe_at[i]), pt.vaddr, text__escape(pt.instruction),
				   pt.emulated ? "emulated      " : "single-stepped", pt.why);
		}
	}
	if (verbose) {
		if (trap_ns > 0)
			fmt::format_to(o, "one goroutine-probe trap costs a target {:.2f} us of CPU on this machine (calibrated now: "
					  "gort's exit program on an emulated instruction); auto mode keeps traps/s x this "
					  "under --overhead\n",
				   trap_ns / 1000);
		else
			fmt::format_to(o, "the cost of a goroutine-probe trap was not measured: {}\n", trap_why);
	}
	stdout__write(text);
	return 0;
}

} // namespace gort::cli
