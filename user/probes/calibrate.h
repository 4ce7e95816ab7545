// What one uprobe trap costs on this machine (issue 9): the price depends on the CPU and the
// hypervisor (3.2 us on this project's 2-core VM, 0.7 us on bare metal), so gort measures it at
// start instead of assuming one: a function inside gort is called a few thousand times with and
// without a uprobe running gort's own goroutine program on it (which returns at once: gort is
// not a traced process), and the difference per call is the trap.
#pragma once

#include <string>

struct bpf_program;

namespace gort::probes {

// The file offset of gort's calibration function in /proc/self/exe (what a uprobe is set on).
// Throws UserError(failure) if it cannot be found in /proc/self/maps.
uint64_t calibrate__self_offset();

// One call of the calibration function (noinline: the probe is on its first instruction).
void calibrate__point();

// Nanoseconds per call of calibrate__point(), best of a few rounds of `calls` calls each.
double calibrate__time_calls(int calls);

} // namespace gort::probes
