#include "user/session/session.h"

#include <chrono>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "user/common/error.h"
#include "user/target/goroutine_snapshot.h"
#include "user/target/process.h"

namespace gort::session {

std::string attach_summary__line(const AttachSummary &s)
{
	return fmt::format("gort: attached to PID {} ({}, {}, {} uprobes ({} on emulated instructions) and 2 syscall "
			   "tracepoints, {} goroutines alive)",
			   s.pid, s.comm, s.go_version, s.uprobes, s.emulated, s.live_at_attach);
}

Session::Session(const SessionOptions &opts)
    : aggregator_(opts.slow_syscall_ns), fanout_(aggregator_),
      tracer_(probes::TracerOptions{opts.slow_syscall_ns, opts.record_lifecycle}, fanout_)
{
}

namespace {

std::shared_ptr<const target::GoBinary> binary__open_for(const target::ProcessInfo &info)
{
	if (info.kernel_thread)
		throw UserError(ExitCode::unsupported,
				fmt::format("PID {} ({}) is a kernel thread, not a Go program", info.pid, info.comm));
	try {
		return target::GoBinary::open(fmt::format("/proc/{}/exe", info.pid));
	} catch (const UserError &e) {
		if (!target::process__alive(info.pid))
			throw UserError(ExitCode::no_process, fmt::format("PID {} exited while gort was attaching", info.pid));
		throw UserError(e.code(), fmt::format("PID {} ({}): {}", info.pid, info.comm, e.what()));
	}
}

} // namespace

AttachSummary Session::attach(pid_t pid)
{
	target::ProcessInfo info = target::process__info(pid);
	std::shared_ptr<const target::GoBinary> binary = binary__open_for(info);
	target::RuntimeLayout layout;
	try {
		layout = target::runtime_layout__inspect(*binary);
	} catch (const UserError &e) {
		throw UserError(e.code(), fmt::format("PID {} ({}): {}", pid, info.comm, e.what()));
	}
	uint64_t load_bias = target::process__load_bias(pid, binary->first_load_vaddr());

	// Goroutines alive at attach, exactly: the probes go live first, all at once, in the baseline
	// phase where BPF notes every goid created since and every older goroutine that exits; then
	// allgs is read. Alive at attach = (alive in allgs, not created since) + (older ones ended).
	tracer_.attach(pid, layout, load_bias);
	TracedProcess proc;
	proc.attached_mono_ns = clock__now().mono_ns;
	std::vector<target::GoroutineRecord> records;
	try {
		target::ProcessMemory mem(pid);
		records = target::goroutine_snapshot__read(*binary, mem, load_bias);
	} catch (...) {
		tracer_.detach(pid);
		if (!target::process__alive(pid))
			throw UserError(ExitCode::no_process, fmt::format("PID {} exited while gort was attaching", pid));
		throw;
	}
	tracer_.set_phase(pid, GORT_PHASE_TRACING);
	// A handler that read the baseline phase just before the update may still be recording; uprobe
	// handlers take microseconds, so this wait lets them finish before their records are read.
	std::this_thread::sleep_for(std::chrono::milliseconds(10));

	std::vector<uint64_t> created = tracer_.baseline_created(pid);
	std::set<uint64_t> created_since(created.begin(), created.end());
	std::set<uint64_t> seen;
	for (const auto &g : records) {
		if (!target::goroutine__alive(g) || created_since.count(g.goid) || !seen.insert(g.goid).second)
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
	summary.go_version = binary->build_info().version.raw;
	summary.uprobes = layout.probes.size();
	for (const auto &p : layout.probes)
		summary.emulated += p.point.emulated ? 1 : 0;

	proc.pid = pid;
	proc.comm = info.comm;
	proc.exe = info.exe;
	proc.go_version = summary.go_version;
	proc.symbols = std::make_shared<BinarySymbols>(binary, std::move(layout), load_bias);
	for (const auto &[addr, n] : proc.alive_at_attach)
		if (!proc.symbols->site(addr.startpc, addr.gopc).system)
			summary.live_at_attach += n;
	aggregator_.add_process(std::move(proc));
	return summary;
}

std::vector<pid_t> Session::poll(int timeout_ms)
{
	tracer_.poll(timeout_ms);
	std::vector<pid_t> ended;
	for (pid_t pid : aggregator_.live_pids()) {
		if (target::process__alive(pid))
			continue;
		tracer_.poll(0); // what it reported before it ended
		aggregator_.freeze(pid, tracer_, clock__now());
		tracer_.detach(pid);
		ended.push_back(pid);
	}
	return ended;
}

Snapshot Session::snapshot()
{
	return aggregator_.snapshot(tracer_, clock__now());
}

} // namespace gort::session
