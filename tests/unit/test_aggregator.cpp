// The aggregator folds counters and records into the model: checked here with fake sources, so
// every figure's arithmetic is pinned down without BPF.
#include <gtest/gtest.h>

#include <cstring>

#include "user/common/duration.h"
#include "user/session/aggregator.h"
#include "user/views/views.h"

using namespace gort;
using namespace gort::session;

namespace {

struct FakeCounters : CounterSource {
	std::map<pid_t, gort_proc_stats> stat;
	std::vector<std::pair<gort_site_key, gort_site_stats>> site_list;
	std::vector<std::pair<gort_syscall_key, gort_syscall_stats>> syscall_list;
	gort_proc_stats stats(pid_t pid) const override { return stat.count(pid) ? stat.at(pid) : gort_proc_stats{}; }
	std::vector<std::pair<gort_site_key, gort_site_stats>> sites(pid_t) const override { return site_list; }
	std::vector<std::pair<gort_syscall_key, gort_syscall_stats>> syscalls(pid_t) const override { return syscall_list; }
};

struct FakeSymbols : ProcessSymbols {
	SiteNames site(uint64_t startpc, uint64_t) const override
	{
		if (startpc == 0x100)
			return {"main.leak", "main.main", "main.go:10", false};
		if (startpc == 0x200)
			return {"main.churn", "main.main", "main.go:20", false};
		return {"runtime.bgsweep", "runtime.gcenable", "mgc.go:1", true};
	}
	std::string stw_reason(uint32_t r) const override
	{
		return r == 1 ? "GC mark termination" : r == 2 ? "GC sweep termination" : "read mem stats";
	}
};

TracedProcess process(pid_t pid)
{
	TracedProcess p;
	p.pid = pid;
	p.comm = "svc";
	p.go_version = "go1.27.3";
	p.symbols = std::make_shared<FakeSymbols>();
	p.alive_at_attach[{0x100, 0x1}] = 5;  // 5 leakers before attach
	p.alive_at_attach[{0x300, 0x3}] = 4;  // runtime goroutines: not counted as live
	p.attached_mono_ns = 1'000'000'000;
	return p;
}

void send_stw(Aggregator &agg, pid_t pid, uint32_t reason, uint64_t start, uint64_t end)
{
	gort_stw_event ev{};
	ev.hdr = {GORT_EV_STW, static_cast<uint32_t>(pid), end};
	ev.start_ns = start;
	ev.end_ns = end;
	ev.reason = reason;
	agg.on_event(ev.hdr, &ev, sizeof ev);
}

} // namespace

TEST(Aggregator, LiveIsAliveAtAttachPlusCreatedMinusExitedPerSiteAndInTotal)
{
	Aggregator agg(1'000'000);
	agg.add_process(process(7));
	FakeCounters c;
	gort_proc_stats st{};
	st.created = 103;
	st.exited = 101;  // 100 churners + 1 leaker that existed before attach
	st.live_delta = 2;
	st.peak_delta = 40;
	st.sys_created = 1;
	c.stat[7] = st;
	c.site_list = {{{7, 0, 0x100, 0x1}, {3, 1}}, {{7, 0, 0x200, 0x2}, {100, 100}}, {{7, 0, 0x300, 0x3}, {1, 0}}};
	Snapshot snap = agg.snapshot(c, {2'000'000'000, 0});
	ASSERT_EQ(snap.processes.size(), 1u);
	const ProcessSnapshot &p = snap.processes[0];
	EXPECT_EQ(p.goroutines.live_at_attach, 5u);
	EXPECT_EQ(p.goroutines.live, 7);
	EXPECT_EQ(p.goroutines.peak, 45);
	EXPECT_DOUBLE_EQ(p.seconds, 1.0);
	ASSERT_EQ(p.sites.size(), 3u);
	EXPECT_EQ(p.sites[0].function, "main.leak");  // user sites first, by live
	EXPECT_EQ(p.sites[0].live, 7);
	EXPECT_EQ(p.sites[1].function, "main.churn");
	EXPECT_EQ(p.sites[1].live, 0);
	EXPECT_TRUE(p.sites[2].system);
	EXPECT_EQ(p.sites[2].live, 5);
	EXPECT_DOUBLE_EQ(p.created_per_sec, 103.0);
}

TEST(Aggregator, CensusTellsPerSiteWhatItsGoroutinesWaitOnAndTheOldestWait)
{
	Aggregator agg(1'000'000);
	agg.add_process(process(7));
	FakeCounters c;
	const uint64_t now = 1000'000'000'000;
	std::vector<CensusGoroutine> gs;
	for (int i = 0; i < 4; i++)
		gs.push_back({{0x100, 0x1}, "chan receive", static_cast<int64_t>(now - 60'000'000'000ull * (i + 1))});
	gs.push_back({{0x100, 0x1}, "chan receive", 0});  // not yet seen blocked by a GC: no age
	gs.push_back({{0x100, 0x1}, "running", 0});
	agg.set_census(7, gs, now);
	const ProcessSnapshot p = agg.snapshot(c, {now, 0}).processes.at(0);
	ASSERT_EQ(p.sites.at(0).function, "main.leak");
	const auto &w = p.sites[0].waits;
	ASSERT_EQ(w.size(), 2u);
	EXPECT_EQ(w[0].reason, "chan receive");
	EXPECT_EQ(w[0].count, 5u);
	EXPECT_EQ(w[0].oldest_ns, 240'000'000'000u);
	EXPECT_EQ(w[1].reason, "running");
	EXPECT_EQ(w[1].count, 1u);
	EXPECT_EQ(w[1].oldest_ns, 0u);
	EXPECT_EQ(gort::views::format__site_waits(p.sites[0], 1), "5 chan receive, oldest 4m; +1 more");
	EXPECT_TRUE(p.sites.at(1).waits.empty());
	EXPECT_EQ(w[0].change, 0) << "the first census has nothing to compare with";

	gs.push_back({{0x100, 0x1}, "chan receive", 0});
	gs.push_back({{0x100, 0x1}, "chan receive", 0});
	agg.set_census(7, gs, now + 1'000'000'000);
	const ProcessSnapshot q = agg.snapshot(c, {now + 1'000'000'000, 0}).processes.at(0);
	EXPECT_EQ(q.sites.at(0).waits.at(0).count, 7u);
	EXPECT_EQ(q.sites.at(0).waits.at(0).change, 2);
	EXPECT_EQ(gort::views::format__site_waits(q.sites[0], 1), "7 chan receive (+2), oldest 4m; +1 more");
}

TEST(Aggregator, PausesSplitIntoGcAndOtherWithBoundedPercentiles)
{
	Aggregator agg(1'000'000);
	agg.add_process(process(7));
	for (uint64_t i = 1; i <= 100; i++)
		send_stw(agg, 7, i % 2 ? 1 : 2, 1000, 1000 + i * 1000);
	send_stw(agg, 7, 7, 5000, 5000 + 25'000'000);
	send_stw(agg, 8, 1, 0, 999);  // another process: ignored
	FakeCounters c;
	const ProcessSnapshot p = agg.snapshot(c, {2'000'000'000, 0}).processes.at(0);
	EXPECT_EQ(p.stw_gc.count, 100u);
	EXPECT_EQ(p.stw_gc.total_ns, 5050u * 1000);
	EXPECT_EQ(p.stw_gc.max_ns, 100'000u);
	// Exact nearest rank: 50 µs and 99 µs; the sketch's within its stated bound.
	EXPECT_NEAR(double(p.stw_gc.p50_ns), 50'000, 50'000 * DurationSketch::kRelativeError);
	EXPECT_NEAR(double(p.stw_gc.p99_ns), 99'000, 99'000 * DurationSketch::kRelativeError);
	EXPECT_NE(p.stw_gc.p99_ns, p.stw_gc.p50_ns);
	// The histogram buckets are exact: 10 pauses <= 10 µs, 25 <= 25 µs, all 100 <= 100 µs.
	EXPECT_EQ(p.stw_gc.buckets[0], 10u);
	EXPECT_EQ(p.stw_gc.buckets[1], 25u);
	EXPECT_EQ(p.stw_gc.buckets[3], 100u);
	EXPECT_EQ(p.stw_by_reason.at("read mem stats").buckets[9], 0u);   // 25 ms > 10 ms
	EXPECT_EQ(p.stw_by_reason.at("read mem stats").buckets[10], 1u);  // <= 25 ms
	EXPECT_EQ(p.stw_by_reason.at("GC mark termination").count, 50u);
	EXPECT_EQ(p.stw_other.count, 1u);
	EXPECT_EQ(p.stw_by_reason.at("read mem stats").max_ns, 25'000'000u);
	EXPECT_EQ(p.stw_worst_ns, 25'000'000u) << "the longest pause of either kind (here a ReadMemStats)";
}

TEST(Aggregator, SyscallsAreSplitAndAttributedToTheGoroutinesFunction)
{
	Aggregator agg(5'000'000);
	agg.add_process(process(7));
	gort_syscall_event ev{};
	ev.hdr = {GORT_EV_SLOW_SYSCALL, 7, 0};
	ev.nr = 35;
	ev.startpc = 0x200;
	ev.duration_ns = 30'000'000;
	agg.on_event(ev.hdr, &ev, sizeof ev);
	agg.on_event(ev.hdr, &ev, sizeof ev);
	ev.startpc = 0x100;
	for (int i = 0; i < 3; i++)
		agg.on_event(ev.hdr, &ev, sizeof ev);
	FakeCounters c;
	c.syscall_list = {{{7, 35, GORT_SYSCALL_GOROUTINE, 0}, {5, 150'000'000, 30'000'000}},
			  {{7, 0, GORT_SYSCALL_GOROUTINE, 0}, {3, 20'000'000, 8'000'000}},
			  {{7, 202, GORT_SYSCALL_RUNTIME, 0}, {9, 90'000'000, 20'000'000}}};
	const ProcessSnapshot p = agg.snapshot(c, {2'000'000'000, 0}).processes.at(0);
	ASSERT_EQ(p.syscalls.size(), 2u);
	EXPECT_EQ(p.syscalls[0].name, "nanosleep");
	EXPECT_EQ(p.syscalls[1].name, "read");
	EXPECT_EQ(p.slow_syscalls, 8u) << "the goroutines' slow calls of every syscall, not the runtime's waits";
	EXPECT_EQ(p.syscalls[0].by_function.at("main.churn"), 2u);
	EXPECT_EQ(p.syscalls[0].top_functions,
		  (std::vector<std::pair<std::string, uint64_t>>{{"main.leak", 3}, {"main.churn", 2}}))
		<< "most slow calls first";
	ASSERT_EQ(p.runtime_waits.size(), 1u);
	EXPECT_EQ(p.runtime_waits[0].name, "futex");
	EXPECT_EQ(p.syscall_threshold_ns, 5'000'000u);
}

TEST(Aggregator, GrowthIsTheNetChangeOverTheLiveHistory)
{
	Aggregator agg(1'000'000);
	agg.add_process(process(7));
	FakeCounters c;
	c.stat[7].live_delta = 2;  // 5 alive at attach + 2
	EXPECT_EQ(agg.snapshot(c, {2'000'000'000, 0}).processes.at(0).live_growth, 0) << "one point: no growth yet";
	c.stat[7].live_delta = 12;
	EXPECT_EQ(agg.snapshot(c, {3'000'000'000, 0}).processes.at(0).live_growth, 10);
	c.stat[7].live_delta = 7;
	const ProcessSnapshot p = agg.snapshot(c, {4'000'000'000, 0}).processes.at(0);
	EXPECT_EQ(p.live_history, (std::vector<int64_t>{7, 17, 12}));
	EXPECT_EQ(p.live_growth, 5);
}

TEST(Aggregator, AFrozenProcessKeepsItsLastFigures)
{
	Aggregator agg(1'000'000);
	agg.add_process(process(7));
	FakeCounters c;
	c.stat[7].created = 3;
	agg.freeze(7, c, {2'000'000'000, 0});
	c.stat[7].created = 99;  // the map entry is gone or reused: must not matter any more
	const ProcessSnapshot p = agg.snapshot(c, {3'000'000'000, 0}).processes.at(0);
	EXPECT_TRUE(p.exited);
	EXPECT_EQ(p.goroutines.created, 3u);
	EXPECT_FALSE(agg.has_live_processes());
}

TEST(Percentile, NearestRank)
{
	std::vector<uint64_t> none;
	EXPECT_EQ(percentile(none, 0.5), 0u);
	std::vector<uint64_t> one{7};
	EXPECT_EQ(percentile(one, 0.99), 7u);
	std::vector<uint64_t> v{5, 1, 4, 2, 3};
	EXPECT_EQ(percentile(v, 0.5), 3u);
	EXPECT_EQ(percentile(v, 0.99), 5u);
}

TEST(SyscallName, KnownAndUnknown)
{
	EXPECT_EQ(syscall_name(0), "read");
	EXPECT_EQ(syscall_name(202), "futex");
	EXPECT_EQ(syscall_name(100000), "syscall_100000");
}

TEST(Duration, ParsesWhatUsersType)
{
	using std::chrono::nanoseconds;
	EXPECT_EQ(gort::duration__parse("1s"), nanoseconds(1'000'000'000));
	EXPECT_EQ(gort::duration__parse("500ms"), nanoseconds(500'000'000));
	EXPECT_EQ(gort::duration__parse("1.5s"), nanoseconds(1'500'000'000));
	EXPECT_EQ(gort::duration__parse("2m"), nanoseconds(120'000'000'000));
	EXPECT_EQ(gort::duration__parse("250us"), nanoseconds(250'000));
	EXPECT_EQ(gort::duration__parse("250µs"), nanoseconds(250'000));
	EXPECT_EQ(gort::duration__parse("0s"), nanoseconds(0));
	for (const char *bad : {"", "abc", "1", "-1s", "1x", "s", "1.2.3s", "1e3s", "99999999999h"})
		EXPECT_FALSE(gort::duration__parse(bad)) << bad;
}

// The mode history: one span per mode change, the open one ending at the snapshot; a service that
// switches all day keeps a bounded history (the oldest spans folded into one, "mixed").
TEST(Aggregator, ModeHistoryIsSpansAndStaysBounded)
{
	Aggregator agg(1'000'000);
	agg.add_process(process(7));  // attached at 1 s
	FakeCounters c;
	const uint64_t s = 1'000'000'000;
	ProcessSnapshot p = agg.snapshot(c, {3 * s, 0}).processes.at(0);
	ASSERT_EQ(p.cost.modes.size(), 1u);
	EXPECT_EQ(p.cost.modes[0].mode, "exact");
	EXPECT_EQ(p.cost.modes[0].reason, "start");
	EXPECT_EQ(p.cost.modes[0].to_s, 2.0);

	agg.on_mode_change(7, {{4 * s, 0}, true, ModeReason::over_budget, 0.03, 0.01});
	agg.on_mode_change(7, {{6 * s, 0}, false, ModeReason::under_budget, 0.002, 0.01});
	p = agg.snapshot(c, {7 * s, 0}).processes.at(0);
	ASSERT_EQ(p.cost.modes.size(), 3u);
	EXPECT_EQ(p.cost.modes[1].mode, "sampled");
	EXPECT_EQ(p.cost.modes[1].reason, "over_budget");
	EXPECT_EQ(p.cost.modes[1].from_s, 3.0);
	EXPECT_EQ(p.cost.modes[1].to_s, 5.0);
	EXPECT_DOUBLE_EQ(p.cost.modes[1].cost_percent, 3.0);
	EXPECT_EQ(p.cost.modes[1].sample_fraction, 0) << "no reading in it: the probes were off";
	EXPECT_EQ(p.cost.modes[2].to_s, 6.0);

	for (uint64_t i = 0; i < 200; i++)
		agg.on_mode_change(7, {{(8 + i) * s, 0}, i % 2 == 0, ModeReason::over_budget, 0.03, 0.01});
	p = agg.snapshot(c, {300 * s, 0}).processes.at(0);
	ASSERT_EQ(p.cost.modes.size(), 64u);
	EXPECT_EQ(p.cost.modes[0].mode, "mixed");
	EXPECT_EQ(p.cost.modes[0].from_s, 0.0) << "the history still starts at attach";
	for (size_t i = 1; i < p.cost.modes.size(); i++)
		EXPECT_EQ(p.cost.modes[i].from_s, p.cost.modes[i - 1].to_s) << "contiguous";
	EXPECT_EQ(p.cost.modes.back().to_s, 299.0);
}
