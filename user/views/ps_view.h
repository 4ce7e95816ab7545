// `gort ps` as JSON (an array, one object per Go process) or as a table.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "user/session/discovery.h"

namespace gort::views {

// What one goroutine-probe trap costs a target on this machine (probes/calibrate.h), shown by
// -v: the figure auto mode's budget multiplies the trap rate by. ns 0: not measured, and why.
struct TrapCost {
	double ns = 0;
	std::string not_measured;
};

std::string ps__json(const std::vector<session::GoProcessReport> &procs, bool verbose, const TrapCost &trap = {});
std::string ps__text(const std::vector<session::GoProcessReport> &procs, bool verbose, const TrapCost &trap = {});

} // namespace gort::views
