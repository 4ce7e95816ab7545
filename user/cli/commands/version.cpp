// `gort --version`: gort's version (project(VERSION) in CMakeLists.txt), the git commit it was
// built from (cmake/gort_version.cmake), and the newest Go release in its offsets table — the
// newest Go whose stripped binaries gort can trace (data/go_offsets.inc).
#include <string>

#include <fmt/format.h>

#include "gort_version.h"
#include "user/cli/commands/commands.h"
#include "user/gobinary/offsets_table.h"

namespace gort::cli {

std::string version__text()
{
	const gobinary::OffsetsRow *newest = nullptr;
	auto key = [](const gobinary::OffsetsRow &row) {
		auto v = gobinary::go_version__parse(row.version);
		return std::tuple(v.major, v.minor, v.patch);
	};
	for (const auto &row : gobinary::offsets_table__builtin())
		if (!newest || key(row) > key(*newest))
			newest = &row;
	return fmt::format("gort {}\ngit commit: {}\nnewest Go release known: {}", GORT_VERSION, GORT_GIT_COMMIT,
			   newest ? newest->version : "none");
}

} // namespace gort::cli
