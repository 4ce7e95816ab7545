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
#include "support/temp_file.h"
#include "user/record/recorder.h"
#include "user/record/replay.h"
#include "user/session/aggregator.h"
#include "user/session/session.h"
#include "user/views/views.h"

using namespace std::chrono_literals;
using gort::testing::Child;
using gort::testing::GoToolchain;
using gort::testing::TempFile;

namespace {

struct Cycles : gort::EventSink {
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
	TempFile err_file("gort-gctrace");
	const std::string &path = err_file.path;
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

struct HeapGateRun {
	nlohmann::json report;
	gort::session::ProcessSnapshot at_gate;  // gort's snapshot while the program waits at its gate
	gort::session::ProcessSnapshot replayed; // `report` of a recording that ended at the gate
};

// Forwards to the recorder until the recording is finished (the session outlives it).
struct UntilFinished : gort::EventSink {
	gort::record::Recorder *recorder = nullptr;
	void on_event(const gort_event_header &hdr, const void *data, size_t size) override
	{
		if (recorder)
			recorder->on_event(hdr, data, size);
	}
};

// groundtruth -heap-gate: after its explicit GCs it allocates small objects (left in the Ps'
// mcaches), prints "heap-gate" and allocates nothing until it reads a line; then its own
// runtime.ReadMemStats goes into the report's gate figures. gort's snapshot is taken between.
HeapGateRun run_heap_gate(const std::string &binary)
{
	TempFile recording("gort-heapgate");
	const std::string &path = recording.path;
	Child child({binary, "-heap-gate"});
	groundtruth__await_ready(child);
	gort::session::Session session(gort::session::SessionOptions{});
	gort::record::Writer writer(path, true, gort::record::header__now(0, 1'000'000'000));
	gort::record::Recorder recorder(writer, session.counters());
	UntilFinished sink;
	sink.recorder = &recorder;
	session.add_sink(sink);
	session.attach(child.pid());
	recorder.on_attach(session.process(child.pid()));
	child.write_line("go");
	auto deadline = std::chrono::steady_clock::now() + 120s;
	while (!child.line_ready(10ms)) {
		session.poll(10);
		if (std::chrono::steady_clock::now() > deadline)
			throw std::runtime_error("groundtruth did not reach its heap gate");
	}
	auto line = child.read_line(0ms);
	if (!line || *line != "heap-gate")
		throw std::runtime_error("groundtruth: expected \"heap-gate\", got " + line.value_or("nothing"));
	session.poll(0);  // the last cycle's record
	HeapGateRun run;
	run.at_gate = session.snapshot().processes.at(0);
	recorder.finish(gort::clock__now());  // its last counters record: the gate's
	sink.recorder = nullptr;
	std::vector<std::string> warnings;
	run.replayed = gort::record::recording__report(path, warnings).processes.at(0);
	child.write_line("on");
	run.report = groundtruth__await_report(child, session);
	child.close_stdin();
	if (!child.wait(30s))
		throw std::runtime_error("groundtruth did not exit");
	while (session.has_live_processes())
		session.poll(10);
	return run;
}

// Every MemStats figure gort shows equals the program's own ReadMemStats at the same quiet gate:
// HeapAlloc and HeapObjects to the byte and object (heap_reader.h), the others from the cycle
// record and runtime.gomaxprocs.
void expect_heap_gate_equals_memstats(const HeapGateRun &run)
{
	const auto &gate = run.report["gate"];
	const auto &h = run.at_gate.heap;
	SCOPED_TRACE(run.report["go_version"].get<std::string>());
	ASSERT_TRUE(h.known);
	ASSERT_TRUE(h.alloc_known);
	EXPECT_EQ(h.alloc, gate["heap_alloc"].get<uint64_t>());
	EXPECT_EQ(h.objects, gate["heap_objects"].get<uint64_t>());
	EXPECT_EQ(h.num_gc, gate["num_gc"].get<uint32_t>());
	EXPECT_EQ(h.pause_total_ns, gate["pause_total_ns"].get<uint64_t>());
	EXPECT_EQ(h.goal, gate["next_gc"].get<uint64_t>());
	EXPECT_EQ(h.gogc, gate["gogc"].get<int32_t>());
	EXPECT_EQ(h.gomaxprocs, gate["gomaxprocs"].get<int32_t>());
	EXPECT_GT(h.os_threads, 0u);
	// The recording carries them: its report shows the gate's figures.
	const auto &r = run.replayed.heap;
	EXPECT_TRUE(r.alloc_known);
	EXPECT_EQ(r.alloc, h.alloc);
	EXPECT_EQ(r.objects, h.objects);
	EXPECT_EQ(r.gomaxprocs, h.gomaxprocs);
	EXPECT_GT(r.os_threads, 0u);
	std::printf("heap gate %s: gort HeapAlloc %llu HeapObjects %llu; ReadMemStats %llu %llu\n",
		    run.report["go_version"].get<std::string>().c_str(), static_cast<unsigned long long>(h.alloc),
		    static_cast<unsigned long long>(h.objects), gate["heap_alloc"].get<unsigned long long>(),
		    gate["heap_objects"].get<unsigned long long>());
}

} // namespace

class Gctrace : public ::testing::TestWithParam<GoToolchain> {};

TEST_P(Gctrace, HeapFiguresEqualReadMemStatsAtTheGate)
{
	expect_heap_gate_equals_memstats(run_heap_gate(gort::testing::workload(GetParam(), "groundtruth")));
}

// Without .symtab or DWARF: allp, gomaxprocs and the rest decoded from code, offsets from the table.
TEST_P(Gctrace, StrippedBinaryHeapFiguresEqualReadMemStatsAtTheGate)
{
	expect_heap_gate_equals_memstats(
		run_heap_gate(gort::testing::workload(GetParam(), "groundtruth", "stripped")));
}

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
