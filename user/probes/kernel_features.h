// What this kernel and this process can do for gort, found by trying it (loading a tiny BPF
// program, creating a ring buffer, attaching a uprobe to gort's own binary, opening the raw
// tracepoints gort uses), never by comparing version numbers: distributions backport features
// and containers, lockdown and capabilities take them away. `gort info` renders these.
#pragma once

#include <string>
#include <vector>

#include "user/common/error.h"

namespace gort::probes {

struct FeatureCheck {
	std::string name;    // "BTF", "ring buffer", ...
	bool ok = true;
	// ok: what was found ("6.18.44", "loaded a uprobe program"); not ok: what is missing and
	// what to do, one line.
	std::string detail;
	// Not ok and required: gort cannot work here; code says why (permission or unsupported).
	bool required = true;
	ExitCode code = ExitCode::unsupported;
};

// Runs every check, in the order `gort info` prints them. Never throws for a missing feature;
// every fd it opens is closed before it returns.
std::vector<FeatureCheck> kernel_features__probe();

// ok when every required check passed; else the code of the first failing one, permission first
// (without privileges every kernel probe fails too, and privileges are what to fix first).
ExitCode kernel_features__verdict(const std::vector<FeatureCheck> &checks);

} // namespace gort::probes
