// The session file (docs/file-format.md): on-disk constants, the records as plain structs, and the
// little-endian encoding both the writer and the reader use. Kept free of the session and target
// code (only the shared BPF structs and the standard library) so that the reader builds alone for
// the fuzzer (tests/fuzz/fuzz_reader.cpp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gort/bpf_shared.h"

namespace gort::record {

// PNG's trick: a high-bit byte catches 7-bit transfers, CR LF catches newline conversion, ^Z stops
// DOS `type`; "GORT" makes `head -c8` readable.
inline constexpr unsigned char kFileMagic[8] = {0x89, 'G', 'O', 'R', 'T', '\r', '\n', 0x1a};
inline constexpr unsigned char kChunkMagic[4] = {'G', 'C', 'H', 'K'};
// 2: sampled-mode readings and mode changes (records 8 and 9). A version-1 reader would skip them
// and report the probes' windows as totals, so these files are refused by it instead.
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr size_t kFilePrefixSize = 16;   // magic, version, header length
inline constexpr size_t kChunkFrameSize = 20;   // magic, sequence, compressed and raw lengths, crc
inline constexpr size_t kRecordFrameSize = 8;   // type, reserved, length
// Bounds that keep a corrupt length from asking for absurd memory: the writer flushes chunks at
// 1 MiB, so real chunks and headers are far smaller.
inline constexpr uint32_t kMaxHeaderSize = 1u << 20;
inline constexpr uint32_t kMaxChunkSize = 16u << 20;
// Decompression-bomb bound: all chunks together may decompress to at most kRawAllowance plus
// kMaxExpansion times the bytes read so far. gort's own chunks expand about 9x (zstd level 3 on
// its records); a crafted file of highly compressible chunks stops here with a warning, so what
// report/export hold (every pause's duration, names, counters) stays proportional to the file's
// real size, whatever its frames claim.
inline constexpr uint64_t kRawAllowance = 64ull << 20;
inline constexpr uint64_t kMaxExpansion = 100;

enum class RecordType : uint16_t {
	process = 1,     // a process was attached: identity, alive-at-attach, STW reason names
	site_names = 2,  // names of one creation site (startpc, gopc)
	event = 3,       // one ring-buffer record, byte for byte (starts with gort_event_header)
	counters = 4,    // the BPF counters of one process at a moment
	tick = 5,        // end of one interval's counter records
	exit = 6,        // a process ended (its final counters record precedes this)
	end = 7,         // the recorder stopped cleanly
	reading = 8,     // sampled/auto mode: one reading of a process's runtime state (version 2)
	mode_change = 9, // sampled/auto mode: a process moved between exact and sampled (version 2)
};

struct FileHeader {
	uint32_t version = kFormatVersion;  // what the writer writes (a test may write an older one)
	std::string host;    // uname nodename
	std::string kernel;  // uname sysname release version machine
	int64_t start_wall_ns = 0;
	uint64_t start_mono_ns = 0;  // CLOCK_MONOTONIC, the clock of every event's ktime_ns
	uint64_t slow_syscall_ns = 0;
	uint64_t interval_ns = 0;
};

struct AliveAtAttach {
	uint64_t startpc = 0, gopc = 0, count = 0;
};

struct ProcessRecord {
	uint32_t pid = 0;
	uint64_t attached_mono_ns = 0;
	std::string comm, exe, go_version;
	uint64_t exe_size = 0;     // the binary's identity: size and mtime of /proc/PID/exe
	int64_t exe_mtime_ns = 0;
	std::vector<AliveAtAttach> alive_at_attach;
	std::vector<std::string> stw_reasons;  // index: the runtime's stwReason value
};

struct SiteNamesRecord {
	uint32_t pid = 0;
	uint64_t startpc = 0, gopc = 0;
	bool system = false;
	std::string function, created_by, created_at;
};

struct TimeRecord {
	uint64_t mono_ns = 0;
	int64_t wall_ns = 0;
};

struct CountersRecord {
	uint32_t pid = 0;
	TimeRecord time;
	gort_proc_stats stats{};
	std::vector<std::pair<gort_site_key, gort_site_stats>> sites;
	std::vector<std::pair<gort_syscall_key, gort_syscall_stats>> syscalls;
	// What the process had at that moment that no counter holds (session::ProcessGauges),
	// appended after the syscalls: a file from before them ends there and has none.
	uint64_t os_threads = 0;
	bool heap_known = false;
	uint64_t heap_alloc = 0, heap_objects = 0;
	int32_t gomaxprocs = 0;
};

// One reading of sampled/auto mode (session::GoroutineReading), with the BPF counters it was taken
// with: what the aggregator's on_reading needs to compute the same figures again.
struct ReadingRecord {
	uint32_t pid = 0;
	TimeRecord time;
	uint64_t goidgen = 0;                                // goprocess::RuntimeCounts
	std::vector<std::pair<uint64_t, uint64_t>> unused;  // every P's unused goid cache range
	uint64_t handed_out = 0;
	int64_t alive = 0, system = 0;
	double fraction = 1;
	bool sampled = false, forced = false;
	double budget = 0, trap_ns = 0;
	gort_proc_stats stats{};
	std::vector<std::pair<gort_site_key, gort_site_stats>> sites;
	struct CensusSite {
		uint64_t startpc = 0, gopc = 0;
		int64_t live = 0;
		std::vector<uint64_t> system_goids;
	};
	std::vector<CensusSite> census;
};

struct ModeChangeRecord {
	uint32_t pid = 0;
	TimeRecord time;
	bool sampled = false;  // the mode from then on
	uint8_t reason = 0;    // session::ModeReason: 1 forced, 2 over budget, 3 back under budget
	double cost = 0;       // exact mode's estimated cost then, share of one CPU
	double budget = 0;
};

struct ExitRecord {
	uint32_t pid = 0;
	TimeRecord time;
};

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32()); `crc` continues a previous value.
uint32_t crc32__update(uint32_t crc, const void *data, size_t size);

// Appends little-endian fields (gort runs on x86-64 only, so a memcpy is little-endian).
class Encoder {
public:
	void u8(uint8_t v) { raw(&v, 1); }
	void u16(uint16_t v) { raw(&v, 2); }
	void u32(uint32_t v) { raw(&v, 4); }
	void u64(uint64_t v) { raw(&v, 8); }
	void i64(int64_t v) { raw(&v, 8); }
	void str(std::string_view s)
	{
		u32(static_cast<uint32_t>(s.size()));
		raw(s.data(), s.size());
	}
	template <typename T> void pod(const T &v) { raw(&v, sizeof v); }
	void raw(const void *p, size_t n)
	{
		auto b = static_cast<const uint8_t *>(p);
		bytes.insert(bytes.end(), b, b + n);
	}
	std::vector<uint8_t> bytes;
};

// Reads what Encoder wrote; every read is bounds-checked and fails with ok() == false (then reads
// zeros) instead of reading past the end.
class Decoder {
public:
	explicit Decoder(std::span<const uint8_t> b) : b_(b) {}
	bool ok() const { return ok_; }
	size_t remaining() const { return ok_ ? b_.size() - pos_ : 0; }
	uint8_t u8() { return scalar<uint8_t>(); }
	uint16_t u16() { return scalar<uint16_t>(); }
	uint32_t u32() { return scalar<uint32_t>(); }
	uint64_t u64() { return scalar<uint64_t>(); }
	int64_t i64() { return scalar<int64_t>(); }
	std::string str()
	{
		uint32_t n = u32();
		std::span<const uint8_t> s = take(n);
		return std::string(reinterpret_cast<const char *>(s.data()), s.size());
	}
	template <typename T> T pod()
	{
		T v{};
		std::span<const uint8_t> s = take(sizeof v);
		if (!s.empty())
			std::memcpy(&v, s.data(), sizeof v);
		return v;
	}
	// A count of items of at least `min_item` bytes each, refused if the rest cannot hold them
	// (so a corrupt count never reserves gigabytes).
	uint32_t count(size_t min_item)
	{
		uint32_t n = u32();
		if (ok_ && static_cast<uint64_t>(n) * min_item > remaining())
			ok_ = false;
		return ok_ ? n : 0;
	}
	std::span<const uint8_t> take(size_t n)
	{
		if (!ok_ || n > b_.size() - pos_) {
			ok_ = false;
			return {};
		}
		std::span<const uint8_t> s = b_.subspan(pos_, n);
		pos_ += n;
		return s;
	}

private:
	template <typename T> T scalar()
	{
		T v{};
		std::span<const uint8_t> s = take(sizeof v);
		if (!s.empty())
			std::memcpy(&v, s.data(), sizeof v);
		return v;
	}
	std::span<const uint8_t> b_;
	size_t pos_ = 0;
	bool ok_ = true;
};

// Record bodies (without the record frame), shared by writer and reader so they cannot disagree.
void header__encode(Encoder &e, const FileHeader &h);
bool header__decode(Decoder &d, FileHeader &h);
void process__encode(Encoder &e, const ProcessRecord &p);
bool process__decode(Decoder &d, ProcessRecord &p);
void site_names__encode(Encoder &e, const SiteNamesRecord &s);
bool site_names__decode(Decoder &d, SiteNamesRecord &s);
void counters__encode(Encoder &e, const CountersRecord &c);
bool counters__decode(Decoder &d, CountersRecord &c);
void time__encode(Encoder &e, const TimeRecord &t);
bool time__decode(Decoder &d, TimeRecord &t);
void exit__encode(Encoder &e, const ExitRecord &x);
bool exit__decode(Decoder &d, ExitRecord &x);
void reading__encode(Encoder &e, const ReadingRecord &r);
bool reading__decode(Decoder &d, ReadingRecord &r);
void mode_change__encode(Encoder &e, const ModeChangeRecord &m);
bool mode_change__decode(Decoder &d, ModeChangeRecord &m);

} // namespace gort::record
