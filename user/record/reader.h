// Reads a session file (docs/file-format.md) chunk by chunk and hands each record, in file order,
// to a visitor; `report` and `export` are visitors (user/record/replay.h, user/export/). Only the
// standard library, libzstd and the shared BPF structs: the fuzzer builds this file alone.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "user/record/file_format.h"

namespace gort::record {

class RecordVisitor {
public:
	virtual ~RecordVisitor() = default;
	virtual void on_header(const FileHeader &) {}
	virtual void on_process(const ProcessRecord &) {}
	virtual void on_site_names(const SiteNamesRecord &) {}
	// One ring-buffer record as BPF wrote it; `raw` starts with `hdr` (at least its size).
	virtual void on_event(const gort_event_header &, std::span<const uint8_t>) {}
	virtual void on_counters(const CountersRecord &) {}
	virtual void on_tick(const TimeRecord &) {}
	virtual void on_exit(const ExitRecord &) {}
	virtual void on_reading(const ReadingRecord &) {}
	virtual void on_mode_change(const ModeChangeRecord &) {}
	virtual void on_end(const TimeRecord &) {}
};

struct ReadSummary {
	uint64_t chunks = 0;   // complete chunks read
	uint64_t records = 0;
	bool ended = false;    // the end record was read: the recorder stopped cleanly
	// What was wrong with the tail (truncated, corrupt): the records before it were delivered.
	std::vector<std::string> warnings;
};

// Throws UserError(bad_file) for what is not a readable recording at all (missing, foreign,
// newer format, truncated or corrupt header); a damaged or missing tail is a warning instead.
ReadSummary recording__read(const std::string &path, RecordVisitor &visitor);
// The same over bytes in memory; `name` is used in messages.
ReadSummary recording__read_bytes(std::span<const uint8_t> bytes, const std::string &name, RecordVisitor &visitor);
// The records of one decompressed chunk, in order; false at the first that does not decode (those
// before it were delivered). Public for the fuzzer, which cannot forge checksums and zstd frames.
bool chunk__read_records(std::span<const uint8_t> raw, RecordVisitor &visitor, ReadSummary &summary);

} // namespace gort::record
