#include <ostream>

#include <fmt/format.h>

#include "user/cli/commands/commands.h"
#include "user/common/error.h"
#include "user/common/escape.h"
#include "user/common/safe_file.h"
#include "user/export/chrome_trace.h"

namespace gort::cli {

// Written to a new file (user/common/safe_file.h: the caller's, mode 0600: it holds the traced
// processes' data) that takes OUT's name only when complete: OUT is the whole trace or untouched.
int export__run(const std::string &path, const std::string &format, const std::string &output)
{
	if (format != "chrome")
		throw UserError(ExitCode::usage, fmt::format("unknown export format '{}': use --format chrome", format));
	SafeFile file(output, true);
	FdStreamBuf buf(file.fd());
	std::ostream out(&buf);
	record::ReadSummary sum = chrome::chrome_trace__write(path, out);
	out.flush();
	if (!out)
		throw UserError(ExitCode::failure, fmt::format("writing {}: {} ({} is left as it was)", output,
							       buf.error().empty() ? "write failed" : buf.error(), output));
	file.commit();
	for (const auto &w : sum.warnings)
		fmt::print(stderr, "gort: warning: {}\n", text__escape(w));
	return 0;
}

} // namespace gort::cli
