#include "user/common/output.h"

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <fmt/format.h>

#include "user/common/error.h"

namespace gort {

void stdout__flush()
{
	errno = 0;
	std::cout.flush();
	int err = errno;
	bool ok = static_cast<bool>(std::cout);
	if (std::fflush(stdout) != 0) {
		err = errno;
		ok = false;
	}
	if (std::ferror(stdout))
		ok = false;
	if (ok)
		return;
	std::cout.clear();
	std::clearerr(stdout);
	std::string why = err ? std::strerror(err) : "write failed";
	throw UserError(ExitCode::failure,
			fmt::format("cannot write to standard output: {} ({})", why,
				    err == EPIPE ? "its reader exited" : "check the disk or the device it goes to"));
}

void stdout__write(std::string_view s)
{
	std::fwrite(s.data(), 1, s.size(), stdout);
	stdout__flush();
}

void sigpipe__ignore()
{
	struct sigaction sa {};
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, nullptr);
}

} // namespace gort
