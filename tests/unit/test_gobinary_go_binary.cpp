// GoBinary against the fixture built by every installed Go toolchain: build info, DWARF
// offsets (notes §9), symbols, source locations and `go` wrapper resolution.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <cstdio>
#include <fstream>
#include <string>

#include "support/workloads.h"
#include "support/params.h"
#include "user/common/error.h"
#include "user/gobinary/go_binary.h"

using gort::ExitCode;
using gort::UserError;
using gort::gobinary::GoBinary;
using gort::testing::GoToolchain;

namespace {

std::string go_version_of(const GoToolchain &tc)
{
	// "go version go1.27.3 linux/amd64" -> "go1.27.3"
	std::string out;
	FILE *p = popen(("GOTOOLCHAIN=local '" + tc.go + "' version").c_str(), "r");
	char buf[256];
	while (p && fgets(buf, sizeof buf, p))
		out += buf;
	if (p)
		pclose(p);
	size_t a = out.find("go1");
	return a == std::string::npos ? out : out.substr(a, out.find(' ', a) - a);
}

class GoBinaryTest : public ::testing::TestWithParam<GoToolchain> {
protected:
	void SetUp() override { bin = GoBinary::open(gort::testing::workload(GetParam(), "target_fixture")); }
	std::unique_ptr<GoBinary> bin;
};

} // namespace

TEST_P(GoBinaryTest, BuildInfoMatchesGoVersion)
{
	const auto &bi = bin->build_info();
	EXPECT_EQ(bi.version.raw, go_version_of(GetParam()));
	EXPECT_EQ(bi.version.major, 1);
	EXPECT_EQ(std::to_string(bi.version.major) + "." + std::to_string(bi.version.minor), GetParam().version);
	EXPECT_NE(bi.modinfo.find("build\tGOARCH=amd64"), std::string::npos) << bi.modinfo;
	EXPECT_FALSE(bi.pie);
	EXPECT_FALSE(bi.cgo);
	EXPECT_FALSE(bi.stripped);
	EXPECT_FALSE(bi.pgo);
	EXPECT_TRUE(bi.has_dwarf);
}

TEST_P(GoBinaryTest, DwarfOffsetsMatchNotesTable)
{
	// go-runtime.md §9, measured with debug/dwarf.
	const auto &v = bin->build_info().version;
	uint32_t goid = v.at_least(1, 26) ? 152 : v.at_least(1, 23) ? 160 : 152;
	uint32_t status = goid - 8;
	EXPECT_EQ(bin->member_offset("runtime.g", "goid"), goid);
	EXPECT_EQ(bin->member_offset("runtime.g", "atomicstatus"), status);
	EXPECT_EQ(bin->member_offset("runtime.g", "m"), 48u);
	EXPECT_EQ(bin->member_offset("runtime.m", "curg"), v.at_least(1, 26) ? 184u : 192u);
	EXPECT_FALSE(bin->member_offset("runtime.g", "no_such_member"));
	EXPECT_FALSE(bin->member_offset("runtime.no_such_type", "goid"));
}

TEST_P(GoBinaryTest, SymbolsAndAddresses)
{
	auto goexit1 = bin->function("runtime.goexit1");
	ASSERT_TRUE(goexit1);
	auto wrapper = bin->function("runtime.goexit1.abi0");
	if (wrapper) {
		EXPECT_NE(wrapper->addr, goexit1->addr);
	}
	EXPECT_EQ(bin->function_at(goexit1->addr + 1)->name, "runtime.goexit1");
	// Local (STB_LOCAL) closures are indexed too.
	EXPECT_TRUE(bin->function("runtime.newproc.func1"));
	EXPECT_FALSE(bin->function("runtime.allgs"));  // data, not a function
	EXPECT_TRUE(bin->symbol("runtime.allgs"));
	EXPECT_FALSE(bin->symbol("no.such.symbol"));
	EXPECT_EQ(bin->tls_g_offset(), -8);  // internally linked: no PT_TLS

	// Non-PIE Go binaries are linked at 0x400000 with the text segment at file offset 0.
	EXPECT_EQ(bin->first_load_vaddr(), 0x400000u);
	EXPECT_EQ(bin->file_offset(goexit1->addr), goexit1->addr - 0x400000);
	EXPECT_FALSE(bin->file_offset(*bin->symbol("runtime.allgs")));  // not executable

	auto bytes = bin->read(goexit1->addr, 4);
	ASSERT_TRUE(bytes);
	EXPECT_FALSE(bin->read(0x10, 4));
	// Sorted, non-empty.
	const auto &fns = bin->functions();
	ASSERT_GT(fns.size(), 1000u);
	for (size_t i = 1; i < fns.size(); i++)
		ASSERT_LE(fns[i - 1].addr, fns[i].addr);
}

TEST_P(GoBinaryTest, StringArrays)
{
	auto reasons = bin->string_array("runtime.waitReasonStrings");
	ASSERT_GT(reasons.size(), 20u);
	EXPECT_EQ(reasons[0], "");
	EXPECT_EQ(reasons[1], "GC assist marking");
	EXPECT_EQ(reasons[2], "IO wait");
	EXPECT_TRUE(bin->string_array("no.such.symbol").empty());
}

TEST_P(GoBinaryTest, LocateIsFastAndPointsAtSource)
{
	auto leak = bin->function("main.leak");
	ASSERT_TRUE(leak);
	auto loc = bin->locate(leak->addr);
	EXPECT_EQ(loc.function, "main.leak");
	EXPECT_TRUE(loc.file.ends_with("target_fixture/main.go")) << loc.file;
	EXPECT_EQ(loc.line, gort::testing::workload_line("target_fixture", "func leak("));

	auto main_fn = bin->function("runtime.main");
	ASSERT_TRUE(main_fn);
	auto rt = bin->locate(main_fn->addr + 16);
	EXPECT_EQ(rt.function, "runtime.main");
	EXPECT_TRUE(rt.file.ends_with("runtime/proc.go")) << rt.file;
	EXPECT_GT(rt.line, 0);

	auto none = bin->locate(0x10);
	EXPECT_EQ(none.function, "");
	EXPECT_EQ(none.line, 0);

	// A few hundred lookups across the binary, well under a millisecond each.
	const auto &fns = bin->functions();
	auto t0 = std::chrono::steady_clock::now();
	int found = 0;
	for (size_t i = 0; i < fns.size(); i += fns.size() / 300 + 1)
		found += bin->locate(fns[i].addr + fns[i].size / 2).line > 0;
	auto per = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 300;
	EXPECT_GT(found, 250);
	EXPECT_LT(per, 1.0);
}

TEST_P(GoBinaryTest, StartFunctionResolvesGoWrappers)
{
	// `go leak(ch, i)` compiles to main.main.func2 (<= 1.21) or main.main.gowrap1 (>= 1.22);
	// the closure literal is main.main.func1 and must stay itself.
	bool new_names = bin->build_info().version.at_least(1, 22);
	auto wrapper = bin->function(new_names ? "main.main.gowrap1" : "main.main.func2");
	auto closure = bin->function("main.main.func1");
	ASSERT_TRUE(wrapper);
	ASSERT_TRUE(closure);
	EXPECT_EQ(bin->start_function(wrapper->addr), "main.leak");
	EXPECT_EQ(bin->start_function(closure->addr), "main.main.func1");
	EXPECT_EQ(bin->start_function(bin->function("main.leak")->addr), "main.leak");
	EXPECT_EQ(bin->start_function(bin->function("runtime.main")->addr), "runtime.main");
	EXPECT_EQ(bin->start_function(0x10), "");
	// The wrapper is attributed to the go statement's line.
	EXPECT_EQ(bin->locate(wrapper->addr).line, gort::testing::workload_line("target_fixture", "go leak(ch, i)"));
}

INSTANTIATE_TEST_SUITE_P(AllToolchains, GoBinaryTest, ::testing::ValuesIn(gort::testing::go_toolchains()), gort::testing::toolchain_name);

TEST(GoBinaryErrors, RejectsNonElfAndNonGo)
{
	try {
		GoBinary::open("/etc/passwd");
		FAIL() << "no exception";
	} catch (const UserError &e) {
		EXPECT_EQ(e.code(), ExitCode::unsupported);
		EXPECT_NE(std::string(e.what()).find("not an ELF"), std::string::npos) << e.what();
	}
	try {
		GoBinary::open("/bin/true");
		FAIL() << "no exception";
	} catch (const UserError &e) {
		EXPECT_EQ(e.code(), ExitCode::unsupported);
		EXPECT_NE(std::string(e.what()).find("not a Go program"), std::string::npos) << e.what();
	}
	try {
		GoBinary::open("/nonexistent/gort-binary");
		FAIL() << "no exception";
	} catch (const UserError &e) {
		EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
	}
}

TEST(GoBinaryVariants, PieStrippedAndNoDwarf)
{
	const auto &tc = gort::testing::go_toolchains().back();
	auto pie = GoBinary::open(gort::testing::workload(tc, "target_fixture", "pie"));
	EXPECT_TRUE(pie->build_info().pie);
	EXPECT_TRUE(pie->build_info().has_dwarf);
	EXPECT_FALSE(pie->build_info().cgo);  // internally linked: .interp but no C
	EXPECT_EQ(pie->tls_g_offset(), -8);
	auto wrapper = pie->function("main.main.gowrap1");
	ASSERT_TRUE(wrapper);
	EXPECT_EQ(pie->start_function(wrapper->addr), "main.leak");
	EXPECT_EQ(pie->string_array("runtime.waitReasonStrings").at(1), "GC assist marking");

	auto nodwarf = GoBinary::open(gort::testing::workload(tc, "target_fixture", "nodwarf"));
	EXPECT_FALSE(nodwarf->build_info().has_dwarf);
	EXPECT_FALSE(nodwarf->build_info().stripped);
	EXPECT_FALSE(nodwarf->member_offset("runtime.g", "goid"));
	EXPECT_TRUE(nodwarf->function("runtime.goexit1"));

	auto stripped = GoBinary::open(gort::testing::workload(tc, "target_fixture", "stripped"));
	EXPECT_TRUE(stripped->build_info().stripped);
	EXPECT_FALSE(stripped->functions().empty());  // from the pclntab (test_target_pclntab.cpp)
	EXPECT_EQ(stripped->build_info().version.raw, nodwarf->build_info().version.raw);
}

// The disp32 of the first `mov r14, fs:[disp32]` (64 4c 8b 34 25 disp32): how the binary's own
// ABI wrappers load g, the ground truth for tls_g_offset().
static std::optional<int32_t> fs_r14_disp(const GoBinary &bin)
{
	for (const auto &f : bin.functions()) {
		auto code = bin.read(f.addr, f.size);
		if (!code)
			continue;
		const uint8_t pat[] = {0x64, 0x4c, 0x8b, 0x34, 0x25};
		for (size_t i = 0; i + 9 <= code->size(); i++)
			if (memcmp(code->data() + i, pat, sizeof pat) == 0) {
				int32_t d;
				memcpy(&d, code->data() + i + 5, 4);
				return d;
			}
	}
	return std::nullopt;
}

TEST(GoBinaryVariants, CgoWithCThreadLocalsMovesTheGSlot)
{
	if (system("command -v gcc >/dev/null 2>&1") != 0)
		GTEST_SKIP() << "no C compiler";
	const auto &tc = gort::testing::go_toolchains().back();
	auto bin = GoBinary::open(gort::testing::workload(tc, "target_cgo"));
	EXPECT_TRUE(bin->build_info().cgo);
	auto disp = fs_r14_disp(*bin);
	ASSERT_TRUE(disp);
	EXPECT_NE(*disp, -8);  // the C __thread variables sit between fs and runtime.tlsg
	EXPECT_EQ(bin->tls_g_offset(), *disp);

	auto plain = GoBinary::open(gort::testing::workload(tc, "target_fixture"));
	EXPECT_EQ(fs_r14_disp(*plain), -8);
}
