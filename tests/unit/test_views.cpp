// The views render a hand-built Snapshot; these tests pin the JSON contract, the grep-friendly
// text lines, and the terminal view's promise to fit the screen it is given.
#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "user/views/views.h"

namespace gort::views {
namespace {

session::ProcessSnapshot example__process()
{
	session::ProcessSnapshot p;
	p.pid = 1234;
	p.comm = "api";
	p.exe = "/usr/bin/api";
	p.go_version = "go1.27.3";
	p.seconds = 12.0;
	p.goroutines = {.created = 1200, .exited = 700, .live = 512, .peak = 530, .live_at_attach = 12,
		.system_created = 40, .system_exited = 38};
	p.created_per_sec = 3.0;
	p.exited_per_sec = 2.0;
	for (int64_t i = 0; i < 60; i++)
		p.live_history.push_back(12 + i * 500 / 59);
	p.live_growth = 500;
	p.sites = {
		{"main.leakWorker", "main.main", "main.go:42", false, 500, 0, 500},
		{"net/http.(*conn).serve", "net/http.(*Server).Serve", "server.go:3285", false, 650, 638, 12},
		{"github.com/example/api/internal/queue.(*Consumer).run.func1", "github.com/example/api/internal/queue.(*Consumer).Start",
			"consumer.go:118", false, 50, 50, 0},
		{"runtime.bgsweep", "runtime.gcenable", "mgc.go:203", true, 1, 0, 1},
	};
	p.gc_cycles = 14;
	p.stw_gc = {.count = 28, .total_ns = 2'900'000, .max_ns = 320'000, .p50_ns = 85'000, .p99_ns = 310'000};
	p.stw_other = {.count = 1, .total_ns = 40'000, .max_ns = 40'000, .p50_ns = 40'000, .p99_ns = 40'000};
	p.stw_by_reason["GC mark termination"] = {.count = 14, .total_ns = 2'000'000, .max_ns = 320'000,
		.p50_ns = 120'000, .p99_ns = 310'000};
	p.stw_by_reason["GC sweep termination"] = {.count = 14, .total_ns = 900'000, .max_ns = 90'000,
		.p50_ns = 60'000, .p99_ns = 90'000};
	p.stw_by_reason["ReadMemStats"] = {.count = 1, .total_ns = 40'000, .max_ns = 40'000, .p50_ns = 40'000,
		.p99_ns = 40'000};
	p.stw_worst_ns = 320'000;
	p.syscall_threshold_ns = 1'000'000;
	p.syscalls = {
		{"nanosleep", 3, 150'000'000, 50'000'000, {{"main.worker", 3}}, {{"main.worker", 3}}},
		{"read", 2, 5'000'000, 3'000'000, {{"main.reader", 1}, {"net/http.(*conn).serve", 1}},
			{{"main.reader", 1}, {"net/http.(*conn).serve", 1}}},
	};
	p.slow_syscalls = 5;
	p.runtime_waits = {{"futex", 120, 3'100'000'000, 200'000'000, {}}};
	p.lost_events = 0;
	p.heap = {.known = true, .num_gc = 14, .pause_total_ns = 2'900'000, .live = 3u << 20, .goal = 8u << 20,
		.gogc = 100, .memory_limit = INT64_MAX, .gomaxprocs = 8, .gc_cpu_fraction = 0.0123, .os_threads = 11,
		.alloc_known = true, .alloc = 5u << 20, .objects = 4321, .live_history = {1 << 20, 2 << 20, 3 << 20}};
	return p;
}

session::Snapshot example__snapshot()
{
	session::Snapshot snap;
	snap.time = "2026-11-28T04:05:06Z";
	snap.processes.push_back(example__process());
	return snap;
}

std::string ansi__strip(const std::string &s)
{
	std::string out;
	for (size_t i = 0; i < s.size(); i++) {
		if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
			i += 2;
			while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e))
				i++;
			continue;
		}
		out += s[i];
	}
	return out;
}

size_t utf8__columns(const std::string &s)
{
	size_t n = 0;
	for (char c : s)
		n += (c & 0xC0) != 0x80;
	return n;
}

std::vector<std::string> lines__split(const std::string &s)
{
	std::vector<std::string> lines;
	std::istringstream in(s);
	for (std::string line; std::getline(in, line);)
		lines.push_back(line);
	return lines;
}

std::vector<std::string> keys__of(const nlohmann::json &j)
{
	std::vector<std::string> keys;
	for (const auto &[k, v] : j.items())
		keys.push_back(k);
	std::sort(keys.begin(), keys.end());
	return keys;
}

// --- JSON ---

TEST(JsonView, WritesOneFlushedLineThatParsesBack)
{
	std::ostringstream out;
	json__write_line(out, example__snapshot());
	std::string s = out.str();
	ASSERT_FALSE(s.empty());
	EXPECT_EQ(s.back(), '\n');
	EXPECT_EQ(s.find('\n'), s.size() - 1);
	auto j = nlohmann::json::parse(s);
	EXPECT_EQ(j, json__snapshot(example__snapshot()));
}

TEST(JsonView, HasTheDocumentedKeysAndValues)
{
	std::ostringstream out;
	json__write_line(out, example__snapshot());
	auto j = nlohmann::json::parse(out.str());

	EXPECT_EQ(keys__of(j), (std::vector<std::string>{"processes", "time"}));
	EXPECT_EQ(j["time"], "2026-11-28T04:05:06Z");
	ASSERT_EQ(j["processes"].size(), 1u);
	const auto &p = j["processes"][0];
	EXPECT_EQ(keys__of(p),
		(std::vector<std::string>{"comm", "exe", "exited", "gc", "go_version", "goroutines", "heap", "lost_events",
			"os_threads", "pid", "probe_cost", "runtime_waits", "seconds", "sites", "slow_syscalls", "stw",
			"syscall_threshold_ns", "syscalls"}));
	EXPECT_EQ(p["pid"], 1234);
	EXPECT_EQ(p["comm"], "api");
	EXPECT_EQ(p["exe"], "/usr/bin/api");
	EXPECT_EQ(p["go_version"], "go1.27.3");
	EXPECT_EQ(p["exited"], false);
	EXPECT_DOUBLE_EQ(p["seconds"].get<double>(), 12.0);

	const auto &g = p["goroutines"];
	EXPECT_EQ(keys__of(g),
		(std::vector<std::string>{"created", "created_per_sec", "exited", "exited_per_sec", "growth", "live",
			"live_at_attach", "peak", "system_created", "system_exited"}));
	EXPECT_EQ(g["created"], 1200);
	EXPECT_EQ(g["exited"], 700);
	EXPECT_EQ(g["live"], 512);
	EXPECT_EQ(g["peak"], 530);
	EXPECT_EQ(g["live_at_attach"], 12);
	EXPECT_EQ(g["system_created"], 40);
	EXPECT_EQ(g["system_exited"], 38);
	EXPECT_DOUBLE_EQ(g["created_per_sec"].get<double>(), 3.0);
	EXPECT_DOUBLE_EQ(g["exited_per_sec"].get<double>(), 2.0);
	EXPECT_EQ(g["growth"], 500);

	ASSERT_EQ(p["sites"].size(), 4u);
	const auto &site = p["sites"][0];
	EXPECT_EQ(keys__of(site),
		(std::vector<std::string>{"created", "created_at", "created_by", "exited", "function", "live", "system", "waits"}));
	EXPECT_EQ(site["function"], "main.leakWorker");
	EXPECT_EQ(site["created_by"], "main.main");
	EXPECT_EQ(site["created_at"], "main.go:42");
	EXPECT_EQ(site["created"], 500);
	EXPECT_EQ(site["exited"], 0);
	EXPECT_EQ(site["live"], 500);
	EXPECT_EQ(site["system"], false);
	EXPECT_EQ(p["sites"][3]["system"], true);

	EXPECT_EQ(p["gc"], (nlohmann::json{{"cycles", 14}, {"per_sec", 0.0}, {"recent", nlohmann::json::array()}}));
	EXPECT_EQ(keys__of(p["heap"]), (std::vector<std::string>{"alloc_bytes", "gc_cpu_fraction", "goal_bytes", "gogc",
		"gomaxprocs", "live_bytes", "live_history_bytes", "memory_limit_bytes", "num_gc", "objects", "pause_total_ns"}));
	EXPECT_EQ(p["heap"]["alloc_bytes"], 5u << 20);
	EXPECT_EQ(p["heap"]["objects"], 4321);
	EXPECT_EQ(p["heap"]["goal_bytes"], 8u << 20);
	EXPECT_EQ(p["heap"]["memory_limit_bytes"], INT64_MAX);
	EXPECT_EQ(p["os_threads"], 11);
	EXPECT_EQ(keys__of(p["stw"]), (std::vector<std::string>{"by_reason", "gc", "other", "worst_ns"}));
	EXPECT_EQ(p["stw"]["worst_ns"], 320'000);
	const auto pause_keys = std::vector<std::string>{"count", "max_ns", "p50_ns", "p99_ns", "total_ns"};
	EXPECT_EQ(keys__of(p["stw"]["gc"]), pause_keys);
	EXPECT_EQ(p["stw"]["gc"]["count"], 28);
	EXPECT_EQ(p["stw"]["gc"]["total_ns"], 2'900'000);
	EXPECT_EQ(p["stw"]["gc"]["max_ns"], 320'000);
	EXPECT_EQ(p["stw"]["gc"]["p50_ns"], 85'000);
	EXPECT_EQ(p["stw"]["gc"]["p99_ns"], 310'000);
	EXPECT_EQ(p["stw"]["other"]["count"], 1);
	const auto &reason = p["stw"]["by_reason"]["GC mark termination"];
	EXPECT_EQ(keys__of(reason), pause_keys);
	EXPECT_EQ(reason["count"], 14);
	EXPECT_EQ(reason["max_ns"], 320'000);
	EXPECT_EQ(p["stw"]["by_reason"].size(), 3u);

	EXPECT_EQ(p["syscall_threshold_ns"], 1'000'000);
	EXPECT_EQ(p["slow_syscalls"], 5);
	ASSERT_EQ(p["syscalls"].size(), 2u);
	const auto &sc = p["syscalls"][0];
	EXPECT_EQ(keys__of(sc), (std::vector<std::string>{"by_function", "count", "max_ns", "name", "total_ns"}));
	EXPECT_EQ(sc["name"], "nanosleep");
	EXPECT_EQ(sc["count"], 3);
	EXPECT_EQ(sc["total_ns"], 150'000'000);
	EXPECT_EQ(sc["max_ns"], 50'000'000);
	EXPECT_EQ(sc["by_function"], (nlohmann::json{{"main.worker", 3}}));

	ASSERT_EQ(p["runtime_waits"].size(), 1u);
	const auto &w = p["runtime_waits"][0];
	EXPECT_EQ(keys__of(w), (std::vector<std::string>{"count", "max_ns", "name", "total_ns"}));
	EXPECT_EQ(w["name"], "futex");
	EXPECT_EQ(w["count"], 120);
	EXPECT_EQ(w["total_ns"], 3'100'000'000ull);
	EXPECT_EQ(p["lost_events"], 0);
}

TEST(JsonView, EmptyCollectionsKeepTheirTypes)
{
	session::Snapshot snap;
	snap.time = "t";
	auto j = json__snapshot(snap);
	EXPECT_TRUE(j["processes"].is_array());

	snap.processes.push_back({});
	j = json__snapshot(snap);
	const auto &p = j["processes"][0];
	EXPECT_TRUE(p["sites"].is_array());
	EXPECT_TRUE(p["syscalls"].is_array());
	EXPECT_TRUE(p["runtime_waits"].is_array());
	EXPECT_TRUE(p["stw"]["by_reason"].is_object());
}

TEST(JsonView, InvalidUtf8DoesNotThrow)
{
	auto snap = example__snapshot();
	snap.processes[0].comm = "bad\xff";
	std::ostringstream out;
	EXPECT_NO_THROW(json__write_line(out, snap));
	EXPECT_TRUE(nlohmann::json::accept(out.str()));
}

// --- text ---

TEST(TextView, WritesTheExpectedLines)
{
	std::ostringstream out;
	text__write(out, example__snapshot());
	auto lines = lines__split(out.str());
	auto has = [&](const std::string &line) { return std::find(lines.begin(), lines.end(), line) != lines.end(); };

	ASSERT_FALSE(lines.empty());
	EXPECT_EQ(lines[0], "2026-11-28T04:05:06Z pid=1234 comm=api go=go1.27.3 up=12.0s");
	EXPECT_TRUE(has("  goroutines live=512 (+3.0/s created, 2.0/s exited) created=1200 exited=700 peak=530 "
	                "at_attach=12 system_created=40 system_exited=38 growth=500"))
		<< out.str();
	EXPECT_TRUE(has("  site main.leakWorker created_by=main.main at=main.go:42 live=500 created=500 exited=0"));
	EXPECT_TRUE(has("  gc cycles=14  stw gc: n=28 p50=85.0µs p99=310µs max=320µs total=2.90ms  other: n=1 max=40.0µs"
	                "  worst=320µs"));
	EXPECT_TRUE(has("  stw reason=\"GC mark termination\" n=14 p99=310µs max=320µs total=2.00ms"));
	EXPECT_TRUE(has("  heap live=3.00MiB goal=8.00MiB gogc=100 memory_limit=none gomaxprocs=8 gc_cpu=1.23% threads=11 alloc=5.00MiB objects=4321"));
	EXPECT_TRUE(has("  slow_syscalls n=5 threshold=1.00ms"));
	EXPECT_TRUE(has("  syscall nanosleep n=3 total=150ms max=50.0ms by=main.worker:3"));
	EXPECT_TRUE(has("  runtime-waits futex n=120 total=3.10s max=200ms"));
	EXPECT_EQ(lines.back(), "  lost_events=0");
	// User sites only: the runtime's bgsweep is hidden while the program has its own.
	EXPECT_EQ(out.str().find("runtime.bgsweep"), std::string::npos);
}

TEST(TextView, ShowsSystemSitesOnlyWhenThereAreNoUserSites)
{
	auto snap = example__snapshot();
	auto &sites = snap.processes[0].sites;
	sites.erase(sites.begin(), sites.begin() + 3);
	std::ostringstream out;
	text__write(out, snap);
	EXPECT_NE(out.str().find("  site runtime.bgsweep created_by=runtime.gcenable at=mgc.go:203 live=1 created=1 "
	                         "exited=0 system\n"),
		std::string::npos)
		<< out.str();
}

TEST(TextView, KeepsTopTenSitesAndMarksExitAndQuotesOddNames)
{
	auto snap = example__snapshot();
	auto &p = snap.processes[0];
	p.exited = true;
	p.comm = "my app";
	p.sites.clear();
	for (int i = 0; i < 15; i++)
		p.sites.push_back({fmt::format("main.w{}", i), "main.main", "", false, 1, 0, 1});
	std::ostringstream out;
	text__write(out, snap);
	auto lines = lines__split(out.str());
	EXPECT_EQ(lines[0], "2026-11-28T04:05:06Z pid=1234 comm=\"my app\" go=go1.27.3 up=12.0s exited");
	auto sites = std::count_if(lines.begin(), lines.end(), [](const auto &l) { return l.rfind("  site ", 0) == 0; });
	EXPECT_EQ(sites, 10);
	EXPECT_NE(out.str().find("  site main.w0 created_by=main.main at=? live=1"), std::string::npos);
}

// --- terminal ---

void expect__fits(const std::string &screen, size_t width, size_t height)
{
	auto lines = lines__split(ansi__strip(screen));
	EXPECT_LE(lines.size(), height);
	for (const auto &line : lines)
		EXPECT_LE(utf8__columns(line), width) << "line: " << line;
	EXPECT_TRUE(screen.empty() || screen.back() != '\n');  // a full screen must not scroll
}

TEST(TuiView, SitesShowWhatTheirGoroutinesWaitOnFromTheCensus)
{
	auto snap = example__snapshot();
	for (auto &s : snap.processes.at(0).sites)
		if (s.function == "main.leakWorker")
			s.waits = {{"chan receive", 498, 14 * 60'000'000'000ull, 12}, {"running", 2, 0, 0}};
	for (int width : {80, 160}) {
		auto screen = tui__render(snap, width, 24);
		expect__fits(screen, static_cast<size_t>(width), 24);
		auto plain = ansi__strip(screen);
		EXPECT_NE(plain.find("main.leakWorker"), std::string::npos) << plain;
		if (width >= 120) {
			EXPECT_NE(plain.find("WAITING ON"), std::string::npos) << plain;
			EXPECT_NE(plain.find("498 chan receive (+12), oldest 14m"), std::string::npos) << plain;
		}
	}
	std::ostringstream text;
	text__write(text, snap);
	EXPECT_NE(text.str().find("waiting=\"498 chan receive (+12), oldest 14m; 2 running\""), std::string::npos)
		<< text.str();
	auto j = json__snapshot(snap);
	bool found = false;
	for (const auto &s : j["processes"][0]["sites"])
		if (s["function"] == "main.leakWorker") {
			found = true;
			EXPECT_EQ(s["waits"][0]["reason"], "chan receive");
			EXPECT_EQ(s["waits"][0]["count"], 498);
			EXPECT_EQ(s["waits"][0]["change"], 12);
		}
	EXPECT_TRUE(found);
}

TEST(TuiView, FitsEightyByTwentyFour)
{
	auto screen = tui__render(example__snapshot(), 80, 24);
	expect__fits(screen, 80, 24);
	auto plain = ansi__strip(screen);
	EXPECT_NE(plain.find("q to quit"), std::string::npos);
	EXPECT_NE(plain.find("PID 1234"), std::string::npos);
	EXPECT_NE(plain.find("go1.27.3"), std::string::npos);
	EXPECT_NE(plain.find("main.leakWorker"), std::string::npos);
	EXPECT_NE(plain.find("FUNCTION"), std::string::npos);
	EXPECT_NE(plain.find("GC cycles 14"), std::string::npos);
	EXPECT_NE(plain.find("GC mark termination"), std::string::npos);
	EXPECT_NE(plain.find("nanosleep"), std::string::npos);
	EXPECT_NE(plain.find("futex"), std::string::npos);
	EXPECT_NE(plain.find("lost events 0"), std::string::npos);
	EXPECT_NE(plain.find("▁"), std::string::npos);
	EXPECT_NE(plain.find("█"), std::string::npos);
}

TEST(TuiView, FitsManySizesAndProcessCounts)
{
	auto one = example__process();
	for (size_t n : {1u, 2u, 3u, 7u, 40u}) {
		session::Snapshot snap;
		snap.time = "2026-11-28T04:05:06Z";
		for (size_t i = 0; i < n; i++) {
			snap.processes.push_back(one);
			snap.processes.back().pid = static_cast<pid_t>(1000 + i);
		}
		for (auto [w, h] : {std::pair{80, 24}, {160, 50}, {100, 30}, {40, 10}, {20, 3}, {1, 1}, {200, 5}}) {
			SCOPED_TRACE(fmt::format("{} processes at {}x{}", n, w, h));
			expect__fits(tui__render(snap, w, h), static_cast<size_t>(w), static_cast<size_t>(h));
		}
	}
	EXPECT_NE(ansi__strip(tui__render(example__snapshot(), 40, 12)).find("q to quit"), std::string::npos);
	EXPECT_EQ(tui__render(example__snapshot(), 0, 24), "");
	EXPECT_EQ(tui__render(example__snapshot(), 80, 0), "");
}

TEST(TuiView, StacksProcessesWithAFairShare)
{
	session::Snapshot snap;
	snap.time = "t";
	snap.processes = {example__process(), example__process()};
	snap.processes[1].pid = 5678;
	auto plain = ansi__strip(tui__render(snap, 80, 24));
	auto lines = lines__split(plain);
	EXPECT_EQ(lines.size(), 24u);
	size_t first = 0, second = 0;
	for (size_t i = 0; i < lines.size(); i++) {
		if (lines[i].find("PID 1234") != std::string::npos)
			first = i;
		if (lines[i].find("PID 5678") != std::string::npos)
			second = i;
	}
	EXPECT_EQ(first, 1u);
	// Each gets half of the 23 lines under the title.
	EXPECT_GE(second, 11u);
	EXPECT_LE(second, 13u);
	// Both show their leak.
	EXPECT_EQ(std::count(lines.begin(), lines.end(), lines[first + 3]), 2) << plain;
}

TEST(TuiView, SlowPausesAreRedAndTheTopSiteIsBold)
{
	auto snap = example__snapshot();
	auto &p = snap.processes[0];
	p.stw_gc.max_ns = 25'000'000;  // 25 ms: trouble
	auto screen = tui__render(snap, 80, 24);
	EXPECT_NE(screen.find("\x1b[1;31m" + format__duration_ns(25'000'000)), std::string::npos) << screen;
	// Sub-10 ms figures are not red.
	EXPECT_EQ(screen.find("\x1b[1;31m" + format__duration_ns(320'000)), std::string::npos);
	EXPECT_NE(screen.find("\x1b[1mmain.leakWorker"), std::string::npos);
}

TEST(TuiView, MarksExitAndLostEvents)
{
	auto snap = example__snapshot();
	snap.processes[0].exited = true;
	snap.processes[0].lost_events = 17;
	auto screen = tui__render(snap, 120, 40);
	EXPECT_NE(ansi__strip(screen).find("EXITED"), std::string::npos);
	EXPECT_NE(screen.find("\x1b[1;93;44m  lost events 17"), std::string::npos) << screen;
}

TEST(TuiView, EmptySnapshot)
{
	session::Snapshot snap;
	snap.time = "t";
	auto screen = tui__render(snap, 80, 24);
	expect__fits(screen, 80, 24);
	EXPECT_NE(ansi__strip(screen).find("No Go process"), std::string::npos);
	// A fresh process with nothing yet renders without tables.
	snap.processes.push_back({});
	expect__fits(tui__render(snap, 80, 24), 80, 24);
}

// --- formatting ---

TEST(Format, DurationBoundaries)
{
	EXPECT_EQ(format__duration_ns(0), "0ns");
	EXPECT_EQ(format__duration_ns(850), "850ns");
	EXPECT_EQ(format__duration_ns(999), "999ns");
	EXPECT_EQ(format__duration_ns(1000), "1.00µs");
	EXPECT_EQ(format__duration_ns(9'994), "9.99µs");
	EXPECT_EQ(format__duration_ns(9'996), "10.0µs");
	EXPECT_EQ(format__duration_ns(12'345), "12.3µs");
	EXPECT_EQ(format__duration_ns(99'940), "99.9µs");
	EXPECT_EQ(format__duration_ns(99'960), "100µs");
	EXPECT_EQ(format__duration_ns(999'400), "999µs");
	EXPECT_EQ(format__duration_ns(999'600), "1.00ms");
	EXPECT_EQ(format__duration_ns(1'000'000), "1.00ms");
	EXPECT_EQ(format__duration_ns(4'560'000), "4.56ms");
	EXPECT_EQ(format__duration_ns(999'999'999), "1.00s");
	EXPECT_EQ(format__duration_ns(1'200'000'000), "1.20s");
	EXPECT_EQ(format__duration_ns(3'600'000'000'000), "3600s");
	EXPECT_FALSE(format__duration_ns(UINT64_MAX).empty());
}

TEST(Format, SparklineScalesBetweenMinAndMax)
{
	EXPECT_EQ(format__sparkline({0, 1, 2, 3, 4, 5, 6, 7}, 8), "▁▂▃▄▅▆▇█");
	EXPECT_EQ(format__sparkline({100, 107}, 8), "▁█");
	EXPECT_EQ(format__sparkline({-5, 5}, 8), "▁█");
}

TEST(Format, SparklineConstantAndEmpty)
{
	EXPECT_EQ(format__sparkline({}, 10), "");
	EXPECT_EQ(format__sparkline({1, 2, 3}, 0), "");
	EXPECT_EQ(format__sparkline({42, 42, 42}, 10), "▁▁▁");
	EXPECT_EQ(format__sparkline({0}, 10), "▁");
}

TEST(Format, SparklineTruncationKeepsTheNewest)
{
	// The old spike falls off the left; the newest values are rescaled on their own.
	EXPECT_EQ(format__sparkline({1000, 0, 7, 0}, 3), "▁█▁");
	EXPECT_EQ(format__sparkline({0, 0, 0, 0, 0, 1}, 2), "▁█");
}

} // namespace
} // namespace gort::views

// --- the system-wide table ---

namespace gort::views {
namespace {

session::Snapshot table__snapshot()
{
	session::Snapshot snap;
	snap.time = "2026-11-28T04:05:06Z";
	auto add = [&](pid_t pid, const char *comm, int64_t live, std::vector<int64_t> history, double gc_per_sec,
		       uint64_t worst_ns) {
		session::ProcessSnapshot p;
		p.pid = pid;
		p.comm = comm;
		p.go_version = "go1.27.3";
		p.goroutines.live = live;
		p.live_history = std::move(history);
		p.live_growth = p.live_history.back() - p.live_history.front();
		p.gc_per_sec = gc_per_sec;
		p.stw_gc.max_ns = worst_ns;
		p.stw_worst_ns = worst_ns;
		snap.processes.push_back(p);
	};
	add(300, "steady", 900, {900, 900, 900}, 0.5, 200'000);
	add(100, "leaky", 500, {100, 300, 500}, 2.0, 25'000'000);
	add(200, "quiet", 10, {10, 10}, 0.0, 0);
	return snap;
}

std::vector<pid_t> pids_in(const std::vector<const session::ProcessSnapshot *> &rows)
{
	std::vector<pid_t> pids;
	for (const auto *p : rows)
		pids.push_back(p->pid);
	return pids;
}

} // namespace

TEST(TableView, RowsFollowTheSortKey)
{
	auto snap = table__snapshot();
	EXPECT_EQ(pids_in(table__rows(snap, SortKey::live)), (std::vector<pid_t>{300, 100, 200}));
	EXPECT_EQ(pids_in(table__rows(snap, SortKey::growth)), (std::vector<pid_t>{100, 200, 300}));
	EXPECT_EQ(pids_in(table__rows(snap, SortKey::gc_rate)), (std::vector<pid_t>{100, 300, 200}));
	EXPECT_EQ(pids_in(table__rows(snap, SortKey::worst_stw)), (std::vector<pid_t>{100, 300, 200}));
	EXPECT_EQ(pids_in(table__rows(snap, SortKey::pid)), (std::vector<pid_t>{100, 200, 300}));
	SortKey k = SortKey::live;
	for (int i = 0; i < 6; i++)
		k = sort_key__next(k);
	EXPECT_EQ(k, SortKey::live) << "s cycles through every key and back";
}

TEST(TableView, FitsTheTerminalAndMarksTroubleAndTheSelection)
{
	auto snap = table__snapshot();
	for (auto [w, h] : {std::pair{80, 24}, {120, 40}, {40, 3}, {20, 2}})
		expect__fits(tui__render_table(snap, w, h, {}), static_cast<size_t>(w), static_cast<size_t>(h));
	std::string screen = tui__render_table(snap, 120, 10, {SortKey::growth, 0});
	EXPECT_NE(screen.find("sorted by goroutine growth"), std::string::npos);
	size_t red = screen.find("\x1b[1;31m");
	ASSERT_NE(red, std::string::npos) << "a pause over 10 ms stands out";
	EXPECT_NE(screen.substr(red, screen.find("\x1b[0m", red) - red).find("25.0ms"), std::string::npos);
	EXPECT_NE(screen.find("+400"), std::string::npos) << "the leak's growth over its history";
	// With 2 rows of room, selecting the third row scrolls it into view.
	std::string scrolled = tui__render_table(snap, 120, 4, {SortKey::live, 2});
	EXPECT_NE(scrolled.find("quiet"), std::string::npos);
	EXPECT_EQ(scrolled.find("steady"), std::string::npos);
	EXPECT_NE(tui__render_table({}, 80, 5, {}).find("No Go process traced yet"), std::string::npos);
}

} // namespace gort::views
