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

volatile uint64_t calls_made;

uint64_t mono_ns()
{
	timespec ts{};
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + ts.tv_nsec;
}

} // namespace

__attribute__((noinline)) void calibrate__point()
{
	calls_made = calls_made + 1;
	asm volatile("" ::: "memory");
}

uint64_t calibrate__self_offset()
{
	auto addr = reinterpret_cast<uint64_t>(&calibrate__point);
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

double calibrate__time_calls(int calls)
{
	double best = 1e18;
	for (int round = 0; round < 3; round++) {
		uint64_t t0 = mono_ns();
		for (int i = 0; i < calls; i++)
			calibrate__point();
		best = std::min(best, static_cast<double>(mono_ns() - t0) / calls);
	}
	return best;
}

} // namespace gort::probes
