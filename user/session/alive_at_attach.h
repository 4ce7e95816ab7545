// The goroutines alive at the instant a process's probes start, exactly, per creation site: the
// protocol between the probes' phases (include/gort/bpf_shared.h gort_phase), what BPF notes in
// the baseline phase (bpf/goroutines.bpf.c) and one read of runtime.allgs.
//
//  1. Tracer::attach sets the probes one by one, idle (GORT_PHASE_ATTACHING): a goroutine that
//     passes goexit1 meanwhile is only noted, it ended before the start;
//  2. one map update starts them all at once (GORT_PHASE_BASELINE): they count, and note every g
//     given a new goroutine and every older goroutine that ends;
//  3. allgs is read, and the g's it caught mid-creation or mid-exit are re-read until they move on;
//  4. the baseline ends (GORT_PHASE_TRACING) and the records are reconciled: alive at attach =
//     (alive in allgs, not created since) + (older ones ended since) - (ones that ended just
//     before the start), each goroutine counted once by goid.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>

#include "user/gobinary/go_binary.h"
#include "user/probes/tracer.h"
#include "user/session/aggregator.h"

namespace gort::session {

class AliveAtAttach {
public:
	// Step 2, for a process whose probes Tracer::attach has just set.
	AliveAtAttach(probes::Tracer &tracer, pid_t pid);
	// The baseline records are deleted, whatever happened.
	~AliveAtAttach();
	AliveAtAttach(const AliveAtAttach &) = delete;
	AliveAtAttach &operator=(const AliveAtAttach &) = delete;

	// When the probes started, on the clock BPF stamps events with.
	uint64_t started_mono_ns() const { return started_mono_ns_; }
	// Steps 3 and 4: the goroutines alive at the start per site (runtime addresses, load bias
	// included). Throws what reading the process's memory throws (UserError).
	std::map<SiteAddr, uint64_t> reconcile(const gobinary::GoBinary &binary, uint64_t load_bias);

private:
	probes::Tracer &tracer_;
	pid_t pid_;
	uint64_t started_mono_ns_ = 0;
};

} // namespace gort::session
