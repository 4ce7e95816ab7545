// One error type for everything a user can cause or fix: the message is one line that says what
// happened and what to do; the exit code is chosen here, once, for the CLI to return.
#pragma once

#include <stdexcept>
#include <string>

namespace gort {

enum class ExitCode : int {
	ok = 0,
	failure = 1,       // gort itself failed (a bug, an unexpected kernel answer)
	usage = 2,         // malformed command line
	no_process = 3,    // no such PID / it exited during attach
	unsupported = 4,   // not a Go program, or a Go binary gort cannot trace (names why)
	permission = 5,    // not root / missing CAP_BPF, CAP_PERFMON
	bad_file = 6,      // a recording that cannot be read: missing, foreign, corrupt or from a newer gort
};

class UserError : public std::runtime_error {
public:
	UserError(ExitCode code, const std::string &message) : std::runtime_error(message), code_(code) {}
	ExitCode code() const { return code_; }

private:
	ExitCode code_;
};

} // namespace gort
