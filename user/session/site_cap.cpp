#include "user/session/site_cap.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace gort::session {

std::vector<Site> sites__capped(const std::vector<Site> &sites, size_t max_sites)
{
	// Two sites can share every name (one go statement reached through two inlined call
	// paths): as series they would be one, so they are one here, at the first one's rank.
	using Names = std::tuple<std::string, std::string, std::string, bool>;
	std::map<Names, size_t> index;
	std::vector<Site> merged;
	for (const Site &s : sites) {
		auto [it, added] = index.emplace(Names{s.function, s.created_by, s.created_at, s.system}, merged.size());
		if (added) {
			merged.push_back(s);
			continue;
		}
		Site &m = merged[it->second];
		m.created += s.created;
		m.exited += s.exited;
		m.live += s.live;
	}
	if (merged.size() <= max_sites)
		return merged;
	Site other;
	other.function = kOtherSites;
	for (size_t i = max_sites; i < merged.size(); i++) {
		other.created += merged[i].created;
		other.exited += merged[i].exited;
		other.live += merged[i].live;
	}
	merged.resize(max_sites);
	merged.push_back(other);
	return merged;
}

} // namespace gort::session
