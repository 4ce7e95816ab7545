// The Go binaries users actually run, traced end to end: the ground-truth program built plain,
// stripped (-ldflags='-s -w': no .symtab, no DWARF), PIE, with cgo (C thread-locals move the g
// TLS slot), and stripped PIE/cgo, with every toolchain present; and a binary deleted from disk
// after it started (read through /proc/PID/exe). gort must report exactly what the program
// reports in each case.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "support/child.h"
#include "support/workloads.h"
#include "support/traced_run.h"
#include "user/gobinary/go_binary.h"
#include "user/gobinary/offsets_table.h"

using gort::testing::GoToolchain;

namespace {

struct Variant {
	std::string name;
	std::string program;
	std::string build;  // the variant's name in tests/workloads/CMakeLists.txt
	bool needs_cc = false;
};

void PrintTo(const Variant &v, std::ostream *os) { *os << v.name; }

const std::vector<Variant> &variants()
{
	static const std::vector<Variant> v = {
		{"plain", "groundtruth", ""},
		{"stripped", "groundtruth", "stripped"},
		{"pie", "groundtruth", "pie"},
		{"pie_stripped", "groundtruth", "pie-stripped"},
		{"trimpath", "groundtruth", "trimpath"},
		{"cgo", "groundtruth_cgo", "", true},
		{"cgo_stripped", "groundtruth_cgo", "stripped", true},
	};
	return v;
}

using Param = std::tuple<GoToolchain, Variant>;

std::string param_name(const ::testing::TestParamInfo<Param> &info)
{
	std::string n = "go" + std::get<0>(info.param).version + "_" + std::get<1>(info.param).name;
	for (char &c : n)
		if (c == '.')
			c = '_';
	return n;
}

// The 1-based line of tests/workloads/<program>/main.go holding `text`; 0 if none.
int source_line(const std::string &program, const std::string &text)
{
	std::ifstream in(std::string(GORT_SOURCE_DIR) + "/tests/workloads/" + program + "/main.go");
	std::string line;
	for (int n = 1; std::getline(in, line); n++)
		if (line.find(text) != std::string::npos)
			return n;
	return 0;
}

} // namespace

class Variants : public ::testing::TestWithParam<Param> {};

TEST_P(Variants, FiguresEqualTheProgramsOwn)
{
	const auto &[tc, v] = GetParam();
	if (v.needs_cc && !gort::testing::workload_built(tc, v.program, v.build))
		GTEST_SKIP() << "no C compiler for cgo";
	std::string bin = gort::testing::workload(tc, v.program, v.build);
	auto run = gort::testing::traced_run({bin});
	gort::testing::expect_figures_equal_the_programs_own(run);
	// Creation sites carry file:line in every variant: from DWARF, or without it (-s -w) from
	// the pclntab's pcfile/pcln tables, as the runtime's "created by" traceback does.
	const std::string want = "main.go:" + std::to_string(source_line(v.program, "go leakWorker("));
	bool seen = false;
	for (const auto &s : run.traced.sites)
		if (s.function == "main.leakWorker") {
			EXPECT_EQ(s.created_at, want);
			seen = true;
		}
	EXPECT_TRUE(seen);
}

// With gort's offsets table switched off (GORT_OFFSETS_TABLE=off), the binaries without DWARF
// are traced from what they carry themselves (type descriptors, code): still exact.
TEST_P(Variants, WithoutTheOffsetsTableStillExact)
{
	const auto &[tc, v] = GetParam();
	if (v.name.find("stripped") == std::string::npos)
		GTEST_SKIP() << "has DWARF";
	if (v.needs_cc && !gort::testing::workload_built(tc, v.program, v.build))
		GTEST_SKIP() << "no C compiler for cgo";
	std::string bin = gort::testing::workload(tc, v.program, v.build);
	struct TableOff {
		TableOff() { setenv("GORT_OFFSETS_TABLE", "off", 1); }
		~TableOff() { unsetenv("GORT_OFFSETS_TABLE"); }
	} off;
	ASSERT_TRUE(gort::gobinary::offsets_table__builtin().empty());
	// The heap figures need runtime struct offsets that only DWARF or the table give.
	gort::testing::expect_figures_equal_the_programs_own(gort::testing::traced_run({bin}), false);
}

INSTANTIATE_TEST_SUITE_P(EveryToolchain, Variants,
			 ::testing::Combine(::testing::ValuesIn(gort::testing::go_toolchains()), ::testing::ValuesIn(variants())),
			 param_name);

// A binary replaced or deleted after the process started is still the process's code: gort
// reads it through /proc/PID/exe, never by path.
TEST(Deleted, BinaryDeletedAfterStartIsTraced)
{
	const auto &tc = gort::testing::go_toolchains().back();
	std::string built = gort::testing::workload(tc, "groundtruth");
	std::string copy = std::string(GORT_BUILD_DIR) + "/workloads/groundtruth-deleted-" + std::to_string(getpid());
	std::filesystem::copy_file(built, copy, std::filesystem::copy_options::overwrite_existing);
	auto run = gort::testing::traced_run({copy}, [&](pid_t) { std::filesystem::remove(copy); });
	EXPECT_FALSE(std::filesystem::exists(copy));
	gort::testing::expect_figures_equal_the_programs_own(run);
}

// A stripped binary that says it was built by go1.99.N, a release no table knows (the version
// string patched in a copy, same length): traced from its type descriptors alone, exactly.
TEST(UnknownVersion, NewerThanAnythingKnownIsTracedExactly)
{
	const auto &tc = gort::testing::go_toolchains().back();
	std::string built = gort::testing::workload(tc, "groundtruth", "stripped");
	std::string real = gort::gobinary::GoBinary::open(built)->build_info().version.raw;
	std::string fake = "go1.99" + real.substr(real.find('.', real.find('.') + 1));
	std::ifstream in(built, std::ios::binary);
	std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	size_t at = bytes.find(real);
	ASSERT_NE(at, std::string::npos);
	for (; at != std::string::npos; at = bytes.find(real, at))
		bytes.replace(at, real.size(), fake);
	std::string copy = std::string(GORT_BUILD_DIR) + "/workloads/groundtruth-go1.99-" + std::to_string(getpid());
	{
		std::ofstream out(copy, std::ios::binary | std::ios::trunc);
		out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
	}
	std::filesystem::permissions(copy, std::filesystem::perms::owner_all);
	ASSERT_EQ(gort::gobinary::GoBinary::open(copy)->build_info().version.raw, fake);
	auto run = gort::testing::traced_run({copy});
	std::filesystem::remove(copy);
	// No table row for it: the heap figures' offsets are not known (as with the table off).
	gort::testing::expect_figures_equal_the_programs_own(run, false);
}

// A PGO build (-pgo=profile, Go 1.21+) may inline runtime functions such as gopark and
// casgstatus into their callers; gort's probes sit where inlining cannot take them away
// (a call site inside runtime.newproc.func1, goexit1 reached from assembly) and must still count
// exactly. The profile is the ground-truth program's own, taken during its workload by the build.
TEST(Pgo, ProfileGuidedBuildIsCountedExactly)
{
	const auto &tc = gort::testing::go_toolchains().back();
	std::string bin = gort::testing::workload(tc, "groundtruth", "pgo");
	ASSERT_TRUE(gort::gobinary::GoBinary::open(bin)->build_info().pgo) << "buildinfo names the profile";
	gort::testing::expect_figures_equal_the_programs_own(gort::testing::traced_run({bin}));
}
