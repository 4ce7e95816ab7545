// What `gort goroutines` decides without a process: which frames the runtime's traceback at
// level 1 shows, how it prints names, and the runtime's dump format of a goroutine.
#include <sstream>

#include <gtest/gtest.h>

#include "user/target/goroutine_groups.h"
#include "user/target/goroutine_stacks.h"
#include "user/views/goroutine_dump.h"

namespace t = gort::target;

TEST(GoroutineStacks, PrintNameFoldsTypeParameters)
{
	EXPECT_EQ(t::goroutine_stacks__print_name("main.F[go.shape.int]"), "main.F[...]");
	EXPECT_EQ(t::goroutine_stacks__print_name("main.(*T[go.shape.string]).M"), "main.(*T[...]).M");
	EXPECT_EQ(t::goroutine_stacks__print_name("runtime.gopanic"), "panic");
	EXPECT_EQ(t::goroutine_stacks__print_name("main.main"), "main.main");
}

TEST(GoroutineStacks, ShownFramesFollowTracebackLevelOne)
{
	EXPECT_TRUE(t::goroutine_stacks__shown("main.worker", false, true, ""));
	EXPECT_FALSE(t::goroutine_stacks__shown("runtime.gopark", false, true, ""));
	EXPECT_FALSE(t::goroutine_stacks__shown("runtime.chanrecv1", false, false, "runtime.chanrecv"));
	EXPECT_TRUE(t::goroutine_stacks__shown("runtime.Gosched", false, true, ""));
	EXPECT_TRUE(t::goroutine_stacks__shown("runtime.(*Func).Name", false, true, ""));
	EXPECT_FALSE(t::goroutine_stacks__shown("runtime.(*mheap).alloc", false, true, ""));
	EXPECT_TRUE(t::goroutine_stacks__shown("sync.runtime_SemacquireMutex", false, true, ""));
	EXPECT_FALSE(t::goroutine_stacks__shown("main.main.gowrap1", true, false, "main.worker"));
	EXPECT_TRUE(t::goroutine_stacks__shown("main.(*T).M-fm", true, false, "runtime.gopanic"));
	EXPECT_TRUE(t::goroutine_stacks__shown("runtime.gopanic", false, false, "main.f"));
	EXPECT_FALSE(t::goroutine_stacks__shown("runtime.gopanic", false, true, ""));
	EXPECT_FALSE(t::goroutine_stacks__shown("runtime.goexit", false, false, "main.worker"));
}

namespace {

t::GoroutineInfo parked(uint64_t goid, uint64_t pc, int64_t wait_ns)
{
	t::GoroutineInfo g;
	g.rec.goid = goid;
	g.rec.status = t::G_WAITING;
	g.status = g.wait_reason = "chan receive";
	g.waiting = true;
	g.wait_ns = wait_ns;
	g.state = t::StackState::ok;
	g.stack = std::make_shared<std::vector<t::GoFrame>>(std::vector<t::GoFrame>{
		{"runtime.gopark", "/go/src/runtime/proc.go", 425, false, pc - 0x100, 0xce, false},
		{"main.recv", "/src/main.go", 9, true, pc, 0x25, true},
		{"main.worker", "/src/main.go", 12, false, pc, 0x25, true}});
	g.created_by = {true, true, "main.main", "/src/main.go", 20, 0x3a, 1};
	return g;
}

} // namespace

TEST(GoroutineDump, RuntimeTextFormat)
{
	t::GoroutineDump d;
	d.goroutines.push_back(parked(7, 0x401000, 12 * 60'000'000'000ll + 5));
	t::GoroutineInfo running;
	running.rec.goid = 8;
	running.rec.status = t::G_RUNNING;
	running.status = "running";
	running.state = t::StackState::running;
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
	t::GoroutineDump d;
	d.goroutines.push_back(parked(7, 0x401000, 59'999'999'999ll));
	std::ostringstream out;
	gort::views::goroutine_dump__text(out, d, false);
	EXPECT_EQ(out.str().substr(0, out.str().find('\n')), "goroutine 7 [chan receive]:");
}

TEST(GoroutineGroups, SameWaitSameStackFoldAndGrowthIsCompared)
{
	t::GoroutineDump before, now;
	for (uint64_t i = 0; i < 3; i++)
		before.goroutines.push_back(parked(10 + i, 0x401000, 1));
	for (uint64_t i = 0; i < 5; i++)
		now.goroutines.push_back(parked(10 + i, 0x401000, static_cast<int64_t>(i) * 1000));
	now.goroutines.push_back(parked(30, 0x402000, 7));
	auto groups = t::goroutine_groups__waiting(now, 2, false);
	ASSERT_EQ(groups.size(), 1u);
	EXPECT_EQ(groups[0].members.size(), 5u);
	EXPECT_EQ(groups[0].oldest_wait_ns, 4000);
	t::goroutine_groups__compare(groups, t::goroutine_groups__waiting(before, 1, false));
	EXPECT_EQ(groups[0].before, 3u);
	std::ostringstream out;
	gort::views::goroutine_dump__leaks(out, now, groups, 10'000'000'000ll);
	EXPECT_NE(out.str().find("5 goroutines [chan receive]"), std::string::npos) << out.str();
	EXPECT_NE(out.str().find("growing: 3 -> 5 (+2)"), std::string::npos) << out.str();
}
