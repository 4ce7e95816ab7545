// Runs the ground-truth workload (tests/workloads/groundtruth and its variants) under a gort
// Session and returns both the program's own report and gort's view of it, for the BPF-tier
// tests (test_groundtruth.cpp: every toolchain; test_variants.cpp: stripped, PIE, cgo, ...).
// Header-only so that every BPF test file can share it without build changes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child.h"
#include "user/session/session.h"

namespace gort::testing {

struct TracedRun {
	nlohmann::json report;  // the program's own figures
	gort::session::ProcessSnapshot traced;
	int exit_status = -1;
};

// The ground-truth program's protocol: it prints "ready PID", waits for "go" (sent after attach),
// runs its workload and prints its report as one JSON line.
inline void groundtruth__await_ready(Child &child)
{
	auto ready = child.read_line(std::chrono::seconds(30));
	if (!ready || ready->rfind("ready ", 0) != 0)
		throw std::runtime_error("groundtruth did not start");
}

// Polls the session (so the ring buffer keeps draining) until the report line arrives.
inline nlohmann::json groundtruth__await_report(Child &child, gort::session::Session &session)
{
	using namespace std::chrono_literals;
	auto deadline = std::chrono::steady_clock::now() + 120s;
	while (!child.line_ready(10ms)) {
		session.poll(10);
		if (std::chrono::steady_clock::now() > deadline)
			throw std::runtime_error("groundtruth did not report");
	}
	return nlohmann::json::parse(*child.read_line(0ms));
}

// Starts `argv` (a groundtruth binary and its flags), calls `before_attach(pid)` (e.g. to delete
// the binary), attaches, lets it run its workload, lets it exit, and returns both views.
template <typename BeforeAttach>
TracedRun traced_run(const std::vector<std::string> &argv, BeforeAttach before_attach)
{
	using namespace std::chrono_literals;
	Child child(argv);
	groundtruth__await_ready(child);
	before_attach(child.pid());

	gort::session::SessionOptions opts{};
	opts.slow_syscall_ns = 5'000'000;
	gort::session::Session session(opts);
	session.attach(child.pid());
	child.write_line("go");

	TracedRun run;
	run.report = groundtruth__await_report(child, session);
	child.close_stdin();
	auto status = child.wait(30s);
	if (!status)
		throw std::runtime_error("groundtruth did not exit");
	run.exit_status = *status;
	while (session.has_live_processes())
		session.poll(10);
	run.traced = session.snapshot().processes.at(0);
	return run;
}

inline TracedRun traced_run(const std::vector<std::string> &argv)
{
	return traced_run(argv, [](pid_t) {});
}

inline uint64_t site_total(const gort::session::ProcessSnapshot &p, const std::string &function, bool created)
{
	uint64_t n = 0;
	for (const auto &s : p.sites)
		if (s.function == function)
			n += created ? s.created : s.exited;
	return n;
}

// gort's figures equal the program's own: goroutines per start function, NumGoroutine, NumGC,
// PauseTotalNs to the nanosecond, STW reasons, the deliberate slow nanosleeps and who made them.
inline void expect_figures_equal_the_programs_own(const TracedRun &run)
{
	const auto &p = run.traced;
	const auto &r = run.report;
	SCOPED_TRACE("go " + r["go_version"].get<std::string>());

	EXPECT_TRUE(p.exited);
	EXPECT_EQ(p.go_version, r["go_version"].get<std::string>());
	for (auto &[fn, n] : r["created"].items())
		EXPECT_EQ(site_total(p, fn, true), n.get<uint64_t>()) << "created " << fn;
	for (auto &[fn, n] : r["exited"].items())
		EXPECT_EQ(site_total(p, fn, false), n.get<uint64_t>()) << "exited " << fn;
	std::string live_sites;  // shown when the live counts differ
	for (const auto &s : p.sites)
		if (s.live)
			live_sites += " " + s.function + (s.system ? "(system)" : "") + "=" + std::to_string(s.live);
	EXPECT_EQ(p.goroutines.live, r["num_goroutine"].get<int64_t>()) << live_sites;
	EXPECT_EQ(p.goroutines.live_at_attach, r["num_goroutine_at_start"].get<uint64_t>()) << live_sites;
	EXPECT_GE(p.goroutines.peak, p.goroutines.live);

	EXPECT_EQ(p.gc_cycles, r["num_gc"].get<uint64_t>());
	EXPECT_EQ(p.stw_gc.total_ns, r["pause_total_ns"].get<uint64_t>());
	EXPECT_EQ(p.stw_gc.count, 2 * p.gc_cycles) << "one sweep and one mark termination pause per cycle";
	ASSERT_TRUE(p.stw_by_reason.count("GC sweep termination"));
	EXPECT_EQ(p.stw_by_reason.at("GC sweep termination").count, p.gc_cycles);
	ASSERT_TRUE(p.stw_by_reason.count("GOMAXPROCS"));
	EXPECT_GE(p.stw_by_reason.at("GOMAXPROCS").count, 1u);
	ASSERT_TRUE(p.stw_by_reason.count("read mem stats"));
	EXPECT_EQ(p.stw_by_reason.at("read mem stats").count, r["read_mem_stats_calls"].get<uint64_t>());

	const gort::session::SyscallStats *nanosleep = nullptr;
	for (const auto &s : p.syscalls)
		if (s.name == "nanosleep")
			nanosleep = &s;
	ASSERT_NE(nanosleep, nullptr);
	EXPECT_EQ(nanosleep->count, r["nanosleeps"].get<uint64_t>());
	EXPECT_GE(nanosleep->max_ns, r["nanosleep_ns"].get<uint64_t>());
	ASSERT_TRUE(nanosleep->by_function.count("main.sleeper"));
	EXPECT_EQ(nanosleep->by_function.at("main.sleeper"), r["nanosleeps"].get<uint64_t>());
	for (const auto &w : p.runtime_waits)
		EXPECT_EQ(w.by_function.size(), 0u) << "runtime waits are not attributed to goroutines";
	EXPECT_EQ(p.lost_events, 0u);
	EXPECT_EQ(run.exit_status, 0);
}

} // namespace gort::testing
