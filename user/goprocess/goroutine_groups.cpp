#include "user/goprocess/goroutine_groups.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

namespace gort::goprocess {

namespace {

// The physical pcs identify a stack (inlined frames share their physical frame's pc).
std::string stack_key(const GoroutineInfo &g, bool with_status)
{
	std::string key = with_status ? g.status : std::string();
	key += '|';
	for (const auto &f : g.frames())
		if (!f.inlined)
			key += fmt::format("{:x},", f.pc);
	return key;
}

std::vector<GoroutineGroup> fold(const GoroutineDump &d, bool with_system, bool waiting_only, size_t min_count)
{
	std::unordered_map<std::string, size_t> at;
	std::vector<GoroutineGroup> groups;
	for (size_t i = 0; i < d.goroutines.size(); i++) {
		const GoroutineInfo &g = d.goroutines[i];
		if ((g.system && !with_system) || g.state == StackState::changed)
			continue;
		if (waiting_only && (!g.waiting || g.state != StackState::ok))
			continue;
		std::string key = stack_key(g, true);
		auto [it, fresh] = at.try_emplace(key, groups.size());
		if (fresh) {
			groups.emplace_back();
			groups.back().key = key;
			groups.back().status = g.status;
		}
		GoroutineGroup &grp = groups[it->second];
		grp.members.push_back(i);
		grp.leaked += g.leaked;
		grp.oldest_wait_ns = std::max(grp.oldest_wait_ns, g.wait_ns);
	}
	std::erase_if(groups, [&](const GoroutineGroup &g) { return g.members.size() < min_count; });
	std::stable_sort(groups.begin(), groups.end(),
			 [](const GoroutineGroup &a, const GoroutineGroup &b) { return a.members.size() > b.members.size(); });
	for (auto &g : groups)
		std::sort(g.members.begin(), g.members.end(), [&](size_t a, size_t b) {
			return d.goroutines[a].rec.goid < d.goroutines[b].rec.goid;
		});
	return groups;
}

} // namespace

std::vector<GoroutineGroup> goroutine_groups__by_stack(const GoroutineDump &d, bool with_system)
{
	return fold(d, with_system, false, 1);
}

std::vector<GoroutineGroup> goroutine_groups__waiting(const GoroutineDump &d, size_t min_count, bool with_system)
{
	return fold(d, with_system, true, min_count);
}

void goroutine_groups__compare(std::vector<GoroutineGroup> &now, const std::vector<GoroutineGroup> &earlier)
{
	std::map<std::string, size_t> sizes;
	for (const auto &g : earlier)
		sizes[g.key] = g.members.size();
	for (auto &g : now) {
		auto it = sizes.find(g.key);
		g.before = it == sizes.end() ? 0 : it->second;
	}
}

} // namespace gort::goprocess
