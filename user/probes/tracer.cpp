#include "user/probes/tracer.h"

#include <filesystem>

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "gort.skel.h"
#include "user/common/capabilities.h"
#include "user/common/error.h"
#include "user/probes/calibrate.h"
#include "user/goprocess/heap_reader.h"
#include "user/goprocess/process.h"

namespace gort::probes {

static_assert(sizeof(gort_proc_config) == 72 + 16 * GORT_MAX_SYS_RANGES);
static_assert(sizeof(gort_proc_stats) == 12 * 8);
static_assert(sizeof(gort_site_key) == 24 && sizeof(gort_site_stats) == 16);
static_assert(sizeof(gort_syscall_event) == 16 + 4 * 8 + 16);
static_assert(sizeof(gort_stw_event) == 16 + 24);
static_assert(sizeof(gort_gc_trace_event) == 16 + 8 * GORT_GC_NR_FIELDS);
static_assert(sizeof(gort_gc_layout) % 8 == 0);

void LinkDeleter::operator()(bpf_link *link) const { bpf_link__destroy(link); }
void SkeletonDeleter::operator()(gort_bpf *skel) const { gort_bpf__destroy(skel); }
void RingBufferDeleter::operator()(ring_buffer *rb) const { ring_buffer__free(rb); }

namespace {

// GORT_DEBUG=1: libbpf's diagnostics, and each attach/detach decision.
bool debug_enabled()
{
	static const bool debug = std::getenv("GORT_DEBUG") != nullptr;
	return debug;
}

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args &&...args)
{
	if (debug_enabled())
		fmt::print(stderr, "gort debug: {}\n", fmt::format(f, std::forward<Args>(args)...));
}

// libbpf's own messages are multi-line diagnostics; gort reports one line per failure itself.
// GORT_DEBUG=1 shows them.
int libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
{
	static const bool debug = std::getenv("GORT_DEBUG") != nullptr;
	if (!debug && level != LIBBPF_WARN)
		return 0;
	if (!debug)
		return 0;
	return vfprintf(stderr, format, args);
}

// Measured on 6.18 with setpriv --bounding-set (tests/e2e/test_hostile.py): CAP_BPF and
// CAP_PERFMON load the programs and attach tracepoints, but a uprobe (a perf_event of the uprobe
// PMU with a path) is refused without CAP_SYS_ADMIN, and /proc/PID/exe and /proc/PID/mem of
// another user's process need CAP_SYS_PTRACE. Checked even for uid 0: root with a reduced
// bounding set (containers, systemd CapabilityBoundingSet=) lacks some.
void require_privileges()
{
	static constexpr std::pair<int, const char *> needed[] = {
		{39, "CAP_BPF"}, {38, "CAP_PERFMON"}, {21, "CAP_SYS_ADMIN"}, {19, "CAP_SYS_PTRACE"}};
	std::string missing;
	for (const auto &[cap, name] : needed)
		if (!capability__effective(cap))
			missing += (missing.empty() ? "" : ", ") + std::string(name);
	if (missing.empty())
		return;
	throw UserError(ExitCode::permission,
			fmt::format("gort needs root, or CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN (uprobes) and CAP_SYS_PTRACE "
				    "(reading the target); missing {}: run it with sudo", missing));
}

int ring_event(void *ctx, void *data, size_t size)
{
	if (size < sizeof(gort_event_header))
		return 0;
	gort_event_header hdr;
	std::memcpy(&hdr, data, sizeof hdr);
	static_cast<EventSink *>(ctx)->on_event(hdr, data, size);
	return 0;
}

// Every per-process map key starts with the tgid: matches the keys of one process.
auto of_process(pid_t pid)
{
	return [tgid = static_cast<uint32_t>(pid)](const auto &k) { return k.tgid == tgid; };
}

template <typename Key, typename Value, typename Pred>
std::vector<std::pair<Key, Value>> map__collect(int fd, Pred keep)
{
	std::vector<std::pair<Key, Value>> out;
	Key key{}, next{};
	Key *prev = nullptr;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		Value v{};
		if (keep(next) && bpf_map_lookup_elem(fd, &next, &v) == 0)
			out.emplace_back(next, v);
		key = next;
		prev = &key;
	}
	return out;
}

template <typename Key, typename Pred>
void map__delete_if(int fd, Pred match)
{
	std::vector<Key> doomed;
	Key key{}, next{};
	Key *prev = nullptr;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (match(next))
			doomed.push_back(next);
		key = next;
		prev = &key;
	}
	for (auto &k : doomed)
		bpf_map_delete_elem(fd, &k);
}

} // namespace

Tracer::Tracer(const TracerOptions &opts, EventSink &sink) : sink_(sink), record_lifecycle_(opts.record_lifecycle)
{
	require_privileges();
	libbpf_set_print(libbpf_print);
	skel_.reset(gort_bpf__open());
	if (!skel_)
		throw UserError(ExitCode::failure, fmt::format("cannot open gort's BPF object: {}", std::strerror(errno)));
	skel_->rodata->slow_syscall_ns = opts.slow_syscall_ns;
	skel_->rodata->follow_exec = opts.follow_exec;
	if (int err = gort_bpf__load(skel_.get()); err) {
		if (err == -EPERM || err == -EACCES)
			throw UserError(ExitCode::permission, "the kernel refused gort's BPF programs (EPERM): run as root, "
							      "or check kernel.unprivileged_bpf_disabled and lockdown");
		throw UserError(ExitCode::failure, fmt::format("cannot load gort's BPF programs: {} (GORT_DEBUG=1 shows "
							       "the verifier log)",
							       std::strerror(-err)));
	}
	ring_.reset(ring_buffer__new(bpf_map__fd(skel_->maps.events), ring_event, &sink_, nullptr));
	if (!ring_)
		throw UserError(ExitCode::failure, fmt::format("cannot open the ring buffer: {}", std::strerror(errno)));
	attach_tracepoints();
}

void Tracer::reap(std::vector<LinkPtr> links)
{
	if (links.empty())
		return;
	std::lock_guard lock(reap_mu_);
	if (!reaper_.joinable())
		reaper_ = std::thread([this] {
			std::unique_lock lk(reap_mu_);
			for (;;) {
				reap_cv_.wait(lk, [this] { return reap_stop_ || !reap_queue_.empty(); });
				if (reap_queue_.empty())
					return; // stopping, and nothing left
				auto doomed = std::move(reap_queue_.back());
				reap_queue_.pop_back();
				lk.unlock();
				// The slow part, one thread per link: closing a uprobe link takes its
				// breakpoint out at once, then waits for a grace period (50-650 ms here).
				// One after the other, the last link's breakpoint would stay in (and trap,
				// 3 us per hit in the target) for all the earlier links' grace periods.
				std::vector<std::thread> closers;
				for (auto &link : doomed)
					closers.emplace_back([l = std::move(link)]() mutable { l.reset(); });
				for (auto &t : closers)
					t.join();
				lk.lock();
			}
		});
	reap_queue_.push_back(std::move(links));
	reap_cv_.notify_one();
}

Tracer::~Tracer()
{
	{
		std::lock_guard lock(reap_mu_);
		reap_stop_ = true;
	}
	reap_cv_.notify_one();
	if (reaper_.joinable())
		reaper_.join();
	goroutine_links_.clear();
	process_links_.clear();
	binary_links_.clear();
	tracepoint_links_.clear();
}

void Tracer::attach_tracepoints()
{
	// Slow syscalls come from sched_switch, not sys_enter/sys_exit: those would put every syscall
	// of every process on the machine on the slow path (see bpf/syscalls.bpf.c for the figures).
	// process_exec always: without follow_exec it reports only the exec of a traced process.
	std::vector<bpf_program *> progs{skel_->progs.syscall_switch, skel_->progs.process_exec};
	for (bpf_program *prog : progs) {
		LinkPtr link(bpf_program__attach(prog));
		if (!link)
			throw UserError(ExitCode::failure, fmt::format("cannot attach to the sched_switch/sched_process_exec tracepoints: {}",
								       std::strerror(errno)));
		tracepoint_links_.push_back(std::move(link));
	}
}

void Tracer::attach(pid_t pid, const gobinary::RuntimeLayout &layout, uint64_t load_bias, AttachScope scope)
{
	gort_proc_config cfg{};
	cfg.off = layout.offsets;
	cfg.tls_g_offset = layout.tls_g_offset;
	cfg.work_pause_start_addr = layout.work_pause_start ? layout.work_pause_start + load_bias : 0;
	cfg.last_gc_nanotime_addr = layout.last_gc_nanotime ? layout.last_gc_nanotime + load_bias : 0;
	cfg.stw_abi = layout.stw_abi;
	cfg.phase = GORT_PHASE_ATTACHING;
	cfg.record_lifecycle = record_lifecycle_ ? 1 : 0;
	cfg.nr_sys_ranges = std::min<size_t>(layout.system_ranges.size(), GORT_MAX_SYS_RANGES);
	for (uint32_t i = 0; i < cfg.nr_sys_ranges; i++)
		cfg.sys_ranges[i] = {layout.system_ranges[i].first + load_bias, layout.system_ranges[i].second + load_bias};

	gort_gc_layout gc{};
	for (int i = 0; i < GORT_GC_NR_FIELDS; i++) {
		const gobinary::GcField &f = layout.gc_fields[i];
		gc.addr[i] = f.addr ? f.addr + load_bias : 0;
		gc.size[i] = f.size;
	}

	uint32_t key = pid;
	gort_proc_stats zero{};
	if (bpf_map_update_elem(bpf_map__fd(skel_->maps.proc_stats), &key, &zero, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel_->maps.gc_layouts), &key, &gc, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel_->maps.procs), &key, &cfg, BPF_ANY))
		throw UserError(ExitCode::failure, fmt::format("cannot register PID {} in gort's maps: {} (at most {} "
							       "processes at once)",
							       pid, std::strerror(errno), GORT_MAX_PROCS));
	try {
		// The goroutine probes apart: sampled mode detaches and re-attaches them.
		std::vector<gobinary::ProbeAttachment> others, goroutine;
		for (const auto &p : layout.probes)
			(probe__is_goroutine(p) ? goroutine : others).push_back(p);
		if (scope == AttachScope::process) {
			process_links_[pid] = attach_links(pid, others, pid);
			goroutine_links_[pid] = attach_links(pid, goroutine, pid);
			goroutine_probes_[pid] = std::move(goroutine);
		} else {
			struct stat st {};
			if (stat(fmt::format("/proc/{}/exe", pid).c_str(), &st) != 0)
				throw goprocess::process__exited_while_attaching(pid);
			BinaryKey bk{st.st_dev, st.st_ino};
			auto bl = binary_links_.try_emplace(bk).first;
			BinaryLinks &b = bl->second;
			try {
				if (b.links.empty())
					b.links = attach_links(pid, others, -1);
				if (b.goroutine.empty() && b.sharing.empty() && b.users == 0)
					b.goroutine = attach_links(pid, goroutine, -1);
			} catch (...) {
				if (b.users == 0)
					binary_links_.erase(bl);
				throw;
			}
			b.goroutine_probes = goroutine;
			b.users++;
			binary_of_[pid] = bk;
			if (!b.goroutine.empty()) {
				b.sharing.insert(pid);
			} else {
				// Given up by a process of this binary that is sampled, which still runs: this
				// one gets its own.
				goroutine_links_[pid] = attach_links(pid, goroutine, pid);
				goroutine_probes_[pid] = std::move(goroutine);
			}
			debug("PID {}: binary {}:{} has {} users, {} links, goroutine probes {}", pid, bk.dev, bk.ino, b.users,
			      b.links.size() + b.goroutine.size(), b.sharing.count(pid) ? "shared" : "its own");
		}
	} catch (...) {
		detach(pid);
		throw;
	}
	GaugeSource &g = gauges_[pid];
	g.heap = layout.heap;
	g.load_bias = load_bias;
	try {
		g.mem = std::make_unique<goprocess::ProcessMemory>(pid);
	} catch (const UserError &) {
		// Ended meanwhile: no heap figures; the exit is noticed as for any other process.
	}
	gauges(pid);  // a first reading: what a process that ends before any refresh keeps
}

bool probe__is_goroutine(const gobinary::ProbeAttachment &p)
{
	return p.program.rfind("goroutine_", 0) == 0;
}

bool Tracer::can_pause_goroutine_probes(pid_t pid) const
{
	if (goroutine_probes_.count(pid))
		return true;
	auto bk = binary_of_.find(pid);
	if (bk == binary_of_.end())
		return false;
	const BinaryLinks &b = binary_links_.at(bk->second);
	return b.sharing.size() == 1 && b.sharing.count(pid);
}

bool Tracer::set_goroutine_probes(pid_t pid, bool on)
{
	if (!goroutine_probes_.count(pid)) {
		if (!can_pause_goroutine_probes(pid))
			return false; // shared with other traced processes of its binary: they stay
		// The sole process sharing its binary's goroutine probes: they become its own.
		BinaryLinks &b = binary_links_.at(binary_of_.at(pid));
		reap(std::move(b.goroutine));
		b.goroutine.clear();
		b.sharing.erase(pid);
		goroutine_probes_[pid] = b.goroutine_probes;
	}
	auto probes = goroutine_probes_.find(pid);
	if (!on) {
		if (auto it = goroutine_links_.find(pid); it != goroutine_links_.end()) {
			reap(std::move(it->second));
			goroutine_links_.erase(it);
		}
		return true;
	}
	if (!goroutine_links_.count(pid)) {
		uint32_t key = pid;
		int fd = bpf_map__fd(skel_->maps.procs);
		gort_proc_config cfg{};
		if (bpf_map_lookup_elem(fd, &key, &cfg) != 0)
			throw goprocess::process__exited_while_attaching(pid);
		cfg.goroutine_generation++;
		goroutine_links_[pid] = attach_links(pid, probes->second, pid, cfg.goroutine_generation);
		// The old links (still being removed) stop counting from here; the new ones start
		// when the caller sets the phase.
		bpf_map_update_elem(fd, &key, &cfg, BPF_EXIST);
	}
	return true;
}

bool Tracer::goroutine_probes_attached(pid_t pid) const
{
	return !goroutine_probes_.count(pid) || goroutine_links_.count(pid);
}

std::vector<LinkPtr> Tracer::attach_links(pid_t pid, const std::vector<gobinary::ProbeAttachment> &probes, pid_t filter_pid,
				 uint32_t generation)
{
	std::string exe = fmt::format("/proc/{}/exe", pid);
	std::vector<LinkPtr> links;
	for (const auto &probe : probes) {
		bpf_program *prog = bpf_object__find_program_by_name(skel_->obj, probe.program.c_str());
		if (!prog)
			throw UserError(ExitCode::failure, "internal: no BPF program named " + probe.program);
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = generation);
		LinkPtr link(bpf_program__attach_uprobe_opts(prog, filter_pid, exe.c_str(), probe.point.file_offset, &opts));
		if (!link) {
			int err = errno;
			if (!goprocess::process__alive(pid))
				throw goprocess::process__exited_while_attaching(pid);
			throw UserError(ExitCode::failure, fmt::format("cannot attach a uprobe to {} at {}+{:#x} in PID {}: {}",
								       probe.point.function, exe, probe.point.file_offset,
								       pid, std::strerror(err)));
		}
		links.push_back(std::move(link));
	}
	return links;
}

ProcessGauges Tracer::gauges(pid_t pid) const
{
	ProcessGauges g;
	std::error_code ec;
	for (auto it = std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec);
	     !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
		g.os_threads++;
	auto src = gauges_.find(pid);
	if (src == gauges_.end())
		return g;
	GaugeSource &s = src->second;
	if (g.os_threads == 0)
		return s.last;  // ended: what it had last
	if (s.mem) {
		auto t0 = std::chrono::steady_clock::now();
		auto h = goprocess::heap_now__read(s.heap, s.load_bias, *s.mem);
		// The benchmark (scripts/bench-gc-cycle.py) reads this line: the cost is gort's alone,
		// process_vm_readv does not stop the target.
		debug("PID {}: heap figures read in {} ns", pid,
		      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
		if (h) {
			g.heap_known = true;
			g.heap_alloc = h->alloc;
			g.heap_objects = h->objects;
			g.gomaxprocs = h->gomaxprocs;
		} else {
			g.gomaxprocs = goprocess::heap_now__gomaxprocs(s.heap, s.load_bias, *s.mem);
		}
	}
	s.last = g;
	return g;
}

void Tracer::set_phase(pid_t pid, gort_phase phase)
{
	uint32_t key = pid;
	int fd = bpf_map__fd(skel_->maps.procs);
	gort_proc_config cfg{};
	if (bpf_map_lookup_elem(fd, &key, &cfg) == 0) {
		cfg.phase = phase;
		bpf_map_update_elem(fd, &key, &cfg, BPF_EXIST);
	}
}

void Tracer::forget(pid_t pid)
{
	gauges_.erase(pid);
	// Removing a uprobe waits for a grace period (50-650 ms here): on this thread, system-wide
	// mode would follow no new process meanwhile (a 300 ms program started then was missed).
	// Its procs entry is gone, so the programs ignore any hit until the links are.
	for (auto *links : {&process_links_, &goroutine_links_})
		if (auto it = links->find(pid); it != links->end()) {
			reap(std::move(it->second));
			links->erase(it);
		}
	goroutine_probes_.erase(pid);
	auto it = binary_of_.find(pid);
	if (it == binary_of_.end())
		return;
	auto bl = binary_links_.find(it->second);
	if (bl != binary_links_.end()) {
		bl->second.users--; // the links go at the next poll if nobody holds them
		bl->second.sharing.erase(pid);
	}
	binary_of_.erase(it);
	debug("PID {} forgotten; {} binaries with links", pid, binary_links_.size());
}

std::shared_ptr<const void> Tracer::hold_binary_links(pid_t pid)
{
	auto it = binary_of_.find(pid);
	if (it == binary_of_.end())
		return nullptr;
	BinaryLinks &bl = binary_links_.at(it->second);
	std::shared_ptr<const void> hold = bl.held.lock();
	if (!hold) {
		hold = std::make_shared<const char>(0);
		bl.held = hold;
	}
	return hold;
}

void Tracer::release_idle_binaries()
{
	for (auto it = binary_links_.begin(); it != binary_links_.end();) {
		if (it->second.users == 0 && it->second.held.expired()) {
			debug("binary {}:{} idle: its {} links go", it->first.dev, it->first.ino, it->second.links.size());
			reap(std::move(it->second.links)); // off this thread, as in forget()
			reap(std::move(it->second.goroutine));
			it = binary_links_.erase(it);
		} else {
			++it;
		}
	}
}

void Tracer::detach(pid_t pid)
{
	forget(pid);
	uint32_t key = pid;
	bpf_map_delete_elem(bpf_map__fd(skel_->maps.procs), &key);
	bpf_map_delete_elem(bpf_map__fd(skel_->maps.proc_stats), &key);
	bpf_map_delete_elem(bpf_map__fd(skel_->maps.stw_slots), &key);
	bpf_map_delete_elem(bpf_map__fd(skel_->maps.gc_layouts), &key);
	map__delete_if<gort_site_key>(bpf_map__fd(skel_->maps.sites), of_process(pid));
	map__delete_if<gort_syscall_key>(bpf_map__fd(skel_->maps.syscall_stats), of_process(pid));
	map__delete_if<gort_thread_key>(bpf_map__fd(skel_->maps.syscall_blocks), of_process(pid));
	clear_baseline(pid);
}

int Tracer::poll(int timeout_ms)
{
	release_idle_binaries();
	int n = ring_buffer__poll(ring_.get(), timeout_ms);
	return n < 0 ? 0 : n;
}

gort_proc_stats Tracer::stats(pid_t pid) const
{
	uint32_t key = pid;
	gort_proc_stats st{};
	bpf_map_lookup_elem(bpf_map__fd(skel_->maps.proc_stats), &key, &st);
	return st;
}

std::vector<std::pair<gort_site_key, gort_site_stats>> Tracer::sites(pid_t pid) const
{
	return map__collect<gort_site_key, gort_site_stats>(bpf_map__fd(skel_->maps.sites),
							     of_process(pid));
}

std::vector<std::pair<gort_syscall_key, gort_syscall_stats>> Tracer::syscalls(pid_t pid) const
{
	return map__collect<gort_syscall_key, gort_syscall_stats>(
		bpf_map__fd(skel_->maps.syscall_stats), of_process(pid));
}

BaselineRecords Tracer::baseline(pid_t pid) const
{
	BaselineRecords r;
	for (auto &[k, goid] : map__collect<gort_g_key, uint64_t>(bpf_map__fd(skel_->maps.attach_created), of_process(pid)))
		r.created.insert(k.g);
	for (auto &[k, site] : map__collect<gort_goid_key, gort_site_key>(bpf_map__fd(skel_->maps.attach_exited),
									 of_process(pid)))
		r.exited.emplace_back(k.goid, site);
	for (auto &[k, v] : map__collect<gort_goid_key, uint8_t>(bpf_map__fd(skel_->maps.exited_before_attach),
								  of_process(pid)))
		r.exited_before_attach.insert(k.goid);
	return r;
}

void Tracer::clear_baseline(pid_t pid)
{
	map__delete_if<gort_g_key>(bpf_map__fd(skel_->maps.attach_created), of_process(pid));
	map__delete_if<gort_goid_key>(bpf_map__fd(skel_->maps.attach_exited), of_process(pid));
	map__delete_if<gort_goid_key>(bpf_map__fd(skel_->maps.exited_before_attach), of_process(pid));
}

double Tracer::calibrate_trap_ns()
{
	constexpr int kCalls = 4000;
	// gort itself, registered as a traced process for the moment (it is never one otherwise:
	// Session skips its own PID), so that the exit program does what it does in a target.
	CalibrationG g;
	uint64_t goid = 1, startpc = reinterpret_cast<uint64_t>(&gort_calibrate_point), gopc = startpc + 1;
	std::memcpy(g.bytes + CalibrationG::kGoid, &goid, 8);
	std::memcpy(g.bytes + CalibrationG::kStartpc, &startpc, 8);
	std::memcpy(g.bytes + CalibrationG::kGopc, &gopc, 8);
	pid_t self = getpid();
	uint32_t key = self;
	gort_proc_config cfg{};
	cfg.off.g_goid = CalibrationG::kGoid;
	cfg.off.g_startpc = CalibrationG::kStartpc;
	cfg.off.g_gopc = CalibrationG::kGopc;
	cfg.phase = GORT_PHASE_TRACING;
	gort_proc_stats zero{};
	double plain = calibrate__time_calls(kCalls, g);
	if (bpf_map_update_elem(bpf_map__fd(skel_->maps.proc_stats), &key, &zero, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel_->maps.procs), &key, &cfg, BPF_ANY)) {
		detach(self);
		throw UserError(ExitCode::failure, fmt::format("cannot register gort in its maps to calibrate the uprobe "
							       "cost: {} (use --exact)",
							       std::strerror(errno)));
	}
	double probed = 0;
	uint64_t hits = 0;
	{
		LIBBPF_OPTS(bpf_uprobe_opts, opts);
		LinkPtr link(bpf_program__attach_uprobe_opts(skel_->progs.goroutine_exited_r14, self, "/proc/self/exe",
							     calibrate__self_offset(), &opts));
		if (!link) {
			int err = errno;
			detach(self);
			throw UserError(ExitCode::failure, fmt::format("cannot set a uprobe on gort itself to calibrate its "
								       "cost: {} (use --exact)",
								       std::strerror(err)));
		}
		probed = calibrate__time_calls(kCalls, g);
		hits = stats(self).exited;
	}
	detach(self); // its config, counters and the fake site
	debug("calibration: {:.0f} ns per call plain, {:.0f} ns with a uprobe ({} hits counted)", plain, probed, hits);
	return std::max(probed - plain, 1.0);
}

size_t Tracer::link_count() const
{
	size_t n = tracepoint_links_.size();
	for (auto &[pid, links] : process_links_)
		n += links.size();
	for (auto &[pid, links] : goroutine_links_)
		n += links.size();
	for (auto &[key, bl] : binary_links_)
		n += bl.links.size() + bl.goroutine.size();
	return n;
}

uint64_t Tracer::exec_lost() const
{
	return __atomic_load_n(&skel_->bss->exec_lost, __ATOMIC_RELAXED);
}

} // namespace gort::probes
