// The gctrace line is the runtime's byte for byte: its number formatting (mgc.go itoaDiv,
// fmtNSAsMS) on the edge cases, and a cycle's record decoded as gcMarkTermination computes it.
#include <gtest/gtest.h>

#include <cstring>

#include "user/session/aggregator.h"
#include "user/views/views.h"

namespace {

gort_gc_trace_event event()
{
	gort_gc_trace_event ev{};
	ev.hdr = {GORT_EV_GC_TRACE, 42, 0};
	auto *v = ev.v;
	v[GORT_GC_NUMGC] = 7;
	v[GORT_GC_RUNTIME_INIT_TIME] = 1'000'000'000;
	v[GORT_GC_T_SWEEP_TERM] = 1'000'000'000ull + 2'047'999'999ull;  // @2.047s: truncated, not rounded
	v[GORT_GC_T_MARK] = v[GORT_GC_T_SWEEP_TERM] + 120'999;   // 0.12
	v[GORT_GC_T_MARK_TERM] = v[GORT_GC_T_MARK] + 10'000'000; // whole ms from 10 ms: 10
	v[GORT_GC_T_END] = v[GORT_GC_T_MARK_TERM] + 5'000;       // 0.005
	v[GORT_GC_STWPROCS] = 2;
	v[GORT_GC_MAXPROCS] = 4;
	v[GORT_GC_ASSIST_TIME] = 999;                 // below 1 µs: 0
	v[GORT_GC_DEDICATED_MARK_TIME] = 60'000;
	v[GORT_GC_FRACTIONAL_MARK_TIME] = 40'000;     // 100 µs: 0.10
	v[GORT_GC_IDLE_MARK_TIME] = 9'999'999;        // 9.9
	v[GORT_GC_HEAP0] = (3ull << 20) + 5;
	v[GORT_GC_HEAP1] = (4ull << 20) - 1;          // MB are >>20: 3
	v[GORT_GC_HEAP2] = 1ull << 20;
	v[GORT_GC_HEAP_GOAL] = 4ull << 20;
	v[GORT_GC_STACK_SCAN] = 1ull << 19;
	v[GORT_GC_GLOBALS_SCAN] = 3ull << 20;
	double f = 0.0199;                            // int(f*100): 1
	std::memcpy(&v[GORT_GC_CPU_FRACTION], &f, sizeof f);
	v[GORT_GC_USER_FORCED] = 1;
	v[GORT_GC_GC_PERCENT] = 0xffffffffu;          // int32 -1: GOGC=off
	return ev;
}

} // namespace

TEST(GctraceFormat, LineIsTheRuntimes)
{
	auto c = gort::session::gc_cycle__from_event(event());
	EXPECT_EQ(c.pid, 42);
	EXPECT_EQ(c.gogc, -1);
	EXPECT_EQ(c.cpu_sweep_term_ns, 2u * 120'999);
	EXPECT_EQ(gort::views::gctrace__line(c),
		  "gc 7 @2.047s 1%: 0.12+10+0.005 ms clock, 0.24+0/0.10/9.9+0.010 ms cpu, 3->3->1 MB, 4 MB goal, "
		  "0 MB stacks, 3 MB globals, 4 P (forced)");
	auto j = gort::views::gctrace__json(c);
	EXPECT_EQ(j["heap_start_bytes"].get<uint64_t>(), (3ull << 20) + 5);
	EXPECT_EQ(j["cpu_ns"]["background"].get<uint64_t>(), 100'000u);
	EXPECT_EQ(j["forced"].get<bool>(), true);
}

TEST(GctraceFormat, Bytes)
{
	EXPECT_EQ(gort::views::format__bytes(512), "512B");
	EXPECT_EQ(gort::views::format__bytes(1536), "1.50KiB");
	EXPECT_EQ(gort::views::format__bytes(12'900'000), "12.3MiB");
	EXPECT_EQ(gort::views::format__memory_limit(INT64_MAX), "none");
	EXPECT_EQ(gort::views::format__gogc(-1), "off");
}
