// Recording is one more sink of the session's stream: every ring-buffer record goes to the file
// byte for byte, with what a later reader needs to aggregate it without the process or its binary
// (the process's identity, the names of every site before the first record that uses it, the
// counters at every interval and just before a process is detached).
#pragma once

#include <sys/types.h>

#include <exception>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "user/contracts/contracts.h"
#include "user/record/writer.h"
#include "user/session/aggregator.h"

namespace gort::record {

// The header of a recording that starts now.
FileHeader header__now(uint64_t slow_syscall_ns, uint64_t interval_ns);

// Fed by whoever drives the session (the stream, each process as it is attached, each tick,
// each exit), it never reads the session back: what it writes is what it was given, and the
// counters come from the CounterSource contract.
class Recorder : public EventSink, public TickSink, public session::ReadingSink {
public:
	Recorder(Writer &writer, const CounterSource &counters) : writer_(writer), counters_(counters) {}

	// Called by the ring buffer (through the session): never throws into libbpf's C frames; a
	// failure is kept for check().
	void on_event(const gort_event_header &hdr, const void *data, size_t size) override;
	// After Session::attach returned it: the process record and its alive-at-attach site names
	// (once; nothing if the process already ended: on_exit wrote them).
	void on_attach(const session::TracedProcess &p);
	// Every interval: the counters of every process still traced, then a tick.
	void on_tick(Clock now) override;
	// From the session's before-detach hook (its maps still readable): final counters and the exit
	// record. Never throws (called inside Session::poll); a failure is kept for check().
	void on_exit(const session::TracedProcess &p, Clock now);
	// The final counters, the end record, and the file closed. Throws UserError.
	void finish(Clock now);
	// Rethrows the first failure kept by on_event/on_exit.
	void check() const;

	// Sampled/auto mode (session::ReadingSink): each reading, with the counters it was taken
	// with, and each mode change. Those of a process not announced yet (the baseline reading is
	// taken inside Session::attach) wait for its process record. Never throw (called inside
	// Session::poll); a failure is kept for check().
	void on_reading(pid_t pid, const session::GoroutineReading &r, const CounterSource &counters) override;
	void on_mode_change(pid_t pid, const session::ModeChange &c) override;

	// Lost events of the traced processes, as of their latest counter record.
	uint64_t lost_events() const;

private:
	void name_site(pid_t pid, uint64_t startpc, uint64_t gopc);
	void write_counters(pid_t pid, Clock now);

	Writer &writer_;
	const CounterSource &counters_;
	// The processes attached and not yet exited, with the names of their sites.
	std::map<pid_t, std::shared_ptr<const ProcessSymbols>> traced_;
	// Of the processes still traced: an ended one leaves them (its lost events go to lost_ended_),
	// so a long `record --all` does not grow with the processes that ever ran, and a PID that
	// execs names its new program's sites again.
	std::map<pid_t, std::set<session::SiteAddr>> named_;
	std::map<pid_t, uint64_t> lost_;
	uint64_t lost_ended_ = 0;
	std::set<pid_t> announced_;  // process record written
	struct Pending {
		std::vector<ReadingRecord> readings;
		std::vector<ModeChangeRecord> changes;  // in order with the readings: by time
	};
	std::map<pid_t, Pending> pending_;  // sampled-mode records before the process record
	void write_reading(const ReadingRecord &r);
	std::exception_ptr failure_;
};

} // namespace gort::record
