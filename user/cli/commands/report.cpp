#include <iostream>

#include <fmt/format.h>

#include "user/common/escape.h"
#include "user/common/output.h"
#include "user/cli/commands/commands.h"
#include "user/record/replay.h"
#include "user/views/views.h"

namespace gort::cli {

// The figures at the end of the recording, as `top` shows them; a damaged tail is a warning and
// the data before it is reported.
int report__run(const std::string &path, bool json)
{
	std::vector<std::string> warnings;
	session::Snapshot snap = record::recording__report(path, warnings);
	for (const auto &w : warnings)
		fmt::print(stderr, "gort: warning: {}\n", text__escape(w));
	std::fflush(stderr);
	if (json)
		views::json__write_line(std::cout, snap);
	else
		views::text__write(std::cout, snap);
	stdout__flush();
	return 0;
}

} // namespace gort::cli
