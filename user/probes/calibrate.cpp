#include "user/probes/calibrate.h"

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "user/common/error.h"

namespace gort::probes {

namespace {

uint64_t thread_cpu_ns()
{
	timespec ts{};
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + ts.tv_nsec;
}

} // namespace

// Written in assembly so that the probed instruction is one the kernel emulates whatever the
// compiler does (a C++ body starts with a RIP-relative load: single-stepped), with R14
// holding the fake g as Go's ABIInternal keeps the current g there.
#if defined(__x86_64__)
asm(".text\n"
    ".globl gort_calibrate_point\n"
    ".globl gort_calibrate_trap\n"
    ".type gort_calibrate_point, @function\n"
    "gort_calibrate_point:\n"
    "\tpush %r14\n"
    "\tmov %rdi, %r14\n"
    "gort_calibrate_trap:\n"
    "\tpush %rbp\n"
    "\tpop %rbp\n"
    "\tpop %r14\n"
    "\tret\n"
    ".size gort_calibrate_point, .-gort_calibrate_point\n");
#else
#error "gort_calibrate_point: gort's BPF programs read x86-64 registers"
#endif

uint64_t calibrate__self_offset()
{
	auto addr = reinterpret_cast<uint64_t>(&gort_calibrate_trap[0]);
	std::ifstream maps("/proc/self/maps");
	std::string line;
	while (std::getline(maps, line)) {
		uint64_t lo = 0, hi = 0, off = 0;
		char perms[8] = {};
		if (std::sscanf(line.c_str(), "%lx-%lx %7s %lx", &lo, &hi, perms, &off) != 4)
			continue;
		if (addr >= lo && addr < hi && perms[2] == 'x')
			return addr - lo + off;
	}
	throw UserError(ExitCode::failure, "cannot find gort's own code in /proc/self/maps to calibrate the uprobe cost; "
					   "use --exact");
}

double calibrate__time_calls(int calls, CalibrationG &g)
{
	double best = 1e18;
	for (int round = 0; round < 3; round++) {
		uint64_t t0 = thread_cpu_ns();
		for (int i = 0; i < calls; i++)
			gort_calibrate_point(&g);
		best = std::min(best, static_cast<double>(thread_cpu_ns() - t0) / calls);
	}
	return best;
}

} // namespace gort::probes
