#include "support/workloads.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace gort::testing {

namespace fs = std::filesystem;

const std::vector<GoToolchain> &go_toolchains()
{
	static const std::vector<GoToolchain> all = [] {
		std::vector<GoToolchain> v;
		std::ifstream in(fs::path(GORT_BUILD_DIR) / "workloads" / "toolchains.txt");
		std::string version, go;
		while (in >> version >> go)
			v.push_back({version, go});
		if (v.empty())
			throw std::runtime_error("no Go toolchain built the workloads: run scripts/install-deps.sh, "
						 "then scripts/build.sh");
		return v;
	}();
	return all;
}

static fs::path workload_path(const GoToolchain &tc, const std::string &program, const std::string &variant)
{
	std::string name = program + (variant.empty() || variant == "plain" ? "" : "-" + variant);
	return fs::path(GORT_BUILD_DIR) / "workloads" / ("go" + tc.version) / name;
}

bool workload_built(const GoToolchain &tc, const std::string &program, const std::string &variant)
{
	return fs::exists(workload_path(tc, program, variant));
}

std::string workload(const GoToolchain &tc, const std::string &program, const std::string &variant)
{
	fs::path out = workload_path(tc, program, variant);
	if (!fs::exists(out))
		throw std::runtime_error(out.string() + " is not built: run scripts/build.sh gort_workloads");
	return out;
}

std::vector<StrippedPair> groundtruth_pairs(const GoToolchain &tc, bool with_pgo)
{
	struct Kind {
		const char *name, *program, *variant;
	};
	std::vector<StrippedPair> v;
	for (Kind k : {Kind{"plain", "groundtruth", ""}, Kind{"pie", "groundtruth", "pie"},
		       Kind{"cgo", "groundtruth_cgo", ""}, Kind{"pgo", "groundtruth", "pgo"}}) {
		std::string variant = k.variant, stripped = variant.empty() ? "stripped" : variant + "-stripped";
		if ((variant == "pgo" && !with_pgo) || !workload_built(tc, k.program, stripped))
			continue;
		v.push_back({k.name, workload(tc, k.program, variant), workload(tc, k.program, stripped)});
	}
	return v;
}

} // namespace gort::testing
