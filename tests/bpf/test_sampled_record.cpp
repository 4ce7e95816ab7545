// Recordings of sampled and auto mode (issue 9) on a real Go program: the file carries every
// reading and mode change, and `report` of it gives what the live session showed (totals,
// per-site live, the per-site estimates, the mode history) and what the program says it did.
// One recorded run per mode; the newest toolchain (the replay does not depend on the Go version:
// the readings themselves are checked on every toolchain by test_sampled.cpp).
#include <functional>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/child.h"
#include "support/temp_file.h"
#include "support/traced_run.h"
#include "support/workloads.h"
#include "user/record/recorder.h"
#include "user/record/replay.h"
#include "user/session/session.h"
#include "user/views/views.h"

using namespace std::chrono_literals;
using gort::testing::Child;
using gort::testing::TempFile;
using gort::session::ProcessSnapshot;

namespace {

struct RecordedRun {
	nlohmann::json report;     // the program's own figures
	ProcessSnapshot live;      // the session's model when the recording ended
	ProcessSnapshot replayed;  // `report` of the file
	std::vector<std::string> warnings;
};

// Forwards to the recorder until the recording is finished (the session outlives it).
struct UntilFinished : gort::EventSink, gort::session::ReadingSink {
	gort::record::Recorder *recorder = nullptr;
	void on_event(const gort_event_header &hdr, const void *data, size_t size) override
	{
		if (recorder)
			recorder->on_event(hdr, data, size);
	}
	void on_reading(pid_t pid, const gort::session::GoroutineReading &r, const gort::CounterSource &c) override
	{
		if (recorder)
			recorder->on_reading(pid, r, c);
	}
	void on_mode_change(pid_t pid, const gort::session::ModeChange &c) override
	{
		if (recorder)
			recorder->on_mode_change(pid, c);
	}
};

// `gort record`'s wiring (user/cli/commands/record.cpp) around groundtruth ARGS under `opts`:
// a tick every interval, as the driver takes one. Once the program has reported and `settled`
// holds for the live model (past a few intervals, so a reading follows the report), the live
// snapshot is taken and the recording finished with no poll in between: both end on the same
// readings.
RecordedRun record_quiet(gort::session::SessionOptions opts, const std::vector<std::string> &args,
			 const std::function<bool(const ProcessSnapshot &)> &settled)
{
	TempFile file("gort-sampled-record");
	std::vector<std::string> argv{gort::testing::workload(gort::testing::go_toolchains().back(), "groundtruth")};
	argv.insert(argv.end(), args.begin(), args.end());
	Child child(argv);
	groundtruth__await_ready(child);
	opts.slow_syscall_ns = 5'000'000;
	opts.record_lifecycle = true;
	gort::session::Session session(opts);
	gort::record::Writer writer(file.path, true,
				    gort::record::header__now(opts.slow_syscall_ns, static_cast<uint64_t>(opts.sample_interval.count())));
	gort::record::Recorder recorder(writer, session.counters());
	UntilFinished sink;
	sink.recorder = &recorder;
	session.add_sink(sink);
	session.set_reading_sink(sink);
	session.set_before_detach([&](const gort::session::TracedProcess &p, gort::Clock now) {
		if (sink.recorder)
			recorder.on_exit(p, now);
	});
	session.attach(child.pid());
	recorder.on_attach(session.process(child.pid()));
	child.write_line("go");

	RecordedRun run;
	auto next_tick = std::chrono::steady_clock::now() + opts.sample_interval;
	auto poll = [&] {
		session.poll(10);
		if (auto now = std::chrono::steady_clock::now(); now >= next_tick) {
			recorder.on_tick(gort::clock__now());
			next_tick = now + opts.sample_interval;
		}
	};
	auto deadline = std::chrono::steady_clock::now() + 120s;
	while (!child.line_ready(0ms)) {
		poll();
		if (std::chrono::steady_clock::now() > deadline)
			throw std::runtime_error("groundtruth did not report");
	}
	run.report = nlohmann::json::parse(*child.read_line(0ms));
	auto quiet = std::chrono::steady_clock::now() + 4 * opts.sample_interval + 100ms;
	deadline = quiet + 60s;
	for (;;) {
		poll();
		auto now = std::chrono::steady_clock::now();
		if (now < quiet)
			continue;
		run.live = session.snapshot().processes.at(0);
		if (settled(run.live) || now >= deadline)
			break;
	}
	recorder.finish(gort::clock__now());
	sink.recorder = nullptr;
	run.replayed = gort::record::recording__report(file.path, run.warnings).processes.at(0);
	child.close_stdin();
	if (!child.wait(30s))
		throw std::runtime_error("groundtruth did not exit");
	return run;
}

// The replay's figures are the live session's: every goroutine figure and site (the estimates
// too: the same readings and counters give the same scaled counts), the mode history.
void expect_replay_equals_live(const RecordedRun &run)
{
	EXPECT_TRUE(run.warnings.empty()) << run.warnings.at(0);
	const auto &l = run.live, &r = run.replayed;
	EXPECT_EQ(r.goroutines.created, l.goroutines.created);
	EXPECT_EQ(r.goroutines.exited, l.goroutines.exited);
	EXPECT_EQ(r.goroutines.live, l.goroutines.live);
	EXPECT_EQ(r.goroutines.peak, l.goroutines.peak);
	EXPECT_EQ(r.goroutines.live_at_attach, l.goroutines.live_at_attach);
	EXPECT_EQ(r.goroutines.system_created, l.goroutines.system_created);
	auto sites = [](const ProcessSnapshot &p) {
		std::map<std::string, std::tuple<int64_t, uint64_t, uint64_t>> m;
		for (const auto &s : p.sites) {
			auto &[live, created, exited] = m[s.function + "@" + s.created_at];
			live += s.live;
			created += s.created;
			exited += s.exited;
		}
		return m;
	};
	EXPECT_EQ(sites(r), sites(l));
	EXPECT_EQ(r.gc_cycles, l.gc_cycles);
	EXPECT_EQ(r.stw_gc.total_ns, l.stw_gc.total_ns);
	EXPECT_EQ(r.cost.mode, l.cost.mode);
	EXPECT_EQ(r.cost.sites_estimated, l.cost.sites_estimated);
	EXPECT_EQ(r.cost.mode_changes, l.cost.mode_changes);
	EXPECT_EQ(r.cost.sample_fraction, l.cost.sample_fraction);
	EXPECT_EQ(r.cost.trap_ns, l.cost.trap_ns);
	ASSERT_EQ(r.cost.modes.size(), l.cost.modes.size());
	for (size_t i = 0; i < r.cost.modes.size(); i++) {
		SCOPED_TRACE("mode span " + std::to_string(i));
		EXPECT_EQ(r.cost.modes[i].mode, l.cost.modes[i].mode);
		EXPECT_EQ(r.cost.modes[i].reason, l.cost.modes[i].reason);
		EXPECT_EQ(r.cost.modes[i].from_s, l.cost.modes[i].from_s);
		EXPECT_EQ(r.cost.modes[i].cost_percent, l.cost.modes[i].cost_percent);
		if (i + 1 < r.cost.modes.size()) { // the open one ends at each model's own time
			EXPECT_EQ(r.cost.modes[i].to_s, l.cost.modes[i].to_s);
		}
	}
}

// The replay's totals and per-site live are the program's own (it ran its whole workload
// traced: attached before "go"), and so are its GC figures.
void expect_replay_equals_the_program(const RecordedRun &run)
{
	gort::testing::expect_goroutines_equal_the_programs(run.replayed, run.report);
	EXPECT_EQ(gort::testing::site_live(run.replayed, "main.pacedWorker"), 0);
	EXPECT_EQ(run.replayed.gc_cycles, run.report["num_gc"].get<uint64_t>());
	EXPECT_EQ(run.replayed.stw_gc.total_ns, run.report["pause_total_ns"].get<uint64_t>());
}

// What `report --json` says about the modes and the estimates.
nlohmann::json probe_cost_json(const ProcessSnapshot &p)
{
	return gort::views::json__snapshot({"", {p}})["processes"].at(0)["probe_cost"];
}

} // namespace

TEST(SampledRecording, ForcedSampledReportsWhatTheSessionShowed)
{
	gort::session::SessionOptions o = gort::testing::sampled_test_options();
	RecordedRun run = record_quiet(o, {"-paced-churn", "3000", "-paced-for", "1s", "-alloc-mb", "32"},
				       [](const ProcessSnapshot &) { return true; });
	expect_replay_equals_live(run);
	expect_replay_equals_the_program(run);
	const auto &c = run.replayed.cost;
	EXPECT_EQ(c.mode, "sampled");
	EXPECT_TRUE(c.sites_estimated);
	ASSERT_FALSE(c.modes.empty());
	// Exact while attaching and calibrating the trap (the probes were on), then sampled.
	EXPECT_EQ(c.modes.back().mode, "sampled");
	EXPECT_EQ(c.modes.back().reason, "forced");
	EXPECT_GT(c.modes.back().sample_fraction, 0);
	EXPECT_LT(c.modes.back().sample_fraction, 0.5);
	nlohmann::json j = probe_cost_json(run.replayed);
	EXPECT_EQ(j["estimated"], (nlohmann::json{"sites.created", "sites.exited"}));
	EXPECT_EQ(j["modes"].back()["mode"], "sampled");
	// The estimates are the live session's (expect_replay_equals_live); how near they are to the
	// truth is test_sampled.cpp's to check.
	EXPECT_GT(gort::testing::site_total(run.replayed, "main.pacedWorker", true), 0u);
}

// Auto mode with a tiny budget: exact, sampled while the churn runs (over budget), exact again
// once it stops (under budget); the file says when and why, and the totals stay exact.
TEST(SampledRecording, AutoModeChangesAreInTheFile)
{
	gort::session::SessionOptions o = gort::testing::auto_tiny_budget_test_options();
	RecordedRun run = record_quiet(o, {"-paced-churn", "3000", "-paced-for", "1s", "-alloc-mb", "32"},
				       [](const ProcessSnapshot &p) { return p.cost.mode == "exact" && p.cost.mode_changes >= 2; });
	expect_replay_equals_live(run);
	expect_replay_equals_the_program(run);
	const auto &modes = run.replayed.cost.modes;
	ASSERT_GE(modes.size(), 3u);
	EXPECT_EQ(modes.front().mode, "exact");
	EXPECT_EQ(modes.front().reason, "start");
	auto over = std::find_if(modes.begin(), modes.end(), [](const auto &m) { return m.reason == "over_budget"; });
	ASSERT_NE(over, modes.end());
	EXPECT_EQ(over->mode, "sampled");
	EXPECT_GT(over->cost_percent, 0.1) << "switched because exact mode cost more than the 0.1% budget";
	EXPECT_GT(over->to_s, over->from_s);
	auto back = std::find_if(over, modes.end(), [](const auto &m) { return m.reason == "under_budget"; });
	ASSERT_NE(back, modes.end());
	EXPECT_EQ(back->mode, "exact");
	EXPECT_LT(back->cost_percent, 0.05) << "back when exact mode would cost under half the budget";
	EXPECT_EQ(modes.back().mode, "exact");
	nlohmann::json j = probe_cost_json(run.replayed);
	EXPECT_EQ(j["estimated"], (nlohmann::json{"sites.created", "sites.exited"})) << "counts from the sampled stretch stay estimates";
}
