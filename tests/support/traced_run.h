// Runs the ground-truth workload (tests/workloads/groundtruth and its variants) under a gort
// Session and returns both the program's own report and gort's view of it, for the BPF-tier
// tests (test_groundtruth.cpp: every toolchain; test_variants.cpp: stripped, PIE, cgo, ...).
// Header-only so that every BPF test file can share it without build changes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child.h"
#include "user/session/session.h"
#include "user/views/views.h"

namespace gort::testing {

struct TracedRun {
	nlohmann::json report;  // the program's own figures
	gort::session::ProcessSnapshot traced;
	int exit_status = -1;
};

// tests/workloads/groundtruth/expect.json: what gort must report for the program, in terms of its
// report; the e2e tier (tests/e2e/groundtruth_check.py) checks the same file on gort's --json.
inline const nlohmann::json &groundtruth__expectations()
{
	static const nlohmann::json e = [] {
		std::ifstream in(std::string(GORT_SOURCE_DIR) + "/tests/workloads/groundtruth/expect.json");
		return nlohmann::json::parse(in);
	}();
	return e;
}

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
	opts.slow_syscall_ns = groundtruth__expectations()["syscall_threshold_ns"].get<uint64_t>();
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

inline int64_t site_live(const gort::session::ProcessSnapshot &p, const std::string &function)
{
	int64_t n = 0;
	for (const auto &s : p.sites)
		if (s.function == function)
			n += s.live;
	return n;
}

// The sum of a report map ("created": {"main.worker": 3, ...}).
inline uint64_t report__sum(const nlohmann::json &m)
{
	uint64_t n = 0;
	for (auto &[k, v] : m.items())
		n += v.get<uint64_t>();
	return n;
}

// gort's goroutine totals and per-site live counts at the program's quiet point equal its own
// (traced from before "go"): what sampled mode must get exactly.
inline void expect_goroutines_equal_the_programs(const gort::session::ProcessSnapshot &p, const nlohmann::json &r)
{
	SCOPED_TRACE("go " + r["go_version"].get<std::string>());
	EXPECT_EQ(p.goroutines.created, report__sum(r["created"]));
	EXPECT_EQ(p.goroutines.exited, report__sum(r["exited"]));
	EXPECT_EQ(p.goroutines.live, r["num_goroutine"].get<int64_t>());
	EXPECT_EQ(p.goroutines.live_at_attach, r["num_goroutine_at_start"].get<uint64_t>());
	EXPECT_EQ(site_live(p, "main.leakWorker"), r["created"]["main.leakWorker"].get<int64_t>());
	EXPECT_EQ(site_live(p, "main.sleeper"), 0);
	EXPECT_EQ(site_live(p, "main.churnWorker"), 0);
}

// The two sampled-mode setups the BPF tests run groundtruth's paced churn under (live and
// recorded): forced sampled, a quarter of each 100 ms interval counted; and auto mode with a
// budget the churn exceeds and the quiet program meets, on a fixed trap cost so that the
// switches do not depend on this machine's speed.
inline gort::session::SessionOptions sampled_test_options()
{
	gort::session::SessionOptions o;
	o.goroutine_mode = gort::session::GoroutineMode::sampled;
	o.sample_interval = std::chrono::milliseconds(100);
	o.sample_fraction = 0.25;
	return o;
}

inline gort::session::SessionOptions auto_tiny_budget_test_options()
{
	gort::session::SessionOptions o;
	o.goroutine_mode = gort::session::GoroutineMode::auto_;
	o.sample_interval = std::chrono::milliseconds(100);
	o.overhead = 0.001;
	o.trap_ns = 3000;
	return o;
}

// An operand of expect.json: "gort:PATH", "program:PATH", "sum:program:PATH" or a literal; null
// when a path is missing.
inline nlohmann::json groundtruth__value(const nlohmann::json &expr, const nlohmann::json &gort, const nlohmann::json &program)
{
	if (!expr.is_string())
		return expr;
	std::string e = expr.get<std::string>();
	if (e.rfind("sum:", 0) == 0) {
		nlohmann::json m = groundtruth__value(e.substr(4), gort, program);
		if (!m.is_object())
			return nullptr;
		int64_t n = 0;
		for (const auto &[k, v] : m.items())
			n += v.get<int64_t>();
		return n;
	}
	const nlohmann::json *at = e.rfind("gort:", 0) == 0 ? &gort : e.rfind("program:", 0) == 0 ? &program : nullptr;
	if (!at)
		return expr;
	std::string path = e.substr(e.find(':') + 1);
	for (size_t from = 0; from <= path.size();) {
		size_t dot = std::min(path.find('.', from), path.size());
		std::string key = path.substr(from, dot - from);
		if (!at->is_object() || !at->contains(key))
			return nullptr;
		at = &(*at)[key];
		from = dot + 1;
	}
	return *at;
}

// gort's figures (its JSON of the process) against the program's own, as expect.json says:
// goroutines per start function, NumGoroutine, NumGC, PauseTotalNs to the nanosecond, STW
// reasons, the heap at the gate, the slow nanosleeps within what the program timed, and who made
// them.
// `heap_known`: false where gort cannot know the heap figures (a stripped binary with the offsets
// table switched off): then it must show none, rather than wrong ones.
inline void expect_figures_equal_the_programs_own(const TracedRun &run, bool heap_known = true)
{
	const auto &r = run.report;
	SCOPED_TRACE("go " + r["go_version"].get<std::string>());
	// gort's figures as `top --json` shows them, the schema expect.json names
	const nlohmann::json g = views::json__snapshot({"", {run.traced}})["processes"].at(0);
	const auto &e = groundtruth__expectations();

	EXPECT_EQ(run.exit_status, 0);
	if (!heap_known) {
		EXPECT_TRUE(g["heap"].is_null()) << g["heap"];
	}
	for (const auto &c : e["checks"]) {
		if (!heap_known && c.value("section", "") == "heap")
			continue;
		nlohmann::json got = groundtruth__value(c["got"], g, r), want = groundtruth__value(c["want"], g, r);
		if (c.contains("times") && want.is_number())
			want = want.get<int64_t>() * c["times"].get<int64_t>();
		SCOPED_TRACE(c.dump());
		ASSERT_FALSE(got.is_null());
		ASSERT_FALSE(want.is_null());
		if (c["op"] == "==")
			EXPECT_EQ(got, want);
		else
			EXPECT_GE(got.get<double>(), want.get<double>()) << got << " vs " << want;
	}

	for (const auto &[field, program_map] : e["sites"]["fields"].items())
		for (const auto &[fn, n] : r[program_map.get<std::string>()].items()) {
			int64_t sum = 0;
			for (const auto &s : g["sites"])
				if (s["function"] == fn)
					sum += s[field].get<int64_t>();
			EXPECT_EQ(sum, n.get<int64_t>()) << "sites[" << fn << "]." << field;
		}
	for (const auto &[fn, n] : r["created"].items())
		for (const auto &s : g["sites"])
			if (s["function"] == fn) {
				EXPECT_FALSE(s["system"].get<bool>()) << fn;
			}

	// The slow syscalls, within what the program's timed calls allow: gort counts off-CPU
	// stretches inside a syscall (bpf/syscalls.bpf.c); a call not interrupted slept at least what
	// it asked for in one stretch; every stretch lies inside some call's timed span (give or take
	// expect.json's slack).
	const auto &sl = e["slow_syscall"];
	uint64_t threshold = g["syscall_threshold_ns"].get<uint64_t>(), slack = sl["slack_ns"].get<uint64_t>();
	uint64_t lo = 0, hi = 0, asked_max = 0, asked_sum = 0, took_max = 0, took_sum = 0;
	for (const auto &c : groundtruth__value(sl["calls"], g, r)) {
		uint64_t asked = c["asked_ns"].get<uint64_t>(), took = c["took_ns"].get<uint64_t>();
		if (!c["interrupted"].get<bool>() && asked >= threshold + slack) {
			lo++;
			asked_max = std::max(asked_max, asked - slack);
			asked_sum += asked - slack;
		}
		hi += (took + slack) / threshold;
		took_max = std::max(took_max, took + slack);
		took_sum += took + slack;
	}
	nlohmann::json sc = {{"count", 0}, {"total_ns", 0}, {"max_ns", 0}, {"by_function", nlohmann::json::object()}};
	for (const auto &s : g["syscalls"])
		if (s["name"] == sl["name"])
			sc = s;
	SCOPED_TRACE("timed calls: " + r["nanosleep_calls"].dump() + ", gort: " + g["syscalls"].dump() +
		", runtime waits: " + g["runtime_waits"].dump() + ", lost: " + g["lost_events"].dump());
	uint64_t n = sc["count"].get<uint64_t>();
	EXPECT_GE(n, lo);
	EXPECT_LE(n, hi);
	if (n) {
		EXPECT_EQ(sc["by_function"], nlohmann::json({{sl["function"].get<std::string>(), n}}));
		EXPECT_GE(sc["max_ns"].get<uint64_t>(), asked_max);
		EXPECT_LE(sc["max_ns"].get<uint64_t>(), took_max);
		EXPECT_GE(sc["total_ns"].get<uint64_t>(), asked_sum);
		EXPECT_LE(sc["total_ns"].get<uint64_t>(), took_sum);
	}

	// Beyond the ground truth: the session's own invariants. A lost fact would make any figure
	// above short; say so rather than leave a count mismatch to guess at.
	EXPECT_EQ(g["lost_events"].get<uint64_t>(), 0u);
	for (const auto &w : run.traced.runtime_waits)
		EXPECT_EQ(w.by_function.size(), 0u) << "runtime waits are not attributed to goroutines";
}

} // namespace gort::testing
