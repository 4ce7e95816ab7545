// The live terminal view: the whole screen as one string of lines with ANSI SGR colours. Lines
// are built as styled spans and measured in code points before any escape is added, so the
// width is never miscounted; when the screen is too short, whole blocks of lesser importance go
// first, so what remains is always coherent (a table never loses its header).
//
// Lines are separated by "\n" with none after the last, so a full-height screen never scrolls.
#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "user/views/views.h"

namespace gort::views {

namespace {

constexpr const char *kReset = "\x1b[0m";
constexpr const char *kBold = "\x1b[1m";
constexpr const char *kSlow = "\x1b[1;31m";          // bold red: a pause over kSlowPauseNs
constexpr const char *kWarn = "\x1b[33m";            // yellow: lost events
constexpr const char *kTitle = "\x1b[7m";            // reverse video: the title bar
constexpr const char *kBar = "\x1b[1;97;44m";        // bold white on blue: a process header
constexpr const char *kBarExited = "\x1b[1;97;41m";  // on red: the process is gone
constexpr const char *kBarWarn = "\x1b[1;93;44m";    // bold yellow on blue: lost events > 0
constexpr const char *kSection = "\x1b[1;36m";       // bold cyan: a section title
constexpr const char *kHeader = "\x1b[4m";           // underlined: a table's column names
constexpr const char *kDim = "\x1b[2m";
constexpr const char *kSpark = "\x1b[32m";

constexpr size_t kTopSites = 10;
constexpr int kWaitsColumn = 120;  // screen width from which sites show WAITING ON
constexpr size_t kNarrow = 60;  // below this many columns, tables drop their least useful columns

// --- UTF-8: every glyph this view draws is one column wide, so a code point is a column ---

size_t utf8__length(std::string_view s)
{
	return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

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

// Fits `s` in `width` columns; a cut is shown by "…". Symbol names keep their end (the function
// name tells more than the module path before it), everything else keeps its start.
std::string utf8__fit(std::string_view s, size_t width, bool keep_end = false)
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

std::string utf8__pad(std::string_view s, size_t width, bool right_align)
{
	size_t len = utf8__length(s);
	std::string pad(len < width ? width - len : 0, ' ');
	return right_align ? pad + std::string(s) : std::string(s) + pad;
}

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

struct Column {
	std::string name;
	bool right = false;     // numbers
	bool flexible = false;  // text that may be shortened
	bool keep_end = false;
};

using Cells = std::vector<Span>;

constexpr size_t kGap = 2;

std::vector<Line> table__lines(const std::vector<Column> &columns, const std::vector<Cells> &rows,
	const std::vector<const char *> &row_styles, size_t width, size_t indent = 0)
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

struct Block {
	std::vector<Line> lines;
	int priority = 0;  // lower is more important
	int parent = -1;   // index of a block this one makes no sense without (in its full form)
	// One line saying the gist, shown when the full block does not fit: with several processes
	// on a small terminal, a slow pause must still be visible even if its table is not.
	std::vector<Line> compact;
};

constexpr int kEssential = 3;  // blocks up to this priority are shown, if only in compact form

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

// --- one process ---

std::string uptime__format(double seconds)
{
	if (seconds < 60)
		return fmt::format("{:.1f}s", seconds);
	auto s = static_cast<uint64_t>(seconds);
	if (s < 3600)
		return fmt::format("{}m{:02}s", s / 60, s % 60);
	return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
}

Span pause__span(uint64_t ns)
{
	return {format__duration_ns(ns), ns > session::kSlowPauseNs ? kSlow : nullptr};
}

Line process__header(const session::ProcessSnapshot &p)
{
	Line line;
	line.fill = p.exited ? kBarExited : kBar;
	line.add(fmt::format(" PID {}  ", p.pid));
	line.add(p.comm.empty() ? "?" : p.comm);
	line.add(fmt::format("  {}  up {}", p.go_version.empty() ? "go?" : p.go_version, uptime__format(p.seconds)));
	if (p.exited)
		line.add("  EXITED");
	line.add(fmt::format("  lost events {}", p.lost_events), p.lost_events > 0 ? kBarWarn : nullptr);
	line.add("  probes " + format__probe_cost(p.cost));
	line.add("  " + p.exe);
	return line;
}

std::vector<Block> process__blocks(const session::ProcessSnapshot &p, size_t width)
{
	std::vector<Block> blocks;
	auto push = [&](std::vector<Line> lines, int priority, int parent = -1, std::vector<Line> compact = {}) {
		blocks.push_back({std::move(lines), priority, parent, std::move(compact)});
		return static_cast<int>(blocks.size() - 1);
	};

	push({process__header(p)}, 0);

	const auto &g = p.goroutines;
	Line summary;
	summary.add("Goroutines", kBold)
		.add("  live ")
		.add(fmt::format("{}", g.live), kBold)
		.add(fmt::format("  created {} (+{:.1f}/s)  exited {} (+{:.1f}/s)  peak {}", g.created, p.created_per_sec,
			g.exited, p.exited_per_sec, g.peak));
	push({summary}, 1);

	Line history;
	std::string suffix = fmt::format("   at attach {} · runtime goroutines +{} −{}", g.live_at_attach, g.system_created,
		g.system_exited);
	history.add("  live history ", kDim);
	size_t fixed = 2 + 13 + utf8__length(suffix);
	size_t spark_width = std::min(p.live_history.size(), std::max<size_t>(width > fixed ? width - fixed : 0, 10));
	std::string spark = format__sparkline(p.live_history, spark_width);
	history.add(spark.empty() ? "(none yet)" : spark, spark.empty() ? kDim : kSpark).add(suffix, kDim);
	push({history}, 4);

	// Sites: the user's own, unless it has created none yet.
	bool any_user = std::any_of(p.sites.begin(), p.sites.end(), [](const auto &s) { return !s.system; });
	std::vector<Cells> rows;
	std::vector<const char *> styles;
	for (const auto &s : p.sites) {
		if (s.system == any_user)
			continue;
		if (rows.size() == kTopSites)
			break;
		rows.push_back({{s.function}, {s.created_by}, {s.created_at}, {fmt::format("{}", s.live)},
			{fmt::format("{}", s.created)}, {fmt::format("{}", s.exited)}, {format__site_waits(s, 2)}});
		// Growth is not in the model; the top site by live is where a leak shows, so it stands out.
		styles.push_back(rows.size() == 1 && s.live > 0 ? kBold : nullptr);
	}
	Line sites_title;
	sites_title.add(any_user || p.sites.empty() ? "Top creation sites by live goroutines"
	                                            : "Top creation sites by live goroutines (runtime)",
		kSection);
	if (rows.empty()) {
		sites_title.add("  none yet", kDim);
		push({sites_title}, 2);
	} else {
		std::vector<Column> columns = {{"FUNCTION", false, true, true}, {"CREATED BY", false, true, true},
			{"AT", false, true, true}, {"LIVE", true}, {"CREATED", true}, {"EXITED", true},
			{"WAITING ON", false, true, false}};
		// The census's column only when it has something to say, and only where it leaves the
		// names whole (at 80 columns the function would lose its head to it).
		bool any_waits = std::any_of(p.sites.begin(), p.sites.end(),
					     [&](const auto &s) { return s.system != any_user && !s.waits.empty(); });
		if (!any_waits || width < kWaitsColumn) {
			columns.pop_back();
			for (auto &row : rows)
				row.pop_back();
		}
		// Too narrow for three names: the function alone says more than three stubs.
		if (width < kNarrow) {
			columns.erase(columns.begin() + 1, columns.begin() + 3);
			for (auto &row : rows)
				row.erase(row.begin() + 1, row.begin() + 3);
		}
		auto table = table__lines(columns, rows, styles, width);
		const auto &top = p.sites[static_cast<size_t>(std::find_if(p.sites.begin(), p.sites.end(),
			[&](const auto &s) { return s.system != any_user; }) - p.sites.begin())];
		Line compact;
		compact.add("Top site", kSection)
			.add("  " + top.function, styles[0])
			.add(fmt::format(" ({})  live {}  created {}  exited {}", top.created_at, top.live, top.created, top.exited));
		if (!top.waits.empty())
			compact.add("  " + format__site_waits(top, 1));
		int head = push({sites_title, table[0], table[1]}, 2, -1, {compact});
		for (size_t r = 1; r < rows.size(); r++)
			push({table[r + 1]}, 3 + static_cast<int>(r), head);
	}

	// Stop-the-world pauses.
	Line stw_title;
	stw_title.add("Stop-the-world pauses", kSection).add(fmt::format("  GC cycles {}", p.gc_cycles));
	if (p.stw_gc.count == 0 && p.stw_other.count == 0 && p.stw_by_reason.empty()) {
		stw_title.add("  none yet", kDim);
		push({stw_title}, 3);
	} else {
		auto pause__cells = [](std::string label, const session::PauseStats &s) {
			return Cells{{std::move(label)}, {fmt::format("{}", s.count)}, pause__span(s.p50_ns), pause__span(s.p99_ns),
				pause__span(s.max_ns), {format__duration_ns(s.total_ns)}};
		};
		std::vector<Cells> stw_rows = {pause__cells("gc", p.stw_gc), pause__cells("other", p.stw_other)};
		for (const auto &[reason, s] : p.stw_by_reason)
			stw_rows.push_back(pause__cells("  " + reason, s));
		std::vector<Column> columns = {{"KIND", false, true}, {"COUNT", true}, {"P50", true}, {"P99", true},
			{"MAX", true}, {"TOTAL", true}};
		auto table = table__lines(columns, stw_rows, {}, width);
		Line compact;
		compact.add("STW", kSection).add(fmt::format("  GC cycles {} · gc {}× p99 ", p.gc_cycles, p.stw_gc.count));
		compact.spans.push_back(pause__span(p.stw_gc.p99_ns));
		compact.add(" max ").spans.push_back(pause__span(p.stw_gc.max_ns));
		compact.add(fmt::format(" · other {}× max ", p.stw_other.count)).spans.push_back(pause__span(p.stw_other.max_ns));
		int head = push({stw_title, table[0], table[1], table[2]}, 3, -1, {compact});
		for (size_t r = 2; r < stw_rows.size(); r++)
			push({table[r + 1]}, 3 + static_cast<int>(r), head);
	}

	// The heap and pacer as the last GC cycle left them, with the live heap after each cycle.
	if (p.heap.known) {
		const auto &h = p.heap;
		Line heap;
		heap.add("Heap", kSection)
			.add("  live ")
			.add(format__bytes(h.live), kBold)
			.add(fmt::format("  goal {}  GOGC {}  limit {}  GOMAXPROCS {}  GC CPU {:.2f}%  threads {}",
				format__bytes(h.goal), format__gogc(h.gogc), format__memory_limit(h.memory_limit), h.gomaxprocs,
				h.gc_cpu_fraction * 100, h.os_threads));
		if (h.alloc_known)
			heap.add(fmt::format("  alloc {}  objects {}", format__bytes(h.alloc), h.objects));
		Line heap_history;
		heap_history.add("  live after each cycle ", kDim);
		size_t hw = std::min(h.live_history.size(), std::max<size_t>(width > 26 ? width - 26 : 0, 10));
		heap_history.add(format__sparkline(h.live_history, hw), kSpark);
		push({heap, heap_history}, 3, -1, {heap});
	}

	// Slow syscalls made by goroutines, attributed to the function each goroutine runs.
	Line sys_title;
	sys_title.add(fmt::format("Slow syscalls ≥ {}", format__duration_ns(p.syscall_threshold_ns)), kSection);
	if (p.syscalls.empty()) {
		sys_title.add("  none yet", kDim);
		push({sys_title}, 5);
	} else {
		std::vector<Cells> sys_rows;
		for (const auto &s : p.syscalls) {
			std::string top;
			auto best = std::max_element(s.by_function.begin(), s.by_function.end(),
				[](const auto &a, const auto &b) { return a.second < b.second; });
			if (best != s.by_function.end()) {
				top = fmt::format("{} ({})", best->first, best->second);
				if (s.by_function.size() > 1)
					top += fmt::format(" +{} more", s.by_function.size() - 1);
			}
			sys_rows.push_back({{s.name}, {fmt::format("{}", s.count)}, {format__duration_ns(s.total_ns)},
				{format__duration_ns(s.max_ns)}, {top}});
		}
		std::vector<Column> columns = {{"SYSCALL", false, true}, {"COUNT", true}, {"TOTAL", true}, {"MAX", true},
			{"TOP FUNCTION", false, true, true}};
		auto table = table__lines(columns, sys_rows, {}, width);
		Line compact = sys_title;
		for (size_t i = 0; i < p.syscalls.size(); i++) {
			const auto &sc = p.syscalls[i];
			compact.add(fmt::format("{}{} ×{} {}", i ? " · " : "  ", sc.name, sc.count, format__duration_ns(sc.total_ns)));
		}
		int head = push({sys_title, table[0], table[1]}, 5, -1, {compact});
		for (size_t r = 1; r < sys_rows.size(); r++)
			push({table[r + 1]}, 5 + static_cast<int>(r), head);
	}

	// The runtime's own waits (on g0) are context, not the program's doing: one line.
	Line waits;
	waits.add("Runtime waits", kSection);
	if (p.runtime_waits.empty())
		waits.add("  none yet", kDim);
	for (size_t i = 0; i < p.runtime_waits.size(); i++) {
		const auto &w = p.runtime_waits[i];
		waits.add(fmt::format("{}{} ×{} {}", i ? " · " : "  ", w.name, w.count, format__duration_ns(w.total_ns)));
	}
	push({waits}, 6);
	return blocks;
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

} // namespace

std::string tui__render(const session::Snapshot &snap_in, int width_in, int height_in)
{
	if (width_in <= 0 || height_in <= 0)
		return {};
	const session::Snapshot snap = snapshot__for_terminal(snap_in);
	auto width = static_cast<size_t>(width_in);
	auto height = static_cast<size_t>(height_in);

	std::vector<Line> lines;
	std::string left = fmt::format(" gort  {}  {} process{}", snap.time, snap.processes.size(),
		snap.processes.size() == 1 ? "" : "es");
	// How to leave matters more than the time on a narrow terminal.
	lines.push_back(title__line(left, " gort", "q to quit ", "q to quit ", width));

	size_t budget = height - 1;
	if (snap.processes.empty() && budget > 0)
		lines.push_back(Line().add("No Go process traced yet.", kDim));

	// More processes than lines: one header each, as many as fit, and say how many are hidden.
	size_t n = snap.processes.size();
	if (n > budget) {
		size_t shown = budget > 0 ? budget - 1 : 0;
		for (size_t i = 0; i < shown; i++)
			lines.push_back(process__header(snap.processes[i]));
		if (budget > 0)
			lines.push_back(Line().add(fmt::format("… {} more processes: enlarge the terminal", n - shown), kWarn));
	} else if (n > 0) {
		std::vector<std::vector<Block>> all;
		std::vector<size_t> needs;
		for (const auto &p : snap.processes) {
			all.push_back(process__blocks(p, width));
			needs.push_back(blocks__size(all.back()));
		}
		auto shares = shares__fair(needs, budget);
		size_t unused = 0;  // what a process could not use (blocks rarely fill a share exactly)
		for (size_t i = 0; i < n; i++) {
			auto fitted = blocks__fit(all[i], std::max<size_t>(shares[i] + unused, 1));
			unused = shares[i] + unused - std::min(shares[i] + unused, fitted.size());
			lines.insert(lines.end(), fitted.begin(), fitted.end());
		}
	}

	return screen__join(lines, width, height);
}

const char *sort_key__name(SortKey key)
{
	switch (key) {
	case SortKey::live: return "live goroutines";
	case SortKey::growth: return "goroutine growth";
	case SortKey::gc_rate: return "GC/s";
	case SortKey::worst_stw: return "worst STW";
	case SortKey::slow_syscalls: return "slow syscalls";
	case SortKey::pid: return "PID";
	}
	return "?";
}

SortKey sort_key__next(SortKey key)
{
	return key == SortKey::pid ? SortKey::live : static_cast<SortKey>(static_cast<int>(key) + 1);
}

uint64_t process__worst_pause_ns(const session::ProcessSnapshot &p)
{
	return std::max(p.stw_gc.max_ns, p.stw_other.max_ns);
}

namespace {

// Net goroutines over the live history shown: a leak is a steady positive number here.
int64_t process__growth(const session::ProcessSnapshot &p)
{
	return p.live_history.size() < 2 ? 0 : p.live_history.back() - p.live_history.front();
}

uint64_t process__slow_syscalls(const session::ProcessSnapshot &p)
{
	uint64_t n = 0;
	for (const auto &s : p.syscalls)
		n += s.count;
	return n;
}

} // namespace

std::vector<const session::ProcessSnapshot *> table__rows(const session::Snapshot &snap, SortKey key)
{
	std::vector<const session::ProcessSnapshot *> rows;
	for (const auto &p : snap.processes)
		rows.push_back(&p);
	auto metric = [key](const session::ProcessSnapshot *p) -> double {
		switch (key) {
		case SortKey::live: return static_cast<double>(p->goroutines.live);
		case SortKey::growth: return static_cast<double>(process__growth(*p));
		case SortKey::gc_rate: return p->gc_per_sec;
		case SortKey::worst_stw: return static_cast<double>(process__worst_pause_ns(*p));
		case SortKey::slow_syscalls: return static_cast<double>(process__slow_syscalls(*p));
		case SortKey::pid: return -static_cast<double>(p->pid);
		}
		return 0;
	};
	std::stable_sort(rows.begin(), rows.end(), [&](auto *a, auto *b) {
		double ma = metric(a), mb = metric(b);
		return ma != mb ? ma > mb : a->pid < b->pid;
	});
	return rows;
}

std::string tui__render_table(const session::Snapshot &snap_in, int width_in, int height_in, const TableState &state)
{
	if (width_in <= 0 || height_in <= 0)
		return {};
	const session::Snapshot snap = snapshot__for_terminal(snap_in);
	auto width = static_cast<size_t>(width_in);
	auto height = static_cast<size_t>(height_in);
	auto rows = table__rows(snap, state.sort);

	std::vector<Line> lines;
	std::string left = fmt::format(" gort --all  {}  {} Go process{}  sorted by {}", snap.time, rows.size(),
		rows.size() == 1 ? "" : "es", sort_key__name(state.sort));
	lines.push_back(title__line(left, left, "s sort · ↑↓ select · Enter focus · q quit ", "q quit ", width));
	if (rows.empty())
		lines.push_back(Line().add("No Go process traced yet: they appear here as they start.", kDim));

	std::vector<Column> columns{{"PID", true}, {"COMMAND", false, true}, {"GO"}, {"LIVE", true}, {"TREND"},
		{"GROWTH", true}, {"GC/S", true}, {"WORST STW", true}, {"SLOW SYSCALLS", true}, {"LOST", true}, {"PROBE COST", true}};
	// Keep the selected row on screen: scroll the table by whole rows.
	size_t room = height > 2 ? height - 2 : 0;
	size_t selected = rows.empty() ? 0 : std::min(state.selected, rows.size() - 1);
	size_t first = selected >= room ? selected - room + 1 : 0;
	std::vector<Cells> cells;
	std::vector<const char *> styles;
	for (size_t i = first; i < rows.size() && i < first + room; i++) {
		const auto &p = *rows[i];
		uint64_t worst = process__worst_pause_ns(p);
		int64_t growth = process__growth(p);
		cells.push_back({{std::to_string(p.pid)},
			{p.comm + (p.exited ? " (exited)" : "")},
			{p.go_version},
			{std::to_string(p.goroutines.live)},
			{format__sparkline(p.live_history, 12), kSpark},
			{fmt::format("{:+d}", growth), growth > 0 ? kWarn : nullptr},
			{fmt::format("{:.1f}", p.gc_per_sec)},
			{worst ? format__duration_ns(worst) : "-", worst > session::kSlowPauseNs ? kSlow : nullptr},
			{std::to_string(process__slow_syscalls(p))},
			{std::to_string(p.lost_events), p.lost_events ? kWarn : nullptr},
			{format__probe_cost(p.cost, true)}});
		styles.push_back(i == selected ? kTitle : nullptr);
	}
	if (!rows.empty()) {
		auto table = table__lines(columns, cells, styles, width);
		lines.insert(lines.end(), table.begin(), table.end());
	}

	return screen__join(lines, width, height);
}

} // namespace gort::views
