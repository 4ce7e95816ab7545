#include "user/record/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <zstd.h>

#include "user/common/error.h"
#include "user/common/safe_file.h"

namespace gort::record {

namespace {

// Chunks are flushed by the recorder at least every second; this bounds one in between.
constexpr size_t kFlushAt = 1u << 20;
// zstd's default level: fast enough for the recorder's loop, and goroutine records compress well.
constexpr int kZstdLevel = 3;

} // namespace

void Writer::CctxDeleter::operator()(ZSTD_CCtx_s *c) const { ZSTD_freeCCtx(c); }

Writer::Writer(const std::string &path, bool force, const FileHeader &header)
    : path_(path), file_(std::make_unique<SafeFile>(path, force))
{
	fd_ = file_->fd();
	cctx_.reset(ZSTD_createCCtx());
	if (!cctx_)
		throw std::bad_alloc();

	Encoder body;
	header__encode(body, header);
	Encoder file;
	file.raw(kFileMagic, sizeof kFileMagic);
	file.u32(header.version);
	file.u32(static_cast<uint32_t>(body.bytes.size()));
	file.raw(body.bytes.data(), body.bytes.size());
	file.u32(crc32__update(0, file.bytes.data(), file.bytes.size()));
	write_all(file.bytes.data(), file.bytes.size());
	bytes_ = file.bytes.size();
}

Writer::~Writer()
{
	// Never published (the recording never started): the SafeFile takes the file with it.
	if (fd_ < 0 || !file_->published())
		return;
	try {
		flush();
	} catch (...) {
		// The file still reads up to its last complete chunk; close() reports errors.
	}
}

void Writer::write_all(const void *data, size_t size)
{
	auto p = static_cast<const char *>(data);
	while (size > 0) {
		ssize_t n = ::write(fd_, p, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			throw UserError(ExitCode::failure, fmt::format("writing {}: {}", path_, std::strerror(errno)));
		p += n;
		size -= static_cast<size_t>(n);
	}
}

void Writer::append(RecordType type, std::span<const uint8_t> body)
{
	if (failed_)
		return;
	Encoder frame;
	frame.u16(static_cast<uint16_t>(type));
	frame.u16(0);
	frame.u32(static_cast<uint32_t>(body.size()));
	pending_.insert(pending_.end(), frame.bytes.begin(), frame.bytes.end());
	pending_.insert(pending_.end(), body.begin(), body.end());
	if (pending_.size() >= kFlushAt)
		flush();
}

void Writer::append(RecordType type, const Encoder &body) { append(type, std::span<const uint8_t>(body.bytes)); }

void Writer::process(const ProcessRecord &p) { put(RecordType::process, p, process__encode); }

void Writer::site_names(const SiteNamesRecord &s) { put(RecordType::site_names, s, site_names__encode); }

void Writer::event(std::span<const uint8_t> raw)
{
	append(RecordType::event, raw);
	events_++;
}

void Writer::counters(const CountersRecord &c) { put(RecordType::counters, c, counters__encode); }

void Writer::tick(const TimeRecord &t) { put(RecordType::tick, t, time__encode); }

void Writer::exit(const ExitRecord &x) { put(RecordType::exit, x, exit__encode); }

void Writer::end(const TimeRecord &t) { put(RecordType::end, t, time__encode); }

void Writer::reading(const ReadingRecord &r) { put(RecordType::reading, r, reading__encode); }

void Writer::mode_change(const ModeChangeRecord &m) { put(RecordType::mode_change, m, mode_change__encode); }

void Writer::flush()
{
	if (failed_)
		return;
	if (pending_.empty()) {
		publish();
		return;
	}
	compressed_.resize(kChunkFrameSize + ZSTD_compressBound(pending_.size()));
	size_t n = ZSTD_compressCCtx(cctx_.get(), compressed_.data() + kChunkFrameSize, compressed_.size() - kChunkFrameSize,
				     pending_.data(), pending_.size(), kZstdLevel);
	if (ZSTD_isError(n))
		throw UserError(ExitCode::failure, fmt::format("compressing a chunk of {}: {}", path_, ZSTD_getErrorName(n)));
	Encoder frame;
	frame.raw(kChunkMagic, sizeof kChunkMagic);
	frame.u32(static_cast<uint32_t>(chunks_));
	frame.u32(static_cast<uint32_t>(n));
	frame.u32(static_cast<uint32_t>(pending_.size()));
	std::memcpy(compressed_.data(), frame.bytes.data(), 16);
	uint32_t crc = crc32__update(crc32__update(0, compressed_.data(), 16), compressed_.data() + kChunkFrameSize, n);
	std::memcpy(compressed_.data() + 16, &crc, 4);
	try {
		write_all(compressed_.data(), kChunkFrameSize + n);
	} catch (const UserError &e) {
		// A partial chunk would only be skipped by readers with a warning; cutting it off keeps the
		// file clean where possible (a full disk may refuse nothing here).
		failed_ = true;
		if (ftruncate(fd_, static_cast<off_t>(bytes_)) == 0)
			lseek(fd_, static_cast<off_t>(bytes_), SEEK_SET);
		throw UserError(ExitCode::failure, fmt::format("{}; {} holds the recording up to the last complete chunk",
							       e.what(), path_));
	}
	bytes_ += kChunkFrameSize + n;
	chunks_++;
	pending_.clear();
	publish();
}

void Writer::publish()
{
	if (!file_->published())
		file_->publish();
}

void Writer::close()
{
	if (fd_ < 0)
		return;
	flush();
	fd_ = -1;
	file_->commit();
}

} // namespace gort::record
