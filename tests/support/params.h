// Helpers shared by the tests that run once per Go toolchain or read a workload's source.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/workloads.h"

namespace gort::testing {

// The test-name suffix of a toolchain parameter: "go1_27" (gtest allows only [A-Za-z0-9_]).
inline std::string toolchain_name(const ::testing::TestParamInfo<GoToolchain> &info)
{
	std::string s = "go" + info.param.version;
	for (char &c : s)
		if (c == '.')
			c = '_';
	return s;
}

// Line of the first code line of tests/workloads/<program>/main.go that starts with `needle`
// (indentation aside, so the header comment quoting it does not match); -1 if none.
inline int workload_line(const std::string &program, const std::string &needle)
{
	std::ifstream in(std::string(GORT_SOURCE_DIR) + "/tests/workloads/" + program + "/main.go");
	int n = 0;
	for (std::string line; std::getline(in, line);) {
		n++;
		size_t first = line.find_first_not_of(" \t");
		if (first != std::string::npos && line.compare(first, needle.size(), needle) == 0)
			return n;
	}
	return -1;
}

} // namespace gort::testing
