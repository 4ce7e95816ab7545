// A child process with pipes on stdin/stdout, for tests that drive Go workloads by their
// line protocol ("ready PID", then a line on stdin to start). Killed and reaped on destruction,
// so no test leaves a process behind, pass or fail.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace gort::testing {

class Child {
public:
	explicit Child(const std::vector<std::string> &argv);
	~Child();
	Child(const Child &) = delete;
	Child &operator=(const Child &) = delete;

	pid_t pid() const { return pid_; }
	// One line from the child's stdout (without '\n'), or nullopt on EOF/timeout.
	std::optional<std::string> read_line(std::chrono::milliseconds timeout);
	// True if a full line is buffered or arrives within `timeout`.
	bool line_ready(std::chrono::milliseconds timeout);
	void write_line(const std::string &line);
	void close_stdin();
	// Waits for exit; returns the exit status (or -signal), nullopt on timeout.
	std::optional<int> wait(std::chrono::milliseconds timeout);

private:
	pid_t pid_ = -1;
	int in_ = -1, out_ = -1;
	std::string buffer_;
	std::optional<int> status_;
};

} // namespace gort::testing
