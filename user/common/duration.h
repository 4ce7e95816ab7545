// Durations as users type them: "500ms", "1s", "1.5s", "2m", "1h", "250us"/"250µs", "100ns".
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace gort {

// nullopt for anything malformed, negative, or without a unit.
std::optional<std::chrono::nanoseconds> duration__parse(std::string_view text);

} // namespace gort
