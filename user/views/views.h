// Views of the model: each renders a Snapshot, none computes a figure.
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "user/session/model.h"

namespace gort::views {

// The JSON object of one snapshot (the schema of `top --json` and `report --json`).
nlohmann::json json__snapshot(const session::Snapshot &snap);
// One line of NDJSON.
void json__write_line(std::ostream &out, const session::Snapshot &snap);

// Plain text (not a terminal): a block of lines per process per interval.
void text__write(std::ostream &out, const session::Snapshot &snap);

// The live terminal view, as the full screen contents for a terminal of `width` x `height`,
// with ANSI colours (anything over 10 ms stands out); the caller clears and redraws.
std::string tui__render(const session::Snapshot &snap, int width, int height);

// Helpers shared by the views.
std::string format__duration_ns(uint64_t ns);  // "850ns", "12.3µs", "4.56ms", "1.20s"
std::string format__sparkline(const std::vector<int64_t> &values, size_t width);

} // namespace gort::views
