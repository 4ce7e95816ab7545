#include "user/contracts/contracts.h"

#include <ctime>
#include <map>

namespace gort {

namespace {

const std::map<uint32_t, std::string> &syscall_names()
{
	static const std::map<uint32_t, std::string> names = {
#include "syscall_names.inc"
	};
	return names;
}

} // namespace

Clock clock__now()
{
	timespec mono{}, wall{};
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	return {static_cast<uint64_t>(mono.tv_sec) * 1'000'000'000ull + mono.tv_nsec,
		static_cast<int64_t>(wall.tv_sec) * 1'000'000'000ll + wall.tv_nsec};
}

std::string clock__rfc3339(int64_t wall_ns)
{
	std::time_t t = static_cast<std::time_t>(wall_ns / 1'000'000'000);
	std::tm tm{};
	gmtime_r(&t, &tm);
	char buf[32];
	std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

std::string syscall_name(uint32_t nr)
{
	auto it = syscall_names().find(nr);
	return it != syscall_names().end() ? it->second : "syscall_" + std::to_string(nr);
}

} // namespace gort
