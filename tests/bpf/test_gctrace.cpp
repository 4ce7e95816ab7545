// `gort gctrace` against the runtime's own: the ground-truth program runs with GODEBUG=gctrace=1
// on every toolchain (and as a stripped build without DWARF), and each cycle gort read from
// the runtime's bookkeeping must print the very line the runtime printed, with the same heap
// figures in bytes; at the program's quiet gate, its own ReadMemStats equals gort's figures.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "support/child.h"
#include "support/traced_run.h"
#include "support/workloads.h"
#include "support/params.h"
#include "user/session/aggregator.h"
#include "user/session/session.h"
#include "user/views/views.h"

using namespace std::chrono_literals;
using gort::testing::Child;
using gort::testing::GoToolchain;

namespace {

struct Cycles : gort::probes::EventSink {
	std::vector<gort::session::GcCycle> seen;
	void on_event(const gort_event_header &hdr, const void *data, size_t size) override
	{
		if (hdr.kind != GORT_EV_GC_TRACE || size < sizeof(gort_gc_trace_event))
			return;
		gort_gc_trace_event ev;
		std::memcpy(&ev, data, sizeof ev);
		seen.push_back(gort::session::gc_cycle__from_event(ev));
	}
};

struct GctraceRun {
	nlohmann::json report;
	std::vector<gort::session::GcCycle> cycles;
	std::map<uint32_t, std::string> runtime_lines;  // the program's own, by cycle number
	gort::session::ProcessSnapshot traced;
	bool gc_trace = false;
};

// The program's stderr goes to a file: `sh -c 'exec'` keeps the PID, so the child is the Go
// process itself.
GctraceRun run_with_gctrace(const std::string &binary)
{
	char path[] = "/tmp/gort-gctrace-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		throw std::runtime_error("mkstemp");
	close(fd);
	struct Unlink {
		std::string p;
		~Unlink() { unlink(p.c_str()); }
	} cleanup{path};

	Child child({"/bin/sh", "-c", "GODEBUG=gctrace=1 exec \"$0\" 2>\"$1\"", binary, path});
	groundtruth__await_ready(child);

	gort::session::Session session(gort::session::SessionOptions{});
	Cycles cycles;
	session.add_sink(cycles);
	GctraceRun run;
	run.gc_trace = session.attach(child.pid()).gc_trace;
	child.write_line("go");
	run.report = groundtruth__await_report(child, session);
	session.poll(0);
	run.traced = session.snapshot().processes.at(0);  // at the quiet gate: GC is off again
	child.close_stdin();
	if (!child.wait(30s))
		throw std::runtime_error("groundtruth did not exit");
	while (session.has_live_processes())
		session.poll(10);
	run.cycles = cycles.seen;

	std::ifstream err(path);
	for (std::string line; std::getline(err, line);)
		if (line.rfind("gc ", 0) == 0)
			run.runtime_lines[static_cast<uint32_t>(std::stoul(line.substr(3)))] = line;
	return run;
}

int go_minor(const std::string &version)  // "go1.19.8" -> 19
{
	return std::stoi(version.substr(version.find('.') + 1));
}

void expect_lines_equal_the_runtimes(const GctraceRun &run)
{
	ASSERT_TRUE(run.gc_trace);
	// GC is off until the start line, so every cycle of the program ran while gort watched.
	ASSERT_FALSE(run.cycles.empty());
	EXPECT_EQ(run.cycles.size(), run.runtime_lines.size());
	EXPECT_EQ(run.cycles.size(), run.report["num_gc"].get<size_t>());
	for (const auto &c : run.cycles) {
		auto it = run.runtime_lines.find(c.num);
		ASSERT_NE(it, run.runtime_lines.end()) << "gort saw cycle " << c.num << " the runtime did not print";
		std::string ours = gort::views::gctrace__line(c);
		// Go 1.19-1.20's gcStart sets work.userForced before it takes worldsema (mgc.go:616),
		// so a runtime.GC() queued behind this cycle marks the runtime's own line "(forced)";
		// gort has the cycle's own value, read before the next gcStart can run.
		bool next_forced = false;
		for (const auto &n : run.cycles)
			next_forced |= n.num == c.num + 1 && n.forced;
		if (go_minor(run.report["go_version"].get<std::string>()) < 21 && !c.forced && next_forced &&
		    it->second == ours + " (forced)")
			continue;
		EXPECT_EQ(ours, it->second);
		EXPECT_GT(c.heap_start, 0u);
		EXPECT_GT(c.heap_goal, 0u);
	}
}

// At the gate (right after the last runtime.GC(), before its ReadMemStats) nothing else ran a
// cycle: gort's last cycle is the one the program's MemStats describe.
void expect_gate_equals_memstats(const GctraceRun &run)
{
	const auto &gate = run.report["gate"];
	const gort::session::GcCycle *at_gate = nullptr;
	for (const auto &c : run.cycles)
		if (c.num == gate["num_gc"].get<uint32_t>())
			at_gate = &c;
	ASSERT_NE(at_gate, nullptr) << "no cycle numbered " << gate["num_gc"];
	EXPECT_TRUE(at_gate->forced);
	EXPECT_EQ(at_gate->pause_total_ns, gate["pause_total_ns"].get<uint64_t>());
	EXPECT_EQ(at_gate->heap_goal, gate["next_gc"].get<uint64_t>());
	EXPECT_EQ(at_gate->gogc, gate["gogc"].get<int32_t>());
	EXPECT_EQ(at_gate->gomaxprocs, gate["gomaxprocs"].get<int32_t>());
	// The snapshot after the report: GC was switched off again with no cycle since the gate.
	const auto &h = run.traced.heap;
	ASSERT_TRUE(h.known);
	EXPECT_EQ(h.num_gc, gate["num_gc"].get<uint32_t>());
	EXPECT_EQ(h.pause_total_ns, gate["pause_total_ns"].get<uint64_t>());
	EXPECT_EQ(h.goal, gate["next_gc"].get<uint64_t>());
	EXPECT_EQ(h.gomaxprocs, gate["gomaxprocs"].get<int32_t>());
	EXPECT_GT(h.os_threads, 0u);
}

} // namespace

class Gctrace : public ::testing::TestWithParam<GoToolchain> {};

TEST_P(Gctrace, LinesEqualTheRuntimesOwn)
{
	GctraceRun run = run_with_gctrace(gort::testing::workload(GetParam(), "groundtruth"));
	expect_lines_equal_the_runtimes(run);
	expect_gate_equals_memstats(run);
}

// Without .symtab or DWARF: globals decoded from code, offsets from gort's table.
TEST_P(Gctrace, StrippedBinaryLinesEqualTheRuntimesOwn)
{
	GctraceRun run =
		run_with_gctrace(gort::testing::workload(GetParam(), "groundtruth", "stripped"));
	expect_lines_equal_the_runtimes(run);
}

INSTANTIATE_TEST_SUITE_P(EveryToolchain, Gctrace, ::testing::ValuesIn(gort::testing::go_toolchains()),
			 gort::testing::toolchain_name);
