// Builds the Go programs under tests/workloads/ with every toolchain present (scripts/go-toolchains.sh),
// at test time, into the build tree; results are cached per (toolchain, program, flags).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace gort::testing {

struct GoToolchain {
	std::string version;  // "1.27"
	std::string go;       // path of the go command
};

// gtest prints parameters with this (test names show "go1.27", not the struct's bytes).
inline void PrintTo(const GoToolchain &tc, std::ostream *os) { *os << "go" << tc.version; }

// Every toolchain listed by scripts/go-toolchains.sh, oldest first.
const std::vector<GoToolchain> &go_toolchains();

// Builds tests/workloads/<program>/main.go with `tc` and extra `go build` flags; returns the
// binary's path. Fails the calling test (throws std::runtime_error) if the build fails.
std::string go_build(const GoToolchain &tc, const std::string &program,
		     const std::vector<std::string> &flags = {});

} // namespace gort::testing
