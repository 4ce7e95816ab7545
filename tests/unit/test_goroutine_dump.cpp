// What `gort goroutines` decides without a process: which frames the runtime's traceback at
// level 1 shows, how it prints names, and the runtime's dump format of a goroutine.
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>

#include "user/goprocess/goroutine_groups.h"
#include "user/goprocess/goroutine_stacks.h"
#include "user/goprocess/process.h"
#include "user/views/goroutine_dump.h"

namespace gobinary = gort::gobinary;
namespace goprocess = gort::goprocess;

TEST(GoroutineStacks, PrintNameFoldsTypeParameters)
{
	EXPECT_EQ(goprocess::goroutine_stacks__print_name("main.F[go.shape.int]"), "main.F[...]");
	EXPECT_EQ(goprocess::goroutine_stacks__print_name("main.(*T[go.shape.string]).M"), "main.(*T[...]).M");
	EXPECT_EQ(goprocess::goroutine_stacks__print_name("runtime.gopanic"), "panic");
	EXPECT_EQ(goprocess::goroutine_stacks__print_name("main.main"), "main.main");
}

TEST(GoroutineStacks, ShownFramesFollowTracebackLevelOne)
{
	EXPECT_TRUE(goprocess::goroutine_stacks__shown("main.worker", false, true, ""));
	EXPECT_FALSE(goprocess::goroutine_stacks__shown("runtime.gopark", false, true, ""));
	EXPECT_FALSE(goprocess::goroutine_stacks__shown("runtime.chanrecv1", false, false, "runtime.chanrecv"));
	EXPECT_TRUE(goprocess::goroutine_stacks__shown("runtime.Gosched", false, true, ""));
	EXPECT_TRUE(goprocess::goroutine_stacks__shown("runtime.(*Func).Name", false, true, ""));
	EXPECT_FALSE(goprocess::goroutine_stacks__shown("runtime.(*mheap).alloc", false, true, ""));
	EXPECT_TRUE(goprocess::goroutine_stacks__shown("sync.runtime_SemacquireMutex", false, true, ""));
	EXPECT_FALSE(goprocess::goroutine_stacks__shown("main.main.gowrap1", true, false, "main.worker"));
	EXPECT_TRUE(goprocess::goroutine_stacks__shown("main.(*T).M-fm", true, false, "runtime.gopanic"));
	EXPECT_TRUE(goprocess::goroutine_stacks__shown("runtime.gopanic", false, false, "main.f"));
	EXPECT_FALSE(goprocess::goroutine_stacks__shown("runtime.gopanic", false, true, ""));
	EXPECT_FALSE(goprocess::goroutine_stacks__shown("runtime.goexit", false, false, "main.worker"));
}

namespace {

goprocess::GoroutineInfo parked(uint64_t goid, uint64_t pc, int64_t wait_ns)
{
	goprocess::GoroutineInfo g;
	g.rec.goid = goid;
	g.rec.status = goprocess::G_WAITING;
	g.status = g.wait_reason = "chan receive";
	g.waiting = true;
	g.wait_ns = wait_ns;
	g.state = goprocess::StackState::ok;
	g.stack = std::make_shared<std::vector<goprocess::GoFrame>>(std::vector<goprocess::GoFrame>{
		{"runtime.gopark", "/go/src/runtime/proc.go", 425, false, pc - 0x100, 0xce, false},
		{"main.recv", "/src/main.go", 9, true, pc, 0x25, true},
		{"main.worker", "/src/main.go", 12, false, pc, 0x25, true}});
	g.created_by = {true, true, "main.main", "/src/main.go", 20, 0x3a, 1};
	return g;
}

} // namespace

TEST(GoroutineDump, RuntimeTextFormat)
{
	goprocess::GoroutineDump d;
	d.goroutines.push_back(parked(7, 0x401000, 12 * 60'000'000'000ll + 5));
	goprocess::GoroutineInfo running;
	running.rec.goid = 8;
	running.rec.status = goprocess::G_RUNNING;
	running.status = "running";
	running.state = goprocess::StackState::running;
	running.created_by = {true, true, "main.main", "/src/main.go", 21, 0x40, 1};
	d.goroutines.push_back(running);
	std::ostringstream out;
	gort::views::goroutine_dump__text(out, d, false);
	EXPECT_EQ(out.str(), "goroutine 7 [chan receive, 12 minutes]:\n"
			     "main.recv(...)\n\t/src/main.go:9\n"
			     "main.worker(...)\n\t/src/main.go:12 +0x25\n"
			     "created by main.main in goroutine 1\n\t/src/main.go:20 +0x3a\n"
			     "\n"
			     "goroutine 8 [running]:\n"
			     "\tgoroutine running on other thread; stack unavailable\n"
			     "created by main.main in goroutine 1\n\t/src/main.go:21 +0x40\n");
}

TEST(GoroutineDump, WaitUnderAMinuteHasNoMinutes)
{
	goprocess::GoroutineDump d;
	d.goroutines.push_back(parked(7, 0x401000, 59'999'999'999ll));
	std::ostringstream out;
	gort::views::goroutine_dump__text(out, d, false);
	EXPECT_EQ(out.str().substr(0, out.str().find('\n')), "goroutine 7 [chan receive]:");
}

TEST(GoroutineGroups, SameWaitSameStackFoldAndGrowthIsCompared)
{
	goprocess::GoroutineDump before, now;
	for (uint64_t i = 0; i < 3; i++)
		before.goroutines.push_back(parked(10 + i, 0x401000, 1));
	for (uint64_t i = 0; i < 5; i++)
		now.goroutines.push_back(parked(10 + i, 0x401000, static_cast<int64_t>(i) * 1000));
	now.goroutines.push_back(parked(30, 0x402000, 7));
	auto groups = goprocess::goroutine_groups__waiting(now, 2, false);
	ASSERT_EQ(groups.size(), 1u);
	EXPECT_EQ(groups[0].members.size(), 5u);
	EXPECT_EQ(groups[0].oldest_wait_ns, 4000);
	goprocess::goroutine_groups__compare(groups, goprocess::goroutine_groups__waiting(before, 1, false));
	EXPECT_EQ(groups[0].before, 3u);
	std::ostringstream out;
	gort::views::goroutine_dump__leaks(out, now, groups, 10'000'000'000ll);
	EXPECT_NE(out.str().find("5 goroutines [chan receive]"), std::string::npos) << out.str();
	EXPECT_NE(out.str().find("growing: 3 -> 5 (+2)"), std::string::npos) << out.str();
}

// The torn-read check of `gort goroutines`: the return-address words an unwind used are read
// again and must still hold the values it saw, in one region per stack or word by word.
TEST(GoroutineStacks, SlotsHoldOnlyWhileEveryWordIsUnchanged)
{
	std::vector<uint64_t> stack(64, 0);
	for (size_t i = 0; i < stack.size(); i++)
		stack[i] = 0x1000 + i;
	goprocess::ProcessMemory mem(getpid());
	auto addr = [&](size_t i) { return reinterpret_cast<uint64_t>(&stack[i]); };
	std::vector<std::vector<uint64_t>> slots = {
		{addr(2), stack[2], addr(9), stack[9], addr(40), stack[40]},
		{},
		{addr(1), stack[1], addr(60), stack[60]},
	};
	// One region each, word by word (span limit), and the first whole then word by word (budget).
	for (auto [max_span, max_total] : {std::pair<uint64_t, uint64_t>{4096, 1 << 20}, {8, 1 << 20}, {4096, 400}}) {
		EXPECT_EQ(goprocess::goroutine_stacks__slots_hold(mem, slots, max_span, max_total), (std::vector<bool>{true, true, true}));
		stack[40] = 0xdead;  // the goroutine ran: a frame of its running phase was read
		stack[60] = 0xbeef;
		EXPECT_EQ(goprocess::goroutine_stacks__slots_hold(mem, slots, max_span, max_total), (std::vector<bool>{false, true, false}));
		stack[40] = 0x1000 + 40;
		stack[60] = 0x1000 + 60;
		stack[5] = 0xdead;  // a word between the slots (a local) may change
		EXPECT_EQ(goprocess::goroutine_stacks__slots_hold(mem, slots, max_span, max_total), (std::vector<bool>{true, true, true}));
	}
	slots[2][0] = 8;  // unreadable: not claimed to hold
	EXPECT_EQ(goprocess::goroutine_stacks__slots_hold(mem, slots, 8, 1 << 20), (std::vector<bool>{true, true, false}));
}
