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
};

int top__run(const TopOptions &opts);
int record__run(const RecordOptions &opts);
int report__run(const std::string &path, bool json);
int export__run(const std::string &path, const std::string &format, const std::string &output);
// verbose: also the attach point of every probe (instruction, emulated or not, why).
int ps__run(bool json, bool verbose);
int demo__run(const TopOptions &opts);

int cli__run(int argc, char **argv);

} // namespace gort::cli
