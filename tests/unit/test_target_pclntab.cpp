// The pclntab reader against .symtab, on the same program built plain, stripped (-s -w), PIE and
// cgo (externally linked) by every toolchain: stripped binaries are read from it alone.
#include <gtest/gtest.h>

#include <map>

#include "support/go_build.h"
#include "user/target/go_binary.h"
#include "user/target/pclntab.h"

using gort::target::GoBinary;
using gort::testing::GoToolchain;
namespace t = gort::target;

namespace {

std::string tc_name(const ::testing::TestParamInfo<GoToolchain> &info)
{
	std::string s = "go" + info.param.version;
	for (char &c : s)
		if (c == '.')
			c = '_';
	return s;
}

class PclntabTest : public ::testing::TestWithParam<GoToolchain> {};

// Every .symtab function that Go compiled is in the pclntab at the same address.
void expect_matches_symtab(const GoBinary &bin)
{
	const t::Pclntab *tab = bin.pclntab();
	ASSERT_NE(tab, nullptr) << bin.path();
	std::map<uint64_t, std::string> by_addr;
	for (const auto &f : tab->functions)
		by_addr.emplace(f.entry, f.name);
	size_t checked = 0;
	for (const char *name : {"runtime.goexit1", "runtime.newproc1", "runtime.newproc.func1", "runtime.gcStart",
				 "runtime.startTheWorldWithSema", "runtime.stopTheWorldWithSema", "main.main"}) {
		auto f = bin.function(name);
		ASSERT_TRUE(f) << name;
		EXPECT_EQ(by_addr[f->addr], name) << bin.path();
		checked++;
	}
	for (const auto &f : bin.functions()) {
		auto it = by_addr.find(f.addr);
		// C functions of cgo binaries are not Go's; the linker's type:.eq.* helpers are
		// named differently in the two tables ("[...]" vs "[5]").
		if (it == by_addr.end() || f.name.starts_with("type"))
			continue;
		EXPECT_EQ(it->second, f.name.ends_with(".abi0") ? f.name.substr(0, f.name.size() - 5) : f.name);
		checked++;
	}
	EXPECT_GT(checked, 1000u);
	EXPECT_NE(tab->wrapper_func_id, 0);
	EXPECT_EQ(tab->magic, bin.build_info().version.at_least(1, 20) ? t::PCLNTAB_MAGIC_GO120 : t::PCLNTAB_MAGIC_GO118);
	EXPECT_EQ(tab->text_start, bin.symbol("runtime.text").value_or(0));
}

} // namespace

TEST_P(PclntabTest, PlainPieAndCgoAgreeWithSymtab)
{
	expect_matches_symtab(*GoBinary::open(gort::testing::go_build(GetParam(), "target_fixture")));
	expect_matches_symtab(*GoBinary::open(gort::testing::go_build(GetParam(), "target_fixture", {"-buildmode=pie"})));
	if (system("command -v gcc >/dev/null 2>&1") == 0) {
		expect_matches_symtab(*GoBinary::open(gort::testing::go_build(GetParam(), "target_cgo")));
		expect_matches_symtab(*GoBinary::open(gort::testing::go_build(GetParam(), "target_cgo", {"-buildmode=pie"})));
	}
}

// A stripped binary's functions are the pclntab's, at the addresses the unstripped build has.
TEST_P(PclntabTest, StrippedFunctionsEqualUnstripped)
{
	for (std::vector<std::string> mode : {std::vector<std::string>{}, {"-buildmode=pie"}}) {
		auto plain = GoBinary::open(gort::testing::go_build(GetParam(), "target_fixture", mode));
		mode.push_back("-ldflags=-s -w");
		auto stripped = GoBinary::open(gort::testing::go_build(GetParam(), "target_fixture", mode));
		ASSERT_TRUE(stripped->build_info().stripped);
		ASSERT_FALSE(stripped->functions().empty());
		for (const char *name : {"runtime.goexit1", "runtime.newproc.func1", "runtime.runqput", "runtime.gcMarkTermination",
					 "runtime.startTheWorldWithSema", "runtime.stopTheWorldWithSema", "main.leak", "runtime.main"}) {
			auto a = plain->function(name), b = stripped->function(name);
			ASSERT_TRUE(a && b) << name;
			EXPECT_EQ(a->addr, b->addr) << name;
		}
		auto g = stripped->function("runtime.goexit1");
		EXPECT_EQ(stripped->function_at(g->addr + 1)->name, "runtime.goexit1");
		EXPECT_FALSE(stripped->is_wrapper(g->addr));
	}
}

INSTANTIATE_TEST_SUITE_P(AllToolchains, PclntabTest, ::testing::ValuesIn(gort::testing::go_toolchains()), tc_name);
