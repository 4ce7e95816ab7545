// The JSON schema of `top --json` and `report --json`: a contract with scripts, so the key names
// here are stable; new keys may be added, none renamed or removed.
#include <ostream>

#include "user/views/views.h"

namespace gort::views {

namespace {

nlohmann::json pause__json(const session::PauseStats &p)
{
	return {
		{"count", p.count},
		{"total_ns", p.total_ns},
		{"max_ns", p.max_ns},
		{"p50_ns", p.p50_ns},
		{"p99_ns", p.p99_ns},
	};
}

nlohmann::json process__json(const session::ProcessSnapshot &p)
{
	nlohmann::json sites = nlohmann::json::array();
	for (const auto &s : p.sites) {
		nlohmann::json waits = nlohmann::json::array();
		for (const auto &w : s.waits)
			waits.push_back({{"reason", w.reason}, {"count", w.count}, {"oldest_ns", w.oldest_ns}, {"change", w.change}});
		sites.push_back({
			{"function", s.function},
			{"created_by", s.created_by},
			{"created_at", s.created_at},
			{"created", s.created},
			{"exited", s.exited},
			{"live", s.live},
			{"system", s.system},
			{"waits", waits},
		});
	}

	nlohmann::json by_reason = nlohmann::json::object();
	for (const auto &[reason, stats] : p.stw_by_reason)
		by_reason[reason] = pause__json(stats);

	nlohmann::json syscalls = nlohmann::json::array();
	for (const auto &s : p.syscalls) {
		nlohmann::json by_function = nlohmann::json::object();
		for (const auto &[function, n] : s.by_function)
			by_function[function] = n;
		syscalls.push_back({
			{"name", s.name},
			{"count", s.count},
			{"total_ns", s.total_ns},
			{"max_ns", s.max_ns},
			{"by_function", by_function},
		});
	}

	// Runtime waits happen on g0, so they have no goroutine function to attribute them to.
	nlohmann::json runtime_waits = nlohmann::json::array();
	for (const auto &w : p.runtime_waits) {
		runtime_waits.push_back({
			{"name", w.name},
			{"count", w.count},
			{"total_ns", w.total_ns},
			{"max_ns", w.max_ns},
		});
	}

	// As the last completed GC cycle left them (null before the first one): the runtime's own
	// fields, read in BPF at the end of each cycle. live_bytes is the heap marked live
	// (gcController.heapMarked, gctrace's third heap figure); goal_bytes is the goal that cycle
	// set, what MemStats.NextGC reports until GOGC or the memory limit change.
	nlohmann::json heap = nullptr;
	if (p.heap.known) {
		const auto &h = p.heap;
		nlohmann::json history = nlohmann::json::array();
		for (int64_t v : h.live_history)
			history.push_back(v);
		heap = {
			{"num_gc", h.num_gc},
			{"pause_total_ns", h.pause_total_ns},
			{"live_bytes", h.live},
			{"goal_bytes", h.goal},
			{"gogc", h.gogc},
			{"memory_limit_bytes", h.memory_limit},
			{"gomaxprocs", h.gomaxprocs},
			{"gc_cpu_fraction", h.gc_cpu_fraction},
			{"live_history_bytes", history},
			// Now, as runtime.ReadMemStats would compute them (null if unreadable).
			{"alloc_bytes", h.alloc_known ? nlohmann::json(h.alloc) : nlohmann::json()},
			{"objects", h.alloc_known ? nlohmann::json(h.objects) : nlohmann::json()},
		};
	}
	nlohmann::json recent = nlohmann::json::array();
	for (const auto &c : p.gc_recent)
		recent.push_back(gctrace__json(c));

	// The mode over the session: when the per-site counts became estimates, and why.
	nlohmann::json modes = nlohmann::json::array();
	for (const auto &m : p.cost.modes) {
		nlohmann::json span = {{"mode", m.mode}, {"reason", m.reason}, {"from_s", m.from_s}, {"to_s", m.to_s}};
		if (m.reason == "over_budget" || m.reason == "under_budget")
			span["exact_cost_percent"] = m.cost_percent;
		if (m.mode != "exact")
			span["sample_fraction"] = m.sample_fraction;
		modes.push_back(span);
	}

	const auto &g = p.goroutines;
	return {
		{"pid", p.pid},
		{"comm", p.comm},
		{"exe", p.exe},
		{"go_version", p.go_version},
		{"exited", p.exited},
		{"seconds", p.seconds},
		{"goroutines",
			{
				{"created", g.created},
				{"exited", g.exited},
				{"live", g.live},
				{"peak", g.peak},
				{"live_at_attach", g.live_at_attach},
				{"system_created", g.system_created},
				{"system_exited", g.system_exited},
				{"created_per_sec", p.created_per_sec},
				{"exited_per_sec", p.exited_per_sec},
				{"growth", p.live_growth},
			}},
		{"sites", sites},
		{"gc", {{"cycles", p.gc_cycles}, {"per_sec", p.gc_per_sec}, {"recent", recent}}},
		{"heap", heap},
		{"os_threads", p.heap.os_threads},
		{"stw",
			{
				{"gc", pause__json(p.stw_gc)},
				{"other", pause__json(p.stw_other)},
				{"by_reason", by_reason},
				{"worst_ns", p.stw_worst_ns},
			}},
		{"syscall_threshold_ns", p.syscall_threshold_ns},
		{"syscalls", syscalls},
		{"slow_syscalls", p.slow_syscalls},
		{"runtime_waits", runtime_waits},
		{"lost_events", p.lost_events},
		{"probe_cost",
			{
				{"mode", p.cost.mode},
				{"forced", p.cost.forced},
				{"sample_fraction", p.cost.sample_fraction},
				{"sites_estimated", p.cost.sites_estimated},
				{"traps_per_sec", p.cost.traps_per_sec},
				{"exact_traps_per_sec", p.cost.exact_traps_per_sec},
				{"trap_ns", p.cost.trap_ns},
				{"cpu_percent", p.cost.cpu_percent},
				{"budget_percent", p.cost.budget_percent},
				{"mode_changes", p.cost.mode_changes},
				{"modes", modes},
				{"last_reading_s", p.cost.last_reading_s >= 0 ? nlohmann::json(p.cost.last_reading_s) : nlohmann::json()},
				{"estimated", probe_cost__estimated(p.cost)},
				{"exact", probe_cost__exact(p.cost)},
			}},
	};
}

} // namespace

nlohmann::json json__snapshot(const session::Snapshot &snap)
{
	nlohmann::json processes = nlohmann::json::array();
	for (const auto &p : snap.processes)
		processes.push_back(process__json(p));
	return {{"time", snap.time}, {"processes", processes}};
}

void json__write_line(std::ostream &out, const session::Snapshot &snap)
{
	// comm and symbol names come from the target and need not be valid UTF-8; replacing bad
	// bytes keeps the stream going where the default would throw mid-session.
	out << json__snapshot(snap).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
	// A consumer piping NDJSON reads line by line and must see each interval as it happens.
	out.flush();
}

} // namespace gort::views
