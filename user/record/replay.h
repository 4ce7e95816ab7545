// A recording as a source for the one aggregator: the file's names stand in for the binary
// (ReplaySymbols), its latest counter records for the BPF maps (ReplayCounters), and its ring-buffer
// records are fed in file order. `top --json` and `record` + `report --json` therefore compute
// every figure with the same code from the same facts.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "user/contracts/contracts.h"
#include "user/record/reader.h"
#include "user/session/aggregator.h"

namespace gort::record {

// Names a recording stored for one process.
class ReplaySymbols : public ProcessSymbols {
public:
	explicit ReplaySymbols(std::vector<std::string> stw_reasons) : stw_reasons_(std::move(stw_reasons)) {}
	// A site the file does not name (its record was in a lost tail) shows its address, as a
	// binary without symbols for it would.
	SiteNames site(uint64_t startpc, uint64_t gopc) const override;
	std::string stw_reason(uint32_t reason) const override;
	void add(const SiteNamesRecord &s);

private:
	std::map<session::SiteAddr, SiteNames> sites_;
	std::vector<std::string> stw_reasons_;
};

// The latest counter record of each process.
class ReplayCounters : public CounterSource {
public:
	gort_proc_stats stats(pid_t pid) const override;
	std::vector<std::pair<gort_site_key, gort_site_stats>> sites(pid_t pid) const override;
	std::vector<std::pair<gort_syscall_key, gort_syscall_stats>> syscalls(pid_t pid) const override;
	ProcessGauges gauges(pid_t pid) const override;
	void set(const CountersRecord &c) { latest_[static_cast<pid_t>(c.pid)] = c; }

private:
	std::map<pid_t, CountersRecord> latest_;
};

// The live session's ticks are the file's tick records: the replay takes each as a TickSink.
class Replay : public RecordVisitor, public TickSink {
public:
	void on_header(const FileHeader &h) override;
	void on_process(const ProcessRecord &p) override;
	void on_site_names(const SiteNamesRecord &s) override;
	void on_event(const gort_event_header &hdr, std::span<const uint8_t> raw) override;
	void on_counters(const CountersRecord &c) override;
	void on_tick(const TimeRecord &t) override;
	void on_tick(Clock now) override;
	void on_exit(const ExitRecord &x) override;
	void on_end(const TimeRecord &t) override;
	void on_reading(const ReadingRecord &r) override;
	void on_mode_change(const ModeChangeRecord &m) override;

	// The model at the last moment the file holds (its end record, else its last time stamp).
	session::Snapshot snapshot();
	const FileHeader &header() const { return header_; }
	Clock clock() const { return clock_; }
	// The names of a process the file has introduced; nullptr before its process record.
	const ReplaySymbols *symbols(pid_t pid) const;
	// The processes whose counters the last tick took (those with a counters record since the
	// tick before), and a process's live goroutines now (its last figure once it exited).
	const std::vector<pid_t> &ticked() const { return ticked_; }
	std::optional<int64_t> live_goroutines(pid_t pid) const;

private:
	void advance(const TimeRecord &t);

	FileHeader header_;
	std::optional<session::Aggregator> aggregator_;
	ReplayCounters counters_;
	std::map<pid_t, std::shared_ptr<ReplaySymbols>> symbols_;
	Clock clock_;
	std::set<pid_t> counted_;  // counters records since the last tick
	std::vector<pid_t> ticked_;
};

// Reads the file into a Replay and returns its final model; warnings (a damaged tail) are added
// to `warnings`. Throws UserError(bad_file).
session::Snapshot recording__report(const std::string &path, std::vector<std::string> &warnings);

} // namespace gort::record
