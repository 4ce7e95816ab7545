#include "user/export/chrome_trace.h"

#include "user/views/views.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "user/record/replay.h"

namespace gort::chrome {

namespace {

using nlohmann::json;

// The runtime's names of the pauses that open and close a GC cycle (runtime.stwReasonStrings,
// the same in Go 1.21-1.27): a cycle runs from the sweep-termination pause's start to the
// mark-termination pause's end.
constexpr const char *kSweepTermination = "GC sweep termination";
constexpr const char *kMarkTermination = "GC mark termination";

// Every record goes to the replay first, so the exported counters are the aggregator's figures.
class ChromeTrace : public record::RecordVisitor {
public:
	explicit ChromeTrace(std::ostream &out) : out_(out) { out_ << "{\"traceEvents\": [\n"; }

	void finish()
	{
		json meta = {
			{"host", replay_.header().host},
			{"kernel", replay_.header().kernel},
			{"start", clock__rfc3339(replay_.header().start_wall_ns)},
		};
		out_ << "\n],\n\"displayTimeUnit\": \"ms\",\n\"otherData\": " << dump(meta) << "}\n";
	}

	void on_header(const record::FileHeader &h) override { replay_.on_header(h); }

	void on_process(const record::ProcessRecord &p) override
	{
		replay_.on_process(p);
		tracks_[p.pid] = {.alive_at_attach = p.alive_at_attach};
		uint64_t pid = p.pid;
		emit({{"name", "process_name"}, {"ph", "M"}, {"ts", 0}, {"pid", pid}, {"tid", kRuntimeTid},
		      {"args", {{"name", p.comm + " (PID " + std::to_string(pid) + ", " + p.go_version + ")"}}}});
		emit({{"name", "thread_name"}, {"ph", "M"}, {"ts", 0}, {"pid", pid}, {"tid", kRuntimeTid},
		      {"args", {{"name", "GC cycles and stop-the-world pauses"}}}});
		emit({{"name", "attached"}, {"ph", "i"}, {"s", "p"}, {"ts", us(p.attached_mono_ns)}, {"pid", pid},
		      {"tid", kRuntimeTid}});
	}

	void on_site_names(const record::SiteNamesRecord &s) override { replay_.on_site_names(s); }

	void on_event(const gort_event_header &hdr, std::span<const uint8_t> raw) override
	{
		replay_.on_event(hdr, raw);
		const record::ReplaySymbols *symbols = replay_.symbols(static_cast<pid_t>(hdr.tgid));
		if (!symbols)
			return; // a process the file never introduced: the aggregator ignores it too
		if (hdr.kind == GORT_EV_STW && raw.size() >= sizeof(gort_stw_event)) {
			gort_stw_event ev;
			std::memcpy(&ev, raw.data(), sizeof ev);
			stw(hdr.tgid, ev, symbols->stw_reason(ev.reason));
		} else if (hdr.kind == GORT_EV_SLOW_SYSCALL && raw.size() >= sizeof(gort_syscall_event)) {
			gort_syscall_event ev;
			std::memcpy(&ev, raw.data(), sizeof ev);
			if (ev.kind == GORT_SYSCALL_GOROUTINE)
				syscall(hdr.tgid, ev, symbols->site(ev.startpc, ev.gopc).function);
		} else if ((hdr.kind == GORT_EV_GOROUTINE_CREATED || hdr.kind == GORT_EV_GOROUTINE_EXITED) &&
			   raw.size() >= sizeof(gort_goroutine_event)) {
			gort_goroutine_event ev;
			std::memcpy(&ev, raw.data(), sizeof ev);
			lifecycle(hdr.tgid, hdr.ktime_ns, *symbols, ev, hdr.kind == GORT_EV_GOROUTINE_CREATED ? 1 : -1);
		} else if (hdr.kind == GORT_EV_GC_TRACE && raw.size() >= sizeof(gort_gc_trace_event)) {
			gort_gc_trace_event ev;
			std::memcpy(&ev, raw.data(), sizeof ev);
			gc_trace(session::gc_cycle__from_event(ev));
		}
	}

	void on_counters(const record::CountersRecord &c) override { replay_.on_counters(c); }

	void on_tick(const record::TimeRecord &t) override
	{
		replay_.on_tick(t);
		for (pid_t pid : replay_.ticked())
			live(static_cast<uint32_t>(pid), t.mono_ns);
	}

	void on_exit(const record::ExitRecord &x) override
	{
		replay_.on_exit(x);
		live(x.pid, x.time.mono_ns);
		emit({{"name", "exited"}, {"ph", "i"}, {"s", "p"}, {"ts", us(x.time.mono_ns)}, {"pid", x.pid},
		      {"tid", kRuntimeTid}});
	}

	void on_end(const record::TimeRecord &t) override { replay_.on_end(t); }

	// Sampled/auto mode: a reading counts every live goroutine per site from the runtime's own
	// state, so the per-site track restarts from it; while sampled, the creations and exits of
	// the sampling windows do not move it (they are a share of the real ones).
	void on_reading(const record::ReadingRecord &r) override
	{
		replay_.on_reading(r);
		const record::ReplaySymbols *symbols = replay_.symbols(static_cast<pid_t>(r.pid));
		if (!symbols)
			return;
		LiveTrack &t = tracks_[r.pid];
		t.started = true;
		t.sampled = r.sampled;
		t.total = r.alive;
		t.by_function.clear();
		for (const auto &c : r.census) {
			SiteNames n = symbols->site(c.startpc, c.gopc);
			if (!n.system)
				t.by_function[n.function] += c.live;
		}
		live_track(r.pid, t, r.time.mono_ns);
	}

	// A mode change is an instant on the process's runtime track: from there on, per-site
	// creation and exit counts are estimates (sampled) or exact again.
	void on_mode_change(const record::ModeChangeRecord &m) override
	{
		replay_.on_mode_change(m);
		tracks_[m.pid].sampled = m.sampled;
		auto reason = m.reason >= 1 && m.reason <= 3 ? static_cast<session::ModeReason>(m.reason) : session::ModeReason::forced;
		emit({{"name", m.sampled ? "sampled mode (per-site rates estimated)" : "exact mode"}, {"cat", "mode"},
		      {"ph", "i"}, {"s", "p"}, {"ts", us(m.time.mono_ns)}, {"pid", m.pid}, {"tid", kRuntimeTid},
		      {"args", {{"reason", session::mode_reason__name(reason)}, {"exact_cost_percent", m.cost * 100},
				{"budget_percent", m.budget * 100}}}});
	}

private:
	// Microseconds since the recording started (the format's unit), keeping nanoseconds as decimals.
	double us(uint64_t mono_ns) const
	{
		return (static_cast<double>(mono_ns) - static_cast<double>(replay_.header().start_mono_ns)) / 1000.0;
	}

	// Names come from the recorded binary; invalid UTF-8 is replaced rather than refused.
	static std::string dump(const json &j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

	void emit(const json &ev)
	{
		out_ << (first_ ? "" : ",\n") << dump(ev);
		first_ = false;
	}

	// The live goroutine count as the recorded creations and exits move it (a recording holds
	// every one): user goroutines alive at attach, plus one per creation, minus one per exit —
	// the aggregator's own sum (live_at_attach + live_delta), event by event. A burst shows at
	// up to one point per kCounterStepNs per process; the last value of each step is never lost.
	static constexpr uint64_t kCounterStepNs = 1'000'000;
	static constexpr size_t kTopSites = 5;
	struct LiveTrack {
		std::vector<record::AliveAtAttach> alive_at_attach;
		bool started = false;
		bool sampled = false;  // the process's goroutine probes count only in windows
		int64_t total = 0;
		std::map<std::string, int64_t> by_function;
		uint64_t last_emit_ns = 0, last_event_ns = 0;
		bool pending = false;
	};

	void lifecycle(uint32_t pid, uint64_t at_ns, const record::ReplaySymbols &symbols, const gort_goroutine_event &ev,
		       int delta)
	{
		LiveTrack &t = tracks_[pid];
		if (!t.started) {
			// Site names of goroutines alive at attach follow the process record, so they are
			// known by the first lifecycle record.
			for (const auto &a : t.alive_at_attach) {
				SiteNames n = symbols.site(a.startpc, a.gopc);
				if (n.system)
					continue;
				t.total += static_cast<int64_t>(a.count);
				t.by_function[n.function] += static_cast<int64_t>(a.count);
			}
			t.started = true;
		}
		SiteNames n = symbols.site(ev.startpc, ev.gopc);
		if (n.system || t.sampled)
			return;
		t.total += delta;
		t.by_function[n.function] += delta;
		t.last_event_ns = at_ns;
		t.pending = true;
		if (at_ns >= t.last_emit_ns + kCounterStepNs)
			live_track(pid, t, at_ns);
	}

	void live_track(uint32_t pid, LiveTrack &t, uint64_t at_ns)
	{
		std::vector<std::pair<int64_t, std::string>> top;
		for (const auto &[function, n] : t.by_function)
			top.push_back({n, function});
		std::sort(top.begin(), top.end(), std::greater<>());
		json sites = json::object();
		int64_t shown = 0;
		for (size_t i = 0; i < top.size() && i < kTopSites; i++) {
			sites[top[i].second] = top[i].first;
			shown += top[i].first;
		}
		sites["(other sites)"] = t.total - shown;
		emit({{"name", "live goroutines (from creations and exits)"}, {"ph", "C"}, {"ts", us(at_ns)}, {"pid", pid},
		      {"tid", kRuntimeTid}, {"args", {{"live", t.total}}}});
		emit({{"name", "live goroutines by creation site"}, {"ph", "C"}, {"ts", us(at_ns)}, {"pid", pid},
		      {"tid", kRuntimeTid}, {"args", sites}});
		t.last_emit_ns = at_ns;
		t.pending = false;
	}

	void live(uint32_t pid, uint64_t mono_ns)
	{
		auto it = tracks_.find(pid);
		if (it != tracks_.end() && it->second.pending)
			live_track(it->first, it->second, it->second.last_event_ns);
		std::optional<int64_t> n = replay_.live_goroutines(static_cast<pid_t>(pid));
		if (!n)
			return;
		emit({{"name", "live goroutines"}, {"ph", "C"}, {"ts", us(mono_ns)}, {"pid", pid}, {"tid", kRuntimeTid},
		      {"args", {{"live", *n}}}});
	}

	void stw(uint32_t pid, const gort_stw_event &ev, const std::string &reason)
	{
		uint64_t dur = ev.end_ns > ev.start_ns ? ev.end_ns - ev.start_ns : 0;
		emit({{"name", "STW: " + reason}, {"cat", "stw"}, {"ph", "X"}, {"ts", us(ev.start_ns)}, {"dur", dur / 1000.0},
		      {"pid", pid}, {"tid", kRuntimeTid}, {"args", {{"reason", reason}, {"duration_ns", dur}}}});
		if (reason == kSweepTermination) {
			gc_start_[pid] = ev.start_ns;
		} else if (reason == kMarkTermination) {
			auto it = gc_start_.find(pid);
			if (it == gc_start_.end())
				return; // the cycle began before attach
			uint64_t start = it->second;
			gc_start_.erase(it);
			uint64_t cycle = ++gc_cycles_[pid];
			uint64_t d = ev.end_ns > start ? ev.end_ns - start : 0;
			emit({{"name", "GC cycle"}, {"cat", "gc"}, {"ph", "X"}, {"ts", us(start)}, {"dur", d / 1000.0},
			      {"pid", pid}, {"tid", kRuntimeTid}, {"args", {{"reason", "GC"}, {"cycle", cycle}, {"duration_ns", d}}}});
		}
	}

	// One GC cycle from the runtime's bookkeeping: the heap as a counter track (its size when the
	// cycle began, when marking ended, and what was marked live, at the runtime's own phase
	// timestamps; nanotime is CLOCK_MONOTONIC like the recording), the goal it set, and the
	// cycle's gctrace figures on an instant.
	void gc_trace(const session::GcCycle &c)
	{
		uint64_t mark_term = c.start_mono_ns + c.clock_sweep_term_ns + c.clock_mark_ns;
		uint64_t end = mark_term + c.clock_mark_term_ns;
		auto heap = [&](uint64_t at, uint64_t bytes) {
			emit({{"name", "heap (bytes)"}, {"ph", "C"}, {"ts", us(at)}, {"pid", c.pid}, {"tid", kRuntimeTid},
			      {"args", {{"heap", bytes}}}});
		};
		heap(c.start_mono_ns, c.heap_start);
		heap(mark_term, c.heap_end);
		heap(end, c.heap_marked);
		emit({{"name", "heap goal (bytes)"}, {"ph", "C"}, {"ts", us(end)}, {"pid", c.pid}, {"tid", kRuntimeTid},
		      {"args", {{"goal", c.heap_goal}}}});
		emit({{"name", "gc " + std::to_string(c.num)}, {"cat", "gc"}, {"ph", "i"}, {"s", "t"}, {"ts", us(end)},
		      {"pid", c.pid}, {"tid", kRuntimeTid}, {"args", views::gctrace__json(c)}});
	}

	void syscall(uint32_t pid, const gort_syscall_event &ev, const std::string &function)
	{
		if (named_.insert({pid, ev.goid}).second)
			emit({{"name", "thread_name"}, {"ph", "M"}, {"ts", 0}, {"pid", pid}, {"tid", ev.goid},
			      {"args", {{"name", "goroutine " + std::to_string(ev.goid) + " " + function}}}});
		uint64_t start = ev.hdr.ktime_ns > ev.duration_ns ? ev.hdr.ktime_ns - ev.duration_ns : 0;
		emit({{"name", syscall_name(ev.nr)}, {"cat", "syscall"}, {"ph", "X"}, {"ts", us(start)},
		      {"dur", ev.duration_ns / 1000.0}, {"pid", pid}, {"tid", ev.goid},
		      {"args", {{"goid", ev.goid}, {"function", function}, {"duration_ns", ev.duration_ns}}}});
	}

	std::ostream &out_;
	record::Replay replay_;
	bool first_ = true;
	std::map<uint32_t, uint64_t> gc_start_, gc_cycles_;
	std::map<uint32_t, LiveTrack> tracks_;
	std::set<std::pair<uint32_t, uint64_t>> named_;  // (pid, goid) with a thread_name
};

} // namespace

record::ReadSummary chrome_trace__write(const std::string &path, std::ostream &out)
{
	ChromeTrace trace(out);
	record::ReadSummary sum = record::recording__read(path, trace);
	trace.finish();
	return sum;
}

} // namespace gort::chrome
