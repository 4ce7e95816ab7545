// The terminal screens' layout toolkit: lines of styled spans measured in code points before any
// escape is added (so the width is never miscounted), tables whose columns size to their content,
// and blocks kept or dropped whole when the screen is short (so what remains is always coherent:
// a table never loses its header). The screens (tui_process_screen.cpp, tui_table_screen.cpp)
// say what to show; this file only says how it fits.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gort::views::tui {

// ANSI SGR styles.
inline constexpr const char *kReset = "\x1b[0m";
inline constexpr const char *kBold = "\x1b[1m";
inline constexpr const char *kSlow = "\x1b[1;31m";          // bold red: a pause over kSlowPauseNs
inline constexpr const char *kWarn = "\x1b[33m";            // yellow: lost events
inline constexpr const char *kTitle = "\x1b[7m";            // reverse video: the title bar
inline constexpr const char *kBar = "\x1b[1;97;44m";        // bold white on blue: a process header
inline constexpr const char *kBarExited = "\x1b[1;97;41m";  // on red: the process is gone
inline constexpr const char *kBarWarn = "\x1b[1;93;44m";    // bold yellow on blue: lost events > 0
inline constexpr const char *kSection = "\x1b[1;36m";       // bold cyan: a section title
inline constexpr const char *kHeader = "\x1b[4m";           // underlined: a table's column names
inline constexpr const char *kDim = "\x1b[2m";
inline constexpr const char *kSpark = "\x1b[32m";

// --- UTF-8: every glyph the screens draw is one column wide, so a code point is a column ---

size_t utf8__length(std::string_view s);
// Fits `s` in `width` columns; a cut is shown by "…". Symbol names keep their end (the function
// name tells more than the module path before it), everything else keeps its start.
std::string utf8__fit(std::string_view s, size_t width, bool keep_end = false);

// --- lines of styled spans ---

struct Span {
	std::string text;
	const char *style = nullptr;
};

struct Line {
	std::vector<Span> spans;
	const char *fill = nullptr;  // a bar: pad to the full width in this style

	Line &add(std::string text, const char *style = nullptr)
	{
		spans.push_back({std::move(text), style});
		return *this;
	}
	size_t length() const
	{
		size_t n = 0;
		for (const auto &s : spans)
			n += utf8__length(s.text);
		return n;
	}
};

// The title bar: `left` and `right` ends, each with a shorter form for when both do not fit.
Line title__line(const std::string &left, const std::string &left_short, const std::string &right,
	const std::string &right_short, size_t width);
// Lines separated by "\n", none after the last, so a full-height screen never scrolls.
std::string screen__join(const std::vector<Line> &lines, size_t width, size_t height);

// --- tables: columns sized to their content, the flexible ones sharing what width is left ---

struct Column {
	std::string name;
	bool right = false;     // numbers
	bool flexible = false;  // text that may be shortened
	bool keep_end = false;
};

using Cells = std::vector<Span>;

// The header line, then one line per row.
std::vector<Line> table__lines(const std::vector<Column> &columns, const std::vector<Cells> &rows,
	const std::vector<const char *> &row_styles, size_t width, size_t indent = 0);

// --- blocks: the unit kept or dropped when the screen is short ---

struct Block {
	std::vector<Line> lines;
	int priority = 0;  // lower is more important
	int parent = -1;   // index of a block this one makes no sense without (in its full form)
	// One line saying the gist, shown when the full block does not fit: with several processes
	// on a small terminal, a slow pause must still be visible even if its table is not.
	std::vector<Line> compact;
};

inline constexpr int kEssential = 3;  // blocks up to this priority are shown, if only in compact form

// Keeps the most important blocks that fit in `budget` lines, in their original order.
std::vector<Line> blocks__fit(const std::vector<Block> &blocks, size_t budget);
size_t blocks__size(const std::vector<Block> &blocks);
// Splits `budget` lines between processes: equal shares, with what a small process does not need
// handed on to the others.
std::vector<size_t> shares__fair(const std::vector<size_t> &needs, size_t budget);

} // namespace gort::views::tui
