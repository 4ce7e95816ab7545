// A tracing session: the object `top`, `demo`, `record` and the BPF tests drive. It inspects each
// target, attaches its probes, reconciles the goroutines alive at attach, and feeds the stream of
// ring-buffer records to the aggregator and to any other sink (a recorder).
#pragma once

#include <sys/types.h>

#include <functional>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "user/common/error.h"
#include "user/probes/tracer.h"
#include "user/session/aggregator.h"
#include "user/session/census.h"
#include "user/session/discovery.h"
#include "user/session/model.h"
#include "user/goprocess/process.h"
#include "user/goprocess/runtime_state.h"

namespace gort::session {

// Which processes system-wide mode takes.
struct ProcessFilter {
	std::optional<std::regex> comm;  // searched in /proc/PID/comm
	std::set<pid_t> exclude;
	size_t max_procs = 256;
};

// How goroutines are counted (issue 9). exact: the creation/exit probes always on (a trap per
// goroutine created or ended). sampled: totals and live counts from the runtime's own state,
// the probes on for a fraction of each interval (per-site rates are estimates). auto: exact
// while that costs the target less than the budget, else sampled.
enum class GoroutineMode { exact, auto_, sampled };

struct SessionOptions {
	uint64_t slow_syscall_ns = 1'000'000;
	bool record_lifecycle = false;  // send every goroutine create/exit as a record (recording)
	// Nothing renders an ended process's final figures (record: the file keeps them, written
	// by the before-detach hook): forget it at once, so the model holds only what runs.
	bool forget_ended = false;
	// System-wide: follow_all() takes every Go process running now and, through the exec
	// tracepoint, every one that starts later; uprobes are shared per binary.
	bool system_wide = false;
	ProcessFilter filter;
	GoroutineMode goroutine_mode = GoroutineMode::exact;
	double overhead = 0.01;  // auto: CPU the goroutine probes may cost a target, share of one CPU
	std::chrono::nanoseconds sample_interval = std::chrono::seconds(1);
	double sample_fraction = 0.1;  // sampled: the most of an interval the probes count
	double trap_ns = 0;            // 0: calibrate at start (auto/sampled)
};

struct AttachSummary {
	pid_t pid = 0;
	std::string comm;
	std::string go_version;
	size_t uprobes = 0;
	size_t emulated = 0;
	uint64_t live_at_attach = 0;
	bool gc_trace = false;  // the runtime's per-cycle GC bookkeeping is read (gort gctrace)
};

// The line printed once every probe of a process is live; tests synchronise on its prefix.
std::string attach_summary__line(const AttachSummary &s);

class Session {
public:
	explicit Session(const SessionOptions &opts);

	// Throws UserError: no_process, unsupported (not Go / kernel thread / version), permission.
	AttachSummary attach(pid_t pid);
	// System-wide mode: attaches every running Go process that passes the filter; later ones are
	// attached by poll() as they exec. Their summaries come from take_attached().
	void follow_all();
	// What system-wide mode did since the last call: processes attached, and one-line notes
	// (a process refused, --max-procs reached).
	std::vector<AttachSummary> take_attached();
	std::vector<std::string> take_notes();
	// Delivers pending records, then freezes and detaches processes that have ended; returns them.
	std::vector<pid_t> poll(int timeout_ms);
	Snapshot snapshot();
	bool has_live_processes() const { return aggregator_.has_live_processes(); }
	size_t link_count() const { return tracer_.link_count(); }

	// For a recorder: every ring-buffer record after the aggregator has it, the processes as the
	// aggregator knows them, and the live counters.
	void add_sink(EventSink &sink) { fanout_.extra.push_back(&sink); }
	const TracedProcess &process(pid_t pid) const { return *aggregator_.process(pid); }
	// Null once an ended process was forgotten (SessionOptions::forget_ended).
	const TracedProcess *find_process(pid_t pid) const { return aggregator_.process(pid); }
	const CounterSource &counters() const { return tracer_; }
	// For a recorder: called when a process has ended, after its last records were delivered and
	// before it is frozen (at `now`) and detached, while counters() still has its maps.
	void set_before_detach(std::function<void(const TracedProcess &, Clock)> hook) { before_detach_ = std::move(hook); }
	// For a recorder: every reading of sampled/auto mode and every change of mode (sampler.cpp).
	void set_reading_sink(ReadingSink &sink) { reading_sink_ = &sink; }

private:
	struct FanOut : EventSink {
		explicit FanOut(Aggregator &a) : aggregator(&a) {}
		Aggregator *aggregator;
		std::vector<EventSink *> extra;
		// System-wide: processes that exec'd (PID, new comm), to look at after the poll.
		std::vector<std::pair<pid_t, std::string>> execs;
		void on_event(const gort_event_header &hdr, const void *data, size_t size) override
		{
			if (hdr.kind == GORT_EV_EXEC && size >= sizeof(gort_exec_event)) {
				const auto *ev = static_cast<const gort_exec_event *>(data);
				execs.push_back({static_cast<pid_t>(hdr.tgid), std::string(ev->comm, strnlen(ev->comm, sizeof ev->comm))});
			}
			aggregator->on_event(hdr, data, size);
			for (auto *sink : extra)
				sink->on_event(hdr, data, size);
		}
	};
	void consider(pid_t pid);
	bool comm_selected(const std::string &comm) const;
	void end(pid_t pid);

	// Sampled/auto mode (sampler.cpp).
	struct Sampling {
		std::shared_ptr<const gobinary::GoBinary> binary;
		std::unique_ptr<goprocess::RuntimeStateReader> reader;
		std::unique_ptr<goprocess::ProcessMemory> mem;
		uint64_t load_bias = 0;
		bool sampled = false, counting = true;
		uint64_t counting_since = 0, counted_ns = 0, interval_start = 0, window_ns = 0;
		double exact_cost = 0;  // fraction of a CPU exact mode would cost, last estimate
		unsigned intervals_since_window = 0;
		uint64_t watch_ns = 0, watch_traps = 0;  // auto mode while exact: the last look at the rate
		bool shared_noted = false;  // said why it stays exact (sampling__may_sample)
	};
	void sampling__calibrate();
	bool sampling__may_sample(pid_t pid, Sampling &s);
	void sampling__start(pid_t pid, std::shared_ptr<const gobinary::GoBinary> binary, uint64_t load_bias);
	void sampling__tick();
	void sampling__reading(pid_t pid, Sampling &s, uint64_t now);
	void sampling__count(pid_t pid, Sampling &s, bool on, uint64_t now);
	void sampling__watch(pid_t pid, Sampling &s, uint64_t now);
	void sampling__mode(pid_t pid, Sampling &s, bool sampled, ModeReason why);
	int sampling__timeout(int timeout_ms) const;
	std::map<pid_t, Sampling> sampling_;

	SessionOptions opts_;
	Discovery discovery_;  // the binaries of the processes looked at, inspected once each
	std::map<pid_t, std::shared_ptr<const InspectedBinary>> running_;  // what each traced process runs
	std::vector<AttachSummary> attached_;
	std::vector<std::string> notes_;
	std::set<pid_t> refused_;  // noted once; a new exec of the PID clears it
	uint64_t exec_lost_seen_ = 0;
	std::function<void(const TracedProcess &, Clock)> before_detach_;
	ReadingSink *reading_sink_ = nullptr;

	// Declared before the tracer: its ring buffer delivers into them until it is destroyed.
	Aggregator aggregator_;
	Census census_;  // what each site's goroutines wait on, for the aggregator
	FanOut fanout_;
	probes::Tracer tracer_;
};

} // namespace gort::session
