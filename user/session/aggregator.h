// The one aggregator: folds what the BPF maps count and what the ring buffer reports into the
// model (user/session/model.h). Every figure any view shows is computed here and nowhere else.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gort/bpf_shared.h"
#include "user/probes/tracer.h"
#include "user/session/model.h"
#include "user/target/go_binary.h"
#include "user/target/process.h"
#include "user/target/runtime_layout.h"

namespace gort::session {

// Runtime addresses (as the probes see them) of a creation site.
struct SiteAddr {
	uint64_t startpc = 0, gopc = 0;
	auto operator<=>(const SiteAddr &) const = default;
};

// What the aggregator needs to know about one traced process.
struct TracedProcess {
	target::ProcessInfo info;
	std::shared_ptr<const target::GoBinary> binary;
	target::RuntimeLayout layout;
	uint64_t load_bias = 0;
	std::map<SiteAddr, uint64_t> alive_at_attach;  // goroutines alive at attach, per site
	std::chrono::steady_clock::time_point attached_at;
};

class Aggregator : public probes::EventSink {
public:
	explicit Aggregator(uint64_t slow_syscall_ns) : slow_syscall_ns_(slow_syscall_ns) {}

	void add_process(TracedProcess proc);
	void on_event(const gort_event_header &hdr, const void *data, size_t size) override;

	// Reads the counters of every live process from the tracer and builds the model.
	Snapshot snapshot(const probes::Tracer &tracer);
	// Takes the process's last figures from the tracer and keeps them: it ended.
	void freeze(pid_t pid, const probes::Tracer &tracer);
	bool has_live_processes() const;
	std::vector<pid_t> live_pids() const;

private:
	struct SiteNames {
		std::string function, created_by, created_at;
		bool system = false;
	};
	struct ProcessState {
		TracedProcess proc;
		std::map<SiteAddr, SiteNames> names;  // symbolised once per site
		std::map<std::string, std::vector<uint64_t>> stw_by_reason;  // every pause's duration
		std::vector<uint64_t> stw_gc, stw_other;
		std::map<uint32_t, std::map<std::string, uint64_t>> syscall_functions;  // nr -> function -> n
		std::vector<int64_t> live_history;
		uint64_t last_created = 0, last_exited = 0;
		std::chrono::steady_clock::time_point last_at;
		bool frozen = false;
		ProcessSnapshot last;
	};

	ProcessSnapshot build(ProcessState &st, const probes::Tracer &tracer);
	const SiteNames &site_names(ProcessState &st, const SiteAddr &addr);

	uint64_t slow_syscall_ns_;
	std::map<pid_t, ProcessState> procs_;
};

// Exact nearest-rank percentile (q in (0,1]) of the values; 0 if empty. Sorts in place.
uint64_t percentile(std::vector<uint64_t> &values, double q);
PauseStats pause_stats(std::vector<uint64_t> values);
// "read", "nanosleep", ... for x86-64 syscall numbers.
std::string syscall_name(uint32_t nr);

} // namespace gort::session
