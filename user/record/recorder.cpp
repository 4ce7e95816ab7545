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
	session::Clock now = session::clock__now();
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
	const session::TracedProcess *p = session_.aggregator().process(pid);
	if (!p)
		return;
	session::SiteNames n = p->symbols->site(startpc, gopc);
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

void Recorder::on_attach(pid_t pid)
{
	const session::TracedProcess &p = session_.process(pid);
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
}

void Recorder::write_counters(pid_t pid, session::Clock now)
{
	const session::CounterSource &src = session_.counters();
	CountersRecord c;
	c.pid = static_cast<uint32_t>(pid);
	c.time = {now.mono_ns, now.wall_ns};
	c.stats = src.stats(pid);
	c.sites = src.sites(pid);
	c.syscalls = src.syscalls(pid);
	session::ProcessGauges g = src.gauges(pid);
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

void Recorder::on_interval(session::Clock now)
{
	for (pid_t pid : session_.aggregator().live_pids())
		write_counters(pid, now);
	writer_.tick({now.mono_ns, now.wall_ns});
}

void Recorder::on_exit(pid_t pid, session::Clock now)
{
	try {
		write_counters(pid, now);
		writer_.exit({static_cast<uint32_t>(pid), {now.mono_ns, now.wall_ns}});
	} catch (...) {
		if (!failure_)
			failure_ = std::current_exception();
	}
}

void Recorder::finish(session::Clock now)
{
	check();
	for (pid_t pid : session_.aggregator().live_pids())
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
	uint64_t n = 0;
	for (const auto &[pid, lost] : lost_)
		n += lost;
	return n;
}

} // namespace gort::record
