// Probe placement on the runtime code of every installed Go toolchain: entry probes land on an
// emulated instruction after the stack check, call/return sites are found by decoding.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "support/workloads.h"
#include "support/params.h"
#include "user/common/error.h"
#include "user/gobinary/probe_plan.h"

using gort::ExitCode;
using gort::UserError;
using gort::gobinary::GoBinary;
using gort::gobinary::Reg;
using gort::testing::GoToolchain;
namespace gobinary = gort::gobinary;

namespace {

class ProbePlanTest : public ::testing::TestWithParam<GoToolchain> {
protected:
	void SetUp() override { bin = GoBinary::open(gort::testing::workload(GetParam(), "target_fixture")); }
	bool push_prologue() const { return bin->build_info().version.at_least(1, 21); }
	std::unique_ptr<GoBinary> bin;
};

void expect_consistent(const GoBinary &bin, const gobinary::AttachPoint &p)
{
	auto f = bin.function(p.function);
	ASSERT_TRUE(f) << p.function;
	EXPECT_GE(p.vaddr, f->addr);
	EXPECT_LT(p.vaddr, f->addr + f->size);
	EXPECT_EQ(bin.file_offset(p.vaddr), p.file_offset);
	EXPECT_FALSE(p.instruction.empty());
	EXPECT_FALSE(p.why.empty());
	EXPECT_EQ(p.why.find('\n'), std::string::npos);
}

} // namespace

TEST_P(ProbePlanTest, Goexit1EntryIsEmulatedAfterStackCheck)
{
	auto p = gobinary::probe_plan__entry(*bin, "runtime.goexit1", {Reg::r14});
	expect_consistent(*bin, p);
	EXPECT_TRUE(p.emulated) << p.instruction;
	auto f = bin->function("runtime.goexit1");
	// `cmp rsp, [r14+0x10]` (4 bytes) + jbe (2 or 6 bytes) come first.
	EXPECT_GE(p.vaddr - f->addr, 6u) << p.instruction;
	if (push_prologue()) {
		EXPECT_EQ(p.instruction, "push rbp");
	}
	auto bytes = bin->read(p.vaddr, 1);
	ASSERT_TRUE(bytes);
	if (push_prologue()) {
		EXPECT_EQ((*bytes)[0], 0x55);
	}
}

TEST_P(ProbePlanTest, StwAndGcEntries)
{
	// Go >= 1.21: every one of these is `[lea r12,..] cmp .., [r14+0x10|0x18]; jbe; push rbp`.
	for (const char *fn : {"runtime.gcMarkTermination", "runtime.startTheWorldWithSema",
			       "runtime.stopTheWorldWithSema", "runtime.newproc1", "runtime.park_m"}) {
		auto p = gobinary::probe_plan__entry(*bin, fn, {Reg::rax, Reg::rbx, Reg::rcx, Reg::r14});
		expect_consistent(*bin, p);
		if (push_prologue()) {
			EXPECT_EQ(p.instruction, "push rbp") << fn;
			EXPECT_TRUE(p.emulated) << fn;
			EXPECT_GT(p.vaddr, bin->function(fn)->addr) << fn;
		}
	}
	// nosplit: no stack check, the push is the first instruction.
	auto p = gobinary::probe_plan__entry(*bin, "runtime.casgstatus", {Reg::rax, Reg::rbx, Reg::rcx});
	EXPECT_TRUE(p.emulated);
	if (push_prologue()) {
		EXPECT_EQ(p.vaddr, bin->function("runtime.casgstatus")->addr);
		EXPECT_EQ(p.instruction, "push rbp");
	}
}

TEST_P(ProbePlanTest, NewprocCallsRunqput)
{
	auto sites = gobinary::probe_plan__call_sites(*bin, "runtime.newproc.func1", "runtime.runqput");
	ASSERT_EQ(sites.size(), 1u);
	expect_consistent(*bin, sites[0]);
	EXPECT_TRUE(sites[0].emulated);
	EXPECT_EQ(sites[0].function, "runtime.newproc.func1");
	EXPECT_EQ(sites[0].instruction.rfind("call ", 0), 0u) << sites[0].instruction;

	auto np1 = gobinary::probe_plan__call_sites(*bin, "runtime.newproc.func1", "runtime.newproc1");
	ASSERT_EQ(np1.size(), 1u);
	EXPECT_LT(np1[0].vaddr, sites[0].vaddr);
	EXPECT_TRUE(gobinary::probe_plan__call_sites(*bin, "runtime.newproc.func1", "runtime.goexit1").empty());
}

TEST_P(ProbePlanTest, StartTheWorldReturnSites)
{
	auto t0 = std::chrono::steady_clock::now();
	auto sites = gobinary::probe_plan__return_sites(*bin, "runtime.", "runtime.startTheWorldWithSema");
	double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
	EXPECT_LT(ms, 200.0);
	ASSERT_FALSE(sites.empty());
	auto stw = bin->function("runtime.startTheWorldWithSema");
	bool gc_start = false;
	for (const auto &s : sites) {
		expect_consistent(*bin, s);
		EXPECT_EQ(s.function.rfind("runtime.", 0), 0u);
		gc_start |= s.function.rfind("runtime.gcStart", 0) == 0;
		// The instruction before the site is `call startTheWorldWithSema` (e8 rel32).
		auto call = bin->read(s.vaddr - 5, 5);
		ASSERT_TRUE(call);
		ASSERT_EQ((*call)[0], 0xe8);
		int32_t rel;
		memcpy(&rel, call->data() + 1, 4);
		EXPECT_EQ(s.vaddr + rel, stw->addr);
	}
	EXPECT_TRUE(gc_start);
	EXPECT_TRUE(gobinary::probe_plan__return_sites(*bin, "main.", "runtime.startTheWorldWithSema").empty());
}

TEST_P(ProbePlanTest, MissingFunctionIsUnsupported)
{
	try {
		gobinary::probe_plan__entry(*bin, "runtime.noSuchFunction", {Reg::rax});
		FAIL();
	} catch (const UserError &e) {
		EXPECT_EQ(e.code(), ExitCode::unsupported);
		EXPECT_NE(std::string(e.what()).find("runtime.noSuchFunction"), std::string::npos);
	}
	EXPECT_THROW(gobinary::probe_plan__call_sites(*bin, "runtime.newproc.func1", "runtime.nope"), UserError);
}

INSTANTIATE_TEST_SUITE_P(AllToolchains, ProbePlanTest, ::testing::ValuesIn(gort::testing::go_toolchains()), gort::testing::toolchain_name);

// Go 1.19-1.20 name their stop-the-world pauses with string constants passed to stopTheWorld
// (or stopTheWorldGC); gort maps BPF's hash of the text back to them.
TEST_P(ProbePlanTest, StopTheWorldReasonStringsBefore121)
{
	if (bin->build_info().version.at_least(1, 21)) {
		EXPECT_TRUE(gobinary::probe_plan__string_arguments(*bin, "runtime.stopTheWorld").empty()) << "stwReason is a uint8";
		return;
	}
	// groundtruth calls ReadMemStats and GOMAXPROCS (the linker drops uncalled ones).
	auto gt = GoBinary::open(gort::testing::workload(GetParam(), "groundtruth"));
	auto texts = gobinary::probe_plan__string_arguments(*gt, "runtime.stopTheWorld");
	auto gc = gobinary::probe_plan__string_arguments(*gt, "runtime.stopTheWorldGC");
	texts.insert(texts.end(), gc.begin(), gc.end());
	for (const char *want : {"read mem stats", "GOMAXPROCS"})
		EXPECT_NE(std::find(texts.begin(), texts.end(), want), texts.end()) << want;
	EXPECT_TRUE(gobinary::probe_plan__string_arguments(*bin, "runtime.noSuchFunction").empty());
}
