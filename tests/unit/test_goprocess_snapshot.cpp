// /proc readers and the allgs snapshot against the fixture running as a child process.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "support/workloads.h"
#include "support/params.h"
#include "user/common/error.h"
#include "user/goprocess/goroutine_snapshot.h"

using gort::ExitCode;
using gort::UserError;
using gort::gobinary::GoBinary;
using gort::testing::GoToolchain;
namespace goprocess = gort::goprocess;

namespace {

// The fixture, started with `n` leak goroutines; killed when the test ends.
class Fixture {
public:
	Fixture(const std::string &path, int n)
	{
		int in[2], out[2];
		if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
			throw std::runtime_error("pipe");
		pid_ = fork();
		if (pid_ == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			std::string arg = std::to_string(n);
			execl(path.c_str(), path.c_str(), arg.c_str(), nullptr);
			_exit(127);
		}
		close(in[0]);
		close(out[1]);
		stdin_ = in[1];
		stdout_ = out[0];
		// Wait for "ready": every goroutine has been created by then.
		std::string got;
		char c;
		while (got.find("ready\n") == std::string::npos && read(stdout_, &c, 1) == 1)
			got += c;
		if (got != "ready\n")
			throw std::runtime_error("fixture did not say ready: " + got);
	}
	~Fixture()
	{
		if (pid_ > 0) {
			kill(pid_, SIGKILL);
			waitpid(pid_, nullptr, 0);
		}
		close(stdin_);
		close(stdout_);
	}
	pid_t pid() const { return pid_; }
	// Closing stdin lets the program return from main.
	int finish()
	{
		close(stdin_);
		stdin_ = -1;
		int status = 0;
		waitpid(pid_, &status, 0);
		pid_ = -1;
		return status;
	}

private:
	pid_t pid_ = -1;
	int stdin_ = -1, stdout_ = -1;
};

void check_snapshot(const GoBinary &bin, pid_t pid, int n, bool lines = true)
{
	uint64_t bias = goprocess::process__load_bias(pid, bin.first_load_vaddr());
	if (!bin.build_info().pie) {
		EXPECT_EQ(bias, 0u);
	} else {
		EXPECT_NE(bias, 0u);
		EXPECT_EQ(bias & 0xfff, 0u);
	}
	goprocess::ProcessMemory mem(pid);
	auto gs = goprocess::goroutine_snapshot__read(bin, mem, bias);
	std::map<std::string, int> by_fn;
	std::set<uint64_t> goids;
	int leak_line = gort::testing::workload_line("target_fixture", "go leak(ch, i)");
	for (const auto &g : gs) {
		if (!goprocess::goroutine__alive(g))
			continue;
		EXPECT_TRUE(goids.insert(g.goid).second) << "duplicate goid " << g.goid;
		std::string fn = bin.start_function(g.startpc);
		by_fn[fn]++;
		if (fn == "main.leak" && lines) {
			// gopc is the return address of the call to newproc: its line is the go
			// statement's at gopc-1 (the runtime's traceback does the same).
			auto at = bin.locate(g.gopc - 1);
			EXPECT_EQ(at.function, "main.main");
			EXPECT_EQ(at.line, leak_line);
		}
	}
	EXPECT_EQ(by_fn["main.leak"], n);
	EXPECT_EQ(by_fn["main.main.func1"], 1);  // the closure literal, not resolved away
	EXPECT_EQ(by_fn["runtime.main"], 1);     // goroutine 1
	EXPECT_TRUE(goids.count(1));
}

class SnapshotTest : public ::testing::TestWithParam<GoToolchain> {};

} // namespace

TEST_P(SnapshotTest, FindsEveryLeakGoroutine)
{
	auto path = gort::testing::workload(GetParam(), "target_fixture");
	auto bin = GoBinary::open(path);
	Fixture child(path, 7);
	auto info = goprocess::process__info(child.pid());
	EXPECT_EQ(info.pid, child.pid());
	EXPECT_EQ(info.exe, path);
	EXPECT_EQ(info.cmdline, path + " 7");
	EXPECT_FALSE(info.kernel_thread);
	EXPECT_TRUE(goprocess::process__alive(child.pid()));
	// Opening the binary through /proc/PID/exe gives the same answers.
	auto via_proc = GoBinary::open("/proc/" + std::to_string(child.pid()) + "/exe");
	check_snapshot(*via_proc, child.pid(), 7);
	check_snapshot(*bin, child.pid(), 7);
	EXPECT_EQ(child.finish(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllToolchains, SnapshotTest, ::testing::ValuesIn(gort::testing::go_toolchains()), gort::testing::toolchain_name);

TEST(Snapshot, PieBinaryHasLoadBias)
{
	auto path = gort::testing::workload(gort::testing::go_toolchains().back(), "target_fixture", "pie");
	auto bin = GoBinary::open(path);
	Fixture child(path, 3);
	check_snapshot(*bin, child.pid(), 3);
}

// Without DWARF and symbols (-s -w), allgs is found from runtime.allgadd's code and the g layout
// from gort's offsets table; start functions from the pclntab (source lines need DWARF).
TEST(Snapshot, StrippedBinaryUsesTheOffsetsTable)
{
	for (const char *variant : {"stripped", "pie-stripped"}) {
		auto path = gort::testing::workload(gort::testing::go_toolchains().back(), "target_fixture", variant);
		auto bin = GoBinary::open(path);
		ASSERT_TRUE(bin->build_info().stripped);
		Fixture child(path, 4);
		check_snapshot(*bin, child.pid(), 4, false);
	}
}

TEST(Process, ListAndErrors)
{
	auto all = goprocess::process__list_all();
	ASSERT_FALSE(all.empty());
	EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
	EXPECT_TRUE(std::binary_search(all.begin(), all.end(), getpid()));
	EXPECT_TRUE(goprocess::process__alive(getpid()));

	auto self = goprocess::process__info(getpid());
	EXPECT_FALSE(self.comm.empty());
	EXPECT_FALSE(self.kernel_thread);

	auto kthreadd = goprocess::process__info(2);  // kthreadd in the root PID namespace
	if (kthreadd.comm == "kthreadd") {
		EXPECT_TRUE(kthreadd.kernel_thread);
	}

	pid_t gone = 0x3ffffff;
	EXPECT_FALSE(goprocess::process__alive(gone));
	try {
		goprocess::process__info(gone);
		FAIL();
	} catch (const UserError &e) {
		EXPECT_EQ(e.code(), ExitCode::no_process);
		EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos);
	}
	EXPECT_THROW(goprocess::ProcessMemory{gone}, UserError);
	EXPECT_THROW(goprocess::process__load_bias(gone, 0x400000), UserError);
}
