#include "support/go_build.h"

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace gort::testing {

namespace fs = std::filesystem;

static std::string run_capture(const std::string &cmd, int *status)
{
	std::string out;
	FILE *p = popen(cmd.c_str(), "r");
	if (!p)
		throw std::runtime_error("cannot run: " + cmd);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, p)) > 0)
		out.append(buf, n);
	*status = pclose(p);
	return out;
}

const std::vector<GoToolchain> &go_toolchains()
{
	static const std::vector<GoToolchain> all = [] {
		std::vector<GoToolchain> v;
		int status = 0;
		std::istringstream in(run_capture(std::string(GORT_SOURCE_DIR) + "/scripts/go-toolchains.sh", &status));
		std::string version, go;
		while (in >> version >> go)
			v.push_back({version, go});
		if (v.empty())
			throw std::runtime_error("no Go toolchain found: run scripts/install-deps.sh");
		return v;
	}();
	return all;
}

std::string go_build(const GoToolchain &tc, const std::string &program, const std::vector<std::string> &flags)
{
	std::string tag;
	for (const auto &f : flags)
		for (char c : f)
			tag += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
	fs::path dir = fs::path(GORT_BUILD_DIR) / "workloads" / ("go" + tc.version);
	fs::create_directories(dir);
	fs::path out = dir / (program + (tag.empty() ? "" : "-" + tag));
	// Every .go file of the directory is the program (groundtruth_cgo adds cgo.go to a link to
	// groundtruth's main.go); rebuilt when any of them is newer than the binary.
	fs::path dir_src = fs::path(GORT_SOURCE_DIR) / "tests" / "workloads" / program;
	bool fresh = fs::exists(out);
	if (fresh) {
		auto built = fs::last_write_time(out);
		for (const auto &e : fs::directory_iterator(dir_src))
			if (e.path().extension() == ".go" && fs::last_write_time(e.path()) >= built)
				fresh = false;
	}
	if (fresh)
		return out;
	std::string cmd = "cd '" + dir_src.string() + "' && GO111MODULE=off GOTOOLCHAIN=local GOFLAGS= " +
			  "GOCACHE='" + (fs::path(GORT_BUILD_DIR) / "go-cache").string() + "' '" + tc.go + "' build";
	for (const auto &f : flags)
		cmd += " '" + f + "'";
	cmd += " -o '" + out.string() + ".tmp' . 2>&1";
	int status = 0;
	std::string log = run_capture(cmd, &status);
	if (status != 0)
		throw std::runtime_error("go build failed (" + tc.version + ", " + program + "): " + log);
	fs::rename(out.string() + ".tmp", out);
	return out;
}

} // namespace gort::testing
