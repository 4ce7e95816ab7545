#include "user/common/escape.h"

#include <fmt/format.h>

namespace gort {

namespace {

// The length of the valid UTF-8 sequence at s[i] (1-4) and its code point, or 0 if the bytes
// there are not one (overlong forms, surrogates and values past U+10FFFF are not).
size_t utf8__decode(std::string_view s, size_t i, char32_t &cp)
{
	auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
	unsigned char c = b(0);
	size_t n;
	char32_t min;
	if (c < 0x80) {
		cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (i + n > s.size())
		return 0;
	for (size_t k = 1; k < n; k++) {
		if ((b(k) & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (b(k) & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool codepoint__controls_terminal(char32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

} // namespace

std::string text__escape(std::string_view s)
{
	std::string out;
	out.reserve(s.size());
	for (size_t i = 0; i < s.size();) {
		auto c = static_cast<unsigned char>(s[i]);
		if (c == '\\') {
			out += "\\\\";
			i++;
		} else if (c == '\n') {
			out += "\\n";
			i++;
		} else if (c == '\t') {
			out += "\\t";
			i++;
		} else if (c == 0x1b) {
			out += "\\e";
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			out += fmt::format("\\x{:02x}", c);
			i++;
		} else if (c < 0x80) {
			out += static_cast<char>(c);
			i++;
		} else {
			char32_t cp = 0;
			size_t n = utf8__decode(s, i, cp);
			if (n == 0) {
				out += fmt::format("\\x{:02x}", c);
				i++;
			} else if (codepoint__controls_terminal(cp)) {
				out += fmt::format("\\u{{{:04x}}}", static_cast<uint32_t>(cp));
				i += n;
			} else {
				out.append(s.substr(i, n));
				i += n;
			}
		}
	}
	return out;
}

} // namespace gort
