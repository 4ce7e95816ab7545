#include <algorithm>
#include <cstdio>
#include <regex>
#include <string>

#include "gort/bpf_shared.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "user/common/escape.h"
#include "user/common/output.h"
#include "user/cli/commands/commands.h"
#include "user/common/duration.h"
#include "user/common/error.h"
#include "user/serve/http_server.h"

namespace gort::cli {

namespace {

std::chrono::nanoseconds parse_positive(const std::string &option, const std::string &text)
{
	auto d = duration__parse(text);
	if (!d || d->count() <= 0)
		throw UserError(ExitCode::usage, fmt::format("invalid {} '{}': use a positive duration like 500ms, 1s or 2m",
							     option, text));
	return *d;
}

// -p / --all and its filters, the same for every command that traces.
struct SelectionArgs {
	std::vector<int> pids, exclude;
	std::string comm;
	bool all = false;
	int max_procs = 256;

	void add_to(CLI::App *cmd, const char *verb)
	{
		cmd->add_option("-p,--pid", pids, fmt::format("PID of a Go process to {} (repeatable)", verb));
		cmd->add_flag("--all", all, "every Go process on the machine, now and as they start");
		cmd->add_option("--comm", comm, "with --all: only processes whose command matches this regex");
		cmd->add_option("--exclude-pid", exclude, "with --all: never trace this PID (repeatable)");
		cmd->add_option("--max-procs", max_procs, "with --all: trace at most this many processes at once")
			->capture_default_str();
	}

	Selection resolve() const
	{
		Selection o;
		for (int pid : pids) {
			if (pid <= 0)
				throw UserError(ExitCode::usage, fmt::format("invalid PID {}: use a positive process ID", pid));
			// -p X -p X names one process: attached once (a second attach would count twice).
			if (std::find(o.pids.begin(), o.pids.end(), pid) == o.pids.end())
				o.pids.push_back(pid);
		}
		if (all && !o.pids.empty())
			throw UserError(ExitCode::usage, "use either -p PID or --all, not both");
		if (!all && o.pids.empty())
			throw UserError(ExitCode::usage, "say which processes to trace: -p PID (find PIDs with gort ps) or --all");
		if (!all && (!comm.empty() || !exclude.empty()))
			throw UserError(ExitCode::usage, "--comm and --exclude-pid narrow --all: add --all, or use -p PID");
		if (max_procs < 1 || max_procs > GORT_MAX_PROCS)
			throw UserError(ExitCode::usage,
					fmt::format("invalid --max-procs {}: use 1 to {}", max_procs, GORT_MAX_PROCS));
		if (!comm.empty()) {
			try {
				std::regex check(comm);
			} catch (const std::regex_error &e) {
				throw UserError(ExitCode::usage, fmt::format("invalid --comm regex '{}': {}", comm, e.what()));
			}
		}
		o.all = all;
		o.comm = comm;
		o.exclude.assign(exclude.begin(), exclude.end());
		o.max_procs = static_cast<size_t>(max_procs);
		return o;
	}
};

// --exact / --sampled / --overhead: how goroutines are counted, the same for top and record.
struct ModeArgs {
	std::string overhead = "1%";
	bool exact = false, sampled = false;

	void add_to(CLI::App *cmd)
	{
		cmd->add_flag("--exact", exact, "count every goroutine with a probe (a uprobe trap per goroutine "
						"created or ended), whatever it costs the target");
		cmd->add_flag("--sampled", sampled, "always count from the runtime's state, probes on for a "
						    "fraction of each interval (per-site rates estimated)");
		cmd->add_option("--overhead", overhead, "CPU the goroutine probes may cost each target, in % of "
						       "one CPU, before it is sampled")
			->capture_default_str();
	}

	void resolve(session::GoroutineMode &mode, double &budget) const
	{
		if (exact && sampled)
			throw UserError(ExitCode::usage, "--exact and --sampled exclude each other; pick one");
		mode = exact ? session::GoroutineMode::exact
		       : sampled ? session::GoroutineMode::sampled
				 : session::GoroutineMode::auto_;
		std::string pct = overhead;
		if (!pct.empty() && pct.back() == '%')
			pct.pop_back();
		char *end = nullptr;
		double v = std::strtod(pct.c_str(), &end);
		if (pct.empty() || *end || !(v > 0) || v > 100)
			throw UserError(ExitCode::usage, "--overhead " + overhead + ": give a percentage of one CPU in (0, 100], e.g. 1% or 0.5");
		budget = v / 100;
	}
};

struct TopArgs {
	SelectionArgs select;
	std::string interval = "1s", duration, threshold = "1ms";
	bool json = false;
	ModeArgs mode;
	bool with_selection = false;

	void add_to(CLI::App *cmd, bool selects)
	{
		with_selection = selects;
		if (selects)
			select.add_to(cmd, "trace");
		cmd->add_option("--interval", interval, "refresh interval, e.g. 1s, 500ms")->capture_default_str();
		cmd->add_option("--duration", duration, "stop after this long, e.g. 30s, 5m");
		cmd->add_flag("--json", json, "one JSON object per interval on stdout (NDJSON)");
		cmd->add_option("--syscall-threshold", threshold, "slow syscall threshold")->capture_default_str();
		if (selects)
			mode.add_to(cmd);
	}

	TopOptions resolve() const
	{
		TopOptions o;
		if (with_selection)
			o.select = select.resolve();
		o.interval = parse_positive("--interval", interval);
		if (!duration.empty())
			o.duration = parse_positive("--duration", duration);
		o.syscall_threshold = parse_positive("--syscall-threshold", threshold);
		o.json = json;
		mode.resolve(o.goroutine_mode, o.overhead);
		return o;
	}
};

struct ServeArgs {
	TopArgs top;
	std::string listen = serve::kDefaultListen;
	int max_sites = 20;

	void add_to(CLI::App *cmd)
	{
		top.select.add_to(cmd, "trace");
		top.with_selection = true;
		cmd->add_option("--listen", listen, "HOST:PORT to serve /metrics and /ready on (numeric address)")
			->capture_default_str();
		cmd->add_option("--interval", top.interval, "how often the figures are refreshed, e.g. 1s")->capture_default_str();
		cmd->add_option("--duration", top.duration, "stop after this long, e.g. 30s, 5m");
		cmd->add_option("--syscall-threshold", top.threshold, "slow syscall threshold")->capture_default_str();
		cmd->add_option("--max-sites", max_sites, "per-site series per process; the rest are summed as function=\"other\"")
			->capture_default_str();
	}

	ServeOptions resolve() const
	{
		ServeOptions o;
		o.top = top.resolve();
		o.listen = listen;
		if (max_sites < 1 || max_sites > 1000)
			throw UserError(ExitCode::usage, fmt::format("invalid --max-sites {}: use 1 to 1000", max_sites));
		o.max_sites = static_cast<size_t>(max_sites);
		return o;
	}
};

struct RecordArgs {
	SelectionArgs select;
	std::string output, interval = "1s", duration, threshold = "1ms";
	bool force = false;
	ModeArgs mode;

	void add_to(CLI::App *cmd)
	{
		select.add_to(cmd, "record");
		cmd->add_option("-o,--output", output, "the file to write (created 0600)");
		cmd->add_flag("--force", force, "overwrite the output file if it exists");
		cmd->add_option("--duration", duration, "stop after this long, e.g. 30s, 5m");
		cmd->add_option("--interval", interval, "how often counters are recorded, e.g. 1s")->capture_default_str();
		cmd->add_option("--syscall-threshold", threshold, "slow syscall threshold")->capture_default_str();
		mode.add_to(cmd);
	}

	RecordOptions resolve() const
	{
		RecordOptions o;
		o.select = select.resolve();
		if (output.empty())
			throw UserError(ExitCode::usage, "say where to record: -o FILE");
		o.output = output;
		o.force = force;
		o.interval = parse_positive("--interval", interval);
		if (!duration.empty())
			o.duration = parse_positive("--duration", duration);
		o.syscall_threshold = parse_positive("--syscall-threshold", threshold);
		mode.resolve(o.goroutine_mode, o.overhead);
		return o;
	}
};

struct GoroutinesArgs {
	int pid = 0;
	bool group = false, json = false, leaks = false, runtime = false;
	int min_count = 2;
	std::string watch;

	void add_to(CLI::App *cmd)
	{
		cmd->add_option("-p,--pid", pid, "PID of the Go process")->required();
		cmd->add_flag("--group", group, "fold goroutines with identical stacks, with counts (like pprof debug=1)");
		cmd->add_flag("--json", json, "one JSON object on stdout");
		cmd->add_flag("--leaks", leaks, "groups of goroutines parked in the same wait at the same stack");
		cmd->add_option("--min", min_count, "with --leaks: the smallest group shown")->capture_default_str();
		cmd->add_option("--watch", watch, "with --leaks: read again after this long (e.g. 10s) and show which groups grow");
		cmd->add_flag("--runtime", runtime, "also the runtime's own goroutines and frames");
	}

	GoroutinesOptions resolve() const
	{
		GoroutinesOptions o;
		if (pid <= 0)
			throw UserError(ExitCode::usage, fmt::format("invalid PID {}: use a positive process ID", pid));
		if (group && (leaks || json))
			throw UserError(ExitCode::usage, "--group is a text format: use it without --leaks and --json");
		if (!watch.empty() && !leaks)
			throw UserError(ExitCode::usage, "--watch compares leak groups over time: add --leaks");
		if (min_count < 1)
			throw UserError(ExitCode::usage, fmt::format("invalid --min {}: use 1 or more", min_count));
		o.pid = pid;
		o.group = group;
		o.json = json;
		o.leaks = leaks;
		o.runtime = runtime;
		o.min_count = static_cast<size_t>(min_count);
		if (!watch.empty())
			o.watch = parse_positive("--watch", watch);
		return o;
	}
};

} // namespace

int cli__run(int argc, char **argv)
{
	CLI::App app{"gort: trace the Go runtime of running processes with eBPF", "gort"};
	app.require_subcommand(1);
	app.set_version_flag("--version", version__text());

	bool ps_json = false, ps_verbose = false;
	auto *ps = app.add_subcommand("ps", "list the Go processes on this machine and whether gort can trace them");
	ps->add_flag("--json", ps_json, "JSON array on stdout");
	ps->add_flag("-v,--verbose", ps_verbose, "also show where each probe would attach, and why there");

	TopArgs top_args;
	auto *top = app.add_subcommand("top", "live view of goroutines, GC, STW pauses and slow syscalls of Go processes");
	top_args.add_to(top, true);

	GoroutinesArgs goroutines_args;
	auto *goroutines = app.add_subcommand("goroutines", "every goroutine of a Go process: wait, age and stack, read "
								 "from its memory without stopping it");
	goroutines_args.add_to(goroutines);

	SelectionArgs gctrace_select;
	std::string gctrace_duration;
	bool gctrace_json = false;
	auto *gctrace = app.add_subcommand("gctrace", "one line per GC cycle of running Go processes, as GODEBUG=gctrace=1 prints it");
	gctrace_select.add_to(gctrace, "trace");
	gctrace->add_option("--duration", gctrace_duration, "stop after this long, e.g. 30s, 5m");
	gctrace->add_flag("--json", gctrace_json, "one JSON object per cycle on stdout (bytes, nanoseconds, unrounded)");

	TopArgs demo_args;
	auto *demo = app.add_subcommand("demo", "start a small Go service with problems and run `top` on it");
	demo_args.add_to(demo, false);

	ServeArgs serve_args;
	auto *serve = app.add_subcommand("serve", "serve what top shows as Prometheus metrics over HTTP (default " +
							 std::string(serve::kDefaultListen) + ")");
	serve_args.add_to(serve);

	RecordArgs record_args;
	auto *record = app.add_subcommand("record", "record what top shows, event by event, to a file for report and export "
						     "(mode as top's: auto by default; each reading and mode change is kept)");
	record_args.add_to(record);

	std::string report_file;
	bool report_json = false;
	auto *report = app.add_subcommand("report", "the summary top shows, from a recording, with the mode over time "
						     "and which figures are estimates (sampled mode's per-site created/exited)");
	report->add_option("FILE", report_file, "a file written by gort record")->required();
	report->add_flag("--json", report_json, "one JSON object on stdout (the schema of top --json)");

	std::string export_file, export_format, export_output;
	auto *exp = app.add_subcommand("export", "convert a recording for other tools");
	exp->add_option("FILE", export_file, "a file written by gort record")->required();
	exp->add_option("--format", export_format, "chrome: trace-event JSON for Perfetto / chrome://tracing")
		->required()
		->check(CLI::IsMember({"chrome"}));
	exp->add_option("-o,--output", export_output, "the JSON file to write")->required();

	auto *info = app.add_subcommand("info", "check what this kernel and this process can do for gort (exit 0 when it can trace)");

	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForVersion &e) {
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		std::string msg = e.what();
		fmt::print(stderr, "gort: {} (see gort --help)\n", msg.empty() ? "invalid command line" : text__escape(msg));
		return static_cast<int>(ExitCode::usage);
	}

	sigpipe__ignore();
	try {
		if (*ps)
			return ps__run(ps_json, ps_verbose);
		if (*top)
			return top__run(top_args.resolve());
		if (*serve)
			return serve__run(serve_args.resolve());
		if (*goroutines)
			return goroutines__run(goroutines_args.resolve());
		if (*demo)
			return demo__run(demo_args.resolve());
		if (*gctrace) {
			GctraceOptions o;
			o.select = gctrace_select.resolve();
			if (!gctrace_duration.empty())
				o.duration = parse_positive("--duration", gctrace_duration);
			o.json = gctrace_json;
			return gctrace__run(o);
		}
		if (*record)
			return record__run(record_args.resolve());
		if (*report)
			return report__run(report_file, report_json);
		if (*exp)
			return export__run(export_file, export_format, export_output);
		if (*info)
			return info__run();
	} catch (const UserError &e) {
		fmt::print(stderr, "gort: {}\n", text__escape(e.what()));
		return static_cast<int>(e.code());
	} catch (const std::exception &e) {
		fmt::print(stderr, "gort: internal error: {}\n", text__escape(e.what()));
		return static_cast<int>(ExitCode::failure);
	}
	return static_cast<int>(ExitCode::usage);
}

} // namespace gort::cli
