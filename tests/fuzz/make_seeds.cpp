// Writes the fuzzer's seed corpus into DIR: real recordings made by the Writer (one process with
// every record type; two processes; one cut short) and the decompressed records of a chunk, so
// the fuzzer starts from inputs that reach every decoder.
#include <cstdio>
#include <fstream>
#include <string>

#include "user/record/writer.h"

using namespace gort::record;

namespace {

template <typename T> std::span<const uint8_t> bytes_of(const T &v)
{
	return {reinterpret_cast<const uint8_t *>(&v), sizeof v};
}

void records(Writer &w, Encoder &raw, uint32_t pid, uint64_t t0)
{
	auto rec = [&](RecordType type, const Encoder &body) {
		raw.u16(static_cast<uint16_t>(type));
		raw.u16(0);
		raw.u32(static_cast<uint32_t>(body.bytes.size()));
		raw.raw(body.bytes.data(), body.bytes.size());
	};
	ProcessRecord p{pid, t0, "svc", "/usr/bin/svc", "go1.27.3", 1000, 7, {{0x100, 0x10, 2}}, {"", "GC mark termination"}};
	w.process(p);
	Encoder e;
	process__encode(e, p);
	rec(RecordType::process, e);

	SiteNamesRecord s{pid, 0x100, 0x10, false, "main.worker", "main.main", "main.go:3"};
	w.site_names(s);
	e = {};
	site_names__encode(e, s);
	rec(RecordType::site_names, e);

	gort_stw_event stw{{GORT_EV_STW, pid, t0 + 20}, t0 + 10, t0 + 20, 1, 0};
	gort_syscall_event sc{{GORT_EV_SLOW_SYSCALL, pid, t0 + 50}, 30, 5, 0x100, 0x10, 9, 35, 0, 0};
	gort_goroutine_event g{{GORT_EV_GOROUTINE_CREATED, pid, t0 + 5}, 5, 0x100, 0x10};
	for (auto b : {bytes_of(stw), bytes_of(sc), bytes_of(g)}) {
		w.event(b);
		e = {};
		e.raw(b.data(), b.size());
		rec(RecordType::event, e);
	}
	CountersRecord c;
	c.pid = pid;
	c.time = {t0 + 60, 60};
	c.stats.created = 1;
	c.sites.push_back({gort_site_key{pid, 0, 0x100, 0x10}, gort_site_stats{1, 0}});
	c.syscalls.push_back({gort_syscall_key{pid, 35, 0, 0}, gort_syscall_stats{1, 30, 30}});
	w.counters(c);
	e = {};
	counters__encode(e, c);
	rec(RecordType::counters, e);
	w.tick({t0 + 60, 60});
	ExitRecord x{pid, {t0 + 70, 70}};
	w.exit(x);
	e = {};
	exit__encode(e, x);
	rec(RecordType::exit, e);
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	std::string dir = argv[1];
	FileHeader h{kFormatVersion, "host", "Linux 6.18 x86_64", 1, 1000, 1'000'000, 1'000'000'000};
	Encoder raw;
	{
		Writer w(dir + "/one.gort", true, h);
		records(w, raw, 100, 1000);
		w.end({2000, 2});
		w.close();
	}
	{
		Writer w(dir + "/two.gort", true, h);
		Encoder ignored;
		records(w, ignored, 100, 1000);
		w.flush();
		records(w, ignored, 200, 3000);
		w.close();  // no end record: a killed recorder's file
	}
	std::ifstream in(dir + "/one.gort", std::ios::binary);
	std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	std::ofstream(dir + "/cut.gort", std::ios::binary) << whole.substr(0, whole.size() - 9);
	std::ofstream(dir + "/chunk.raw", std::ios::binary)
	    .write(reinterpret_cast<const char *>(raw.bytes.data()), static_cast<std::streamsize>(raw.bytes.size()));
	return 0;
}
