// NameIndex: the by-name lookup of functions and symbols that keeps hashes, not names.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "user/gobinary/name_index.h"

using gort::gobinary::NameIndex;

namespace {

struct Sym {
	std::string name;
	bool wrapper;
};

} // namespace

// A name held by an ABI wrapper and its function resolves to the function whichever comes first
// (the pclntab lists them by address); a name held only by wrappers resolves to the first; every
// later holder of a name is reported once against the first.
TEST(NameIndex, PrefersTheFunctionOverItsWrapperAndReportsDuplicates)
{
	std::vector<Sym> syms = {{"main.f", true},  {"runtime.goexit1", false}, {"main.f", false}, {"main.g", false},
				 {"x.w", true},     {"x.w", true},              {"main.f", true},  {"runtime.goexit1", true}};
	auto name_of = [&](uint32_t i) { return std::string_view(syms[i].name); };
	NameIndex index;
	index.build(syms.size(), name_of);
	std::vector<std::pair<uint32_t, uint32_t>> dups;
	index.for_each_duplicate(name_of, [&](uint32_t first, uint32_t later) { dups.emplace_back(first, later); });
	std::sort(dups.begin(), dups.end());
	EXPECT_EQ(dups, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 2}, {0, 6}, {1, 7}, {4, 5}}));

	index.dedupe(name_of, [&](uint32_t i) { return syms[i].wrapper; });
	EXPECT_EQ(index.find("main.f", name_of), 2u);
	EXPECT_EQ(index.find("runtime.goexit1", name_of), 1u);
	EXPECT_EQ(index.find("main.g", name_of), 3u);
	EXPECT_EQ(index.find("x.w", name_of), 4u);
	EXPECT_FALSE(index.find("main.h", name_of));
	EXPECT_FALSE(index.find("", name_of));
}
