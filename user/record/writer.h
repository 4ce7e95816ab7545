// Writes a session file (docs/file-format.md): the header at creation, then records gathered into
// zstd-compressed, checksummed chunks, each written whole as soon as it is flushed, so the file
// reads up to the last complete chunk whatever stops the recorder.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "user/record/file_format.h"

struct ZSTD_CCtx_s;

namespace gort {
class SafeFile;
}

namespace gort::record {

class Writer {
public:
	// Creates the file for `path` (user/common/safe_file.h: a new inode, the caller's, mode 0600)
	// and writes the header; it gets its name at the first flush(). An existing `path` is refused
	// unless `force`, and then only a regular file is replaced. Throws UserError.
	Writer(const std::string &path, bool force, const FileHeader &header);
	// Without close() (an error ended the recording): before the first flush the recording never
	// started and the file never appears; otherwise what is pending is flushed if possible.
	~Writer();
	Writer(const Writer &) = delete;
	Writer &operator=(const Writer &) = delete;

	void process(const ProcessRecord &p);
	void site_names(const SiteNamesRecord &s);
	void event(std::span<const uint8_t> raw);
	void counters(const CountersRecord &c);
	void tick(const TimeRecord &t);
	void exit(const ExitRecord &x);
	void end(const TimeRecord &t);
	void reading(const ReadingRecord &r);
	void mode_change(const ModeChangeRecord &m);

	// Writes the pending records as one chunk (nothing if there are none) and gives the file its
	// name if it has none yet. Throws UserError; after a failed write the file is cut back to its
	// last complete chunk and the writer stops.
	void flush();
	// flush(), then fdatasync and close. Throws UserError.
	void close();

	const std::string &path() const { return path_; }
	uint64_t bytes_written() const { return bytes_; }
	uint64_t chunks_written() const { return chunks_; }
	uint64_t events_written() const { return events_; }

private:
	void append(RecordType type, const Encoder &body);
	void append(RecordType type, std::span<const uint8_t> body);
	template <typename R> void put(RecordType type, const R &r, void (*encode)(Encoder &, const R &))
	{
		Encoder e;
		encode(e, r);
		append(type, e);
	}
	void write_all(const void *data, size_t size);
	void publish();

	struct CctxDeleter {
		void operator()(ZSTD_CCtx_s *c) const;
	};

	std::string path_;
	std::unique_ptr<SafeFile> file_;
	int fd_ = -1;  // file_'s, until close()
	std::unique_ptr<ZSTD_CCtx_s, CctxDeleter> cctx_;
	std::vector<uint8_t> pending_, compressed_;
	uint64_t bytes_ = 0, chunks_ = 0, events_ = 0;
	bool failed_ = false;
};

} // namespace gort::record
