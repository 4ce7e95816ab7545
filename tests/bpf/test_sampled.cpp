// Sampled and auto mode (issue 9) on real Go programs with every toolchain: the totals and
// per-site live counts read from the runtime's own state equal the program's own figures at its
// quiet point, the sampled per-site rate is near the truth — for the plain build and the
// stripped ones (-ldflags='-s -w', runtime.sched and runtime.allp decoded from code; plain, PIE,
// PGO) — and switching between exact and sampled mid-run loses nothing.
#include <algorithm>
#include <functional>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/child.h"
#include "support/workloads.h"
#include "support/params.h"
#include "support/traced_run.h"
#include "user/session/session.h"

using namespace std::chrono_literals;
using gort::testing::Child;
using gort::testing::GoToolchain;
using gort::testing::site_live;
using gort::testing::site_total;

namespace {

struct QuietRun {
	nlohmann::json report;
	gort::session::ProcessSnapshot traced;  // taken at the program's quiet point, alive
	uint64_t links_after = 0;
};

// Runs groundtruth with a steady churn under `opts`, and snapshots once a reading taken after
// the program's report (its quiet point) is in and `settled` holds for the process (a state the
// session reaches on its own, e.g. auto mode back to exact: waited for, not assumed to take a
// fixed number of intervals).
QuietRun run_quiet(const GoToolchain &tc, const std::string &variant, gort::session::SessionOptions opts,
		   const std::vector<std::string> &args,
		   const std::function<bool(const gort::session::ProcessSnapshot &)> &settled = nullptr)
{
	std::vector<std::string> argv{gort::testing::workload(tc, "groundtruth", variant)};
	argv.insert(argv.end(), args.begin(), args.end());
	Child child(argv);
	groundtruth__await_ready(child);
	opts.slow_syscall_ns = 5'000'000;
	gort::session::Session session(opts);
	session.attach(child.pid());
	child.write_line("go");
	QuietRun run;
	run.report = groundtruth__await_report(child, session);
	// Quiet now: a few intervals so that the last reading follows the report (every poll past an
	// interval takes a reading), then until `settled`; the deadline only bounds a failure.
	auto quiet = std::chrono::steady_clock::now() + 4 * opts.sample_interval + 100ms;
	auto deadline = quiet + 60s;
	for (;;) {
		session.poll(10);
		auto now = std::chrono::steady_clock::now();
		if (now < quiet)
			continue;
		run.traced = session.snapshot().processes.at(0);
		if (!settled || settled(run.traced) || now >= deadline)
			break;
	}
	run.links_after = session.link_count();
	child.close_stdin();
	child.wait(30s);
	return run;
}

void expect_totals_exact(const QuietRun &run) { gort::testing::expect_goroutines_equal_the_programs(run.traced, run.report); }


} // namespace

class Sampled : public ::testing::TestWithParam<GoToolchain> {};

// A toolchain and a build of groundtruth ("plain", "stripped", "pie-stripped": the decoded
// addresses plus the load bias, "pgo-stripped": newproc1 and flushmcache maybe inlined).
class SampledBuild : public ::testing::TestWithParam<std::tuple<GoToolchain, std::string>> {};

// "go1_27_pie_stripped" (gtest names allow only [A-Za-z0-9_])
std::string build_name(const ::testing::TestParamInfo<SampledBuild::ParamType> &info)
{
	const GoToolchain &tc = std::get<0>(info.param);
	std::string variant = std::get<1>(info.param);
	std::replace(variant.begin(), variant.end(), '-', '_');
	return gort::testing::toolchain_name({tc, info.index}) + "_" + variant;
}

TEST_P(SampledBuild, TotalsAndLiveAreExactRatesNearTheTruth)
{
	const auto &[tc, variant] = GetParam();
	if (!gort::testing::workload_built(tc, "groundtruth", variant))
		GTEST_SKIP() << "no " << variant << " build with go" << tc.version << " (PGO: Go 1.21+)";
	QuietRun run = run_quiet(tc, variant, gort::testing::sampled_test_options(),
				 {"-paced-churn", "3000", "-paced-for", "2s", "-pre-leakers", "5", "-alloc-mb", "32"});
	expect_totals_exact(run);
	EXPECT_EQ(site_live(run.traced, "main.preLeaker"), 5);
	const auto &c = run.traced.cost;
	EXPECT_EQ(c.mode, "sampled");
	EXPECT_TRUE(c.sites_estimated);
	EXPECT_GT(c.trap_ns, 0);
	// Between windows the goroutine probes are gone: only the other uprobes and the two
	// syscall tracepoints remain.
	uint64_t truth = run.report["created"]["main.pacedWorker"].get<uint64_t>();
	double est = static_cast<double>(site_total(run.traced, "main.pacedWorker", true));
	EXPECT_NEAR(est, truth, 0.25 * truth) << "created, sampled at " << c.sample_fraction;
	double est_exit = static_cast<double>(site_total(run.traced, "main.pacedWorker", false));
	EXPECT_NEAR(est_exit, truth, 0.25 * truth) << "exited";
}

// Auto mode with a tiny budget: exact while quiet, sampled while the churn runs, exact again
// once it stops; the totals are exact at the end all the same.
TEST_P(Sampled, SwitchingModesLosesNothing)
{
	gort::session::SessionOptions o = gort::testing::auto_tiny_budget_test_options();
	// Back to exact takes a window (one every few intervals in auto mode) that sees the quiet
	// program, then a reading: wait for the switch itself.
	QuietRun run = run_quiet(GetParam(), "plain", o, {"-paced-churn", "3000", "-paced-for", "1s", "-alloc-mb", "32"},
				 [](const gort::session::ProcessSnapshot &p) { return p.cost.mode == "exact" && p.cost.mode_changes >= 2; });
	expect_totals_exact(run);
	EXPECT_GE(run.traced.cost.mode_changes, 2u);
	EXPECT_EQ(run.traced.cost.mode, "exact");
}

INSTANTIATE_TEST_SUITE_P(EveryToolchain, Sampled, ::testing::ValuesIn(gort::testing::go_toolchains()),
			 gort::testing::toolchain_name);
INSTANTIATE_TEST_SUITE_P(EveryToolchain, SampledBuild,
			 ::testing::Combine(::testing::ValuesIn(gort::testing::go_toolchains()),
					    ::testing::Values(std::string("plain"), std::string("stripped"),
							      std::string("pie-stripped"), std::string("pgo-stripped"))),
			 build_name);
