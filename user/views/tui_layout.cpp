// The terminal screens' layout toolkit (tui_layout.h).
#include "user/views/tui_layout.h"

#include <algorithm>
#include <numeric>

namespace gort::views::tui {

// --- UTF-8 ---

size_t utf8__length(std::string_view s)
{
	return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

namespace {

// Byte offset of code point `n` (or the end).
size_t utf8__offset(std::string_view s, size_t n)
{
	size_t i = 0;
	for (; i < s.size(); i++) {
		if ((s[i] & 0xC0) != 0x80 && n-- == 0)
			break;
	}
	return i;
}

} // namespace

std::string utf8__fit(std::string_view s, size_t width, bool keep_end)
{
	size_t len = utf8__length(s);
	if (len <= width)
		return std::string(s);
	if (width == 0)
		return {};
	if (keep_end)
		return "…" + std::string(s.substr(utf8__offset(s, len - (width - 1))));
	return std::string(s.substr(0, utf8__offset(s, width - 1))) + "…";
}

namespace {

std::string utf8__pad(std::string_view s, size_t width, bool right_align)
{
	size_t len = utf8__length(s);
	std::string pad(len < width ? width - len : 0, ' ');
	return right_align ? pad + std::string(s) : std::string(s) + pad;
}

std::string line__render(const Line &line, size_t width)
{
	std::string out;
	size_t used = 0;
	bool cut = line.length() > width;
	for (const auto &span : line.spans) {
		if (used >= width)
			break;
		size_t room = width - used;
		size_t len = utf8__length(span.text);
		std::string text = len > room ? utf8__fit(span.text, room) : span.text;
		// A bar's unstyled spans still carry the bar's colours.
		const char *style = span.style ? span.style : line.fill;
		out += style ? style + text + kReset : text;
		used += std::min(len, room);
	}
	if (line.fill && !cut && used < width)
		out += line.fill + std::string(width - used, ' ') + kReset;
	return out;
}

} // namespace

// The title bar: `left` and `right` ends, each with a shorter form for when both do not fit.
Line title__line(const std::string &left, const std::string &left_short, const std::string &right,
	const std::string &right_short, size_t width)
{
	std::string l = left, r = right;
	if (utf8__length(l) + utf8__length(r) + 2 > width) {
		l = left_short;
		r = right_short;
	}
	size_t used = utf8__length(l) + utf8__length(r);
	Line title;
	title.fill = kTitle;
	title.add(l, kTitle).add(std::string(width > used ? width - used : 2, ' ')).add(r, kTitle);
	return title;
}

// Lines separated by "\n", none after the last, so a full-height screen never scrolls.
std::string screen__join(const std::vector<Line> &lines, size_t width, size_t height)
{
	std::string screen;
	for (size_t i = 0; i < lines.size() && i < height; i++) {
		if (i)
			screen += '\n';
		screen += line__render(lines[i], width);
	}
	return screen;
}

// --- tables: columns sized to their content, the flexible ones sharing what width is left ---

namespace {
constexpr size_t kGap = 2;
} // namespace

std::vector<Line> table__lines(const std::vector<Column> &columns, const std::vector<Cells> &rows,
	const std::vector<const char *> &row_styles, size_t width, size_t indent)
{
	std::vector<size_t> widths(columns.size());
	for (size_t c = 0; c < columns.size(); c++) {
		widths[c] = utf8__length(columns[c].name);
		for (const auto &row : rows)
			widths[c] = std::max(widths[c], utf8__length(row[c].text));
	}
	size_t fixed = indent + kGap * (columns.size() - 1);
	std::vector<size_t> flexible;
	for (size_t c = 0; c < columns.size(); c++) {
		if (columns[c].flexible)
			flexible.push_back(c);
		else
			fixed += widths[c];
	}
	// Water-filling: the narrowest flexible columns take their natural width, the rest split
	// what remains evenly, so one long name cannot squeeze a short column to nothing.
	size_t room = width > fixed ? width - fixed : 0;
	std::sort(flexible.begin(), flexible.end(), [&](size_t a, size_t b) { return widths[a] < widths[b]; });
	for (size_t i = 0; i < flexible.size(); i++) {
		size_t share = room / (flexible.size() - i);
		size_t &w = widths[flexible[i]];
		w = std::max<size_t>(std::min(w, share), std::min<size_t>(w, 3));
		room -= std::min(room, w);
	}

	auto cells__line = [&](const Cells &cells, const char *row_style) {
		Line line;
		if (indent)
			line.add(std::string(indent, ' '));
		for (size_t c = 0; c < columns.size(); c++) {
			std::string text = utf8__fit(cells[c].text, widths[c], columns[c].keep_end);
			line.add(utf8__pad(text, widths[c], columns[c].right), cells[c].style ? cells[c].style : row_style);
			if (c + 1 < columns.size())
				line.add(std::string(kGap, ' '), row_style);
		}
		return line;
	};

	std::vector<Line> lines;
	Cells header;
	for (const auto &c : columns)
		header.push_back({c.name});
	lines.push_back(cells__line(header, kHeader));
	for (size_t r = 0; r < rows.size(); r++)
		lines.push_back(cells__line(rows[r], r < row_styles.size() ? row_styles[r] : nullptr));
	return lines;
}

// --- blocks: the unit kept or dropped when the screen is short ---

// Keeps the most important blocks that fit in `budget` lines, in their original order. First the
// gist of every essential block (compact when it has a compact form), then, by priority, full
// forms and the rest: so a short screen shows one line about pauses rather than none, and a tall
// one shows every table.
std::vector<Line> blocks__fit(const std::vector<Block> &blocks, size_t budget)
{
	std::vector<size_t> order(blocks.size());
	std::iota(order.begin(), order.end(), 0);
	std::stable_sort(order.begin(), order.end(),
		[&](size_t a, size_t b) { return blocks[a].priority < blocks[b].priority; });
	enum Form { none, full, compact };
	std::vector<Form> kept(blocks.size(), none);
	size_t used = 0;
	auto take = [&](size_t i, Form form) {
		const auto &b = blocks[i];
		size_t have = kept[i] == none ? 0 : (kept[i] == full ? b.lines : b.compact).size();
		size_t want = (form == full ? b.lines : b.compact).size();
		if (used - have + want > budget)
			return false;
		used = used - have + want;
		kept[i] = form;
		return true;
	};
	for (size_t i : order) {
		const auto &b = blocks[i];
		if (b.priority > kEssential || (b.parent >= 0 && kept[static_cast<size_t>(b.parent)] != full))
			continue;
		take(i, b.compact.empty() ? full : compact);
	}
	for (size_t i : order) {
		const auto &b = blocks[i];
		if (kept[i] == full || (b.parent >= 0 && kept[static_cast<size_t>(b.parent)] != full))
			continue;
		if (!take(i, full) && kept[i] == none && !b.compact.empty())
			take(i, compact);
	}
	std::vector<Line> lines;
	for (size_t i = 0; i < blocks.size(); i++) {
		const auto &shown = kept[i] == full ? blocks[i].lines : blocks[i].compact;
		if (kept[i] != none)
			lines.insert(lines.end(), shown.begin(), shown.end());
	}
	return lines;
}

size_t blocks__size(const std::vector<Block> &blocks)
{
	size_t n = 0;
	for (const auto &b : blocks)
		n += b.lines.size();
	return n;
}

// Splits `budget` lines between processes: equal shares, with what a small process does not need
// handed on to the others, so one busy process does not waste the room of an idle one.
std::vector<size_t> shares__fair(const std::vector<size_t> &needs, size_t budget)
{
	std::vector<size_t> shares(needs.size(), 0);
	std::vector<size_t> open(needs.size());
	std::iota(open.begin(), open.end(), 0);
	while (!open.empty() && budget > 0) {
		size_t each = budget / open.size();
		size_t extra = budget % open.size();
		std::vector<size_t> still;
		size_t given = 0;
		for (size_t k = 0; k < open.size(); k++) {
			size_t i = open[k];
			size_t want = needs[i] - shares[i];
			size_t offer = each + (k < extra ? 1 : 0);
			size_t take = std::min(want, offer);
			shares[i] += take;
			given += take;
			if (shares[i] < needs[i])
				still.push_back(i);
		}
		budget -= given;
		if (still.size() == open.size())
			break;  // everyone took a full share: nothing left to hand on
		open = std::move(still);
	}
	return shares;
}

} // namespace gort::views::tui
