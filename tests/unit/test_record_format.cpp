// The session file without BPF: synthetic records written by the Writer and read back; every
// prefix and every corrupted byte of a small file read without a crash (an error or a warning,
// and never records that were not written); a replay agrees with the live aggregator it mirrors;
// files are 0600 and never overwritten by accident.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <zstd.h>

#include "user/common/error.h"
#include "user/export/chrome_trace.h"
#include "user/record/reader.h"
#include "user/record/recorder.h"
#include "user/record/replay.h"
#include "user/record/writer.h"
#include "user/views/views.h"

using namespace gort;
using namespace gort::record;

namespace {

class TempDir {
public:
	TempDir()
	{
		char tmpl[] = "/tmp/gort-record-unit-XXXXXX";
		if (!mkdtemp(tmpl))
			throw std::runtime_error("mkdtemp failed");
		path_ = tmpl;
	}
	~TempDir() { std::filesystem::remove_all(path_); }
	std::string file(const std::string &name) const { return path_ + "/" + name; }

private:
	std::string path_;
};

std::vector<uint8_t> file__bytes(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

constexpr uint32_t kPid = 4242;
constexpr uint64_t kT0 = 1'000'000'000'000;  // the recording's start, CLOCK_MONOTONIC

FileHeader header()
{
	FileHeader h;
	h.host = "testhost";
	h.kernel = "Linux 6.18.0 #1 SMP x86_64";
	h.start_wall_ns = 1'795'000'000'000'000'000;
	h.start_mono_ns = kT0;
	h.slow_syscall_ns = 5'000'000;
	h.interval_ns = 1'000'000'000;
	return h;
}

ProcessRecord process()
{
	ProcessRecord p;
	p.pid = kPid;
	p.attached_mono_ns = kT0 + 1000;
	p.comm = "svc";
	p.exe = "/usr/bin/svc";
	p.go_version = "go1.27.3";
	p.exe_size = 123456;
	p.exe_mtime_ns = 42;
	p.alive_at_attach = {{0x100, 0x10, 5}, {0x300, 0x30, 3}};
	p.stw_reasons.resize(GORT_MAX_STW_REASON);
	p.stw_reasons[1] = "GC mark termination";
	p.stw_reasons[2] = "GC sweep termination";
	p.stw_reasons[5] = "read mem stats";
	return p;
}

std::vector<SiteNamesRecord> site_names()
{
	return {{kPid, 0x100, 0x10, false, "main.leak", "main.main", "main.go:10"},
		{kPid, 0x200, 0x20, false, "main.worker", "main.main", "main.go:20"},
		{kPid, 0x300, 0x30, true, "runtime.bgsweep", "runtime.gcenable", "mgc.go:1"}};
}

gort_stw_event stw(uint32_t reason, uint64_t start, uint64_t end)
{
	gort_stw_event ev{};
	ev.hdr = {GORT_EV_STW, kPid, end};
	ev.start_ns = start;
	ev.end_ns = end;
	ev.reason = reason;
	return ev;
}

gort_syscall_event slow_syscall(uint64_t end, uint64_t goid)
{
	gort_syscall_event ev{};
	ev.hdr = {GORT_EV_SLOW_SYSCALL, kPid, end};
	ev.duration_ns = 30'000'000;
	ev.goid = goid;
	ev.startpc = 0x200;
	ev.gopc = 0x20;
	ev.nr = 35; // nanosleep
	ev.kind = GORT_SYSCALL_GOROUTINE;
	return ev;
}

gort_goroutine_event lifecycle(uint32_t kind, uint64_t t, uint64_t goid)
{
	gort_goroutine_event ev{};
	ev.hdr = {kind, kPid, t};
	ev.goid = goid;
	ev.startpc = 0x200;
	ev.gopc = 0x20;
	return ev;
}

CountersRecord counters(uint64_t t, uint64_t created, uint64_t exited)
{
	CountersRecord c;
	c.pid = kPid;
	c.time = {t, static_cast<int64_t>(t)};
	c.stats.created = created;
	c.stats.exited = exited;
	c.stats.live_delta = static_cast<int64_t>(created) - static_cast<int64_t>(exited);
	c.stats.peak_delta = static_cast<int64_t>(created);
	c.stats.gc_cycles = 1;
	c.stats.lost_events = 2;
	c.sites.push_back({gort_site_key{kPid, 0, 0x200, 0x20}, gort_site_stats{created, exited}});
	c.syscalls.push_back({gort_syscall_key{kPid, 35, GORT_SYSCALL_GOROUTINE, 0}, gort_syscall_stats{1, 30'000'000, 30'000'000}});
	c.syscalls.push_back({gort_syscall_key{kPid, 202, GORT_SYSCALL_RUNTIME, 0}, gort_syscall_stats{4, 90'000'000, 40'000'000}});
	return c;
}

template <typename T> std::span<const uint8_t> bytes_of(const T &v)
{
	return {reinterpret_cast<const uint8_t *>(&v), sizeof v};
}

// A small recording of one process in three chunks; the same records on every call.
void write_sample(const std::string &path)
{
	Writer w(path, false, header());
	w.process(process());
	for (const auto &s : site_names())
		w.site_names(s);
	w.flush();
	for (uint64_t goid = 10; goid < 13; goid++)
		w.event(bytes_of(lifecycle(GORT_EV_GOROUTINE_CREATED, kT0 + goid * 1000, goid)));
	w.event(bytes_of(stw(2, kT0 + 100'000, kT0 + 150'000)));
	w.event(bytes_of(stw(1, kT0 + 900'000, kT0 + 960'000)));
	w.event(bytes_of(slow_syscall(kT0 + 50'000'000, 11)));
	w.counters(counters(kT0 + 60'000'000, 3, 1));
	w.tick({kT0 + 60'000'000, 1});
	w.flush();
	w.event(bytes_of(lifecycle(GORT_EV_GOROUTINE_EXITED, kT0 + 70'000'000, 10)));
	w.event(bytes_of(stw(5, kT0 + 80'000'000, kT0 + 80'040'000)));
	w.counters(counters(kT0 + 90'000'000, 3, 2));
	w.exit({kPid, {kT0 + 90'000'000, 2}});
	w.end({kT0 + 91'000'000, 3});
	w.close();
}

// The live counters and symbols of the sample's process.
struct SampleCounters : CounterSource {
	CountersRecord c;
	gort_proc_stats stats(pid_t) const override { return c.stats; }
	std::vector<std::pair<gort_site_key, gort_site_stats>> sites(pid_t) const override { return c.sites; }
	std::vector<std::pair<gort_syscall_key, gort_syscall_stats>> syscalls(pid_t) const override
	{
		return c.syscalls;
	}
};

struct SampleSymbols : ProcessSymbols {
	SiteNames site(uint64_t startpc, uint64_t gopc) const override
	{
		for (const auto &s : site_names())
			if (s.startpc == startpc && s.gopc == gopc)
				return {s.function, s.created_by, s.created_at, s.system};
		return {"?", "", "", false};
	}
	std::string stw_reason(uint32_t r) const override
	{
		return r < process().stw_reasons.size() && !process().stw_reasons[r].empty()
			       ? process().stw_reasons[r]
			       : "stw reason " + std::to_string(r);
	}
};

// The sample's process as the session knows it once attached.
session::TracedProcess traced_process()
{
	session::TracedProcess p;
	p.pid = kPid;
	p.comm = "svc";
	p.exe = "/usr/bin/svc";
	p.go_version = "go1.27.3";
	p.symbols = std::make_shared<SampleSymbols>();
	p.alive_at_attach = {{{0x100, 0x10}, 5}, {{0x300, 0x30}, 3}};
	p.attached_mono_ns = kT0 + 1000;
	return p;
}

// Every record as a line of text, in file order: compares what two reads delivered.
struct Transcript : RecordVisitor {
	std::vector<std::string> lines;
	void on_header(const FileHeader &h) override
	{
		lines.push_back("header " + h.host + "|" + h.kernel + "|" + std::to_string(h.start_mono_ns) + "|" +
				std::to_string(h.slow_syscall_ns) + "|" + std::to_string(h.interval_ns));
	}
	void on_process(const ProcessRecord &p) override
	{
		std::string s = "process " + std::to_string(p.pid) + " " + p.comm + " " + p.exe + " " + p.go_version + " " +
				std::to_string(p.exe_size) + " " + std::to_string(p.exe_mtime_ns);
		for (const auto &a : p.alive_at_attach)
			s += " alive " + std::to_string(a.startpc) + "/" + std::to_string(a.gopc) + "=" + std::to_string(a.count);
		for (const auto &r : p.stw_reasons)
			s += "|" + r;
		lines.push_back(s);
	}
	void on_site_names(const SiteNamesRecord &s) override
	{
		lines.push_back("site " + std::to_string(s.startpc) + " " + s.function + " " + s.created_by + " " +
				s.created_at + (s.system ? " system" : ""));
	}
	void on_event(const gort_event_header &hdr, std::span<const uint8_t> raw) override
	{
		std::string s = "event " + std::to_string(hdr.kind) + " " + std::to_string(hdr.ktime_ns) + " ";
		for (uint8_t b : raw)
			s += std::to_string(b) + ",";
		lines.push_back(s);
	}
	void on_counters(const CountersRecord &c) override
	{
		lines.push_back("counters " + std::to_string(c.time.mono_ns) + " " + std::to_string(c.stats.created) + " " +
				std::to_string(c.stats.exited) + " " + std::to_string(c.stats.lost_events) + " " +
				std::to_string(c.sites.size()) + " " + std::to_string(c.syscalls.size()));
	}
	void on_tick(const TimeRecord &t) override { lines.push_back("tick " + std::to_string(t.mono_ns)); }
	void on_exit(const ExitRecord &x) override { lines.push_back("exit " + std::to_string(x.pid)); }
	void on_end(const TimeRecord &t) override { lines.push_back("end " + std::to_string(t.mono_ns)); }
};

// The sample recording's bytes, and what reading them whole gives.
std::pair<std::vector<uint8_t>, Transcript> sample_bytes()
{
	TempDir dir;
	std::string path = dir.file("a.gort");
	write_sample(path);
	std::pair<std::vector<uint8_t>, Transcript> out{file__bytes(path), {}};
	recording__read_bytes(out.first, "full", out.second);
	return out;
}

} // namespace

TEST(RecordFormat, Crc32IsZlibs)
{
	const char *check = "123456789";
	EXPECT_EQ(crc32__update(0, check, 9), 0xCBF43926u);
	EXPECT_EQ(crc32__update(crc32__update(0, check, 4), check + 4, 5), 0xCBF43926u) << "continues";
}

TEST(RecordFormat, RoundTripsEveryRecord)
{
	TempDir dir;
	std::string path = dir.file("a.gort");
	write_sample(path);
	Transcript t;
	ReadSummary sum = recording__read(path, t);
	EXPECT_TRUE(sum.ended);
	EXPECT_TRUE(sum.warnings.empty());
	EXPECT_EQ(sum.chunks, 3u);
	ASSERT_EQ(t.lines.size(), 1u + 1 + 3 + 6 + 2 + 2 + 3);
	EXPECT_EQ(t.lines[0], "header testhost|Linux 6.18.0 #1 SMP x86_64|1000000000000|5000000|1000000000");
	EXPECT_NE(t.lines[1].find("process 4242 svc /usr/bin/svc go1.27.3 123456 42 alive 256/16=5 alive 768/48=3"),
		  std::string::npos)
	    << t.lines[1];
	EXPECT_NE(t.lines[1].find("|GC mark termination|GC sweep termination|"), std::string::npos);
	EXPECT_EQ(t.lines[4], "site 768 runtime.bgsweep runtime.gcenable mgc.go:1 system");
	EXPECT_EQ(t.lines[11], "counters 1000060000000 3 1 2 1 2");
	EXPECT_EQ(t.lines.back(), "end 1000091000000");

	// The event records are the bytes given, whole.
	Transcript again;
	gort_stw_event ev = stw(2, kT0 + 100'000, kT0 + 150'000);
	again.on_event(ev.hdr, bytes_of(ev));
	EXPECT_EQ(t.lines[8], again.lines[0]);
}

// The gauges (threads, heap figures, GOMAXPROCS) ride at the end of a counters record; a record
// from before them ends after its syscalls and reads with the gauges unknown.
TEST(RecordFormat, CountersCarryTheGaugesAndOlderRecordsHaveNone)
{
	CountersRecord c;
	c.pid = 7;
	c.syscalls = {{gort_syscall_key{}, gort_syscall_stats{}}};
	c.os_threads = 9;
	c.heap_known = true;
	c.heap_alloc = 1'370'632;
	c.heap_objects = 768;
	c.gomaxprocs = 2;
	Encoder e;
	counters__encode(e, c);
	CountersRecord back;
	Decoder d(e.bytes);
	ASSERT_TRUE(counters__decode(d, back));
	EXPECT_EQ(d.remaining(), 0u);
	EXPECT_EQ(back.os_threads, 9u);
	EXPECT_TRUE(back.heap_known);
	EXPECT_EQ(back.heap_alloc, 1'370'632u);
	EXPECT_EQ(back.heap_objects, 768u);
	EXPECT_EQ(back.gomaxprocs, 2);

	std::vector<uint8_t> older(e.bytes.begin(), e.bytes.end() - (8 + 1 + 8 + 8 + 4));
	CountersRecord old_back;
	Decoder od(older);
	ASSERT_TRUE(counters__decode(od, old_back));
	EXPECT_EQ(old_back.syscalls.size(), 1u);
	EXPECT_EQ(old_back.os_threads, 0u);
	EXPECT_FALSE(old_back.heap_known);
	EXPECT_EQ(old_back.gomaxprocs, 0);
}

TEST(RecordFormat, EveryPrefixReadsAsAPrefixWithAWarning)
{
	auto [bytes, full] = sample_bytes();

	size_t header_end = 0;
	for (size_t len = 0; len < bytes.size(); len++) {
		Transcript t;
		try {
			ReadSummary sum = recording__read_bytes(std::span(bytes.data(), len), "cut", t);
			if (!header_end)
				header_end = len;
			ASSERT_FALSE(sum.warnings.empty()) << "a file cut at " << len << " reads without a warning";
			EXPECT_FALSE(sum.ended);
		} catch (const UserError &e) {
			ASSERT_EQ(e.code(), ExitCode::bad_file);
			ASSERT_EQ(header_end, 0u) << "an error after a readable prefix, at " << len << ": " << e.what();
			continue;
		}
		ASSERT_LE(t.lines.size(), full.lines.size());
		for (size_t i = 0; i < t.lines.size(); i++)
			ASSERT_EQ(t.lines[i], full.lines[i]) << "cut at " << len << ", record " << i;
	}
	EXPECT_GT(header_end, kFilePrefixSize) << "the header is read only whole";
}

TEST(RecordFormat, EveryCorruptByteIsAnErrorOrAWarning)
{
	auto [bytes, full] = sample_bytes();
	for (size_t i = 0; i < bytes.size(); i++) {
		for (uint8_t flip : {0x01, 0x80, 0xff}) {
			std::vector<uint8_t> bad = bytes;
			bad[i] ^= flip;
			Transcript t;
			try {
				ReadSummary sum = recording__read_bytes(bad, "bad", t);
				// Everything is checksummed: a flipped bit is always noticed, and what came before it
				// is what was written.
				ASSERT_FALSE(sum.warnings.empty()) << "byte " << i << " ^ " << int(flip) << " went unnoticed";
				ASSERT_LE(t.lines.size(), full.lines.size());
				for (size_t k = 0; k < t.lines.size(); k++)
					ASSERT_EQ(t.lines[k], full.lines[k]) << "byte " << i << ", record " << k;
			} catch (const UserError &e) {
				ASSERT_EQ(e.code(), ExitCode::bad_file) << e.what();
			}
		}
	}
}

TEST(RecordFormat, ForeignNewerAndEmptyFilesAreOneLineErrors)
{
	auto error_of = [](std::vector<uint8_t> bytes) -> std::string {
		Transcript t;
		try {
			recording__read_bytes(bytes, "f", t);
		} catch (const UserError &e) {
			EXPECT_EQ(e.code(), ExitCode::bad_file);
			EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
			return e.what();
		}
		return "no error";
	};
	EXPECT_NE(error_of({}).find("empty"), std::string::npos);
	EXPECT_NE(error_of({'\x7f', 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}).find("not a gort recording"),
		  std::string::npos);
	std::vector<uint8_t> newer(kFileMagic, kFileMagic + 8);
	for (uint32_t b : {kFormatVersion + 1, 0u, 0u, 0u, 0u, 0u, 0u, 0u})
		newer.push_back(static_cast<uint8_t>(b));
	EXPECT_NE(error_of(newer).find("newer gort (file format " + std::to_string(kFormatVersion + 1)), std::string::npos)
		<< error_of(newer);
	EXPECT_NE(error_of({0x89, 'G', 'O'}).find("truncated"), std::string::npos);

	TempDir dir;
	Transcript t;
	try {
		recording__read(dir.file("missing.gort"), t);
		FAIL() << "read a missing file";
	} catch (const UserError &e) {
		EXPECT_EQ(e.code(), ExitCode::bad_file);
	}
}

TEST(RecordFormat, UnknownRecordTypesAreSkipped)
{
	// A later revision of format 1 may add record types: a reader skips them and reads on.
	TempDir dir;
	std::string path = dir.file("a.gort");
	{
		Writer w(path, false, header());
		w.process(process());
		w.close();
	}
	std::vector<uint8_t> bytes = file__bytes(path);
	Encoder raw;
	raw.u16(99);
	raw.u16(0);
	raw.u32(3);
	raw.raw("abc", 3);
	raw.u16(static_cast<uint16_t>(RecordType::end));
	raw.u16(0);
	raw.u32(16);
	time__encode(raw, {kT0 + 5, 5});
	std::vector<uint8_t> z(ZSTD_compressBound(raw.bytes.size()));
	size_t n = ZSTD_compress(z.data(), z.size(), raw.bytes.data(), raw.bytes.size(), 1);
	ASSERT_FALSE(ZSTD_isError(n));
	Encoder frame;
	frame.raw(kChunkMagic, 4);
	frame.u32(1);
	frame.u32(static_cast<uint32_t>(n));
	frame.u32(static_cast<uint32_t>(raw.bytes.size()));
	frame.u32(crc32__update(crc32__update(0, frame.bytes.data(), 16), z.data(), n));
	bytes.insert(bytes.end(), frame.bytes.begin(), frame.bytes.end());
	bytes.insert(bytes.end(), z.begin(), z.begin() + n);

	Transcript t;
	ReadSummary sum = recording__read_bytes(bytes, "f", t);
	EXPECT_TRUE(sum.warnings.empty()) << sum.warnings.at(0);
	EXPECT_TRUE(sum.ended);
	ASSERT_EQ(t.lines.size(), 3u);
	EXPECT_EQ(t.lines[2], "end 1000000000005");
}

TEST(RecordFile, IsCreated0600AndNeverOverwrittenWithoutForce)
{
	TempDir dir;
	std::string path = dir.file("a.gort");
	write_sample(path);
	struct stat st {};
	ASSERT_EQ(stat(path.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0600u);
	std::vector<uint8_t> before = file__bytes(path);
	try {
		Writer w(path, false, header());
		FAIL() << "overwrote an existing file";
	} catch (const UserError &e) {
		EXPECT_EQ(e.code(), ExitCode::usage);
		EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos);
	}
	EXPECT_EQ(file__bytes(path), before) << "the refused file is untouched";

	chmod(path.c_str(), 0644);
	{
		Writer w(path, true, header());
		w.process(process());
		w.close();
	}
	ASSERT_EQ(stat(path.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0600u) << "--force makes it a 0600 recording too";
	EXPECT_LT(file__bytes(path).size(), before.size());

	struct stat null_before {}, null_after {};
	ASSERT_EQ(stat("/dev/null", &null_before), 0);
	try {
		Writer w("/dev/null", true, header());
		FAIL() << "recorded over a device";
	} catch (const UserError &e) {
		EXPECT_EQ(e.code(), ExitCode::usage);
	}
	ASSERT_EQ(stat("/dev/null", &null_after), 0);
	EXPECT_EQ(null_after.st_mode, null_before.st_mode);
	EXPECT_TRUE(std::filesystem::exists("/dev/null"));
}

TEST(RecordFile, IsRemovedWhenTheRecordingNeverStarted)
{
	TempDir dir;
	std::string path = dir.file("a.gort");
	{
		Writer w(path, false, header());
		w.process(process());  // pending, never flushed: an attach failed, say
		// The file takes its name at the first flush (user/common/safe_file.h): until then a
		// recording that never starts is never seen.
		EXPECT_FALSE(std::filesystem::exists(path));
	}
	EXPECT_FALSE(std::filesystem::exists(path));

	{
		Writer w(path, false, header());
		w.process(process());
		w.flush();
		w.tick({kT0, 0});  // pending when the error hits
	}
	ASSERT_TRUE(std::filesystem::exists(path)) << "a started recording is kept";
	Transcript t;
	ReadSummary sum = recording__read(path, t);
	EXPECT_EQ(sum.chunks, 2u) << "the pending records were flushed on the way out";
}

// The replay is the live aggregator fed the same facts: the model it gives equals the live one.
TEST(RecordReplay, EqualsTheLiveAggregator)
{
	// Live: what the session does with the sample's facts.
	session::Aggregator live(header().slow_syscall_ns);
	session::TracedProcess p = traced_process();
	live.add_process(p);
	SampleCounters src;
	auto send = [&](const auto &ev) { live.on_event(ev.hdr, &ev, sizeof ev); };
	for (uint64_t goid = 10; goid < 13; goid++)
		send(lifecycle(GORT_EV_GOROUTINE_CREATED, kT0 + goid * 1000, goid));
	send(stw(2, kT0 + 100'000, kT0 + 150'000));
	send(stw(1, kT0 + 900'000, kT0 + 960'000));
	send(slow_syscall(kT0 + 50'000'000, 11));
	src.c = counters(kT0 + 60'000'000, 3, 1);
	live.snapshot(src, {kT0 + 60'000'000, 1});
	send(lifecycle(GORT_EV_GOROUTINE_EXITED, kT0 + 70'000'000, 10));
	send(stw(5, kT0 + 80'000'000, kT0 + 80'040'000));
	src.c = counters(kT0 + 90'000'000, 3, 2);
	live.freeze(kPid, src, {kT0 + 90'000'000, 2});
	session::Snapshot want = live.snapshot(src, {kT0 + 91'000'000, 3});

	TempDir dir;
	std::string path = dir.file("a.gort");
	write_sample(path);
	std::vector<std::string> warnings;
	session::Snapshot got = recording__report(path, warnings);
	EXPECT_TRUE(warnings.empty());
	EXPECT_EQ(views::json__snapshot(got).dump(2), views::json__snapshot(want).dump(2));
	ASSERT_EQ(got.processes.size(), 1u);
	EXPECT_TRUE(got.processes[0].exited);
	EXPECT_EQ(got.processes[0].goroutines.live, 5 + 3 - 2);
	EXPECT_EQ(got.processes[0].syscalls.at(0).by_function.at("main.worker"), 1u);
	EXPECT_EQ(got.processes[0].stw_by_reason.at("read mem stats").count, 1u);
}

// The recorder writes what it is given (each process as it is attached, the stream, the counters
// at each tick and at an exit) without reading the session back: its file replays to the live
// aggregator's model, and a process that exited gets no counters after its exit record.
TEST(Recorder, FileReplaysToTheLiveModel)
{
	session::Aggregator live(header().slow_syscall_ns);
	session::TracedProcess p = traced_process();
	live.add_process(p);
	SampleCounters src;
	TempDir dir;
	std::string path = dir.file("a.gort");
	{
		Writer w(path, false, header());
		Recorder recorder(w, src);
		recorder.on_attach(p);
		auto send = [&](const auto &ev) {
			live.on_event(ev.hdr, &ev, sizeof ev);
			recorder.on_event(ev.hdr, &ev, sizeof ev);
		};
		for (uint64_t goid = 10; goid < 13; goid++)
			send(lifecycle(GORT_EV_GOROUTINE_CREATED, kT0 + goid * 1000, goid));
		send(stw(2, kT0 + 100'000, kT0 + 150'000));
		send(slow_syscall(kT0 + 50'000'000, 11));
		src.c = counters(kT0 + 60'000'000, 3, 1);
		live.snapshot(src, {kT0 + 60'000'000, 1});
		recorder.on_tick({kT0 + 60'000'000, 1});
		send(lifecycle(GORT_EV_GOROUTINE_EXITED, kT0 + 70'000'000, 10));
		src.c = counters(kT0 + 90'000'000, 3, 2);
		recorder.on_exit(p, {kT0 + 90'000'000, 2});
		live.freeze(kPid, src, {kT0 + 90'000'000, 2});
		recorder.on_tick({kT0 + 90'500'000, 2});
		recorder.finish({kT0 + 91'000'000, 3});
		recorder.check();
		EXPECT_EQ(recorder.lost_events(), 2u);
	}
	session::Snapshot want = live.snapshot(src, {kT0 + 91'000'000, 3});
	std::vector<std::string> warnings;
	session::Snapshot got = recording__report(path, warnings);
	EXPECT_TRUE(warnings.empty());
	EXPECT_EQ(views::json__snapshot(got).dump(2), views::json__snapshot(want).dump(2));
	ASSERT_EQ(got.processes.size(), 1u);
	EXPECT_EQ(got.processes[0].syscalls.at(0).by_function.at("main.worker"), 1u) << "sites named from the symbols given";

	Transcript t;
	recording__read(path, t);
	auto exit = std::find(t.lines.begin(), t.lines.end(), "exit " + std::to_string(kPid));
	ASSERT_NE(exit, t.lines.end());
	EXPECT_EQ(std::count_if(exit, t.lines.end(), [](const std::string &l) { return l.rfind("counters", 0) == 0; }), 0)
		<< "no counters after the exit record";
	EXPECT_EQ(std::count(t.lines.begin(), t.lines.end(), "tick " + std::to_string(kT0 + 90'500'000)), 1);
}

TEST(RecordFormat, ReadingsAndModeChangesRoundTrip)
{
	ReadingRecord r;
	r.pid = kPid;
	r.time = {kT0 + 5, 6};
	r.goidgen = 4096;
	r.unused = {{4000, 4016}, {4090, 4096}};
	r.handed_out = 4074;
	r.alive = 12;
	r.system = 4;
	r.fraction = 0.25;
	r.sampled = true;
	r.budget = 0.01;
	r.trap_ns = 3100.5;
	r.stats.created = 7;
	r.sites = {{gort_site_key{kPid, 0, 0x200, 0x20}, gort_site_stats{7, 3}}};
	r.census = {{0x200, 0x20, 4, {}}, {0x300, 0x30, 2, {3, 4095}}};
	Encoder e;
	reading__encode(e, r);
	ReadingRecord back;
	Decoder d(e.bytes);
	ASSERT_TRUE(reading__decode(d, back));
	EXPECT_EQ(d.remaining(), 0u);
	EXPECT_EQ(back.unused, r.unused);
	EXPECT_EQ(back.handed_out, 4074u);
	EXPECT_EQ(back.alive, 12);
	EXPECT_EQ(back.system, 4);
	EXPECT_EQ(back.fraction, 0.25);
	EXPECT_TRUE(back.sampled);
	EXPECT_FALSE(back.forced);
	EXPECT_EQ(back.trap_ns, 3100.5);
	EXPECT_EQ(back.stats.created, 7u);
	ASSERT_EQ(back.sites.size(), 1u);
	EXPECT_EQ(back.sites[0].second.exited, 3u);
	ASSERT_EQ(back.census.size(), 2u);
	EXPECT_EQ(back.census[1].live, 2);
	EXPECT_EQ(back.census[1].system_goids, (std::vector<uint64_t>{3, 4095}));
	// A count larger than the record can hold is refused, not allocated.
	std::vector<uint8_t> cut(e.bytes.begin(), e.bytes.end() - 20);
	Decoder dc(cut);
	EXPECT_FALSE(reading__decode(dc, back));

	ModeChangeRecord m{kPid, {kT0 + 9, 9}, true, 2, 0.034, 0.01};
	Encoder me;
	mode_change__encode(me, m);
	ModeChangeRecord mb;
	Decoder md(me.bytes);
	ASSERT_TRUE(mode_change__decode(md, mb));
	EXPECT_TRUE(mb.sampled);
	EXPECT_EQ(mb.reason, 2);
	EXPECT_EQ(mb.cost, 0.034);
	EXPECT_EQ(mb.budget, 0.01);
}

// Files of format 1 (before sampled mode) still report, as exact throughout: their sessions were.
TEST(RecordFormat, Version1FilesReportAsExactThroughout)
{
	TempDir dir;
	std::string path = dir.file("v1.gort");
	FileHeader h = header();
	h.version = 1;
	{
		Writer w(path, false, h);
		w.process(process());
		for (const auto &s : site_names())
			w.site_names(s);
		w.counters(counters(kT0 + 60'000'000, 3, 1));
		w.tick({kT0 + 60'000'000, 1});
		w.end({kT0 + 91'000'000, 3});
		w.close();
	}
	std::vector<uint8_t> bytes = file__bytes(path);
	ASSERT_EQ(bytes[8], 1u) << "the file says format 1";
	std::vector<std::string> warnings;
	session::Snapshot got = recording__report(path, warnings);
	EXPECT_TRUE(warnings.empty());
	ASSERT_EQ(got.processes.size(), 1u);
	const auto &p = got.processes[0];
	EXPECT_EQ(p.goroutines.created, 3u);
	EXPECT_EQ(p.goroutines.live, 5 + 3 - 1);
	EXPECT_EQ(p.cost.mode, "exact");
	ASSERT_EQ(p.cost.modes.size(), 1u);
	EXPECT_EQ(p.cost.modes[0].mode, "exact");
	EXPECT_EQ(p.cost.modes[0].reason, "start");
	EXPECT_NEAR(p.cost.modes[0].to_s, (91'000'000 - 1000) / 1e9, 1e-9);
	nlohmann::json j = views::json__snapshot(got)["processes"][0]["probe_cost"];
	EXPECT_EQ(j["estimated"], nlohmann::json::array());
	EXPECT_NE(std::find(j["exact"].begin(), j["exact"].end(), "sites.created"), j["exact"].end());
}

// Sampled mode's readings and mode changes go through the recorder (session::ReadingSink): the
// replay feeds them to the aggregator and gets the live figures, estimates included, and the
// mode history. The first reading and change come before the process record (the session takes
// them inside attach) and are written after it.
TEST(Recorder, SampledReadingsReplayToTheLiveFigures)
{
	session::Aggregator live(header().slow_syscall_ns);
	live.set_trap_ns(3000);
	session::TracedProcess p = traced_process();
	live.add_process(p);
	SampleCounters src;
	TempDir dir;
	std::string path = dir.file("s.gort");
	auto reading = [&](uint64_t t, uint64_t handed, int64_t alive, double fraction, bool sampled, int64_t workers) {
		session::GoroutineReading r;
		r.at = {t, static_cast<int64_t>(t)};
		r.counts.goidgen = handed + 16;
		r.counts.unused = {{handed, handed + 16}};
		r.counts.handed_out = handed;
		r.counts.alive = alive;
		r.counts.system = 3;
		// A system goroutine (goid 130) appears after the baseline: an ID handed out, not a user goroutine.
		std::vector<uint64_t> system = t == kT0 + 2000 ? std::vector<uint64_t>{1, 2} : std::vector<uint64_t>{1, 2, 130};
		r.sites = {{{0x100, 0x10}, 5, {}}, {{0x200, 0x20}, workers, {}}, {{0x300, 0x30}, 3, system}};
		r.fraction = fraction;
		r.sampled = sampled;
		r.forced = true;
		r.budget = 0.01;
		r.trap_ns = 3000;
		return r;
	};
	{
		Writer w(path, false, header());
		Recorder recorder(w, src);
		auto read = [&](const session::GoroutineReading &r, uint64_t created, uint64_t exited) {
			session::ReadingCounters c(kPid, src.c.stats, {{gort_site_key{kPid, 0, 0x200, 0x20}, gort_site_stats{created, exited}}});
			live.on_reading(kPid, r, c);
			recorder.on_reading(kPid, r, c);
		};
		auto change = [&](const session::ModeChange &c) {
			live.on_mode_change(kPid, c);
			recorder.on_mode_change(kPid, c);
		};
		read(reading(kT0 + 2000, 100, 5, 1, false, 0), 0, 0);  // the baseline, inside attach
		change({{kT0 + 2100, 0}, true, session::ModeReason::forced, 0, 0.01});
		recorder.on_attach(p);
		src.c = counters(kT0 + 100'000'000, 10, 2);
		read(reading(kT0 + 100'000'000, 140, 15, 0.25, true, 10), 10, 2);
		recorder.on_tick({kT0 + 100'000'000, 1});
		live.snapshot(src, {kT0 + 100'000'000, 1});
		change({{kT0 + 150'000'000, 0}, false, session::ModeReason::under_budget, 0.002, 0.01});
		src.c = counters(kT0 + 200'000'000, 20, 12);
		read(reading(kT0 + 200'000'000, 150, 8, 1, false, 0), 20, 12);
		recorder.on_tick({kT0 + 200'000'000, 2});
		live.snapshot(src, {kT0 + 200'000'000, 2});
		// Exact since that reading: 5 more goroutines the probes saw, and no reading after them
		// (the process could have ended): the figures include them.
		src.c = counters(kT0 + 210'000'000, 25, 12);
		recorder.finish({kT0 + 210'000'000, 3});
		recorder.check();
	}
	session::Snapshot want = live.snapshot(src, {kT0 + 210'000'000, 3});
	std::vector<std::string> warnings;
	session::Snapshot got = recording__report(path, warnings);
	EXPECT_TRUE(warnings.empty()) << warnings.at(0);
	EXPECT_EQ(views::json__snapshot(got).dump(2), views::json__snapshot(want).dump(2));
	ASSERT_EQ(got.processes.size(), 1u);
	const auto &g = got.processes[0];
	EXPECT_EQ(g.goroutines.created, 50u - 1 + 5) << "IDs handed out since the baseline, less the new system goroutine, "
							 "and those the probes saw since the last reading";
	EXPECT_EQ(g.goroutines.live, 8 + 5);
	EXPECT_TRUE(g.cost.sites_estimated);
	ASSERT_EQ(g.cost.modes.size(), 2u) << "--sampled right after the baseline replaces the exact start";
	EXPECT_EQ(g.cost.modes[0].mode, "sampled");
	EXPECT_EQ(g.cost.modes[0].reason, "forced");
	EXPECT_EQ(g.cost.modes[0].from_s, 0);
	EXPECT_NEAR(g.cost.modes[0].to_s, (150'000'000 - 1000) / 1e9, 1e-9);
	EXPECT_NEAR(g.cost.modes[0].sample_fraction, 0.25, 1e-9);
	EXPECT_EQ(g.cost.modes[1].mode, "exact");
	EXPECT_EQ(g.cost.modes[1].reason, "under_budget");
	nlohmann::json j = views::json__snapshot(got)["processes"][0]["probe_cost"];
	EXPECT_EQ(j["estimated"], (nlohmann::json{"sites.created", "sites.exited"}));
	EXPECT_EQ(j["modes"][1]["exact_cost_percent"], 0.2);

	Transcript t;
	recording__read(path, t);
	auto proc = std::find_if(t.lines.begin(), t.lines.end(), [](const std::string &l) { return l.rfind("process", 0) == 0; });
	EXPECT_EQ(proc, t.lines.begin() + 1) << "the process record precedes its readings";
}

TEST(RecordExport, ChromeTraceHasTheSamplesSlicesAndCounters)
{
	TempDir dir;
	std::string path = dir.file("a.gort");
	write_sample(path);
	std::ostringstream out;
	ReadSummary sum = chrome::chrome_trace__write(path, out);
	EXPECT_TRUE(sum.warnings.empty());
	nlohmann::json doc = nlohmann::json::parse(out.str());
	const auto &events = doc.at("traceEvents");
	size_t gc = 0, stw_n = 0, sys = 0, counters_n = 0, names = 0, from_events = 0;
	for (const auto &e : events) {
		for (const char *key : {"name", "ph", "ts", "pid", "tid"})
			ASSERT_TRUE(e.contains(key)) << e.dump();
		std::string ph = e["ph"];
		if (ph == "X") {
			ASSERT_GE(e["dur"].get<double>(), 0);
			std::string cat = e["cat"];
			gc += cat == "gc";
			stw_n += cat == "stw";
			if (cat == "syscall") {
				sys++;
				EXPECT_EQ(e["tid"], 11);
				EXPECT_EQ(e["name"], "nanosleep");
				EXPECT_DOUBLE_EQ(e["ts"].get<double>(), (50'000'000 - 30'000'000) / 1000.0);
				EXPECT_DOUBLE_EQ(e["dur"].get<double>(), 30'000'000 / 1000.0);
			}
			if (cat == "gc") {
				EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 100.0) << "from the sweep termination's start";
				EXPECT_DOUBLE_EQ(e["dur"].get<double>(), 860.0) << "to the mark termination's end";
			}
		} else if (ph == "C" && e["name"] == "live goroutines") {
			counters_n++;
			ASSERT_TRUE(e["args"]["live"].is_number());
		} else if (ph == "C" && e["name"] == "live goroutines (from creations and exits)") {
			from_events++;
			ASSERT_TRUE(e["args"]["live"].is_number());
		} else if (ph == "M" && e["name"] == "thread_name" && e["tid"] == 11) {
			names++;
			EXPECT_EQ(e["args"]["name"], "goroutine 11 main.worker");
		}
	}
	EXPECT_EQ(gc, 1u);
	EXPECT_EQ(stw_n, 3u);
	EXPECT_EQ(sys, 1u);
	EXPECT_EQ(names, 1u);
	EXPECT_EQ(counters_n, 2u) << "one per tick, one at exit";
	EXPECT_GE(from_events, 1u) << "the recording's goroutine creations and exits move a counter of their own";
}
