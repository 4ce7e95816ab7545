// The helpers that stand between gort (root) and what other users control: text__escape for
// names reaching a terminal, SafeFile for files gort creates where others can write.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "user/common/error.h"
#include "user/common/escape.h"
#include "user/common/safe_file.h"

namespace gort {
namespace {

TEST(TextEscape, ControlsBecomeVisible)
{
	EXPECT_EQ(text__escape("worker-1"), "worker-1");
	EXPECT_EQ(text__escape("\x1b]0;pwn\x07"), "\\e]0;pwn\\x07");
	EXPECT_EQ(text__escape("a\nb\tc\x7f"), "a\\nb\\tc\\x7f");
	EXPECT_EQ(text__escape("back\\slash"), "back\\\\slash") << "an escape cannot be forged";
	EXPECT_EQ(text__escape(std::string("nul\0x", 5)), "nul\\x00x");
}

TEST(TextEscape, KeepsPrintableUtf8AndEscapesC1BidiAndInvalidBytes)
{
	EXPECT_EQ(text__escape("main.(*Größe).λ"), "main.(*Größe).λ");
	EXPECT_EQ(text__escape("\xc2\x9b" "2J"), "\\u{009b}2J") << "C1 CSI";
	EXPECT_EQ(text__escape("\xe2\x80\xae" "txt"), "\\u{202e}txt") << "right-to-left override";
	EXPECT_EQ(text__escape("\x9b" "2J"), "\\x9b2J") << "a raw C1 byte is not UTF-8";
	EXPECT_EQ(text__escape("\xc0\xaf"), "\\xc0\\xaf") << "overlong";
	EXPECT_EQ(text__escape("\xe2\x82"), "\\xe2\\x82") << "truncated";
}

class SafeFileTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/gort-safefile-XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		dir_ = tmpl;
	}
	void TearDown() override { std::filesystem::remove_all(dir_); }
	std::string file(const std::string &name) const { return dir_ + "/" + name; }
	static std::string read(const std::string &p)
	{
		std::ifstream in(p);
		return std::string(std::istreambuf_iterator<char>(in), {});
	}
	static void write(SafeFile &f, const std::string &s) { ASSERT_EQ(::write(f.fd(), s.data(), s.size()), (ssize_t)s.size()); }
	std::string dir_;
};

TEST_F(SafeFileTest, AppearsWhole0600AtPublishAndLeavesNothingOtherwise)
{
	std::string out = file("out");
	{
		SafeFile f(out, false);
		write(f, "data");
		EXPECT_FALSE(std::filesystem::exists(out)) << "no name before publish";
		f.commit();
	}
	EXPECT_EQ(read(out), "data");
	struct stat st {};
	ASSERT_EQ(lstat(out.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0600u);
	EXPECT_EQ(st.st_uid, getuid());
	{
		SafeFile f(file("never"), false);
		write(f, "x");
	}
	EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1) << "only `out`: nothing left behind";
}

TEST_F(SafeFileTest, RefusesWhatIsThereUnlessARegularFileToReplace)
{
	std::string out = file("out");
	std::ofstream(out) << "old";
	EXPECT_THROW(SafeFile(out, false), UserError);
	{
		SafeFile f(out, true);
		write(f, "new");
		EXPECT_EQ(read(out), "old") << "replaced only at publish";
		f.commit();
	}
	EXPECT_EQ(read(out), "new");

	std::string victim = file("victim"), link = file("link"), fifo = file("fifo");
	std::ofstream(victim) << "precious";
	ASSERT_EQ(symlink(victim.c_str(), link.c_str()), 0);
	ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
	for (bool replace : {false, true}) {
		EXPECT_THROW(SafeFile(link, replace), UserError);
		EXPECT_THROW(SafeFile(fifo, replace), UserError);
		EXPECT_THROW(SafeFile("/dev/null", replace), UserError);
	}
	EXPECT_EQ(read(victim), "precious");
}

TEST_F(SafeFileTest, ASymlinkPlantedAfterTheCheckIsReplacedNotFollowed)
{
	std::string out = file("out"), victim = file("victim");
	std::ofstream(victim) << "precious";
	SafeFile f(out, true);
	write(f, "mine");
	ASSERT_EQ(symlink(victim.c_str(), out.c_str()), 0);  // the race: planted between check and publish
	EXPECT_THROW(f.publish(), UserError) << "refused at publish too";
	EXPECT_EQ(read(victim), "precious");

	SafeFile g(file("new"), false);
	write(g, "mine");
	ASSERT_EQ(symlink(victim.c_str(), file("new").c_str()), 0);
	EXPECT_THROW(g.publish(), UserError) << "linkat never replaces";
	EXPECT_EQ(read(victim), "precious");
}

} // namespace
} // namespace gort
