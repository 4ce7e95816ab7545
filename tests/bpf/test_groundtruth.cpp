// Real BPF, real kernel, real Go programs: the ground-truth workload (tests/workloads/groundtruth)
// is built with every toolchain present, traced through the core library, and gort's figures
// are compared with what the program itself reports (runtime.NumGoroutine, MemStats).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/child.h"
#include "support/workloads.h"
#include "support/params.h"
#include "support/traced_run.h"
#include "user/common/error.h"
#include "user/session/session.h"

using namespace std::chrono_literals;
using gort::testing::Child;
using gort::testing::GoToolchain;

namespace {

std::vector<GoToolchain> toolchains_from(int minor_at_least, bool below = false)
{
	std::vector<GoToolchain> out;
	for (const auto &tc : gort::testing::go_toolchains()) {
		int minor = std::stoi(tc.version.substr(tc.version.find('.') + 1));
		if (below ? minor < minor_at_least : minor >= minor_at_least)
			out.push_back(tc);
	}
	return out;
}

using gort::testing::site_total;
using gort::testing::TracedRun;

TracedRun trace_groundtruth(const GoToolchain &tc, const std::vector<std::string> &args)
{
	std::vector<std::string> argv{gort::testing::workload(tc, "groundtruth")};
	argv.insert(argv.end(), args.begin(), args.end());
	return gort::testing::traced_run(argv);
}

} // namespace

class GroundTruth : public ::testing::TestWithParam<GoToolchain> {};

TEST_P(GroundTruth, FiguresEqualTheProgramsOwn)
{
	gort::testing::expect_figures_equal_the_programs_own(trace_groundtruth(GetParam(), {}));
}

// Goroutines alive at attach are counted exactly even while others are created and end during
// the attach itself; the traced program's exit status is unchanged.
TEST_P(GroundTruth, AttachDuringChurnCountsLiveExactly)
{
	TracedRun run = trace_groundtruth(GetParam(), {"-pre-leakers", "20", "-attach-churn", "-churn", "100", "-leakers",
						 "10", "-alloc-mb", "16", "-exit-code", "7"});
	const auto &p = run.traced;
	EXPECT_EQ(p.goroutines.live, run.report["num_goroutine"].get<int64_t>());
	int64_t pre_leakers_live = 0;
	for (const auto &s : p.sites)
		if (s.function == "main.preLeaker")
			pre_leakers_live += s.live;
	EXPECT_EQ(pre_leakers_live, 20);
	EXPECT_EQ(site_total(p, "main.leakWorker", true), 10u);
	EXPECT_EQ(p.lost_events, 0u);
	EXPECT_EQ(run.exit_status, 7);
}

INSTANTIATE_TEST_SUITE_P(EveryToolchain, GroundTruth, ::testing::ValuesIn(toolchains_from(19)), gort::testing::toolchain_name);

class TooOld : public ::testing::TestWithParam<GoToolchain> {};

// A Go version gort cannot trace is refused with a reason, never traced with wrong numbers.
TEST_P(TooOld, IsRefusedWithAReason)
{
	Child child({gort::testing::workload(GetParam(), "groundtruth")});
	ASSERT_TRUE(child.read_line(30s));
	gort::session::Session session(gort::session::SessionOptions{});
	try {
		session.attach(child.pid());
		FAIL() << "attached to an unsupported Go version";
	} catch (const gort::UserError &e) {
		EXPECT_EQ(e.code(), gort::ExitCode::unsupported);
		EXPECT_NE(std::string(e.what()).find("1.19"), std::string::npos) << e.what();
	}
	EXPECT_EQ(session.link_count(), 2u) << "only the sched_switch and sched_process_exec tracepoints remain";
}

INSTANTIATE_TEST_SUITE_P(OldToolchains, TooOld, ::testing::ValuesIn(toolchains_from(19, true)), gort::testing::toolchain_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TooOld);
