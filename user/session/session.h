// A tracing session: the object `top`, `demo`, `record` and the BPF tests drive. It inspects each
// target, attaches its probes, reconciles the goroutines alive at attach, and feeds the stream of
// ring-buffer records to the aggregator and to any other sink (a recorder).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "user/probes/tracer.h"
#include "user/session/aggregator.h"
#include "user/session/model.h"

namespace gort::session {

struct SessionOptions {
	uint64_t slow_syscall_ns = 1'000'000;
	bool record_lifecycle = false;  // send every goroutine create/exit as a record (recording)
};

struct AttachSummary {
	pid_t pid = 0;
	std::string comm;
	std::string go_version;
	size_t uprobes = 0;
	size_t emulated = 0;
	uint64_t live_at_attach = 0;
};

// The line printed once every probe of a process is live; tests synchronise on its prefix.
std::string attach_summary__line(const AttachSummary &s);

class Session {
public:
	explicit Session(const SessionOptions &opts);

	// Throws UserError: no_process, unsupported (not Go / kernel thread / version), permission.
	AttachSummary attach(pid_t pid);
	// Delivers pending records, then freezes and detaches processes that have ended; returns them.
	std::vector<pid_t> poll(int timeout_ms);
	Snapshot snapshot();
	bool has_live_processes() const { return aggregator_.has_live_processes(); }
	size_t link_count() const { return tracer_.link_count(); }

	// For a recorder: every ring-buffer record after the aggregator has it, the processes as the
	// aggregator knows them, and the live counters.
	void add_sink(probes::EventSink &sink) { fanout_.extra.push_back(&sink); }
	const TracedProcess &process(pid_t pid) const { return *aggregator_.process(pid); }
	const CounterSource &counters() const { return tracer_; }
	const Aggregator &aggregator() const { return aggregator_; }

private:
	struct FanOut : probes::EventSink {
		explicit FanOut(Aggregator &a) : aggregator(&a) {}
		Aggregator *aggregator;
		std::vector<probes::EventSink *> extra;
		void on_event(const gort_event_header &hdr, const void *data, size_t size) override
		{
			aggregator->on_event(hdr, data, size);
			for (auto *sink : extra)
				sink->on_event(hdr, data, size);
		}
	};

	// Declared before the tracer: its ring buffer delivers into them until it is destroyed.
	Aggregator aggregator_;
	FanOut fanout_;
	probes::Tracer tracer_;
};

} // namespace gort::session
