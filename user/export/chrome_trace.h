// A recording as Chrome trace-event JSON (the "JSON Object Format" Perfetto and chrome://tracing
// open): per process, a counter track of live goroutines, GC cycles and stop-the-world pauses as
// slices on one track, and slow syscalls as slices on the track of the goroutine that made them.
#pragma once

#include <ostream>
#include <string>

#include "user/record/reader.h"

namespace gort::chrome {

// Track (tid) of a process's GC cycles and pauses: goroutine ids start at 1, so 0 is no goroutine's.
inline constexpr uint64_t kRuntimeTid = 0;

// Reads the recording at `path` and writes the trace to `out`. Throws UserError(bad_file); a
// damaged tail is in the returned warnings (the trace holds what came before it).
record::ReadSummary chrome_trace__write(const std::string &path, std::ostream &out);

} // namespace gort::chrome
