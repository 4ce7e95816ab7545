// Goroutines of one dump folded into groups: by identical stack (`gort goroutines --group`, what
// pprof's debug=1 does), or, for leak hunting, waiting goroutines in the same wait at the same
// stack, and how such a group changed between two dumps of the same process.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "user/goprocess/goroutine_stacks.h"

namespace gort::goprocess {

struct GoroutineGroup {
	std::string key;             // wait + stack pcs: equal keys are the same group in two dumps
	std::vector<size_t> members; // indexes into GoroutineDump::goroutines, goid order
	std::string status;          // the header status all members share ("chan receive")
	size_t leaked = 0;           // members the runtime itself marked _Gleaked (Go 1.26+)
	int64_t oldest_wait_ns = -1; // largest wait_ns; -1 if no member has a waitsince yet
	std::optional<size_t> before; // the group's size in the earlier dump (0: it is new)
};

// Every goroutine with a stack, folded by status and identical stack; runtime goroutines only if
// `with_system`. Largest group first.
std::vector<GoroutineGroup> goroutine_groups__by_stack(const GoroutineDump &d, bool with_system);

// Waiting goroutines (status waiting or leaked, stack read) in groups of at least `min_count`,
// folded by wait reason and stack. Largest group first.
std::vector<GoroutineGroup> goroutine_groups__waiting(const GoroutineDump &d, size_t min_count, bool with_system);

// Sets `before` of every group in `now` from the groups of an earlier dump (all of them, not only
// those that met min_count then: pass the earlier dump's groups with min_count 1).
void goroutine_groups__compare(std::vector<GoroutineGroup> &now, const std::vector<GoroutineGroup> &earlier);

} // namespace gort::goprocess
