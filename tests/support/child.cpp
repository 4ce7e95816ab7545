#include "support/child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

namespace gort::testing {

Child::Child(const std::vector<std::string> &argv)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		throw std::runtime_error("pipe failed");
	pid_ = fork();
	if (pid_ < 0)
		throw std::runtime_error("fork failed");
	if (pid_ == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		std::vector<char *> args;
		for (const auto &a : argv)
			args.push_back(const_cast<char *>(a.c_str()));
		args.push_back(nullptr);
		execv(args[0], args.data());
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	in_ = in[1];
	out_ = out[0];
}

Child::~Child()
{
	if (!status_) {
		kill(pid_, SIGKILL);
		waitpid(pid_, nullptr, 0);
	}
	if (in_ >= 0)
		close(in_);
	close(out_);
}

bool Child::line_ready(std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	while (buffer_.find('\n') == std::string::npos) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
		if (left.count() < 0)
			return false;
		pollfd pfd{out_, POLLIN, 0};
		if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
			return false;
		char buf[4096];
		ssize_t n = read(out_, buf, sizeof buf);
		if (n <= 0)
			return false;
		buffer_.append(buf, n);
	}
	return true;
}

std::optional<std::string> Child::read_line(std::chrono::milliseconds timeout)
{
	if (!line_ready(timeout))
		return std::nullopt;
	size_t nl = buffer_.find('\n');
	std::string line = buffer_.substr(0, nl);
	buffer_.erase(0, nl + 1);
	return line;
}

void Child::write_line(const std::string &line)
{
	std::string s = line + "\n";
	if (write(in_, s.data(), s.size()) != static_cast<ssize_t>(s.size()))
		throw std::runtime_error("write to child failed");
}

void Child::close_stdin()
{
	close(in_);
	in_ = -1;
}

std::optional<int> Child::wait(std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	while (!status_) {
		int st = 0;
		pid_t r = waitpid(pid_, &st, WNOHANG);
		if (r == pid_) {
			status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
			break;
		}
		if (std::chrono::steady_clock::now() > deadline)
			return std::nullopt;
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
	return status_;
}

} // namespace gort::testing
