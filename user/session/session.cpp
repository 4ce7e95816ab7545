#include "user/session/session.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <set>

#include <cstdlib>

#include <fmt/format.h>

#include "user/common/error.h"
#include "user/session/alive_at_attach.h"
#include "user/goprocess/goroutine_snapshot.h"
#include "user/goprocess/process.h"

namespace gort::session {

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

AttachSummary Session::attach(pid_t pid)
{
	goprocess::ProcessInfo info = goprocess::process__info(pid);
	std::shared_ptr<const InspectedBinary> inspected = discovery_.inspect(info);
	if (!inspected->refusal.empty())
		throw UserError(inspected->refusal_code, fmt::format("PID {} ({}): {}", pid, info.comm, inspected->refusal));
	const gobinary::GoBinary &binary = *inspected->binary;
	const gobinary::RuntimeLayout &layout = inspected->layout;
	uint64_t load_bias = goprocess::process__load_bias(pid, binary.first_load_vaddr());

	tracer_.attach(pid, layout, load_bias,
		       opts_.system_wide ? probes::AttachScope::binary : probes::AttachScope::process);
	if (opts_.system_wide && !inspected->links)
		inspected->links = tracer_.hold_binary_links(pid);
	TracedProcess proc;
	try {
		AliveAtAttach baseline(tracer_, pid);
		proc.attached_mono_ns = baseline.started_mono_ns();
		proc.alive_at_attach = baseline.reconcile(binary, load_bias);
	} catch (...) {
		tracer_.detach(pid);
		if (!goprocess::process__alive(pid))
			throw goprocess::process__exited_while_attaching(pid);
		throw;
	}

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
	running_[pid] = inspected;
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
		auto found = discovery_.examine(pid, [&](const goprocess::ProcessInfo &info) { return comm_selected(info.comm); });
		if (!found)
			return;
		const goprocess::ProcessInfo &info = found->info;
		const InspectedBinary *inspected = found->inspected.get();
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
		if (std::getenv("GORT_DEBUG"))
			fmt::print(stderr, "gort debug: PID {} not attached: {}\n", pid, e.what());
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
	sampling__calibrate();
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
	if (const TracedProcess *p = aggregator_.process(pid); p && before_detach_)
		before_detach_(*p, now);
	if (opts_.forget_ended)
		aggregator_.drop(pid);
	else
		aggregator_.freeze(pid, tracer_, now);
	census_.remove(pid);
	// An exec under -p attaches the same PID again at once, with another binary: nothing of the
	// old program's sampling may outlive it.
	sampling_.erase(pid);
	running_.erase(pid);
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
		discovery_.expire();
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
