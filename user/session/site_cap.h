// A bounded list of creation sites for exporters whose every distinct site becomes a time series
// (Prometheus): the first N sites in the model's order (user sites by live, then system ones),
// sites with the same names merged, and the rest summed into one "other" site.
#pragma once

#include <cstddef>
#include <vector>

#include "user/session/model.h"

namespace gort::session {

inline constexpr const char *kOtherSites = "other";

// At most max_sites + 1 entries; the last is the sum of the rest (function kOtherSites), present
// only when something was left out.
std::vector<Site> sites__capped(const std::vector<Site> &sites, size_t max_sites);

} // namespace gort::session
