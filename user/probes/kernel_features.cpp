#include "user/probes/kernel_features.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "user/common/capabilities.h"

// A function of gort's own binary for the uprobe checks to attach to (never called while
// attached). extern "C" and noinline so that it has one address of its own.
extern "C" __attribute__((noinline, used)) int gort_info_uprobe_target(int x)
{
	asm volatile("" : : : "memory");
	return x + 1;
}

namespace gort::probes {

namespace {

// Owns one fd (BPF program, map, link or perf event).
class Fd {
public:
	explicit Fd(int fd = -1) : fd_(fd) {}
	~Fd()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	int get() const { return fd_; }
	bool ok() const { return fd_ >= 0; }

private:
	int fd_;
};

constexpr const char *grant_bpf = "run gort as root (sudo gort ...), or grant CAP_BPF and CAP_PERFMON";

bool is_permission(int err) { return err == EPERM || err == EACCES; }

// The failure of a probe, with what to do: EPERM/EACCES are privileges (or lockdown), anything
// else is the kernel lacking the feature.
FeatureCheck failed(std::string name, const std::string &what, int err, const std::string &kernel_advice,
		    const std::string &privilege_advice = grant_bpf)
{
	FeatureCheck c{std::move(name), false, "", true, ExitCode::unsupported};
	if (is_permission(err)) {
		c.code = ExitCode::permission;
		c.detail = fmt::format("{} refused ({}): {}", what, std::strerror(err), privilege_advice);
	} else {
		c.detail = fmt::format("{} failed ({}): {}", what, std::strerror(err), kernel_advice);
	}
	return c;
}

FeatureCheck passed(std::string name, std::string detail) { return {std::move(name), true, std::move(detail)}; }

FeatureCheck info(std::string name, std::string detail)
{
	return {std::move(name), true, std::move(detail), false, ExitCode::ok};
}

// r0 = 0; exit
const bpf_insn trivial_prog[] = {
	{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
	{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};

// bpf_probe_read_kernel(r10 - 8, 8, NULL); r0 = 0; exit. Lockdown's confidentiality mode
// removes that helper (LOCKDOWN_BPF_READ_KERNEL), and gort's CO-RE reads of task_struct (the
// thread's fs_base, syscalls.bpf.c) need it: the verifier refusing it is the real answer.
const bpf_insn read_kernel_prog[] = {
	{BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0},
	{BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -8},
	{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 8},
	{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 0},
	{BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel},
	{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
	{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};

template <size_t N>
int prog__load(bpf_prog_type type, const bpf_insn (&insns)[N], bpf_attach_type expected = bpf_attach_type(0))
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = expected);
	int fd = bpf_prog_load(type, "gort_info", "GPL", insns, N, &opts);
	return fd >= 0 ? fd : -errno;
}

std::string read_first_line(const char *path)
{
	std::ifstream in(path);
	std::string line;
	std::getline(in, line);
	return line;
}

// The file offset of gort_info_uprobe_target in gort's own binary: its address, placed in the
// executable mapping of /proc/self/exe that holds it (offset = address - start + file offset).
bool own_function_offset(uint64_t &offset)
{
	auto addr = reinterpret_cast<uint64_t>(&gort_info_uprobe_target);
	std::ifstream maps("/proc/self/maps");
	std::string line;
	while (std::getline(maps, line)) {
		unsigned long long start, end, off;
		char perms[5];
		if (std::sscanf(line.c_str(), "%llx-%llx %4s %llx", &start, &end, perms, &off) != 4)
			continue;
		if (addr >= start && addr < end && perms[2] == 'x') {
			offset = addr - start + off;
			return true;
		}
	}
	return false;
}

FeatureCheck check_kernel()
{
	utsname u{};
	uname(&u);
	return info("kernel", fmt::format("{} {}", u.release, u.machine));
}

FeatureCheck check_btf()
{
	btf *vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return {"BTF", false,
			fmt::format("cannot read /sys/kernel/btf/vmlinux ({}): gort's BPF programs are CO-RE and need "
				    "a kernel built with CONFIG_DEBUG_INFO_BTF=y",
				    std::strerror(errno))};
	int task = btf__find_by_name_kind(vmlinux, "task_struct", BTF_KIND_STRUCT);
	unsigned types = btf__type_cnt(vmlinux);
	btf__free(vmlinux);
	if (task < 0)
		return {"BTF", false, "/sys/kernel/btf/vmlinux has no struct task_struct: use a kernel with full BTF"};
	return passed("BTF", fmt::format("/sys/kernel/btf/vmlinux, {} types", types));
}

// CAP_BPF and CAP_PERFMON (Linux 5.8+) load tracing programs and open uprobe perf events;
// CAP_SYS_PTRACE reads a traced process's /proc/PID/exe and /proc/PID/mem (runtime.allgs at
// attach). Some kernels also want CAP_SYS_ADMIN for the uprobe PMU (this project's 6.18 refuses
// perf_event_open of a uprobe with EACCES without it, CAP_PERFMON or not): `uprobe_refused` is
// the uprobe probe's answer, so that is what decides, not a version number.
FeatureCheck check_privileges(bool uprobe_refused)
{
	struct Cap {
		int nr;
		const char *name, *why;
	};
	const Cap caps[] = {
		{CAP_BPF, "CAP_BPF", "load BPF programs"},
		{CAP_PERFMON, "CAP_PERFMON", "open uprobes"},
		{CAP_SYS_PTRACE, "CAP_SYS_PTRACE", "read traced processes' memory"},
		{CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "open uprobes on this kernel"},
	};
	auto append = [](std::string &list, const std::string &item) { list += (list.empty() ? "" : ", ") + item; };
	std::string present, missing, setcap;
	// The kernel's bpf_capable() and perfmon_capable() also accept CAP_SYS_ADMIN.
	bool admin = capability__effective(CAP_SYS_ADMIN);
	for (const auto &c : caps) {
		bool needed = c.nr != CAP_SYS_ADMIN || uprobe_refused;
		if (capability__effective(c.nr)) {
			append(present, c.name);
		} else if ((c.nr == CAP_BPF || c.nr == CAP_PERFMON) && admin) {
			append(present, fmt::format("CAP_SYS_ADMIN for {}", c.name));
		} else if (needed) {
			append(missing, fmt::format("{} (to {})", c.name, c.why));
		}
		if (needed)
			setcap += (setcap.empty() ? "" : ",") + std::string("cap_") + (c.name + 4);
	}
	std::string who = geteuid() == 0 ? "root" : fmt::format("uid {}", geteuid());
	if (missing.empty())
		return passed("privileges", fmt::format("{} with {}", who, present));
	for (auto &ch : setcap)
		ch = static_cast<char>(std::tolower(ch));
	return {"privileges", false,
		fmt::format("{} lacks {}: grant them (run gort as root with sudo, or setcap {}+ep on gort)", who,
			    missing, setcap),
		true, ExitCode::permission};
}

FeatureCheck check_bpf_load()
{
	int fd = prog__load(BPF_PROG_TYPE_KPROBE, trivial_prog);
	Fd prog(fd);
	if (!prog.ok())
		return failed("BPF programs", "loading a uprobe program", -fd,
			      "the kernel needs CONFIG_BPF_SYSCALL and CONFIG_UPROBE_EVENTS");
	return passed("BPF programs", "loaded a uprobe (kprobe-type) program");
}

FeatureCheck check_ring_buffer()
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "gort_info", 0, 0, static_cast<uint32_t>(getpagesize()), nullptr);
	Fd map(fd >= 0 ? fd : -1);
	if (!map.ok())
		return failed("ring buffer", "creating a BPF ring buffer", errno, "gort needs Linux 5.8+ (BPF_MAP_TYPE_RINGBUF)");
	return passed("ring buffer", fmt::format("created a {}-byte BPF ring buffer", getpagesize()));
}

// A uprobe through the uprobe PMU (what libbpf's bpf_program__attach_uprobe_opts does, and gort
// attaches every runtime probe this way): perf_event_open + a BPF_PERF_EVENT link.
FeatureCheck check_uprobe(uint64_t offset)
{
	std::string type_text = read_first_line("/sys/bus/event_source/devices/uprobe/type");
	char *end = nullptr;
	unsigned long type = std::strtoul(type_text.c_str(), &end, 10);
	if (type_text.empty() || *end != '\0')
		return {"uprobes", false,
			"no uprobe PMU (/sys/bus/event_source/devices/uprobe/type): the kernel needs CONFIG_UPROBE_EVENTS"};
	int pfd_raw = -1, err = 0;
	{
		perf_event_attr attr{};
		attr.size = sizeof attr;
		attr.type = static_cast<uint32_t>(type);
		attr.config1 = reinterpret_cast<uint64_t>("/proc/self/exe");
		attr.config2 = offset;
		pfd_raw = static_cast<int>(syscall(SYS_perf_event_open, &attr, getpid(), -1, -1, PERF_FLAG_FD_CLOEXEC));
		err = errno;
	}
	Fd pfd(pfd_raw);
	if (!pfd.ok())
		return failed("uprobes", "opening a uprobe on gort's own binary", err,
			      "the kernel needs CONFIG_UPROBE_EVENTS",
			      "run gort as root (sudo gort ...), or grant CAP_PERFMON and, where the kernel wants it "
			      "for uprobes (see privileges), CAP_SYS_ADMIN");
	int fd = prog__load(BPF_PROG_TYPE_KPROBE, trivial_prog);
	Fd prog(fd);
	if (!prog.ok())
		return failed("uprobes", "loading a uprobe program", -fd, "the kernel needs CONFIG_BPF_EVENTS");
	Fd link(bpf_link_create(prog.get(), pfd.get(), BPF_PERF_EVENT, nullptr));
	if (!link.ok())
		return failed("uprobes", "linking a program to a uprobe", errno, "the kernel needs Linux 5.15+ (BPF perf links)");
	return passed("uprobes", fmt::format("attached to gort's own binary at file offset {:#x}", offset));
}

// One link carrying many uprobes (Linux 6.6+). gort attaches one uprobe per probe today, so
// this is reported but not required.
FeatureCheck check_uprobe_multi(uint64_t offset)
{
	int fd = prog__load(BPF_PROG_TYPE_KPROBE, trivial_prog, BPF_TRACE_UPROBE_MULTI);
	Fd prog(fd);
	FeatureCheck c{"uprobe_multi", true, "", false, ExitCode::ok};
	if (!prog.ok()) {
		c.ok = false;
		c.detail = fmt::format("loading a uprobe_multi program failed ({}): optional, gort attaches one uprobe "
				       "per probe without it",
				       std::strerror(-fd));
		return c;
	}
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	const unsigned long offsets[] = {offset};
	opts.uprobe_multi.path = "/proc/self/exe";
	opts.uprobe_multi.offsets = offsets;
	opts.uprobe_multi.cnt = 1;
	opts.uprobe_multi.pid = getpid();
	Fd link(bpf_link_create(prog.get(), 0, BPF_TRACE_UPROBE_MULTI, &opts));
	if (!link.ok()) {
		c.ok = false;
		c.detail = fmt::format("a uprobe_multi link failed ({}): optional (Linux 6.6+), gort attaches one uprobe "
				       "per probe without it",
				       std::strerror(errno));
		return c;
	}
	c.detail = "linked one program to a uprobe on gort's own binary";
	return c;
}

// The tracepoints gort opens by name (no tracefs needed): sched_switch for slow syscalls
// (syscalls.bpf.c, as a BTF-typed raw tracepoint), sched_process_exec to follow exec
// (processes.bpf.c).
FeatureCheck check_raw_tracepoints()
{
	int fd = prog__load(BPF_PROG_TYPE_RAW_TRACEPOINT, trivial_prog);
	Fd prog(fd);
	if (!prog.ok())
		return failed("raw tracepoints", "loading a raw tracepoint program", -fd,
			      "the kernel needs CONFIG_BPF_EVENTS");
	std::string opened;
	for (const char *tp : {"sched_switch", "sched_process_exec"}) {
		Fd link(bpf_raw_tracepoint_open(tp, prog.get()));
		if (!link.ok())
			return failed("raw tracepoints", fmt::format("opening raw tracepoint {}", tp), errno,
				      "the kernel needs its scheduler tracepoints (CONFIG_TRACEPOINTS)");
		opened += fmt::format("{}{}", opened.empty() ? "" : ", ", tp);
	}
	return passed("raw tracepoints", "opened " + opened);
}

FeatureCheck check_lockdown(bool can_load)
{
	std::string modes = read_first_line("/sys/kernel/security/lockdown");  // "[none] integrity confidentiality"
	std::string mode = "unknown: /sys/kernel/security is not mounted";
	if (auto open = modes.find('['), close = modes.find(']'); open != std::string::npos && close > open)
		mode = modes.substr(open + 1, close - open - 1);
	if (!can_load)
		return {"lockdown", false, mode + "; not probed: no BPF program can be loaded (see above)", false,
			ExitCode::ok};
	int fd = prog__load(BPF_PROG_TYPE_KPROBE, read_kernel_prog);
	Fd prog(fd);
	if (!prog.ok())
		return {"lockdown", false,
			fmt::format("lockdown {}: the kernel refuses BPF reads of kernel memory ({}), which gort's syscall "
				    "probes need; boot with lockdown=integrity or none (or without Secure Boot's lockdown)",
				    mode, std::strerror(-fd)),
			true, is_permission(-fd) && mode.find("confidentiality") == std::string::npos ? ExitCode::permission
												   : ExitCode::unsupported};
	return passed("lockdown", fmt::format("{} (BPF may read kernel memory)", mode));
}

FeatureCheck check_sysctl(const char *name, const char *path, const std::string &meaning)
{
	std::string value = read_first_line(path);
	if (value.empty())
		return info(name, fmt::format("unknown ({} unreadable); {}", path, meaning));
	return info(name, fmt::format("{} ({})", value, meaning));
}

FeatureCheck check_cgroup()
{
	struct statfs st{};
	if (statfs("/sys/fs/cgroup", &st) != 0)
		return info("cgroup", "none mounted at /sys/fs/cgroup (gort does not need cgroups)");
	if (st.f_type == CGROUP2_SUPER_MAGIC)
		return info("cgroup", "v2 (unified)");
	struct statfs unified{};
	if (statfs("/sys/fs/cgroup/unified", &unified) == 0 && unified.f_type == CGROUP2_SUPER_MAGIC)
		return info("cgroup", "v1 + v2 (hybrid; gort does not need cgroups)");
	return info("cgroup", "v1 (gort does not need cgroups)");
}

// In a container? The files container runtimes leave (/.dockerenv, /run/.containerenv), the
// `container=` variable systemd-nspawn/LXC/podman give PID 1, or a runtime's name in PID 1's
// cgroup. Host PID namespace? The initial PID namespace has a fixed inode (PROC_PID_INIT_INO,
// 0xEFFFFFFC): BPF reports PIDs as the host sees them (bpf_get_current_pid_tgid), so gort's
// /proc must be the host's.
FeatureCheck check_container()
{
	std::string runtime;
	if (access("/.dockerenv", F_OK) == 0)
		runtime = "docker";
	else if (access("/run/.containerenv", F_OK) == 0)
		runtime = "podman";
	if (runtime.empty()) {
		std::ifstream env("/proc/1/environ");
		std::string var;
		while (std::getline(env, var, '\0'))
			if (var.rfind("container=", 0) == 0)
				runtime = var.substr(10);
	}
	if (runtime.empty()) {
		std::ifstream cg("/proc/1/cgroup");
		std::string line;
		while (runtime.empty() && std::getline(cg, line))
			for (const char *name : {"docker", "kubepods", "containerd", "lxc", "libpod"})
				if (line.find(name) != std::string::npos)
					runtime = name;
	}
	char ns[64] = {};
	ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
	bool host_pidns = n > 0 && std::string(ns, static_cast<size_t>(n)) == "pid:[4026531836]";
	std::string where = runtime.empty() ? "not in a container" : fmt::format("in a container ({})", runtime);
	if (n <= 0)
		return info("container", where + "; PID namespace unknown (/proc/self/ns/pid unreadable)");
	if (!host_pidns)
		return {"container", false,
			fmt::format("{}, in its own PID namespace ({}): gort must see the host's PIDs; run it on the host, "
				    "or with the host's PID namespace (docker run --pid=host, Kubernetes hostPID: true)",
				    where, std::string(ns, static_cast<size_t>(n))),
			true, ExitCode::unsupported};
	return passed("container", where + ", host PID namespace");
}

} // namespace

std::vector<FeatureCheck> kernel_features__probe()
{
	// libbpf would print its own warnings for what we probe on purpose.
	auto old_print = libbpf_set_print(nullptr);
	std::vector<FeatureCheck> out;
	out.push_back(check_kernel());
	size_t privileges_at = out.size();
	out.push_back(check_btf());
	out.push_back(check_bpf_load());
	out.push_back(check_ring_buffer());
	uint64_t offset = 0;
	if (own_function_offset(offset)) {
		out.push_back(check_uprobe(offset));
		out.push_back(check_uprobe_multi(offset));
	} else {
		out.push_back({"uprobes", false, "cannot find gort's own code in /proc/self/maps to probe", true,
			       ExitCode::failure});
	}
	out.push_back(check_raw_tracepoints());
	bool can_load = out[privileges_at + 1].ok;  // "BPF programs"
	out.push_back(check_lockdown(can_load));
	// Refused with CAP_PERFMON present: the kernel wants more (CAP_SYS_ADMIN) for uprobes.
	bool uprobe_refused = false;
	for (const auto &c : out)
		uprobe_refused |= c.name == "uprobes" && !c.ok && c.code == ExitCode::permission &&
				  capability__effective(CAP_PERFMON);
	out.insert(out.begin() + static_cast<long>(privileges_at), check_privileges(uprobe_refused));
	out.push_back(check_sysctl("kernel.perf_event_paranoid", "/proc/sys/kernel/perf_event_paranoid",
				   "no limit for gort: CAP_PERFMON overrides it"));
	out.push_back(check_sysctl("kernel.unprivileged_bpf_disabled", "/proc/sys/kernel/unprivileged_bpf_disabled",
				   "no limit for gort: it loads programs with CAP_BPF"));
	out.push_back(check_cgroup());
	out.push_back(check_container());
	libbpf_set_print(old_print);
	return out;
}

ExitCode kernel_features__verdict(const std::vector<FeatureCheck> &checks)
{
	ExitCode first = ExitCode::ok;
	for (const auto &c : checks) {
		if (c.ok || !c.required)
			continue;
		if (c.code == ExitCode::permission)
			return ExitCode::permission;
		if (first == ExitCode::ok)
			first = c.code;
	}
	return first;
}

} // namespace gort::probes
