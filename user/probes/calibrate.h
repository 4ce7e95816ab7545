// What one uprobe trap costs on this machine (issue 9): the price depends on the CPU and the
// hypervisor (3.2 us on this project's 2-core VM, 0.7 us on bare metal), so gort measures it at
// start instead of assuming one: a function inside gort is called a few thousand times with and
// without a uprobe running gort's own goroutine program on it (which returns at once: gort is
// not a traced process), and the difference per call is the trap.
//
// Three things make that figure the target's: the probed instruction is one the kernel emulates
// (`push %rbp`, as at gort's own goroutine attach points; a single-stepped one costs ~3x more,
// arch/x86/kernel/uprobes.c); the program does a traced process's whole work (gort registers
// itself for the calibration, and R14 points at a fake g: map lookups, three user reads, the
// site's counters), not the early return of an untraced process (~0.8 us here against ~2.5 us
// per trap in the traced HTTP service); and the calls are timed in the thread's CPU time, not
// wall time: the trap is kernel time charged to the trapping thread, and on a loaded machine the
// wall clock also counts the time other tasks ran (25-58 us "per trap" measured that way at
// load 20).
#pragma once

#include <cstdint>
#include <string>

struct bpf_program;

namespace gort::probes {

// The file offset of gort's calibration function in /proc/self/exe (what a uprobe is set on).
// Throws UserError(failure) if it cannot be found in /proc/self/maps.
uint64_t calibrate__self_offset();

// A fake g for the calibration: the offsets the calibration's config gives the program.
struct CalibrationG {
	static constexpr uint32_t kGoid = 8, kStartpc = 16, kGopc = 24;
	alignas(8) unsigned char bytes[64] = {};
};

// The probed instruction (file offset: calibrate__self_offset()) of gort_calibrate_point(g),
// which calls it with R14 = g, as Go code runs with R14 = the current g.
extern "C" void gort_calibrate_point(void *g);
extern "C" char gort_calibrate_trap[];

// CPU nanoseconds of this thread per call of gort_calibrate_point(g), best of a few rounds of
// `calls` calls each.
double calibrate__time_calls(int calls, CalibrationG &g);

} // namespace gort::probes
