// A by-name index that holds no names: (hash of the name, index) pairs sorted by hash. The
// names stay where they are (the mapped pclntab, libelf's .strtab) and are read only to tell
// apart entries whose hashes are equal, so building it neither copies a large binary's ~10 MB
// of function names nor needs them resident while it sorts.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace gort::gobinary {

class NameIndex {
public:
	// Indexes every name name_of(0 .. n-1).
	template <typename NameOf>
	void build(size_t n, NameOf name_of)
	{
		entries_.clear();
		entries_.reserve(n);
		for (size_t i = 0; i < n; i++)
			entries_.emplace_back(std::hash<std::string_view>{}(name_of(i)), static_cast<uint32_t>(i));
		std::sort(entries_.begin(), entries_.end());
	}

	// visit(first, later) for every entry whose name an entry of a lower index has, with the
	// lowest such index.
	template <typename NameOf, typename Visit>
	void for_each_duplicate(NameOf name_of, Visit visit) const
	{
		for_each_group(name_of, [&](const std::vector<size_t> &group) {
			for (size_t k = 1; k < group.size(); k++)
				visit(entries_[group[0]].second, entries_[group[k]].second);
		});
	}

	// Keeps one entry per name: the first in index order for which second_choice(i) is false,
	// else the first.
	template <typename NameOf, typename SecondChoice>
	void dedupe(NameOf name_of, SecondChoice second_choice)
	{
		constexpr uint32_t dropped = UINT32_MAX;
		for_each_group(name_of, [&](const std::vector<size_t> &group) {
			uint32_t chosen = entries_[group[0]].second;
			for (size_t k = 1; k < group.size(); k++) {
				uint32_t other = entries_[group[k]].second;
				if (second_choice(chosen) && !second_choice(other))
					chosen = other;
				entries_[group[k]].second = dropped;
			}
			entries_[group[0]].second = chosen;
		});
		std::erase_if(entries_, [](const auto &e) { return e.second == dropped; });
		entries_.shrink_to_fit();
	}

	template <typename NameOf>
	std::optional<uint32_t> find(std::string_view name, NameOf name_of) const
	{
		uint64_t h = std::hash<std::string_view>{}(name);
		auto it = std::lower_bound(entries_.begin(), entries_.end(), std::pair<uint64_t, uint32_t>{h, 0});
		for (; it != entries_.end() && it->first == h; ++it)
			if (name_of(it->second) == name)
				return it->second;
		return std::nullopt;
	}

private:
	// group(positions in entries_, in index order) for each name held by two entries or more.
	// Only entries of one hash are compared: usually one name with its ABI wrappers.
	template <typename NameOf, typename Group>
	void for_each_group(NameOf name_of, Group group) const
	{
		std::vector<size_t> run, same;
		for (size_t lo = 0; lo < entries_.size();) {
			size_t hi = lo + 1;
			while (hi < entries_.size() && entries_[hi].first == entries_[lo].first)
				hi++;
			if (hi - lo > 1) {
				run.clear();
				for (size_t i = lo; i < hi; i++)
					run.push_back(i);
				while (!run.empty()) {
					std::string_view name = name_of(entries_[run[0]].second);
					same.clear();
					std::erase_if(run, [&](size_t p) {
						bool eq = name_of(entries_[p].second) == name;
						if (eq)
							same.push_back(p);
						return eq;
					});
					if (same.size() > 1)
						group(same);
				}
			}
			lo = hi;
		}
	}

	std::vector<std::pair<uint64_t, uint32_t>> entries_;
};

} // namespace gort::gobinary
