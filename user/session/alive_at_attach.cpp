#include "user/session/alive_at_attach.h"

#include <chrono>
#include <set>
#include <vector>

#include "user/contracts/contracts.h"
#include "user/goprocess/goroutine_snapshot.h"
#include "user/goprocess/process.h"

namespace gort::session {

namespace {
// How long step 3 waits for goroutines allgs caught mid-creation or mid-exit to move on
// (goroutine_snapshot__settle): milliseconds at most, unless one runs without pause.
constexpr std::chrono::milliseconds kSettleLimit{250};
} // namespace

AliveAtAttach::AliveAtAttach(probes::Tracer &tracer, pid_t pid) : tracer_(tracer), pid_(pid)
{
	tracer_.set_phase(pid_, GORT_PHASE_BASELINE);
	started_mono_ns_ = clock__now().mono_ns;
}

AliveAtAttach::~AliveAtAttach()
{
	tracer_.clear_baseline(pid_);
}

std::map<SiteAddr, uint64_t> AliveAtAttach::reconcile(const gobinary::GoBinary &binary, uint64_t load_bias)
{
	goprocess::ProcessMemory mem(pid_);
	std::vector<goprocess::GoroutineRecord> records = goprocess::goroutine_snapshot__read(binary, mem, load_bias);
	// Nothing signals a g's status change, so settling re-reads allgs's g's (the target's own
	// memory) until each has moved on, a bounded wait on the target's own progress.
	goprocess::goroutine_snapshot__settle(binary, mem, load_bias, records,
					      [&] { return tracer_.baseline(pid_).created; }, kSettleLimit);
	// No pause on either side of the phase change. A uprobe's program runs to completion on the
	// probed thread before the instruction it sits on executes, so every g settling saw move on
	// has its record already: a new goroutine runs only after runqput, which follows the
	// creation probe in newproc.func1; an ending one is marked _Gdead by gdestroy, after
	// goexit1's probe. A program still running when the phase changes belongs to a goroutine the
	// read saw alive: it is counted from allgs, by goid, whether its record lands or not.
	tracer_.set_phase(pid_, GORT_PHASE_TRACING);
	probes::BaselineRecords baseline = tracer_.baseline(pid_);

	std::map<SiteAddr, uint64_t> alive;
	// Goroutines that ended just before the probes started are not alive at attach, whatever
	// allgs still said about their g.
	std::set<uint64_t> seen = std::move(baseline.exited_before_attach);
	for (const auto &g : records) {
		if (!goprocess::goroutine__alive(g) || baseline.created.count(g.g) || !seen.insert(g.goid).second)
			continue;
		alive[{g.startpc + load_bias, g.gopc + load_bias}]++;
	}
	for (const auto &[goid, site] : baseline.exited)
		if (seen.insert(goid).second)
			alive[{site.startpc, site.gopc}]++;
	return alive;
}

} // namespace gort::session
