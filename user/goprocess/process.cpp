// A running process as /proc shows it. Nothing here attaches to or stops the target.
#include "user/goprocess/process.h"

#include <sys/uio.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

#include "user/common/error.h"
#include "user/common/fd_read.h"

namespace gort::goprocess {

namespace {

std::string proc_path(pid_t pid, const char *what) { return "/proc/" + std::to_string(pid) + "/" + what; }

bool slurp(const std::string &path, std::string &out)
{
	std::ifstream in(path, std::ios::binary);
	if (!in)
		return false;
	std::ostringstream ss;
	ss << in.rdbuf();
	out = ss.str();
	return true;
}

// Fields of /proc/PID/stat after "(comm)": comm may contain spaces and parentheses, so split
// after the LAST ')'. Index 0 is the state (field 3 of proc(5)).
std::vector<std::string> stat_fields(pid_t pid)
{
	std::string stat;
	if (!slurp(proc_path(pid, "stat"), stat))
		return {};
	size_t close = stat.rfind(')');
	if (close == std::string::npos)
		return {};
	std::istringstream in(stat.substr(close + 1));
	std::vector<std::string> f;
	for (std::string tok; in >> tok;)
		f.push_back(tok);
	return f;
}

constexpr unsigned long PF_KTHREAD_FLAG = 0x00200000;  // include/linux/sched.h PF_KTHREAD

} // namespace

ProcessInfo process__info(pid_t pid)
{
	struct stat st;
	if (pid <= 0 || stat(proc_path(pid, "").c_str(), &st) != 0)
		throw UserError(ExitCode::no_process, "PID " + std::to_string(pid) + " does not exist (check `gort ps`)");
	ProcessInfo info;
	info.pid = pid;
	if (slurp(proc_path(pid, "comm"), info.comm) && !info.comm.empty() && info.comm.back() == '\n')
		info.comm.pop_back();
	char buf[4096];
	ssize_t n = readlink(proc_path(pid, "exe").c_str(), buf, sizeof buf - 1);
	if (n > 0)
		info.exe.assign(buf, n);
	if (slurp(proc_path(pid, "cmdline"), info.cmdline)) {
		while (!info.cmdline.empty() && info.cmdline.back() == '\0')
			info.cmdline.pop_back();
		std::replace(info.cmdline.begin(), info.cmdline.end(), '\0', ' ');
	}
	// "NSpid:\t<host pid>\t...\t<innermost pid>" (Linux 4.1+): PID namespaces outermost first.
	info.ns_pid = pid;
	std::string status;
	if (slurp(proc_path(pid, "status"), status)) {
		size_t at = status.find("\nNSpid:");
		if (at != std::string::npos) {
			std::istringstream in(status.substr(at + 7, status.find('\n', at + 1) - at - 7));
			for (long v; in >> v;)
				info.ns_pid = static_cast<pid_t>(v);
		}
	}
	if (n <= 0) {
		// Kernel threads have no mm, so no exe; PF_KTHREAD (stat field 9) tells them apart
		// from user processes whose exe we simply may not read.
		auto f = stat_fields(pid);
		if (f.size() > 6)
			info.kernel_thread = (std::stoul(f[6]) & PF_KTHREAD_FLAG) != 0;
	}
	return info;
}

UserError process__exited_while_attaching(pid_t pid)
{
	return UserError(ExitCode::no_process, "PID " + std::to_string(pid) + " exited while gort was attaching");
}

std::vector<pid_t> process__list_all()
{
	std::vector<pid_t> pids;
	std::unique_ptr<DIR, int (*)(DIR *)> dir(opendir("/proc"), closedir);
	if (!dir)
		return pids;
	while (struct dirent *e = readdir(dir.get())) {
		char *end = nullptr;
		long v = strtol(e->d_name, &end, 10);
		if (*e->d_name && !*end && v > 0)
			pids.push_back(static_cast<pid_t>(v));
	}
	std::sort(pids.begin(), pids.end());
	return pids;
}

bool process__alive(pid_t pid)
{
	auto f = stat_fields(pid);
	return !f.empty() && f[0] != "Z" && f[0] != "X";
}

uint64_t process__load_bias(pid_t pid, uint64_t first_load_vaddr)
{
	struct stat exe;
	if (stat(proc_path(pid, "exe").c_str(), &exe) != 0) {
		if (errno == ENOENT)
			throw UserError(ExitCode::no_process, "PID " + std::to_string(pid) + " does not exist (check `gort ps`)");
		throw UserError(ExitCode::permission, "cannot stat /proc/" + std::to_string(pid) + "/exe: " +
								 strerror(errno) + " (run gort as root)");
	}
	std::ifstream maps(proc_path(pid, "maps"));
	if (!maps)
		throw UserError(ExitCode::no_process, "cannot read /proc/" + std::to_string(pid) + "/maps (did the process exit?)");
	// Match by inode (the maps' inode column) rather than by path: the path may be
	// " (deleted)" or reached through a different mount.
	uint64_t best_start = std::numeric_limits<uint64_t>::max(), best_off = 0;
	for (std::string line; std::getline(maps, line);) {
		std::istringstream in(line);
		std::string range, perms, offset, dev;
		uint64_t inode = 0;
		if (!(in >> range >> perms >> offset >> dev >> inode) || inode != exe.st_ino)
			continue;
		uint64_t start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
		if (start < best_start) {
			best_start = start;
			best_off = std::stoull(offset, nullptr, 16);
		}
	}
	if (best_start == std::numeric_limits<uint64_t>::max())
		throw UserError(ExitCode::unsupported, "the executable of PID " + std::to_string(pid) +
								 " is not mapped in its /proc/PID/maps; cannot compute its load address");
	// The lowest mapping normally has file offset 0 and holds the first PT_LOAD, whose
	// p_vaddr (page-aligned) it starts at plus the bias. If the first pages were unmapped, the
	// mapping at file offset `off` holds link-time vaddr page(first_load_vaddr) + off (Go and
	// ld lay segments out with p_vaddr - p_offset constant modulo the page size).
	return best_start - best_off - (first_load_vaddr & ~uint64_t(0xfff));
}

ProcessMemory::ProcessMemory(pid_t pid) : pid_(pid)
{
	fd_ = ::open(proc_path(pid, "mem").c_str(), O_RDONLY | O_CLOEXEC);
	if (fd_ < 0) {
		if (errno == EACCES || errno == EPERM)
			throw UserError(ExitCode::permission, "cannot read the memory of PID " + std::to_string(pid) +
									 ": " + strerror(errno) + " (run gort as root)");
		throw UserError(ExitCode::no_process, "PID " + std::to_string(pid) + " does not exist (check `gort ps`)");
	}
}

ProcessMemory::~ProcessMemory()
{
	if (fd_ >= 0)
		close(fd_);
}

bool ProcessMemory::read(uint64_t addr, void *buf, size_t len) const
{
	return fd__pread_all(fd_, addr, buf, len);
}

std::vector<bool> ProcessMemory::read_many(const std::vector<Region> &regions) const
{
	std::vector<bool> ok(regions.size(), false);
	constexpr size_t BATCH = 1024;  // IOV_MAX
	std::vector<iovec> local, remote;
	size_t i = 0;
	bool vm_readv = true;
	while (i < regions.size()) {
		if (!vm_readv) {
			ok[i] = read(regions[i].addr, regions[i].buf, regions[i].len);
			i++;
			continue;
		}
		size_t n = std::min(BATCH, regions.size() - i);
		local.resize(n);
		remote.resize(n);
		size_t want = 0;
		for (size_t k = 0; k < n; k++) {
			local[k] = {regions[i + k].buf, regions[i + k].len};
			remote[k] = {reinterpret_cast<void *>(regions[i + k].addr), regions[i + k].len};
			want += regions[i + k].len;
		}
		ssize_t got = process_vm_readv(pid_, local.data(), n, remote.data(), n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EPERM || errno == ENOSYS || errno == EACCES)) {
			vm_readv = false;  // e.g. a seccomp or LSM refusal: /proc/PID/mem still works
			continue;
		}
		// It stops at the first region it cannot read whole: those before it are complete;
		// that one is retried alone (and reported), then the batch goes on after it.
		size_t done = got > 0 ? static_cast<size_t>(got) : 0, k = 0;
		for (; k < n && done >= regions[i + k].len; k++) {
			done -= regions[i + k].len;
			ok[i + k] = true;
		}
		if (static_cast<size_t>(std::max<ssize_t>(got, 0)) == want) {
			i += n;
			continue;
		}
		ok[i + k] = read(regions[i + k].addr, regions[i + k].buf, regions[i + k].len);
		i += k + 1;
	}
	return ok;
}

std::optional<uint64_t> ProcessMemory::read_u64(uint64_t addr) const
{
	uint64_t v;
	if (!read(addr, &v, sizeof v))
		return std::nullopt;
	return v;
}

} // namespace gort::goprocess
