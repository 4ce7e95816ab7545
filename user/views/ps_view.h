// `gort ps` as JSON (an array, one object per Go process) or as a table.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "user/session/discovery.h"

namespace gort::views {

std::string ps__json(const std::vector<session::GoProcessReport> &procs, bool verbose);
std::string ps__text(const std::vector<session::GoProcessReport> &procs, bool verbose);

} // namespace gort::views
