// libFuzzer target: the session-file reader on any bytes, as a whole file and as the records of
// one decompressed chunk. It must end with records, a warning or UserError(bad_file) — never a
// crash, a sanitizer report, or another exception. Built with clang++ -fsanitize=fuzzer,address,
// undefined and FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (checksums not enforced) by
// tests/fuzz/CMakeLists.txt; run by the ctest test fuzz.reader.
#include <cstdint>
#include <cstdlib>

#include "user/common/error.h"
#include "user/record/reader.h"

namespace {

// Reads every field, so the sanitizers see any use of what the decoders produced.
struct Touch : gort::record::RecordVisitor {
	uint64_t sum = 0;
	void on_header(const gort::record::FileHeader &h) override { sum += h.host.size() + h.kernel.size() + h.start_mono_ns; }
	void on_process(const gort::record::ProcessRecord &p) override
	{
		sum += p.pid + p.comm.size() + p.exe.size() + p.go_version.size() + p.exe_size;
		for (const auto &a : p.alive_at_attach)
			sum += a.startpc ^ a.gopc ^ a.count;
		for (const auto &r : p.stw_reasons)
			sum += r.size();
	}
	void on_site_names(const gort::record::SiteNamesRecord &s) override
	{
		sum += s.startpc + s.function.size() + s.created_by.size() + s.created_at.size();
	}
	void on_event(const gort_event_header &hdr, std::span<const uint8_t> raw) override
	{
		sum += hdr.kind + hdr.ktime_ns;
		for (uint8_t b : raw)
			sum += b;
	}
	void on_counters(const gort::record::CountersRecord &c) override
	{
		sum += c.stats.created + c.stats.lost_events;
		for (const auto &[k, v] : c.sites)
			sum += k.startpc + v.created;
		for (const auto &[k, v] : c.syscalls)
			sum += k.nr + v.total_ns;
	}
	void on_tick(const gort::record::TimeRecord &t) override { sum += t.mono_ns; }
	void on_exit(const gort::record::ExitRecord &x) override { sum += x.pid; }
	void on_end(const gort::record::TimeRecord &t) override { sum += t.mono_ns; }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::span<const uint8_t> bytes(data, size);
	Touch touch;
	try {
		gort::record::recording__read_bytes(bytes, "fuzz", touch);
	} catch (const gort::UserError &e) {
		if (e.code() != gort::ExitCode::bad_file)
			std::abort();
	}
	gort::record::ReadSummary sum;
	gort::record::chunk__read_records(bytes, touch, sum);
	volatile uint64_t keep = touch.sum;
	(void)keep;
	return 0;
}
