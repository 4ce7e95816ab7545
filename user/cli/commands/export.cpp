#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "user/cli/commands/commands.h"
#include "user/common/error.h"
#include "user/export/chrome_trace.h"

namespace gort::cli {

// Written to a temporary file renamed into place: OUT is either the whole trace or untouched.
int export__run(const std::string &path, const std::string &format, const std::string &output)
{
	if (format != "chrome")
		throw UserError(ExitCode::usage, fmt::format("unknown export format '{}': use --format chrome", format));
	std::string tmp = fmt::format("{}.tmp-{}", output, getpid());
	std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
	if (!out)
		throw UserError(ExitCode::failure, fmt::format("cannot create {}: {} (check the directory exists and is "
							       "writable)", tmp, std::strerror(errno)));
	record::ReadSummary sum;
	try {
		sum = chrome::chrome_trace__write(path, out);
		out.close();
		if (!out)
			throw UserError(ExitCode::failure, fmt::format("writing {}: {}", tmp, std::strerror(errno)));
		if (std::rename(tmp.c_str(), output.c_str()) != 0)
			throw UserError(ExitCode::failure, fmt::format("cannot rename {} to {}: {}", tmp, output,
								       std::strerror(errno)));
	} catch (...) {
		std::remove(tmp.c_str());
		throw;
	}
	for (const auto &w : sum.warnings)
		fmt::print(stderr, "gort: warning: {}\n", w);
	return 0;
}

} // namespace gort::cli
