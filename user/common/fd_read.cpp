#include "user/common/fd_read.h"

#include <unistd.h>

#include <cerrno>

namespace gort {

bool fd__pread_all(int fd, uint64_t offset, void *out, size_t len)
{
	auto *p = static_cast<uint8_t *>(out);
	while (len > 0) {
		ssize_t n = pread(fd, p, len, static_cast<off_t>(offset));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		offset += static_cast<uint64_t>(n);
		len -= static_cast<size_t>(n);
	}
	return true;
}

} // namespace gort
