// System-wide mode's terminal view (top --all): one row per process, sorted by a key the user
// cycles, the selected row kept on screen. Every figure comes from the model.
#include <algorithm>

#include <fmt/format.h>

#include "user/views/tui_layout.h"
#include "user/views/views.h"

namespace gort::views {

using namespace tui;

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

std::vector<const session::ProcessSnapshot *> table__rows(const session::Snapshot &snap, SortKey key)
{
	std::vector<const session::ProcessSnapshot *> rows;
	for (const auto &p : snap.processes)
		rows.push_back(&p);
	auto metric = [key](const session::ProcessSnapshot *p) -> double {
		switch (key) {
		case SortKey::live: return static_cast<double>(p->goroutines.live);
		case SortKey::growth: return static_cast<double>(p->live_growth);
		case SortKey::gc_rate: return p->gc_per_sec;
		case SortKey::worst_stw: return static_cast<double>(p->stw_worst_ns);
		case SortKey::slow_syscalls: return static_cast<double>(p->slow_syscalls);
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
		uint64_t worst = p.stw_worst_ns;
		int64_t growth = p.live_growth;
		cells.push_back({{std::to_string(p.pid)},
			{p.comm + (p.exited ? " (exited)" : "")},
			{p.go_version},
			{std::to_string(p.goroutines.live)},
			{format__sparkline(p.live_history, 12), kSpark},
			{fmt::format("{:+d}", growth), growth > 0 ? kWarn : nullptr},
			{fmt::format("{:.1f}", p.gc_per_sec)},
			{worst ? format__duration_ns(worst) : "-", worst > session::kSlowPauseNs ? kSlow : nullptr},
			{std::to_string(p.slow_syscalls)},
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
