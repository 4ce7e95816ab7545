// A tracing session: the object `top`, `demo` and the BPF tests drive. It inspects each target,
// attaches its probes, reconciles the goroutines alive at attach, and feeds the aggregator.
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
};

struct AttachSummary {
	pid_t pid = 0;
	std::string comm;
	std::string go_version;
	size_t probes = 0;
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
	// Delivers pending events, then freezes and detaches processes that have ended; returns them.
	std::vector<pid_t> poll(int timeout_ms);
	Snapshot snapshot();
	bool has_live_processes() const { return aggregator_.has_live_processes(); }
	size_t link_count() const { return tracer_.link_count(); }

private:
	// Declared before the tracer: the tracer's ring buffer delivers into it until destroyed.
	Aggregator aggregator_;
	probes::Tracer tracer_;
};

} // namespace gort::session
