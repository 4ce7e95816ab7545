// The terminal view of one process or several stacked: the whole screen as one string of lines
// with ANSI SGR colours, built with the layout toolkit (tui_layout.h); when the screen is too
// short, whole blocks of lesser importance go first.
//
// Lines are separated by "\n" with none after the last, so a full-height screen never scrolls.
#include <algorithm>

#include <fmt/format.h>

#include "user/views/tui_layout.h"
#include "user/views/views.h"

namespace gort::views {

using namespace tui;

namespace {

constexpr size_t kTopSites = 10;
constexpr int kWaitsColumn = 120;  // screen width from which sites show WAITING ON
constexpr size_t kNarrow = 60;  // below this many columns, tables drop their least useful columns

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
			if (!s.top_functions.empty()) {
				top = fmt::format("{} ({})", s.top_functions[0].first, s.top_functions[0].second);
				if (s.top_functions.size() > 1)
					top += fmt::format(" +{} more", s.top_functions.size() - 1);
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

} // namespace gort::views
