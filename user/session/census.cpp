#include "user/session/census.h"

#include <chrono>

#include "user/common/error.h"
#include "user/gobinary/runtime_globals.h"

namespace gort::session {

namespace {

// The census may take this many times its own duration between two reads (2% of a CPU).
constexpr uint64_t kCostFactor = 50;

} // namespace

void Census::add(pid_t pid, std::shared_ptr<const gobinary::GoBinary> bin, uint64_t load_bias)
{
	try {
		Entry e;
		e.reasons = gobinary::runtime_globals__wait_reason_strings(*bin);
		if (e.reasons.size() < 3)
			return;
		e.mem = std::make_unique<goprocess::ProcessMemory>(pid);
		e.reader = std::make_unique<goprocess::GoroutineReader>(*bin, *e.mem, load_bias);
		e.bin = std::move(bin);
		e.bias = load_bias;
		procs_[pid] = std::move(e);
	} catch (const UserError &) {
		// No census for this process: top shows its sites without waits.
	}
}

void Census::take(Aggregator &agg, uint64_t mono_ns)
{
	for (auto &[pid, e] : procs_) {
		if (mono_ns < e.next_ns)
			continue;
		auto t0 = std::chrono::steady_clock::now();
		std::vector<goprocess::GoroutineRecord> recs;
		try {
			recs = e.reader->read_all();
		} catch (const UserError &) {
			continue;  // it is ending: the session notices and freezes it
		}
		std::vector<CensusGoroutine> gs;
		gs.reserve(recs.size());
		for (const auto &r : recs) {
			if (!goprocess::goroutine__alive(r))
				continue;
			CensusGoroutine g;
			g.site = {r.startpc + e.bias, r.gopc + e.bias};
			bool waiting = r.status == goprocess::G_WAITING || r.status == goprocess::G_LEAKED;
			if (waiting && r.waitreason != 0 && r.waitreason < e.reasons.size())
				g.state = e.reasons[r.waitreason];
			else
				g.state = goprocess::goroutine__status_name(r.status);
			g.waitsince = waiting ? r.waitsince : 0;
			gs.push_back(std::move(g));
		}
		agg.set_census(pid, gs, mono_ns);
		auto cost = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
		e.next_ns = mono_ns + kCostFactor * static_cast<uint64_t>(cost);
	}
}

} // namespace gort::session
