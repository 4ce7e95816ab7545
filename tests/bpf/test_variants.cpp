// The Go binaries users actually run, traced end to end: the ground-truth program built plain,
// stripped (-ldflags='-s -w': no .symtab, no DWARF), PIE, with cgo (C thread-locals move the g
// TLS slot), and stripped PIE/cgo, with every toolchain present; and a binary deleted from disk
// after it started (read through /proc/PID/exe). gort must report exactly what the program
// reports in each case.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "support/go_build.h"
#include "support/traced_run.h"

using gort::testing::GoToolchain;

namespace {

struct Variant {
	std::string name;
	std::string program;
	std::vector<std::string> flags;
	bool needs_cc = false;
};

void PrintTo(const Variant &v, std::ostream *os) { *os << v.name; }

const std::vector<Variant> &variants()
{
	static const std::vector<Variant> v = {
		{"plain", "groundtruth", {}},
		{"stripped", "groundtruth", {"-ldflags=-s -w"}},
		{"pie", "groundtruth", {"-buildmode=pie"}},
		{"pie_stripped", "groundtruth", {"-buildmode=pie", "-ldflags=-s -w"}},
		{"cgo", "groundtruth_cgo", {}, true},
		{"cgo_stripped", "groundtruth_cgo", {"-ldflags=-s -w"}, true},
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

bool have_cc() { return system("command -v gcc >/dev/null 2>&1") == 0; }

} // namespace

class Variants : public ::testing::TestWithParam<Param> {};

TEST_P(Variants, FiguresEqualTheProgramsOwn)
{
	const auto &[tc, v] = GetParam();
	if (v.needs_cc && !have_cc())
		GTEST_SKIP() << "no C compiler for cgo";
	std::string bin = gort::testing::go_build(tc, v.program, v.flags);
	gort::testing::expect_figures_equal_the_programs_own(gort::testing::traced_run({bin}));
}

INSTANTIATE_TEST_SUITE_P(EveryToolchain, Variants,
			 ::testing::Combine(::testing::ValuesIn(gort::testing::go_toolchains()), ::testing::ValuesIn(variants())),
			 param_name);

// A binary replaced or deleted after the process started is still the process's code: gort
// reads it through /proc/PID/exe, never by path.
TEST(Deleted, BinaryDeletedAfterStartIsTraced)
{
	const auto &tc = gort::testing::go_toolchains().back();
	std::string built = gort::testing::go_build(tc, "groundtruth");
	std::string copy = std::string(GORT_BUILD_DIR) + "/workloads/groundtruth-deleted-" + std::to_string(getpid());
	std::filesystem::copy_file(built, copy, std::filesystem::copy_options::overwrite_existing);
	auto run = gort::testing::traced_run({copy}, [&](pid_t) { std::filesystem::remove(copy); });
	EXPECT_FALSE(std::filesystem::exists(copy));
	gort::testing::expect_figures_equal_the_programs_own(run);
}
