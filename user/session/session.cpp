#include "user/session/session.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "user/common/error.h"
#include "user/goprocess/goroutine_snapshot.h"
#include "user/goprocess/process.h"

namespace gort::session {

namespace {
// How long attach waits for goroutines allgs caught mid-creation or mid-exit to move on
// (goroutine_snapshot__settle): milliseconds at most, unless one runs without pause.
constexpr std::chrono::milliseconds kSettleLimit{250};
} // namespace

std::string attach_summary__line(const AttachSummary &s)
{
	return fmt::format("gort: attached to PID {} ({}, {}, {} uprobes ({} on emulated instructions) and the sched_switch "
			   "tracepoint, {} goroutines alive)",
			   s.pid, s.comm, s.go_version, s.uprobes, s.emulated, s.live_at_attach);
}

Session::Session(const SessionOptions &opts)
    : opts_(opts), aggregator_(opts.slow_syscall_ns), fanout_(aggregator_),
      tracer_(probes::TracerOptions{opts.slow_syscall_ns, opts.record_lifecycle, opts.system_wide}, fanout_)
{
}

std::shared_ptr<const Session::InspectedBinary> Session::inspect(const goprocess::ProcessInfo &info)
{
	if (info.kernel_thread)
		throw UserError(ExitCode::unsupported,
				fmt::format("PID {} ({}) is a kernel thread, not a Go program", info.pid, info.comm));
	std::string exe = fmt::format("/proc/{}/exe", info.pid);
	struct stat st {};
	if (stat(exe.c_str(), &st) != 0) {
		if (!goprocess::process__alive(info.pid))
			throw goprocess::process__exited_while_attaching(info.pid);
		throw UserError(ExitCode::permission,
				fmt::format("cannot read {}: {} (run gort as root)", exe, std::strerror(errno)));
	}
	FileId id{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec * 1'000'000'000ll + st.st_mtim.tv_nsec};
	auto now = std::chrono::steady_clock::now();
	if (auto it = binaries_.find(id); it != binaries_.end()) {
		it->second.last_used = now;
		return it->second.inspected;
	}

	auto inspected = std::make_shared<InspectedBinary>();
	try {
		inspected->binary = gobinary::GoBinary::open(exe);
		inspected->layout = gobinary::runtime_layout__inspect(*inspected->binary);
	} catch (const UserError &e) {
		if (!goprocess::process__alive(info.pid))
			throw goprocess::process__exited_while_attaching(info.pid);
		inspected->refusal = e.what();
		inspected->refusal_code = e.code();
	}
	// Bounded: a long system-wide session sees many binaries come and go.
	if (binaries_.size() >= 256)
		binaries_.clear();
	binaries_[id] = {inspected, now};
	return inspected;
}

void Session::expire_binaries()
{
	auto now = std::chrono::steady_clock::now();
	for (auto it = binaries_.begin(); it != binaries_.end();) {
		// use_count 1: only this cache holds it (a traced process's symbols hold another).
		bool unused = !it->second.inspected->binary || it->second.inspected->binary.use_count() == 1;
		if (unused && now - it->second.last_used >= kBinaryLinger)
			it = binaries_.erase(it);
		else
			++it;
	}
}

AttachSummary Session::attach(pid_t pid)
{
	goprocess::ProcessInfo info = goprocess::process__info(pid);
	std::shared_ptr<const InspectedBinary> inspected = inspect(info);
	if (!inspected->refusal.empty())
		throw UserError(inspected->refusal_code, fmt::format("PID {} ({}): {}", pid, info.comm, inspected->refusal));
	const gobinary::GoBinary &binary = *inspected->binary;
	const gobinary::RuntimeLayout &layout = inspected->layout;
	uint64_t load_bias = goprocess::process__load_bias(pid, binary.first_load_vaddr());

	// Goroutines alive at attach, exactly: the probes go live first, all at once, in the baseline
	// phase where BPF notes every g given a new goroutine since and every older goroutine that
	// exits; then allgs is read. Alive at attach = (alive in allgs, not created since) + (older
	// ones ended) - (ones that ended just before the start).
	tracer_.attach(pid, layout, load_bias,
		       opts_.system_wide ? probes::AttachScope::binary : probes::AttachScope::process);
	TracedProcess proc;
	proc.attached_mono_ns = clock__now().mono_ns;
	std::vector<goprocess::GoroutineRecord> records;
	try {
		goprocess::ProcessMemory mem(pid);
		records = goprocess::goroutine_snapshot__read(binary, mem, load_bias);
		goprocess::goroutine_snapshot__settle(binary, mem, load_bias, records, [&] {
			std::vector<uint64_t> c = tracer_.baseline_created(pid);
			return std::set<uint64_t>(c.begin(), c.end());
		}, kSettleLimit);
	} catch (...) {
		tracer_.detach(pid);
		if (!goprocess::process__alive(pid))
			throw goprocess::process__exited_while_attaching(pid);
		throw;
	}
	// Creations and exits take microseconds from the status change allgs shows to the probe that
	// records them: the baseline phase goes on for a moment after the read so that a goroutine
	// the read caught halfway is recorded, and ends a moment before the records are read so that
	// a handler that saw the phase just before the update has finished.
	std::this_thread::sleep_for(std::chrono::milliseconds(2));
	tracer_.set_phase(pid, GORT_PHASE_TRACING);
	std::this_thread::sleep_for(std::chrono::milliseconds(2));

	std::vector<uint64_t> created = tracer_.baseline_created(pid);
	std::set<uint64_t> created_since(created.begin(), created.end()); // g addresses
	// Goroutines that ended just before the probes started are not alive at attach, whatever
	// allgs still said about their g.
	std::vector<uint64_t> gone = tracer_.exited_before_attach(pid);
	std::set<uint64_t> seen(gone.begin(), gone.end());
	for (const auto &g : records) {
		if (!goprocess::goroutine__alive(g) || created_since.count(g.g) || !seen.insert(g.goid).second)
			continue;
		proc.alive_at_attach[{g.startpc + load_bias, g.gopc + load_bias}]++;
	}
	for (const auto &[goid, site] : tracer_.baseline_exited(pid))
		if (seen.insert(goid).second)
			proc.alive_at_attach[{site.startpc, site.gopc}]++;
	tracer_.clear_baseline(pid);

	AttachSummary summary;
	summary.pid = pid;
	summary.comm = info.comm;
	summary.go_version = binary.build_info().version.raw;
	summary.uprobes = layout.probes.size();
	summary.gc_trace = layout.gc_trace;
	for (const auto &p : layout.probes)
		summary.emulated += p.point.emulated ? 1 : 0;

	proc.pid = pid;
	proc.comm = info.comm;
	proc.exe = info.exe;
	proc.go_version = summary.go_version;
	proc.symbols = std::make_shared<BinarySymbols>(inspected->binary, layout, load_bias, inspected->names);
	summary.live_at_attach = traced_process__live_at_attach(proc);
	aggregator_.add_process(std::move(proc));
	census_.add(pid, inspected->binary, load_bias);
	sampling__start(pid, inspected->binary, load_bias);
	return summary;
}

// System-wide mode's decision for one process: quietly skip what is not a Go program, not ours
// to trace, or already gone; say once why a Go program is not traced.
void Session::consider(pid_t pid)
{
	const ProcessFilter &f = opts_.filter;
	if (pid == getpid() || f.exclude.count(pid) || (aggregator_.process(pid) && !aggregator_.process(pid)->ended))
		return;
	try {
		goprocess::ProcessInfo info = goprocess::process__info(pid);
		if (info.kernel_thread || !comm_selected(info.comm))
			return;
		std::shared_ptr<const InspectedBinary> inspected = inspect(info);
		if (!inspected->binary) // not a Go program
			return;
		if (!inspected->refusal.empty()) {
			if (refused_.insert(pid).second)
				notes_.push_back(fmt::format("gort: not tracing PID {} ({}): {}", pid, info.comm, inspected->refusal));
			return;
		}
		if (aggregator_.live_pids().size() >= f.max_procs) {
			if (refused_.insert(pid).second)
				notes_.push_back(fmt::format("gort: not tracing PID {} ({}): --max-procs {} reached; raise it or "
							     "narrow the selection with --comm",
							     pid, info.comm, f.max_procs));
			return;
		}
		attached_.push_back(attach(pid));
	} catch (const UserError &e) {
		if (e.code() != ExitCode::no_process && refused_.insert(pid).second)
			notes_.push_back(fmt::format("gort: not tracing PID {}: {}", pid, e.what()));
	}
}

bool Session::comm_selected(const std::string &comm) const
{
	return !opts_.filter.comm || std::regex_search(comm, *opts_.filter.comm);
}

void Session::follow_all()
{
	for (pid_t pid : goprocess::process__list_all())
		consider(pid);
}

std::vector<AttachSummary> Session::take_attached()
{
	return std::exchange(attached_, {});
}

std::vector<std::string> Session::take_notes()
{
	return std::exchange(notes_, {});
}

void Session::end(pid_t pid)
{
	tracer_.poll(0); // what it reported before it ended
	Clock now = clock__now();
	if (before_detach_)
		before_detach_(pid, now);
	aggregator_.freeze(pid, tracer_, now);
	census_.remove(pid);
	// An exec under -p attaches the same PID again at once, with another binary: nothing of the
	// old program's sampling may outlive it.
	sampling_.erase(pid);
	tracer_.detach(pid);
}

std::vector<pid_t> Session::poll(int timeout_ms)
{
	tracer_.poll(sampling__timeout(timeout_ms));
	sampling__tick();
	std::vector<pid_t> ended;
	if (opts_.system_wide) {
		// A process that exec'd is a new program: what was traced under its PID has ended.
		auto execs = std::exchange(fanout_.execs, {});
		for (const auto &[pid, comm] : execs) {
			refused_.erase(pid);
			if (const TracedProcess *p = aggregator_.process(pid); p && !p->ended) {
				end(pid);
				ended.push_back(pid);
			}
			// The record carries the new comm: most execs on a machine are not ours to look at.
			if (comm_selected(comm))
				consider(pid);
		}
		if (uint64_t lost = tracer_.exec_lost(); lost != exec_lost_seen_) {
			exec_lost_seen_ = lost;
			follow_all(); // some exec records were lost: look at /proc instead
		}
		expire_binaries();
	} else {
		// -p: a traced process exec'd (BPF reports only those). Its old program ended; the new
		// one is followed if gort can trace it, as --all would, or the reason is said.
		for (const auto &[pid, comm] : std::exchange(fanout_.execs, {})) {
			const TracedProcess *p = aggregator_.process(pid);
			if (!p || p->ended)
				continue;
			std::string old = p->comm;
			end(pid);
			ended.push_back(pid);
			try {
				attached_.push_back(attach(pid));
				notes_.push_back(fmt::format("gort: PID {} exec'd: {} ended, following {}", pid, old, comm));
			} catch (const UserError &e) {
				notes_.push_back(fmt::format("gort: PID {} exec'd: {} ended; not following {}: {}", pid, old,
							     comm, e.what()));
			}
		}
	}
	for (pid_t pid : aggregator_.live_pids()) {
		if (goprocess::process__alive(pid))
			continue;
		end(pid);
		ended.push_back(pid);
	}
	return ended;
}

Snapshot Session::snapshot()
{
	census_.take(aggregator_, clock__now().mono_ns);
	sampling__tick();
	Snapshot snap = aggregator_.snapshot(tracer_, clock__now());
	// System-wide, processes come and go: an ended one is reported (exited: true) once, then
	// dropped, so its PID can be reused and the model stays the size of what is running.
	if (opts_.system_wide)
		for (const auto &p : snap.processes)
			if (p.exited)
				aggregator_.drop(p.pid);
	return snap;
}

} // namespace gort::session
