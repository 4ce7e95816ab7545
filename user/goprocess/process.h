// Facts about a running process read from /proc: who it is, where its binary is mapped, and its
// memory (read through /proc/PID/mem, which needs no ptrace attach as root).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "user/common/error.h"

namespace gort::goprocess {

struct ProcessInfo {
	pid_t pid = 0;
	std::string comm;     // /proc/PID/comm
	std::string exe;      // readlink /proc/PID/exe (may end in " (deleted)")
	std::string cmdline;  // /proc/PID/cmdline, NULs as spaces
	bool kernel_thread = false;  // no mm: /proc/PID/exe unreadable and PF_KTHREAD in stat flags
	// The PID inside the process's own PID namespace (last NSpid of /proc/PID/status), e.g. 1
	// for a container's init; equal to pid outside containers.
	pid_t ns_pid = 0;
};

// Throws UserError(no_process) when /proc/PID does not exist.
ProcessInfo process__info(pid_t pid);

// The error for a process that ended while gort was looking at it or attaching to it.
UserError process__exited_while_attaching(pid_t pid);

// Every numeric entry of /proc, ascending.
std::vector<pid_t> process__list_all();

// True while /proc/PID exists and is not a zombie.
bool process__alive(pid_t pid);

// Load bias of the main executable: (start of its first mapping in /proc/PID/maps) minus
// (lowest PT_LOAD p_vaddr rounded down to the page) — 0 for non-PIE. The mapping is found by
// the inode/device of /proc/PID/exe.
uint64_t process__load_bias(pid_t pid, uint64_t first_load_vaddr);

// Reads target memory through /proc/PID/mem. Methods return false on any short read.
class ProcessMemory {
public:
	explicit ProcessMemory(pid_t pid);  // throws UserError(no_process) if it cannot be opened
	~ProcessMemory();
	ProcessMemory(const ProcessMemory &) = delete;
	ProcessMemory &operator=(const ProcessMemory &) = delete;

	bool read(uint64_t addr, void *buf, size_t len) const;
	std::optional<uint64_t> read_u64(uint64_t addr) const;
	// Many reads in few system calls (process_vm_readv, up to 1024 regions each; pread where
	// that is refused): ok[i] says whether region i was read whole.
	struct Region {
		uint64_t addr;
		void *buf;
		size_t len;
	};
	std::vector<bool> read_many(const std::vector<Region> &regions) const;

private:
	int fd_ = -1;
	pid_t pid_ = 0;
};

} // namespace gort::goprocess
