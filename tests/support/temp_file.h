// A file name under /tmp for a test's output (a recording, a program's stderr), removed at the end
// of the test, pass or fail. Header-only, like the other BPF-tier helpers.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace gort::testing {

struct TempFile {
	std::string path;
	explicit TempFile(const char *prefix)
	{
		std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
		int fd = mkstemp(tmpl.data());
		if (fd < 0)
			throw std::runtime_error("mkstemp");
		close(fd);
		path = tmpl;
	}
	~TempFile() { unlink(path.c_str()); }
	TempFile(const TempFile &) = delete;
	TempFile &operator=(const TempFile &) = delete;
};

} // namespace gort::testing
