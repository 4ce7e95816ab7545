#include "user/record/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <zstd.h>

#include "user/common/error.h"

namespace gort::record {

namespace {

// libFuzzer's convention: a fuzzing build accepts any checksum, so mutated inputs reach the
// decoders behind them (a fuzzer cannot forge a CRC).
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr bool kVerifyChecksums = false;
#else
constexpr bool kVerifyChecksums = true;
#endif

// Where the bytes come from: a file (read as it goes: recordings can be large) or memory.
class Input {
public:
	virtual ~Input() = default;
	// Up to n bytes; fewer only at the end of the input.
	virtual size_t read(void *buf, size_t n) = 0;
	virtual uint64_t remaining() const = 0;
	virtual uint64_t offset() const = 0;
};

class FdInput : public Input {
public:
	FdInput(int fd, uint64_t size) : fd_(fd), size_(size) {}
	~FdInput() override { close(fd_); }
	size_t read(void *buf, size_t n) override
	{
		size_t got = 0;
		while (got < n) {
			ssize_t r = ::read(fd_, static_cast<char *>(buf) + got, n - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				throw UserError(ExitCode::bad_file, std::string("read error: ") + std::strerror(errno));
			if (r == 0)
				break;
			got += static_cast<size_t>(r);
		}
		pos_ += got;
		return got;
	}
	// From the size at open: a file still being written is read up to that point.
	uint64_t remaining() const override { return size_ > pos_ ? size_ - pos_ : 0; }
	uint64_t offset() const override { return pos_; }

private:
	int fd_;
	uint64_t size_, pos_ = 0;
};

class MemInput : public Input {
public:
	explicit MemInput(std::span<const uint8_t> b) : b_(b) {}
	size_t read(void *buf, size_t n) override
	{
		size_t got = std::min(n, b_.size() - pos_);
		if (got)
			std::memcpy(buf, b_.data() + pos_, got);
		pos_ += got;
		return got;
	}
	uint64_t remaining() const override { return b_.size() - pos_; }
	uint64_t offset() const override { return pos_; }

private:
	std::span<const uint8_t> b_;
	size_t pos_ = 0;
};

struct DctxDeleter {
	void operator()(ZSTD_DCtx *c) const { ZSTD_freeDCtx(c); }
};

UserError bad_file(const std::string &name, const std::string &what)
{
	return UserError(ExitCode::bad_file, name + ": " + what);
}

uint32_t le32(const uint8_t *p)
{
	uint32_t v;
	std::memcpy(&v, p, 4);
	return v;
}

FileHeader header__read(Input &in, const std::string &name)
{
	uint8_t prefix[kFilePrefixSize];
	size_t got = in.read(prefix, sizeof prefix);
	size_t magic_seen = std::min(got, sizeof kFileMagic);
	if (got == 0)
		throw bad_file(name, "the file is empty, not a gort recording: record one with gort record -o FILE");
	if (std::memcmp(prefix, kFileMagic, magic_seen) != 0)
		throw bad_file(name, "not a gort recording (no gort magic at its start): pass a file written by gort record");
	if (got < sizeof prefix)
		throw bad_file(name, "truncated inside its header: the recorder stopped before it wrote anything");
	uint32_t version = le32(prefix + 8);
	if (version > kFormatVersion)
		throw bad_file(name, "written by a newer gort (file format " + std::to_string(version) + ", this gort reads up to " +
					     std::to_string(kFormatVersion) + "): report it with a newer gort");
	if (version == 0)
		throw bad_file(name, "corrupt header (format version 0)");
	uint32_t len = le32(prefix + 12);
	if (len > kMaxHeaderSize)
		throw bad_file(name, "corrupt header (length " + std::to_string(len) + ")");
	if (in.remaining() < static_cast<uint64_t>(len) + 4)
		throw bad_file(name, "truncated inside its header: the recorder stopped before it wrote anything");
	std::vector<uint8_t> body(len + 4);
	in.read(body.data(), body.size());
	uint32_t crc = crc32__update(crc32__update(0, prefix, sizeof prefix), body.data(), len);
	if (kVerifyChecksums && crc != le32(body.data() + len))
		throw bad_file(name, "corrupt header (checksum mismatch)");
	FileHeader h;
	Decoder d(std::span<const uint8_t>(body.data(), len));
	if (!header__decode(d, h))
		throw bad_file(name, "corrupt header (fields do not fit)");
	h.version = version;
	return h;
}

} // namespace

bool chunk__read_records(std::span<const uint8_t> raw, RecordVisitor &v, ReadSummary &sum)
{
	Decoder chunk(raw);
	while (chunk.remaining() > 0) {
		auto type = static_cast<RecordType>(chunk.u16());
		chunk.u16(); // reserved
		uint32_t len = chunk.u32();
		std::span<const uint8_t> body = chunk.take(len);
		if (!chunk.ok())
			return false;
		Decoder d(body);
		switch (type) {
		case RecordType::process: {
			ProcessRecord p;
			if (!process__decode(d, p))
				return false;
			v.on_process(p);
			break;
		}
		case RecordType::site_names: {
			SiteNamesRecord s;
			if (!site_names__decode(d, s))
				return false;
			v.on_site_names(s);
			break;
		}
		case RecordType::event: {
			if (body.size() < sizeof(gort_event_header))
				return false;
			gort_event_header hdr;
			std::memcpy(&hdr, body.data(), sizeof hdr);
			v.on_event(hdr, body);
			break;
		}
		case RecordType::counters: {
			CountersRecord c;
			if (!counters__decode(d, c))
				return false;
			v.on_counters(c);
			break;
		}
		case RecordType::tick:
		case RecordType::end: {
			TimeRecord t;
			if (!time__decode(d, t))
				return false;
			if (type == RecordType::tick) {
				v.on_tick(t);
			} else {
				v.on_end(t);
				sum.ended = true;
			}
			break;
		}
		case RecordType::exit: {
			ExitRecord x;
			if (!exit__decode(d, x))
				return false;
			v.on_exit(x);
			break;
		}
		case RecordType::reading: {
			ReadingRecord r;
			if (!reading__decode(d, r))
				return false;
			v.on_reading(r);
			break;
		}
		case RecordType::mode_change: {
			ModeChangeRecord m;
			if (!mode_change__decode(d, m))
				return false;
			v.on_mode_change(m);
			break;
		}
		default:
			break; // a record type of a later revision of this format: skipped by design
		}
		sum.records++;
	}
	return true;
}

namespace {

ReadSummary recording__read_input(Input &in, const std::string &name, RecordVisitor &v)
{
	FileHeader header = header__read(in, name);
	v.on_header(header);

	ReadSummary sum;
	std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx(ZSTD_createDCtx());
	if (!dctx)
		throw std::bad_alloc();
	std::vector<uint8_t> compressed, raw;
	uint64_t raw_total = 0;
	auto stop = [&](uint64_t at, const std::string &what) {
		sum.warnings.push_back(name + ": " + what + " at byte " + std::to_string(at) + "; reporting the " +
				       std::to_string(sum.chunks) + " complete chunks before it");
	};
	while (in.remaining() > 0) {
		uint64_t at = in.offset();
		uint8_t frame[kChunkFrameSize];
		if (in.read(frame, sizeof frame) < sizeof frame) {
			stop(at, "truncated chunk (the recorder was killed or the disk filled)");
			return sum;
		}
		uint32_t seq = le32(frame + 4), clen = le32(frame + 8), rlen = le32(frame + 12), crc = le32(frame + 16);
		if (std::memcmp(frame, kChunkMagic, sizeof kChunkMagic) != 0 || clen > kMaxChunkSize || rlen > kMaxChunkSize) {
			stop(at, "corrupt data (no valid chunk frame)");
			return sum;
		}
		if (seq != sum.chunks) {
			stop(at, "chunk " + std::to_string(seq) + " out of sequence (expected " + std::to_string(sum.chunks) + ")");
			return sum;
		}
		if (in.remaining() < clen) {
			stop(at, "truncated chunk (the recorder was killed or the disk filled)");
			return sum;
		}
		raw_total += rlen;
		if (raw_total > kRawAllowance + kMaxExpansion * (at + kChunkFrameSize + clen)) {
			stop(at, "chunks that decompress to over " + std::to_string(kMaxExpansion) +
					 " times their size (a decompression bomb or corruption, not gort's data)");
			return sum;
		}
		compressed.resize(clen);
		in.read(compressed.data(), clen);
		if (kVerifyChecksums && crc32__update(crc32__update(0, frame, 16), compressed.data(), clen) != crc) {
			stop(at, "corrupt chunk (checksum mismatch)");
			return sum;
		}
		raw.resize(rlen);
		size_t n = ZSTD_decompressDCtx(dctx.get(), raw.data(), raw.size(), compressed.data(), clen);
		if (ZSTD_isError(n) || n != rlen) {
			stop(at, "corrupt chunk (does not decompress)");
			return sum;
		}
		if (!chunk__read_records(raw, v, sum)) {
			stop(at, "corrupt record in chunk " + std::to_string(seq));
			return sum;
		}
		sum.chunks++;
	}
	if (sum.chunks == 0)
		sum.warnings.push_back(name + ": holds no recorded data (the recorder ended before its first chunk)");
	else if (!sum.ended)
		sum.warnings.push_back(name + ": ends without its end record (the recorder was killed or the disk filled); "
					      "reporting the " + std::to_string(sum.chunks) + " complete chunks it holds");
	return sum;
}

} // namespace

ReadSummary recording__read(const std::string &path, RecordVisitor &visitor)
{
	// O_NONBLOCK: opening a FIFO for reading would wait for a writer forever; it is refused
	// below instead (on a regular file the flag changes nothing).
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		throw bad_file(path, std::string("cannot open: ") + std::strerror(errno));
	struct stat st {};
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		throw bad_file(path, "not a regular file: pass a file written by gort record");
	}
	FdInput in(fd, static_cast<uint64_t>(st.st_size));
	return recording__read_input(in, path, visitor);
}

ReadSummary recording__read_bytes(std::span<const uint8_t> bytes, const std::string &name, RecordVisitor &visitor)
{
	MemInput in(bytes);
	return recording__read_input(in, name, visitor);
}

} // namespace gort::record
