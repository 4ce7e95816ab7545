// The goroutine census of `top`: a periodic read of each traced process's runtime.allgs (no
// probes, no stop) that tells the aggregator what every site's live goroutines are doing —
// "498 chan receive, oldest 14m". Its period adapts so that it costs at most ~2% of a CPU
// (100k goroutines take ~0.1 s to read: then once every ~5 s, not every interval).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "user/session/aggregator.h"
#include "user/gobinary/go_binary.h"
#include "user/goprocess/goroutine_snapshot.h"
#include "user/goprocess/process.h"

namespace gort::session {

class Census {
public:
	// Starts taking censuses of `pid`; silently none if its layout cannot tell waits apart.
	void add(pid_t pid, std::shared_ptr<const gobinary::GoBinary> bin, uint64_t load_bias);
	void remove(pid_t pid) { procs_.erase(pid); }
	// Reads every process whose census is due and hands it to the aggregator.
	void take(Aggregator &agg, uint64_t mono_ns);

private:
	struct Entry {
		std::shared_ptr<const gobinary::GoBinary> bin;
		std::unique_ptr<goprocess::ProcessMemory> mem;
		std::unique_ptr<goprocess::GoroutineReader> reader;
		std::vector<std::string> reasons;  // runtime.waitReasonStrings
		uint64_t bias = 0;
		uint64_t next_ns = 0;
	};
	std::map<pid_t, Entry> procs_;
};

} // namespace gort::session
