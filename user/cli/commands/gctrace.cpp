// `gort gctrace`: the runtime's own GODEBUG=gctrace=1 line for every GC cycle of running Go
// programs, read from its bookkeeping at the end of each cycle (bpf/gc.bpf.c) — no restart, no
// environment variable, nothing written to the program's stderr.
#include <unistd.h>

#include <iostream>

#include <fmt/format.h>

#include "user/cli/commands/selection.h"
#include "user/common/escape.h"
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

// Says, after a process's "attached" line, when it will have no gctrace lines.
class GctraceHooks : public session::DriverHooks {
public:
	void attached(const session::AttachSummary &s) override
	{
		if (!s.gc_trace)
			say(fmt::format("gort: PID {} ({}, {}): its GC bookkeeping could not be located; no gctrace lines "
					"for it (rebuild it without -ldflags='-s -w')",
					s.pid, text__escape(s.comm), text__escape(s.go_version)));
	}
};

} // namespace

int gctrace__run(const GctraceOptions &opts)
{
	session::Driver driver(session_options__for(opts.select, std::chrono::milliseconds(1)),
			       driver_options__for(opts.select, std::chrono::seconds(1), opts.duration));
	CyclePrinter printer(opts.json, opts.select.all || opts.select.pids.size() > 1);
	driver.session().add_sink(printer);
	GctraceHooks hooks;
	driver.attach(hooks);
	return driver.run(hooks);
}

} // namespace gort::cli
