#include "user/record/recorder.h"

#include <sys/stat.h>
#include <sys/utsname.h>

#include <fmt/format.h>

namespace gort::record {

FileHeader header__now(uint64_t slow_syscall_ns, uint64_t interval_ns)
{
	FileHeader h;
	utsname u{};
	if (uname(&u) == 0) {
		h.host = u.nodename;
		h.kernel = fmt::format("{} {} {} {}", u.sysname, u.release, u.version, u.machine);
	}
	Clock now = clock__now();
	h.start_mono_ns = now.mono_ns;
	h.start_wall_ns = now.wall_ns;
	h.slow_syscall_ns = slow_syscall_ns;
	h.interval_ns = interval_ns;
	return h;
}

void Recorder::name_site(pid_t pid, uint64_t startpc, uint64_t gopc)
{
	if (!named_[pid].insert({startpc, gopc}).second)
		return;
	auto p = traced_.find(pid);
	if (p == traced_.end())
		return;
	SiteNames n = p->second->site(startpc, gopc);
	writer_.site_names({static_cast<uint32_t>(pid), startpc, gopc, n.system, n.function, n.created_by, n.created_at});
}

void Recorder::on_event(const gort_event_header &hdr, const void *data, size_t size)
{
	try {
		// The aggregator names a site the first time a record uses it: the replay must find the
		// name in the file before that record.
		pid_t pid = static_cast<pid_t>(hdr.tgid);
		if ((hdr.kind == GORT_EV_GOROUTINE_CREATED || hdr.kind == GORT_EV_GOROUTINE_EXITED) &&
		    size >= sizeof(gort_goroutine_event)) {
			gort_goroutine_event ev;
			std::memcpy(&ev, data, sizeof ev);
			name_site(pid, ev.startpc, ev.gopc);
		} else if (hdr.kind == GORT_EV_SLOW_SYSCALL && size >= sizeof(gort_syscall_event)) {
			gort_syscall_event ev;
			std::memcpy(&ev, data, sizeof ev);
			name_site(pid, ev.startpc, ev.gopc);
		}
		writer_.event({static_cast<const uint8_t *>(data), size});
	} catch (...) {
		if (!failure_)
			failure_ = std::current_exception();
	}
}

void Recorder::on_attach(const session::TracedProcess &p)
{
	pid_t pid = p.pid;
	// A process attached and ended within one poll was written by on_exit, before its exit
	// record (before_detach runs before the session marks it ended).
	if (p.ended || !announced_.insert(pid).second)
		return;
	traced_[pid] = p.symbols;
	named_.erase(pid); // a PID that exec'd is a new program: its sites are named again
	ProcessRecord r;
	r.pid = static_cast<uint32_t>(pid);
	r.attached_mono_ns = p.attached_mono_ns;
	r.comm = p.comm;
	r.exe = p.exe;
	r.go_version = p.go_version;
	struct stat st {};
	if (stat(fmt::format("/proc/{}/exe", pid).c_str(), &st) == 0) {
		r.exe_size = static_cast<uint64_t>(st.st_size);
		r.exe_mtime_ns = st.st_mtim.tv_sec * 1'000'000'000ll + st.st_mtim.tv_nsec;
	}
	for (const auto &[addr, n] : p.alive_at_attach)
		r.alive_at_attach.push_back({addr.startpc, addr.gopc, n});
	for (uint32_t reason = 0; reason < GORT_MAX_STW_REASON; reason++)
		r.stw_reasons.push_back(p.symbols->stw_reason(reason));
	writer_.process(r);
	for (const auto &[addr, n] : p.alive_at_attach)
		name_site(pid, addr.startpc, addr.gopc);
	if (auto it = pending_.find(pid); it != pending_.end()) {
		Pending waiting = std::move(it->second);
		pending_.erase(it);
		// Readings and changes by time: a change between two readings goes between them.
		size_t c = 0;
		for (const auto &reading : waiting.readings) {
			for (; c < waiting.changes.size() && waiting.changes[c].time.mono_ns <= reading.time.mono_ns; c++)
				writer_.mode_change(waiting.changes[c]);
			write_reading(reading);
		}
		for (; c < waiting.changes.size(); c++)
			writer_.mode_change(waiting.changes[c]);
	}
}

void Recorder::write_reading(const ReadingRecord &r)
{
	// The replay names every site the reading counts, before the reading.
	pid_t pid = static_cast<pid_t>(r.pid);
	for (const auto &c : r.census)
		name_site(pid, c.startpc, c.gopc);
	for (const auto &[key, counts] : r.sites)
		name_site(pid, key.startpc, key.gopc);
	writer_.reading(r);
}

void Recorder::on_reading(pid_t pid, const session::GoroutineReading &g, const CounterSource &counters)
{
	try {
		ReadingRecord r;
		r.pid = static_cast<uint32_t>(pid);
		r.time = {g.at.mono_ns, g.at.wall_ns};
		r.goidgen = g.counts.goidgen;
		r.unused = g.counts.unused;
		r.handed_out = g.counts.handed_out;
		r.alive = g.counts.alive;
		r.system = g.counts.system;
		r.fraction = g.fraction;
		r.sampled = g.sampled;
		r.forced = g.forced;
		r.budget = g.budget;
		r.trap_ns = g.trap_ns;
		r.stats = counters.stats(pid);
		r.sites = counters.sites(pid);
		for (const auto &cs : g.sites)
			r.census.push_back({cs.site.startpc, cs.site.gopc, cs.live, cs.system_goids});
		if (!announced_.count(pid))
			pending_[pid].readings.push_back(std::move(r));
		else
			write_reading(r);
	} catch (...) {
		if (!failure_)
			failure_ = std::current_exception();
	}
}

void Recorder::on_mode_change(pid_t pid, const session::ModeChange &c)
{
	try {
		ModeChangeRecord m{static_cast<uint32_t>(pid), {c.at.mono_ns, c.at.wall_ns}, c.sampled,
				   static_cast<uint8_t>(c.reason), c.cost, c.budget};
		if (!announced_.count(pid))
			pending_[pid].changes.push_back(m);
		else
			writer_.mode_change(m);
	} catch (...) {
		if (!failure_)
			failure_ = std::current_exception();
	}
}

void Recorder::write_counters(pid_t pid, Clock now)
{
	const CounterSource &src = counters_;
	CountersRecord c;
	c.pid = static_cast<uint32_t>(pid);
	c.time = {now.mono_ns, now.wall_ns};
	c.stats = src.stats(pid);
	c.sites = src.sites(pid);
	c.syscalls = src.syscalls(pid);
	ProcessGauges g = src.gauges(pid);
	c.os_threads = g.os_threads;
	c.heap_known = g.heap_known;
	c.heap_alloc = g.heap_alloc;
	c.heap_objects = g.heap_objects;
	c.gomaxprocs = g.gomaxprocs;
	for (const auto &[key, counts] : c.sites)
		name_site(pid, key.startpc, key.gopc);
	writer_.counters(c);
	lost_[pid] = c.stats.lost_events;
}

void Recorder::on_tick(Clock now)
{
	for (const auto &[pid, symbols] : traced_)
		write_counters(pid, now);
	writer_.tick({now.mono_ns, now.wall_ns});
}

void Recorder::on_exit(const session::TracedProcess &p, Clock now)
{
	pid_t pid = p.pid;
	try {
		on_attach(p);  // the process record comes first, even if the attach is not reported yet
		write_counters(pid, now);
		writer_.exit({static_cast<uint32_t>(pid), {now.mono_ns, now.wall_ns}});
		traced_.erase(pid);
		lost_ended_ += lost_[pid];
		lost_.erase(pid);
		named_.erase(pid);
		announced_.erase(pid);
		pending_.erase(pid);
	} catch (...) {
		if (!failure_)
			failure_ = std::current_exception();
	}
}

void Recorder::finish(Clock now)
{
	check();
	for (const auto &[pid, symbols] : traced_)
		write_counters(pid, now);
	writer_.end({now.mono_ns, now.wall_ns});
	writer_.close();
}

void Recorder::check() const
{
	if (failure_)
		std::rethrow_exception(failure_);
}

uint64_t Recorder::lost_events() const
{
	uint64_t n = lost_ended_;
	for (const auto &[pid, lost] : lost_)
		n += lost;
	return n;
}

} // namespace gort::record
