// gort_trap_floor: plain kernel uprobes, no BPF program, at given file offsets of a process's
// executable, for scripts/bench-overhead.sh's "trap floor": what a breakpoint alone costs the
// target at gort's own attach points, next to what gort costs it there.
//
// Each probe is a perf event of the uprobe PMU (/sys/bus/event_source/devices/uprobe/type,
// config1 = path, config2 = offset: what libbpf does for gort, without the BPF program), so
// tracefs need not be mounted. Filtered to the process's mm like gort's own links.
//
// Usage: gort_trap_floor PID OFFSET...   (root). Prints "armed N" once every breakpoint is in,
// then holds them until stdin is closed. Nothing outlives it: the events are its file
// descriptors, and the kernel takes the breakpoints out when they close (pass, fail or kill).
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

int die(const std::string &what)
{
	std::fprintf(stderr, "gort_trap_floor: %s\n", what.c_str());
	return 1;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 3)
		return die("usage: gort_trap_floor PID OFFSET... (file offsets in the process's executable)");
	pid_t pid = static_cast<pid_t>(std::strtol(argv[1], nullptr, 10));
	std::ifstream type_file("/sys/bus/event_source/devices/uprobe/type");
	int type = -1;
	if (!(type_file >> type))
		return die("no uprobe PMU (/sys/bus/event_source/devices/uprobe/type): kernel without CONFIG_UPROBE_EVENTS");
	std::string exe = "/proc/" + std::to_string(pid) + "/exe";
	std::vector<int> fds;
	for (int i = 2; i < argc; i++) {
		char *end = nullptr;
		uint64_t offset = std::strtoull(argv[i], &end, 0);
		if (!end || *end)
			return die(std::string("not an offset: ") + argv[i]);
		perf_event_attr attr{};
		attr.size = sizeof attr;
		attr.type = static_cast<uint32_t>(type);
		attr.config1 = reinterpret_cast<uint64_t>(exe.c_str());
		attr.config2 = offset;
		// Every thread of the process: one event per thread would be needed to count each
		// thread's hits, but the breakpoint (what costs) is in the mm either way.
		int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC));
		if (fd < 0)
			return die("perf_event_open(uprobe " + exe + "+" + argv[i] + "): " + std::strerror(errno) +
				   " (run as root)");
		fds.push_back(fd);
	}
	std::printf("armed %zu\n", fds.size());
	std::fflush(stdout);
	char buf[256];
	while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
	}
	for (int fd : fds)
		close(fd);
	return 0;
}
