// The pclntab reader against .symtab, on the same program built plain, stripped (-s -w), PIE and
// cgo (externally linked) by every toolchain: stripped binaries are read from it alone.
#include <gtest/gtest.h>


#include <map>

#include "support/workloads.h"
#include "support/params.h"
#include "user/gobinary/disasm.h"
#include "user/gobinary/go_binary.h"
#include "user/gobinary/pclntab.h"

using gort::gobinary::GoBinary;
using gort::testing::GoToolchain;
namespace gobinary = gort::gobinary;

namespace {

class PclntabTest : public ::testing::TestWithParam<GoToolchain> {};

// Every .symtab function that Go compiled is in the pclntab at the same address.
void expect_matches_symtab(const GoBinary &bin)
{
	const gobinary::Pclntab *tab = bin.pclntab();
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
	EXPECT_EQ(tab->magic, bin.build_info().version.at_least(1, 20) ? gobinary::PCLNTAB_MAGIC_GO120 : gobinary::PCLNTAB_MAGIC_GO118);
	EXPECT_EQ(tab->text_start, bin.symbol("runtime.text").value_or(0));
	// What `gort goroutines` unwinds with: nothing is pushed at a function's entry, and the
	// stack ends at runtime.goexit, the one function marked FuncFlagTopFrame that every
	// goroutine returns to.
	size_t with_frame = 0;
	for (const auto &f : tab->functions) {
		if (f.name == "runtime.goexit")
			EXPECT_TRUE(f.flag & gobinary::FUNC_FLAG_TOP_FRAME);
		if (f.name.starts_with("main.") && f.end > f.entry + 16) {
			EXPECT_EQ(gobinary::pclntab__spdelta(*tab, f, f.entry), 0) << f.name;
			with_frame += gobinary::pclntab__spdelta(*tab, f, f.entry + (f.end - f.entry) / 2).value_or(0) > 0;
		}
	}
	EXPECT_GT(with_frame, 0u);
}

} // namespace

TEST_P(PclntabTest, PlainPieAndCgoAgreeWithSymtab)
{
	expect_matches_symtab(*GoBinary::open(gort::testing::workload(GetParam(), "target_fixture")));
	expect_matches_symtab(*GoBinary::open(gort::testing::workload(GetParam(), "target_fixture", "pie")));
	if (gort::testing::workload_built(GetParam(), "target_cgo")) {
		expect_matches_symtab(*GoBinary::open(gort::testing::workload(GetParam(), "target_cgo")));
		expect_matches_symtab(*GoBinary::open(gort::testing::workload(GetParam(), "target_cgo", "pie")));
	}
}

// A stripped binary's functions are the pclntab's, at the addresses the unstripped build has.
TEST_P(PclntabTest, StrippedFunctionsEqualUnstripped)
{
	for (std::string mode : {"", "pie"}) {
		auto plain = GoBinary::open(gort::testing::workload(GetParam(), "target_fixture", mode));
		auto stripped = GoBinary::open(gort::testing::workload(GetParam(), "target_fixture", mode.empty() ? "stripped" : mode + "-stripped"));
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

// Without DWARF, locate() reads file:line from the pclntab as runtime.funcline1 does; it must
// give what the unstripped build's DWARF line table gives at the first and the last byte (the
// pc-1 of a return address, for a call) of every instruction of every function. Except at NOPs:
// the padding the assembler inserts to align loop heads (PCALIGN, Go 1.21+) has a pcln entry of
// its own (the loop's line, as `go tool addr2line` says) but no row in DWARF, which extends the
// instruction before it.
TEST_P(PclntabTest, StrippedLocateEqualsDwarf)
{
	std::vector<std::pair<std::string, std::string>> builds = {{"target_fixture", ""}, {"target_fixture", "pie"}};
	// Externally linked: the system linker writes the ELF (and with -s strips it itself).
	if (gort::testing::workload_built(GetParam(), "target_cgo"))
		builds.push_back({"target_cgo", ""});
	for (auto [program, mode] : builds) {
		SCOPED_TRACE(program + (mode.empty() ? "" : " " + mode));
		auto plain = GoBinary::open(gort::testing::workload(GetParam(), program, mode));
		auto stripped = GoBinary::open(gort::testing::workload(GetParam(), program, mode.empty() ? "stripped" : mode + "-stripped"));
		ASSERT_TRUE(plain->build_info().has_dwarf);
		ASSERT_FALSE(stripped->build_info().has_dwarf);
		size_t checked = 0, mismatches = 0;
		for (const auto &f : plain->functions()) {
			// -s -w drops only sections that are not loaded: text addresses stay the same.
			// (.symtab names ABI0 wrappers "x.abi0"; the pclntab names them "x".)
			const gobinary::Function *sf = stripped->function_at(f.addr);
			const std::string_view name = f.name.ends_with(".abi0") ? f.name.substr(0, f.name.size() - 5) : f.name;
			// Skipped: C code of cgo binaries; type:.eq.* (named differently, see above); the
			// linker's markers (go:textfipsstart, 1.24+), which have no pcfile or pcln table.
			if (!sf || !gobinary::pclntab__function_at(*plain->pclntab(), f.addr) || f.name.starts_with("type") ||
			    f.name.starts_with("go:"))
				continue;
			ASSERT_EQ(sf->addr, f.addr) << f.name;
			ASSERT_EQ(sf->name, name);
			auto code = plain->read(f.addr, f.size);
			ASSERT_TRUE(code) << f.name;
			gobinary::Decoded d = gobinary::disasm__code(code->data(), code->size(), f.addr);
			for (size_t i = 0; i < d.size() && mismatches < 10; i++) {
				if (d[i].id == X86_INS_NOP)
					continue;
				for (uint64_t pc : {d[i].address, d[i].address + d[i].size - 1}) {
					auto want = plain->locate(pc), got = stripped->locate(pc);
					// From Go 1.22 DWARF has no lines for the wrappers the compiler generates
					// (e.g. (*T).M for a value method); the pclntab says what tracebacks print.
					if (want.file.empty())
						want = {want.function, "<autogenerated>", 1};
					// Files the compiler names relatively (cgo's _cgo_gotypes.go) come out of
					// libdw joined to the CU's comp_dir "."; the pclntab has the bare name.
					if (want.file.starts_with("./"))
						want.file.erase(0, 2);
					EXPECT_EQ(got.file, want.file) << f.name << "+" << pc - f.addr;
					EXPECT_EQ(got.line, want.line) << f.name << "+" << pc - f.addr;
					mismatches += got.file != want.file || got.line != want.line;
					checked++;
				}
			}
		}
		EXPECT_GT(checked, 50000u);
		if (program != "target_fixture")
			continue;
		// The goroutines' function: a known line of the fixture, from the table alone.
		auto leak = stripped->function("main.leak");
		ASSERT_TRUE(leak);
		auto at = stripped->locate(leak->addr);
		EXPECT_TRUE(at.file.ends_with("tests/workloads/target_fixture/main.go")) << at.file;
		EXPECT_EQ(at.line, 20);
	}
}

INSTANTIATE_TEST_SUITE_P(AllToolchains, PclntabTest, ::testing::ValuesIn(gort::testing::go_toolchains()), gort::testing::toolchain_name);
