// The Go programs under tests/workloads/, built by the build (tests/workloads/CMakeLists.txt) with
// every toolchain present into build/workloads/go<VERSION>/<program>[-<variant>]; tests only
// look them up, so a test never builds (nor races another test building) a binary.
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

// The toolchains the build built the workloads with (build/workloads/toolchains.txt: those of
// tests/toolchains.txt present on this machine), oldest first.
const std::vector<GoToolchain> &go_toolchains();

// The path of `program` built by `tc` as `variant` ("" or "plain", "stripped", "pie",
// "pie-stripped", "pgo", ...: the names tests/workloads/CMakeLists.txt gives them). Throws
// std::runtime_error (failing the calling test) if the build did not make it.
std::string workload(const GoToolchain &tc, const std::string &program, const std::string &variant = "");

// Whether the build made it (cgo variants need gcc, pgo ones Go 1.21+, some only the newest).
bool workload_built(const GoToolchain &tc, const std::string &program, const std::string &variant = "");

// A build of the ground-truth program with DWARF and the same build stripped (-ldflags='-s -w':
// same text addresses, no .symtab, no DWARF).
struct StrippedPair {
	std::string name;   // "plain", "pie", "cgo" (groundtruth_cgo: C thread-locals), "pgo"
	std::string plain;  // with DWARF
	std::string stripped;
};

// Every such pair the build made for `tc`; "pgo" only when `with_pgo`.
std::vector<StrippedPair> groundtruth_pairs(const GoToolchain &tc, bool with_pgo);

} // namespace gort::testing
