#include "user/common/duration.h"

#include <charconv>
#include <cmath>
#include <string>

namespace gort {

std::optional<std::chrono::nanoseconds> duration__parse(std::string_view text)
{
	size_t i = 0;
	while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
		i++;
	if (i == 0 || i == text.size())
		return std::nullopt;
	double value = 0;
	std::string number(text.substr(0, i));
	char *end = nullptr;
	value = std::strtod(number.c_str(), &end);
	if (end != number.c_str() + number.size() || !std::isfinite(value))
		return std::nullopt;
	std::string_view unit = text.substr(i);
	double scale;
	if (unit == "ns")
		scale = 1;
	else if (unit == "us" || unit == "µs")
		scale = 1e3;
	else if (unit == "ms")
		scale = 1e6;
	else if (unit == "s")
		scale = 1e9;
	else if (unit == "m")
		scale = 60e9;
	else if (unit == "h")
		scale = 3600e9;
	else
		return std::nullopt;
	double ns = value * scale;
	if (ns > 1e18)
		return std::nullopt;
	return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(ns)));
}

} // namespace gort
