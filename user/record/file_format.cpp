#include "user/record/file_format.h"

#include <array>

namespace gort::record {

namespace {

std::array<uint32_t, 256> crc32__table()
{
	std::array<uint32_t, 256> t{};
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		t[i] = c;
	}
	return t;
}

} // namespace

uint32_t crc32__update(uint32_t crc, const void *data, size_t size)
{
	static const std::array<uint32_t, 256> table = crc32__table();
	auto p = static_cast<const uint8_t *>(data);
	crc = ~crc;
	for (size_t i = 0; i < size; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

// Every decoder reads the fields it knows and ignores what follows: a later minor revision may
// append fields to a record without changing kFormatVersion (docs/file-format.md).

void header__encode(Encoder &e, const FileHeader &h)
{
	e.str(h.host);
	e.str(h.kernel);
	e.i64(h.start_wall_ns);
	e.u64(h.start_mono_ns);
	e.u64(h.slow_syscall_ns);
	e.u64(h.interval_ns);
}

bool header__decode(Decoder &d, FileHeader &h)
{
	h.host = d.str();
	h.kernel = d.str();
	h.start_wall_ns = d.i64();
	h.start_mono_ns = d.u64();
	h.slow_syscall_ns = d.u64();
	h.interval_ns = d.u64();
	return d.ok();
}

void process__encode(Encoder &e, const ProcessRecord &p)
{
	e.u32(p.pid);
	e.u64(p.attached_mono_ns);
	e.str(p.comm);
	e.str(p.exe);
	e.str(p.go_version);
	e.u64(p.exe_size);
	e.i64(p.exe_mtime_ns);
	e.u32(static_cast<uint32_t>(p.alive_at_attach.size()));
	for (const auto &a : p.alive_at_attach) {
		e.u64(a.startpc);
		e.u64(a.gopc);
		e.u64(a.count);
	}
	e.u32(static_cast<uint32_t>(p.stw_reasons.size()));
	for (const auto &r : p.stw_reasons)
		e.str(r);
}

bool process__decode(Decoder &d, ProcessRecord &p)
{
	p.pid = d.u32();
	p.attached_mono_ns = d.u64();
	p.comm = d.str();
	p.exe = d.str();
	p.go_version = d.str();
	p.exe_size = d.u64();
	p.exe_mtime_ns = d.i64();
	uint32_t n = d.count(24);
	p.alive_at_attach.resize(n);
	for (auto &a : p.alive_at_attach) {
		a.startpc = d.u64();
		a.gopc = d.u64();
		a.count = d.u64();
	}
	n = d.count(4);
	p.stw_reasons.resize(n);
	for (auto &r : p.stw_reasons)
		r = d.str();
	return d.ok();
}

void site_names__encode(Encoder &e, const SiteNamesRecord &s)
{
	e.u32(s.pid);
	e.u64(s.startpc);
	e.u64(s.gopc);
	e.u8(s.system ? 1 : 0);
	e.str(s.function);
	e.str(s.created_by);
	e.str(s.created_at);
}

bool site_names__decode(Decoder &d, SiteNamesRecord &s)
{
	s.pid = d.u32();
	s.startpc = d.u64();
	s.gopc = d.u64();
	s.system = d.u8() != 0;
	s.function = d.str();
	s.created_by = d.str();
	s.created_at = d.str();
	return d.ok();
}

void time__encode(Encoder &e, const TimeRecord &t)
{
	e.u64(t.mono_ns);
	e.i64(t.wall_ns);
}

bool time__decode(Decoder &d, TimeRecord &t)
{
	t.mono_ns = d.u64();
	t.wall_ns = d.i64();
	return d.ok();
}

// The counters are the BPF structs byte for byte (include/gort/bpf_shared.h; sizes pinned by the
// static_asserts in user/probes/tracer.cpp), so a record holds exactly what the maps held.
void counters__encode(Encoder &e, const CountersRecord &c)
{
	e.u32(c.pid);
	time__encode(e, c.time);
	e.pod(c.stats);
	e.u32(static_cast<uint32_t>(c.sites.size()));
	for (const auto &[k, v] : c.sites) {
		e.pod(k);
		e.pod(v);
	}
	e.u32(static_cast<uint32_t>(c.syscalls.size()));
	for (const auto &[k, v] : c.syscalls) {
		e.pod(k);
		e.pod(v);
	}
	e.u64(c.os_threads);
	e.u8(c.heap_known ? 1 : 0);
	e.u64(c.heap_alloc);
	e.u64(c.heap_objects);
	e.u32(static_cast<uint32_t>(c.gomaxprocs));
}

bool counters__decode(Decoder &d, CountersRecord &c)
{
	c.pid = d.u32();
	time__decode(d, c.time);
	c.stats = d.pod<gort_proc_stats>();
	uint32_t n = d.count(sizeof(gort_site_key) + sizeof(gort_site_stats));
	c.sites.resize(n);
	for (auto &[k, v] : c.sites) {
		k = d.pod<gort_site_key>();
		v = d.pod<gort_site_stats>();
	}
	n = d.count(sizeof(gort_syscall_key) + sizeof(gort_syscall_stats));
	c.syscalls.resize(n);
	for (auto &[k, v] : c.syscalls) {
		k = d.pod<gort_syscall_key>();
		v = d.pod<gort_syscall_stats>();
	}
	if (d.ok() && d.remaining() > 0) {  // absent in files written before the gauges
		c.os_threads = d.u64();
		c.heap_known = d.u8() != 0;
		c.heap_alloc = d.u64();
		c.heap_objects = d.u64();
		c.gomaxprocs = static_cast<int32_t>(d.u32());
	}
	return d.ok();
}

void exit__encode(Encoder &e, const ExitRecord &x)
{
	e.u32(x.pid);
	time__encode(e, x.time);
}

bool exit__decode(Decoder &d, ExitRecord &x)
{
	x.pid = d.u32();
	return time__decode(d, x.time);
}

void reading__encode(Encoder &e, const ReadingRecord &r)
{
	e.u32(r.pid);
	time__encode(e, r.time);
	e.u64(r.goidgen);
	e.u32(static_cast<uint32_t>(r.unused.size()));
	for (const auto &[lo, hi] : r.unused) {
		e.u64(lo);
		e.u64(hi);
	}
	e.u64(r.handed_out);
	e.i64(r.alive);
	e.i64(r.system);
	e.pod(r.fraction);
	e.u8((r.sampled ? 1 : 0) | (r.forced ? 2 : 0));
	e.pod(r.budget);
	e.pod(r.trap_ns);
	e.pod(r.stats);
	e.u32(static_cast<uint32_t>(r.sites.size()));
	for (const auto &[k, v] : r.sites) {
		e.pod(k);
		e.pod(v);
	}
	e.u32(static_cast<uint32_t>(r.census.size()));
	for (const auto &c : r.census) {
		e.u64(c.startpc);
		e.u64(c.gopc);
		e.i64(c.live);
		e.u32(static_cast<uint32_t>(c.system_goids.size()));
		for (uint64_t goid : c.system_goids)
			e.u64(goid);
	}
}

bool reading__decode(Decoder &d, ReadingRecord &r)
{
	r.pid = d.u32();
	time__decode(d, r.time);
	r.goidgen = d.u64();
	uint32_t n = d.count(16);
	r.unused.resize(n);
	for (auto &[lo, hi] : r.unused) {
		lo = d.u64();
		hi = d.u64();
	}
	r.handed_out = d.u64();
	r.alive = d.i64();
	r.system = d.i64();
	r.fraction = d.pod<double>();
	uint8_t flags = d.u8();
	r.sampled = flags & 1;
	r.forced = flags & 2;
	r.budget = d.pod<double>();
	r.trap_ns = d.pod<double>();
	r.stats = d.pod<gort_proc_stats>();
	n = d.count(sizeof(gort_site_key) + sizeof(gort_site_stats));
	r.sites.resize(n);
	for (auto &[k, v] : r.sites) {
		k = d.pod<gort_site_key>();
		v = d.pod<gort_site_stats>();
	}
	n = d.count(28);
	r.census.resize(n);
	for (auto &c : r.census) {
		c.startpc = d.u64();
		c.gopc = d.u64();
		c.live = d.i64();
		uint32_t goids = d.count(8);
		c.system_goids.resize(goids);
		for (auto &goid : c.system_goids)
			goid = d.u64();
	}
	return d.ok();
}

void mode_change__encode(Encoder &e, const ModeChangeRecord &m)
{
	e.u32(m.pid);
	time__encode(e, m.time);
	e.u8(m.sampled ? 1 : 0);
	e.u8(m.reason);
	e.pod(m.cost);
	e.pod(m.budget);
}

bool mode_change__decode(Decoder &d, ModeChangeRecord &m)
{
	m.pid = d.u32();
	time__decode(d, m.time);
	m.sampled = d.u8() != 0;
	m.reason = d.u8();
	m.cost = d.pod<double>();
	m.budget = d.pod<double>();
	return d.ok();
}

} // namespace gort::record
