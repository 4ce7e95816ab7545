// Views of the model: each renders a Snapshot, none computes a figure.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "user/session/model.h"

namespace gort::views {

// The JSON object of one snapshot (the schema of `top --json` and `report --json`).
nlohmann::json json__snapshot(const session::Snapshot &snap);
// One line of NDJSON.
void json__write_line(std::ostream &out, const session::Snapshot &snap);

// Plain text (not a terminal): a block of lines per process per interval.
void text__write(std::ostream &out, const session::Snapshot &snap);

// The live terminal view, as the full screen contents for a terminal of `width` x `height`,
// with ANSI colours (anything over 10 ms stands out); the caller clears and redraws.
std::string tui__render(const session::Snapshot &snap, int width, int height);

// System-wide mode's terminal view: one row per process, sorted by a key the user cycles.
enum class SortKey { live, growth, gc_rate, worst_stw, slow_syscalls, pid };
const char *sort_key__name(SortKey key);
SortKey sort_key__next(SortKey key);
struct TableState {
	SortKey sort = SortKey::live;
	size_t selected = 0;  // row index in table__rows order
};
// The rows in display order (the CLI maps a selected row back to its PID with this).
std::vector<const session::ProcessSnapshot *> table__rows(const session::Snapshot &snap, SortKey key);
std::string tui__render_table(const session::Snapshot &snap, int width, int height, const TableState &state);

// The snapshot with every string escaped for a terminal (user/common/escape.h); the text and
// terminal views render only this.
session::Snapshot snapshot__for_terminal(const session::Snapshot &snap);

// Helpers shared by the views.
std::string format__duration_ns(uint64_t ns);  // "850ns", "12.3µs", "4.56ms", "1.20s"
// What a site's goroutines wait on: "498 chan receive, oldest 14m; 2 running" (most common first).
std::string format__site_waits(const session::Site &s, size_t max_items);

// One GC cycle as the runtime's GODEBUG=gctrace=1 prints it (no newline), and unrounded.
std::string gctrace__line(const session::GcCycle &c);
nlohmann::json gctrace__json(const session::GcCycle &c);

std::string format__bytes(uint64_t bytes);        // "512B", "1.50KiB", "12.3MiB"
std::string format__gogc(int32_t gogc);            // "100", "off"
std::string format__memory_limit(int64_t limit);   // "none" (math.MaxInt64) or bytes
// "exact 1200 traps/s ≈0.38% CPU", "sampled 5% 60 traps/s ≈0.02% CPU" (what the probes cost
// the target); short: "sampled 0.02%".
std::string format__probe_cost(const session::ProbeCost &c, bool short_form = false);
// Which figures of a process are estimates (sampled mode's per-site created/exited: the probes'
// counts in sampling windows, scaled to the runtime's exact totals) and which are exact, as the
// JSON paths of json__snapshot name them.
std::vector<std::string> probe_cost__estimated(const session::ProbeCost &c);
std::vector<std::string> probe_cost__exact(const session::ProbeCost &c);
std::string format__sparkline(const std::vector<int64_t> &values, size_t width);

// `gort record`'s progress line (no newline): "gort: recording to F: 12s, 340 events, 1.2 KiB, 0 lost".
std::string record_progress__line(const std::string &output, std::chrono::nanoseconds elapsed, uint64_t events,
				  uint64_t bytes, uint64_t lost);

} // namespace gort::views
