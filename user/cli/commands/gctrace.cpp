// `gort gctrace`: the runtime's own GODEBUG=gctrace=1 line for every GC cycle of running Go
// programs, read from its bookkeeping at the end of each cycle (bpf/gc.bpf.c) — no restart, no
// environment variable, nothing written to the program's stderr.
#include <unistd.h>

#include <iostream>

#include <fmt/format.h>

#include "user/cli/commands/stop_signals.h"
#include "user/cli/commands/top.h"
#include "user/session/aggregator.h"
#include "user/views/views.h"

namespace gort::cli {

namespace {

// Prints each cycle as its record arrives: cycles are rare (at most a few per second), so every
// line is flushed at once, like the runtime's own.
class CyclePrinter : public EventSink {
public:
	CyclePrinter(bool json, bool prefix) : json_(json), prefix_(prefix) {}
	void on_event(const gort_event_header &hdr, const void *data, size_t size) override
	{
		if (hdr.kind != GORT_EV_GC_TRACE || size < sizeof(gort_gc_trace_event))
			return;
		gort_gc_trace_event ev;
		std::memcpy(&ev, data, sizeof ev);
		session::GcCycle c = session::gc_cycle__from_event(ev);
		if (json_)
			std::cout << views::gctrace__json(c).dump() << '\n';
		else
			std::cout << (prefix_ ? fmt::format("{}: ", c.pid) : "") << views::gctrace__line(c) << '\n';
		std::cout << std::flush;
	}

private:
	bool json_, prefix_;
};

void check_gc_trace(const session::AttachSummary &s)
{
	if (!s.gc_trace)
		fmt::print(stderr, "gort: PID {} ({}, {}): its GC bookkeeping could not be located; no gctrace lines "
				   "for it (rebuild it without -ldflags='-s -w')\n",
			   s.pid, s.comm, s.go_version);
}

} // namespace

int gctrace__run(const GctraceOptions &opts)
{
	session::Session session(session_options__for(opts.select, std::chrono::milliseconds(1)));
	CyclePrinter printer(opts.json, opts.select.all || opts.select.pids.size() > 1);
	session.add_sink(printer);
	StopSignals signals;
	auto news = [&] {
		for (const auto &s : session.take_attached()) {
			fmt::print(stderr, "{}\n", session::attach_summary__line(s));
			check_gc_trace(s);
		}
		for (const auto &note : session.take_notes())
			fmt::print(stderr, "{}\n", note);
		std::fflush(stderr);
	};
	if (opts.select.all) {
		session.follow_all();
		news();
		fmt::print(stderr, "gort: following every Go process{} (new ones as they start)\n",
			   opts.select.comm.empty() ? "" : fmt::format(" whose command matches '{}'", opts.select.comm));
	}
	for (pid_t pid : opts.select.pids) {
		auto s = session.attach(pid);
		fmt::print(stderr, "{}\n", session::attach_summary__line(s));
		check_gc_trace(s);
	}
	std::fflush(stderr);

	using clock = std::chrono::steady_clock;
	const auto deadline = opts.duration ? clock::now() + *opts.duration : clock::time_point::max();
	while (!signals.requested() && clock::now() < deadline) {
		for (pid_t pid : session.poll(100))
			fmt::print(stderr, "gort: PID {} exited\n", pid);
		news();
		if (!opts.select.all && !session.has_live_processes())
			break;
	}
	session.poll(0);
	return 0;
}

} // namespace gort::cli
