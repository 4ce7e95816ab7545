// `gort goroutines` output: the runtime's own goroutine dump format (runtime.Stack, pprof
// debug=2), a pprof debug=1-like fold, leak groups, and JSON. Renders; computes nothing.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "user/goprocess/goroutine_groups.h"
#include "user/goprocess/goroutine_stacks.h"

namespace gort::views {

// `runtime` also prints the runtime's own goroutines and frames (what GOTRACEBACK=system adds).
void goroutine_dump__text(std::ostream &out, const goprocess::GoroutineDump &d, bool runtime);
void goroutine_dump__groups(std::ostream &out, const goprocess::GoroutineDump &d,
			    const std::vector<goprocess::GoroutineGroup> &groups, bool runtime);
// `watched`: the groups carry `before` (a second dump was taken `watch_ns` later).
void goroutine_dump__leaks(std::ostream &out, const goprocess::GoroutineDump &d,
			   const std::vector<goprocess::GoroutineGroup> &groups, int64_t watch_ns);
// One JSON object and a newline: {"pid", "go_version", "changed", "goroutines": [...]}.
void goroutine_dump__json(std::ostream &out, const goprocess::GoroutineDump &d, bool runtime);
nlohmann::json goroutine_dump__leaks_json(const goprocess::GoroutineDump &d, const std::vector<goprocess::GoroutineGroup> &groups,
					  int64_t watch_ns);

// "12 minutes" style age of a wait for humans: "14m", "2h03m", "38s".
std::string format__wait_age(int64_t ns);

} // namespace gort::views
