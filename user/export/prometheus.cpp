#include "user/export/prometheus.h"

#include <cmath>
#include <functional>
#include <vector>

#include <fmt/format.h>

#include "user/session/site_cap.h"

namespace gort::exporter {

namespace {

using session::ProcessSnapshot;

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no overlongs, no surrogates).
size_t utf8_length(std::string_view s, size_t i)
{
	auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
	auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
	unsigned char c = b(i);
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return cont(i + 1) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (!cont(i + 1) || !cont(i + 2))
			return 0;
		if ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) >= 0xA0))
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3))
			return 0;
		if ((c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

std::string seconds(uint64_t ns)
{
	return fmt::format("{}", static_cast<double>(ns) / 1e9);
}

// Formats a float sample as Prometheus reads it (shortest round-trip form).
std::string number(double v)
{
	if (std::isnan(v))
		return "NaN";
	return fmt::format("{}", v);
}

class Writer {
public:
	explicit Writer(const PrometheusOptions &opts) : opts_(opts) {}

	void family(const char *name, const char *type, const char *help)
	{
		out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
	}
	// One sample: name{labels} value, where labels is the process's set plus extra ones.
	void sample(std::string_view name, const std::string &labels, std::string_view value)
	{
		out_ += name;
		if (!labels.empty()) {
			out_ += '{';
			out_ += labels;
			out_ += '}';
		}
		out_ += ' ';
		out_ += value;
		out_ += '\n';
	}
	void histogram(const char *name, const std::string &labels, const session::DurationBuckets &buckets,
		       uint64_t count, uint64_t total_ns)
	{
		std::string sep = labels.empty() ? "" : ",";
		for (size_t i = 0; i < buckets.size(); i++)
			sample(fmt::format("{}_bucket", name), labels + sep + fmt::format("le=\"{}\"", seconds(session::kDurationBucketsNs[i])),
			       fmt::format("{}", buckets[i]));
		sample(fmt::format("{}_bucket", name), labels + sep + "le=\"+Inf\"", fmt::format("{}", count));
		sample(fmt::format("{}_sum", name), labels, seconds(total_ns));
		sample(fmt::format("{}_count", name), labels, fmt::format("{}", count));
	}
	std::string take() { return std::move(out_); }
	const PrometheusOptions &opts() const { return opts_; }

private:
	const PrometheusOptions &opts_;
	std::string out_;
};

std::string label(std::string_view name, std::string_view value)
{
	return fmt::format("{}=\"{}\"", name, prometheus__label_value(value));
}

std::string process_labels(const ProcessSnapshot &p, const goprocess::ContainerInfo *c)
{
	std::string l = fmt::format("pid=\"{}\",{},{},{}", p.pid, label("comm", p.comm), label("exe", p.exe),
				    label("go_version", p.go_version));
	if (c) {
		for (auto [name, value] : {std::pair{"container_id", &c->container_id}, {"pod_uid", &c->pod_uid},
					   {"pod_name", &c->pod_name}, {"namespace", &c->pod_namespace}})
			if (!value->empty())
				l += "," + label(name, *value);
	}
	return l;
}

struct Traced {
	const ProcessSnapshot *p;
	std::string labels;
};

void per_process(Writer &w, const std::vector<Traced> &procs, const char *name, const char *type, const char *help,
		 const std::function<std::string(const ProcessSnapshot &)> &value)
{
	w.family(name, type, help);
	for (const auto &t : procs)
		w.sample(name, t.labels, value(*t.p));
}

} // namespace

std::string prometheus__label_value(std::string_view raw, size_t max_bytes)
{
	std::string out;
	size_t used = 0;
	for (size_t i = 0; i < raw.size();) {
		size_t n = utf8_length(raw, i);
		std::string_view piece = n ? raw.substr(i, n) : std::string_view("\xEF\xBF\xBD");
		i += n ? n : 1;
		if (used + piece.size() > max_bytes)
			break;
		used += piece.size();
		if (piece == "\\")
			out += "\\\\";
		else if (piece == "\"")
			out += "\\\"";
		else if (piece == "\n")
			out += "\\n";
		else
			out += piece;
	}
	return out;
}

std::string prometheus__render(const session::Snapshot &snap, const std::map<pid_t, goprocess::ContainerInfo> &containers,
			       const SelfFigures &self, const PrometheusOptions &opts)
{
	Writer w(opts);
	std::vector<Traced> procs;
	for (const auto &p : snap.processes) {
		if (p.exited)
			continue; // an ended process's series go away with it
		auto c = containers.find(p.pid);
		procs.push_back({&p, process_labels(p, c == containers.end() ? nullptr : &c->second)});
	}
	auto u = [](uint64_t v) { return fmt::format("{}", v); };
	auto i = [](int64_t v) { return fmt::format("{}", v); };

	per_process(w, procs, "gort_goroutines", "gauge", "User goroutines alive (runtime.NumGoroutine's count).",
		    [&](const ProcessSnapshot &p) { return i(p.goroutines.live); });
	per_process(w, procs, "gort_goroutines_peak", "gauge", "Most user goroutines alive at once since gort attached.",
		    [&](const ProcessSnapshot &p) { return i(p.goroutines.peak); });
	per_process(w, procs, "gort_goroutines_at_attach", "gauge", "User goroutines alive when gort attached.",
		    [&](const ProcessSnapshot &p) { return u(p.goroutines.live_at_attach); });
	per_process(w, procs, "gort_goroutines_created_total", "counter", "User goroutines created since gort attached.",
		    [&](const ProcessSnapshot &p) { return u(p.goroutines.created); });
	per_process(w, procs, "gort_goroutines_exited_total", "counter", "User goroutines ended since gort attached.",
		    [&](const ProcessSnapshot &p) { return u(p.goroutines.exited); });
	per_process(w, procs, "gort_runtime_goroutines_created_total", "counter",
		    "Runtime-internal goroutines (GC workers, ...) created since gort attached.",
		    [&](const ProcessSnapshot &p) { return u(p.goroutines.system_created); });
	per_process(w, procs, "gort_runtime_goroutines_exited_total", "counter",
		    "Runtime-internal goroutines ended since gort attached.",
		    [&](const ProcessSnapshot &p) { return u(p.goroutines.system_exited); });

	w.family("gort_site_goroutines", "gauge",
		 "Goroutines alive per creation site: the top sites of each process, the rest summed as function=\"other\".");
	for (const auto &t : procs)
		for (const auto &s : session::sites__capped(t.p->sites, opts.max_sites))
			w.sample("gort_site_goroutines",
				 t.labels + "," + label("function", s.function) + "," + label("created_by", s.created_by) +
					 "," + label("created_at", s.created_at) + fmt::format(",system=\"{}\"", s.system),
				 i(s.live));

	per_process(w, procs, "gort_gc_cycles_total", "counter", "GC cycles completed since gort attached.",
		    [&](const ProcessSnapshot &p) { return u(p.gc_cycles); });

	w.family("gort_stw_pause_seconds", "histogram",
		 "Stop-the-world pauses by the runtime's reason, from stopping the world to restarting it.");
	for (const auto &t : procs)
		for (const auto &[reason, stats] : t.p->stw_by_reason)
			w.histogram("gort_stw_pause_seconds", t.labels + "," + label("reason", reason), stats.buckets,
				    stats.count, stats.total_ns);
	w.family("gort_stw_pause_max_seconds", "gauge", "Longest stop-the-world pause per reason since gort attached.");
	for (const auto &t : procs)
		for (const auto &[reason, stats] : t.p->stw_by_reason)
			w.sample("gort_stw_pause_max_seconds", t.labels + "," + label("reason", reason), seconds(stats.max_ns));

	per_process(w, procs, "gort_slow_syscall_threshold_seconds", "gauge",
		    "Syscalls at least this long are counted as slow.",
		    [&](const ProcessSnapshot &p) { return seconds(p.syscall_threshold_ns); });
	w.family("gort_slow_syscall_seconds", "histogram",
		 "Slow syscalls made by goroutines, by syscall (buckets from delivered records; see lost events).");
	for (const auto &t : procs)
		for (const auto &s : t.p->syscalls)
			w.histogram("gort_slow_syscall_seconds", t.labels + "," + label("syscall", s.name), s.buckets, s.count,
				    s.total_ns);
	w.family("gort_runtime_slow_waits_total", "counter", "Slow waits of the runtime itself (on g0), by syscall.");
	for (const auto &t : procs)
		for (const auto &s : t.p->runtime_waits)
			w.sample("gort_runtime_slow_waits_total", t.labels + "," + label("syscall", s.name), u(s.count));
	w.family("gort_runtime_slow_wait_seconds_total", "counter", "Time in slow waits of the runtime itself, by syscall.");
	for (const auto &t : procs)
		for (const auto &s : t.p->runtime_waits)
			w.sample("gort_runtime_slow_wait_seconds_total", t.labels + "," + label("syscall", s.name),
				 seconds(s.total_ns));

	per_process(w, procs, "gort_lost_events_total", "counter",
		    "Ring-buffer records lost for this process (figures from them undercount).",
		    [&](const ProcessSnapshot &p) { return u(p.lost_events); });
	per_process(w, procs, "gort_traced_seconds", "gauge", "Seconds since gort attached to the process.",
		    [&](const ProcessSnapshot &p) { return number(p.seconds); });

	// The runtime's GC bookkeeping at the end of the last cycle gort saw (bpf/gc.bpf.c): no series
	// before a process's first cycle since attach.
	std::vector<Traced> with_heap;
	for (const auto &t : procs)
		if (t.p->heap.known)
			with_heap.push_back(t);
	per_process(w, with_heap, "gort_heap_live_bytes", "gauge", "Heap marked live by the last GC cycle (bytes).",
		    [&](const ProcessSnapshot &p) { return u(p.heap.live); });
	per_process(w, with_heap, "gort_heap_goal_bytes", "gauge", "Heap goal the last GC cycle set (bytes).",
		    [&](const ProcessSnapshot &p) { return u(p.heap.goal); });
	per_process(w, with_heap, "gort_gc_cpu_fraction", "gauge",
		    "Share of the process's CPU spent in GC since it started (MemStats.GCCPUFraction, 0..1).",
		    [&](const ProcessSnapshot &p) { return number(p.heap.gc_cpu_fraction); });
	per_process(w, with_heap, "gort_gogc", "gauge", "GOGC in force (-1: off).",
		    [&](const ProcessSnapshot &p) { return i(p.heap.gogc); });
	per_process(w, with_heap, "gort_memory_limit_bytes", "gauge",
		    "Soft memory limit (GOMEMLIMIT; 9223372036854775807: none).",
		    [&](const ProcessSnapshot &p) { return i(p.heap.memory_limit); });
	per_process(w, with_heap, "gort_gomaxprocs", "gauge", "GOMAXPROCS.",
		    [&](const ProcessSnapshot &p) { return i(p.heap.gomaxprocs); });
	per_process(w, procs, "gort_os_threads", "gauge", "Threads of the process now.",
		    [&](const ProcessSnapshot &p) { return u(p.heap.os_threads); });
	std::vector<Traced> with_alloc;
	for (const auto &t : procs)
		if (t.p->heap.alloc_known)
			with_alloc.push_back(t);
	per_process(w, with_alloc, "gort_heap_alloc_bytes", "gauge",
		    "Heap object bytes now (MemStats.HeapAlloc, computed as ReadMemStats does).",
		    [&](const ProcessSnapshot &p) { return u(p.heap.alloc); });
	per_process(w, with_alloc, "gort_heap_objects", "gauge", "Heap objects now (MemStats.HeapObjects).",
		    [&](const ProcessSnapshot &p) { return u(p.heap.objects); });

	// What the goroutine probes cost the target (README "Exact, sampled and auto mode").
	per_process(w, procs, "gort_probe_sampled", "gauge", "1 while the goroutine probes are sampled, 0 while exact.",
		    [&](const ProcessSnapshot &p) { return std::string(p.cost.mode == "sampled" ? "1" : "0"); });
	per_process(w, procs, "gort_probe_traps_per_second", "gauge",
		    "Uprobe traps per second the goroutine probes cost the target (last interval).",
		    [&](const ProcessSnapshot &p) { return number(p.cost.traps_per_sec); });
	per_process(w, procs, "gort_probe_cpu_ratio", "gauge",
		    "Estimated share of one CPU the goroutine probes cost the target (traps x calibrated trap cost).",
		    [&](const ProcessSnapshot &p) { return number(p.cost.cpu_percent / 100); });

	w.family("gort_info", "gauge", "gort's mode (pids: the processes named by -p; all: every Go process).");
	w.sample("gort_info", label("mode", self.mode), "1");
	w.family("gort_traced_processes", "gauge", "Processes gort traces now.");
	w.sample("gort_traced_processes", "", u(procs.size()));
	w.family("gort_probe_links", "gauge", "Uprobe and tracepoint links gort holds.");
	w.sample("gort_probe_links", "", u(self.probe_links));
	w.family("gort_cpu_seconds_total", "counter", "CPU time of gort's own process (user and system).");
	w.sample("gort_cpu_seconds_total", "", number(self.cpu_seconds));
	w.family("gort_resident_memory_bytes", "gauge", "Resident memory of gort's own process.");
	w.sample("gort_resident_memory_bytes", "", u(self.resident_bytes));
	w.family("gort_scrapes_total", "counter", "Metrics responses gort served.");
	w.sample("gort_scrapes_total", "", u(self.scrapes));
	w.family("gort_http_rejected_total", "counter", "HTTP requests refused: malformed, too large, too slow, or not /metrics.");
	w.sample("gort_http_rejected_total", "", u(self.http_rejected));
	return w.take();
}

} // namespace gort::exporter
