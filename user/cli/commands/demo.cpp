#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "user/cli/commands/selection.h"
#include "user/common/error.h"
#include "user/views/live_view.h"

namespace gort::cli {

namespace {

// The demo service: built by scripts/build-demo.sh next to the gort binary (build/), installed
// as PREFIX/lib/gort/gort-demo-target beside PREFIX/bin/gort (cmake --install, the .deb).
std::string demo__target_path()
{
	std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
	std::filesystem::path target = self.parent_path() / "gort-demo-target";
	if (auto installed = self.parent_path().parent_path() / "lib" / "gort" / "gort-demo-target";
	    !std::filesystem::exists(target) && std::filesystem::exists(installed))
		target = installed;
	if (!std::filesystem::exists(target))
		throw UserError(ExitCode::failure, fmt::format("the demo program {} is not built: run scripts/build-demo.sh",
							       target.string()));
	return target;
}

// Owns the demo child: SIGTERM and reaped when gort leaves, however it leaves.
class DemoChild {
public:
	explicit DemoChild(const std::string &path)
	{
		int ready[2];
		if (pipe2(ready, O_CLOEXEC) != 0)
			throw UserError(ExitCode::failure, fmt::format("pipe: {}", std::strerror(errno)));
		pid_ = fork();
		if (pid_ < 0)
			throw UserError(ExitCode::failure, fmt::format("fork: {}", std::strerror(errno)));
		if (pid_ == 0) {
			close(ready[0]);
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			int devnull = open("/dev/null", O_RDWR);
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
			execl(path.c_str(), path.c_str(), static_cast<char *>(nullptr));
			int err = errno;
			(void)!write(ready[1], &err, sizeof err);
			_exit(127);
		}
		close(ready[1]);
		// The pipe closes on exec (O_CLOEXEC): only then is /proc/PID/exe the demo binary.
		int err = 0;
		ssize_t n = read(ready[0], &err, sizeof err);
		close(ready[0]);
		if (n == sizeof err)
			throw UserError(ExitCode::failure, fmt::format("cannot start {}: {}", path, std::strerror(err)));
	}
	~DemoChild()
	{
		kill(pid_, SIGTERM);
		waitpid(pid_, nullptr, 0);
	}
	pid_t pid() const { return pid_; }

private:
	pid_t pid_ = -1;
};

} // namespace

int demo__run(const TopOptions &opts)
{
	session::Driver driver(session_options__for(opts.select, opts.syscall_threshold),
			       driver_options__for(opts.select, opts.interval, opts.duration));
	DemoChild child(demo__target_path());
	driver.add_pid(child.pid());
	views::LiveView view(driver.session(), opts.json, false);
	driver.attach(view);
	return driver.run(view);
}

} // namespace gort::cli
