// Reading a whole range from a file descriptor at an offset: pread may return short (a signal, a
// /proc/PID/mem read crossing into an unmapped page), so callers loop; this is that loop, once.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gort {

// True when all `len` bytes at `offset` were read into `out`; false at end of file, on an error,
// or (for /proc/PID/mem) at an unmapped address. EINTR is retried.
bool fd__pread_all(int fd, uint64_t offset, void *out, size_t len);

} // namespace gort
