// Real BPF, real kernel, real Go programs: the ground-truth workload (tests/workloads/groundtruth)
// is built with every toolchain present, traced through the core library, and gort's figures
// are compared with what the program itself reports (runtime.NumGoroutine, MemStats).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/child.h"
#include "support/go_build.h"
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

std::string toolchain_name(const ::testing::TestParamInfo<GoToolchain> &info)
{
	std::string n = "go" + info.param.version;
	for (char &c : n)
		if (c == '.')
			c = '_';
	return n;
}

struct TracedRun {
	nlohmann::json report;  // the program's own figures
	gort::session::ProcessSnapshot traced;
	int exit_status = -1;
};

// Starts the program, attaches, lets it run its workload, lets it exit, and returns both views.
TracedRun trace_groundtruth(const GoToolchain &tc, const std::vector<std::string> &args)
{
	std::string bin = gort::testing::go_build(tc, "groundtruth");
	std::vector<std::string> argv{bin};
	argv.insert(argv.end(), args.begin(), args.end());
	Child child(argv);
	auto ready = child.read_line(30s);
	if (!ready || ready->rfind("ready ", 0) != 0)
		throw std::runtime_error("groundtruth did not start");

	gort::session::Session session(gort::session::SessionOptions{5'000'000});
	session.attach(child.pid());
	child.write_line("go");

	TracedRun run;
	auto deadline = std::chrono::steady_clock::now() + 120s;
	while (!child.line_ready(10ms)) {
		session.poll(10);
		if (std::chrono::steady_clock::now() > deadline)
			throw std::runtime_error("groundtruth did not report");
	}
	run.report = nlohmann::json::parse(*child.read_line(0ms));
	child.close_stdin();
	auto status = child.wait(30s);
	if (!status)
		throw std::runtime_error("groundtruth did not exit");
	run.exit_status = *status;
	while (session.has_live_processes())
		session.poll(10);
	auto snap = session.snapshot();
	run.traced = snap.processes.at(0);
	return run;
}

uint64_t site_total(const gort::session::ProcessSnapshot &p, const std::string &function, bool created)
{
	uint64_t n = 0;
	for (const auto &s : p.sites)
		if (s.function == function)
			n += created ? s.created : s.exited;
	return n;
}

} // namespace

class GroundTruth : public ::testing::TestWithParam<GoToolchain> {};

TEST_P(GroundTruth, FiguresEqualTheProgramsOwn)
{
	TracedRun run = trace_groundtruth(GetParam(), {});
	const auto &p = run.traced;
	const auto &r = run.report;
	SCOPED_TRACE("go " + r["go_version"].get<std::string>());

	EXPECT_TRUE(p.exited);
	EXPECT_EQ(p.go_version, r["go_version"].get<std::string>());
	for (auto &[fn, n] : r["created"].items())
		EXPECT_EQ(site_total(p, fn, true), n.get<uint64_t>()) << "created " << fn;
	for (auto &[fn, n] : r["exited"].items())
		EXPECT_EQ(site_total(p, fn, false), n.get<uint64_t>()) << "exited " << fn;
	EXPECT_EQ(p.goroutines.live, r["num_goroutine"].get<int64_t>());
	EXPECT_EQ(p.goroutines.live_at_attach, r["num_goroutine_at_start"].get<uint64_t>());
	EXPECT_GE(p.goroutines.peak, p.goroutines.live);

	EXPECT_EQ(p.gc_cycles, r["num_gc"].get<uint64_t>());
	EXPECT_EQ(p.stw_gc.total_ns, r["pause_total_ns"].get<uint64_t>());
	EXPECT_EQ(p.stw_gc.count, 2 * p.gc_cycles) << "one sweep and one mark termination pause per cycle";
	EXPECT_EQ(p.stw_by_reason.at("GC sweep termination").count, p.gc_cycles);
	EXPECT_GE(p.stw_by_reason.at("GOMAXPROCS").count, 1u);
	EXPECT_EQ(p.stw_by_reason.at("read mem stats").count, r["read_mem_stats_calls"].get<uint64_t>());

	const gort::session::SyscallStats *nanosleep = nullptr;
	for (const auto &s : p.syscalls)
		if (s.name == "nanosleep")
			nanosleep = &s;
	ASSERT_NE(nanosleep, nullptr);
	EXPECT_EQ(nanosleep->count, r["nanosleeps"].get<uint64_t>());
	EXPECT_GE(nanosleep->max_ns, r["nanosleep_ns"].get<uint64_t>());
	EXPECT_EQ(nanosleep->by_function.at("main.sleeper"), r["nanosleeps"].get<uint64_t>());
	for (const auto &w : p.runtime_waits)
		EXPECT_EQ(w.by_function.size(), 0u) << "runtime waits are not attributed to goroutines";
	EXPECT_EQ(p.lost_events, 0u);
	EXPECT_EQ(run.exit_status, 0);
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

INSTANTIATE_TEST_SUITE_P(EveryToolchain, GroundTruth, ::testing::ValuesIn(toolchains_from(19)), toolchain_name);

class TooOld : public ::testing::TestWithParam<GoToolchain> {};

// A Go version gort cannot trace is refused with a reason, never traced with wrong numbers.
TEST_P(TooOld, IsRefusedWithAReason)
{
	Child child({gort::testing::go_build(GetParam(), "groundtruth")});
	ASSERT_TRUE(child.read_line(30s));
	gort::session::Session session(gort::session::SessionOptions{});
	try {
		session.attach(child.pid());
		FAIL() << "attached to an unsupported Go version";
	} catch (const gort::UserError &e) {
		EXPECT_EQ(e.code(), gort::ExitCode::unsupported);
		EXPECT_NE(std::string(e.what()).find("1.19"), std::string::npos) << e.what();
	}
	EXPECT_EQ(session.link_count(), 2u) << "only the syscall tracepoints remain";
}

INSTANTIATE_TEST_SUITE_P(OldToolchains, TooOld, ::testing::ValuesIn(toolchains_from(19, true)), toolchain_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TooOld);
