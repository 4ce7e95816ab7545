// The CLI's commands, each a function of parsed options returning an exit code. Parsing and
// error-to-exit-code mapping live in cli.cpp; main.cpp only calls cli__run.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "user/session/session.h"

namespace gort::cli {

// Which processes a command traces: -p PIDs, or --all narrowed by the rest.
struct Selection {
	std::vector<pid_t> pids;
	// System-wide: every Go process now and as they start, narrowed by these.
	bool all = false;
	std::string comm;  // ECMAScript regex searched in the process's comm
	std::vector<pid_t> exclude;
	size_t max_procs = 256;
};

struct TopOptions {
	Selection select;
	std::chrono::nanoseconds interval = std::chrono::seconds(1);
	std::optional<std::chrono::nanoseconds> duration;
	bool json = false;
	std::chrono::nanoseconds syscall_threshold = std::chrono::milliseconds(1);
	// auto: exact until the goroutine probes would cost a target more than `overhead`.
	session::GoroutineMode goroutine_mode = session::GoroutineMode::exact;
	double overhead = 0.01;
};

struct RecordOptions {
	Selection select;
	std::string output;
	bool force = false;  // overwrite an existing output file
	std::chrono::nanoseconds interval = std::chrono::seconds(1);
	std::optional<std::chrono::nanoseconds> duration;
	std::chrono::nanoseconds syscall_threshold = std::chrono::milliseconds(1);
	// As top's: the file carries each reading and mode change, so report shows what top would.
	session::GoroutineMode goroutine_mode = session::GoroutineMode::exact;
	double overhead = 0.01;
};

// gort serve: top's loop, each snapshot published on an HTTP endpoint (Prometheus text format).
struct ServeOptions {
	TopOptions top;          // selection, interval (how often the figures are refreshed), ...
	std::string listen;      // HOST:PORT
	size_t max_sites = 20;   // per-site series per process (the rest: one "other" series)
};

int serve__run(const ServeOptions &opts);

struct GoroutinesOptions {
	pid_t pid = 0;
	bool group = false;    // fold identical stacks (pprof debug=1-like)
	bool json = false;
	bool leaks = false;    // waiting goroutines in groups of the same wait at the same stack
	size_t min_count = 2;  // with leaks: smallest group shown
	std::optional<std::chrono::nanoseconds> watch;  // with leaks: read again after this long
	bool runtime = false;  // also the runtime's own goroutines and frames
};

int goroutines__run(const GoroutinesOptions &opts);

struct GctraceOptions {
	Selection select;
	std::optional<std::chrono::nanoseconds> duration;
	bool json = false;
};

int top__run(const TopOptions &opts);
int gctrace__run(const GctraceOptions &opts);
int record__run(const RecordOptions &opts);
int report__run(const std::string &path, bool json);
int export__run(const std::string &path, const std::string &format, const std::string &output);
// verbose: also the attach point of every probe (instruction, emulated or not, why).
int ps__run(bool json, bool verbose);
int demo__run(const TopOptions &opts);
// What this kernel and process can do for gort; 0 when gort can work here.
int info__run();
// gort's version, git commit and the newest Go release it knows, one per line.
std::string version__text();

int cli__run(int argc, char **argv);

} // namespace gort::cli
