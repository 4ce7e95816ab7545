#include "user/gobinary/runtime_layout.h"

#include <algorithm>

#include <fmt/format.h>

#include "user/common/error.h"
#include "user/gobinary/runtime_gc.h"
#include "user/gobinary/runtime_globals.h"

namespace gort::gobinary {

namespace {

// stwReason values 1 and 2 (runtime/proc.go, 1.21-1.27): the only GC pauses (isGC()).
constexpr uint32_t kStwGCMarkTerm = 1;
constexpr uint32_t kStwGCSweepTerm = 2;

[[noreturn]] void unsupported(const GoBinary &bin, const std::string &why)
{
	throw UserError(ExitCode::unsupported, fmt::format("{} ({}): {}", bin.path(), bin.build_info().version.raw, why));
}

uint32_t required_offset(const GoBinary &bin, const StructOffsets &offs, RuntimeLayout &layout, std::string_view type,
			 std::string_view member)
{
	ResolvedOffset r = offs.resolve(type, member);
	// A binary whose DWARF lacks a runtime struct member that nothing else supplies was damaged
	// or altered after the build (every Go toolchain writes runtime.g's members).
	if (!r.value && offs.from_dwarf())
		unsupported(bin, fmt::format("cannot trace without the offset of {}; its DWARF is damaged or incomplete "
					     "(the file was corrupted or altered after the build): reinstall or rebuild it",
					     r.problem));
	if (!r.value)
		unsupported(bin, fmt::format("cannot trace without the offset of {}; rebuild it without -ldflags='-s -w' "
					     "or update gort",
					     r.problem));
	layout.offset_origins.push_back({fmt::format("{}.{}", type, member), *r.value, r.origin});
	return *r.value;
}

// The link-time address of a member of a runtime global without a type descriptor (work,
// memstats; Go 1.19-1.21): decoded from the code that uses it, and from the global's address
// plus the member's offset when both are known. They must agree.
uint64_t required_field(const GoBinary &bin, const StructOffsets &offs, RuntimeLayout &layout, std::string_view global,
			std::string_view type, std::string_view member, std::optional<uint64_t> from_code,
			std::optional<uint64_t> base)
{
	ResolvedOffset r = offs.resolve(type, member);
	std::string name = fmt::format("runtime.{}.{}", global, member);
	std::optional<uint64_t> from_offsets;
	if (base && r.value)
		from_offsets = *base + *r.value;
	if (from_code && from_offsets && *from_code != *from_offsets)
		unsupported(bin, fmt::format("cannot trace without {}: its code says {:#x}, {} + {} says {:#x}", name,
					     *from_code, global, r.origin, *from_offsets));
	if (!from_code && !from_offsets)
		unsupported(bin, fmt::format("cannot trace without {}: the code that uses it is not as expected, and {}",
					     name, r.value ? "runtime." + std::string(global) + " was not found" : r.problem));
	uint64_t at = from_code ? *from_code : *from_offsets;
	std::string origin = from_offsets ? r.origin + (from_code ? " = instructions" : "") : "instructions";
	layout.offset_origins.push_back({name, at, origin});
	return at;
}

std::vector<std::pair<uint64_t, uint64_t>> system_ranges(const GoBinary &bin)
{
	std::vector<std::pair<uint64_t, uint64_t>> ranges;
	bool in_range = false;
	for (const auto &fn : bin.functions()) {
		bool sys = runtime_layout__is_system_function(fn.name);
		if (sys && in_range)
			ranges.back().second = fn.addr + fn.size;
		else if (sys)
			ranges.emplace_back(fn.addr, fn.addr + fn.size);
		in_range = sys;
	}
	// Functions linknamed into the runtime (reflect.*, sync.* bodies) split the runtime's text
	// into many ranges; when BPF's bounded loop cannot hold them all, close the smallest gaps.
	// No gap containing runtime.main is closed, so its goroutine stays a user goroutine.
	auto main_fn = bin.function("runtime.main");
	while (ranges.size() > GORT_MAX_SYS_RANGES) {
		size_t best = ranges.size();
		uint64_t best_gap = UINT64_MAX;
		for (size_t i = 0; i + 1 < ranges.size(); i++) {
			uint64_t gap = ranges[i + 1].first - ranges[i].second;
			bool holds_main = main_fn && main_fn->addr >= ranges[i].second && main_fn->addr < ranges[i + 1].first;
			if (!holds_main && gap < best_gap) {
				best_gap = gap;
				best = i;
			}
		}
		if (best == ranges.size())
			break;
		ranges[best].second = ranges[best + 1].second;
		ranges.erase(ranges.begin() + best + 1);
	}
	return ranges;
}

} // namespace

bool runtime_layout__is_system_function(std::string_view name)
{
	return name.starts_with("runtime.") && name != "runtime.main";
}

bool runtime_layout__stw_reason_is_gc(uint32_t reason)
{
	return reason == kStwGCMarkTerm || reason == kStwGCSweepTerm;
}

uint32_t runtime_layout__stw_reason_hash(std::string_view text)
{
	uint32_t h = GORT_FNV32_OFFSET;
	for (size_t i = 0; i < text.size() && i < GORT_STW_REASON_HASH_BYTES; i++)
		h = (h ^ static_cast<uint8_t>(text[i])) * GORT_FNV32_PRIME;
	h = (h ^ static_cast<uint32_t>(text.size())) * GORT_FNV32_PRIME;
	return GORT_STW_REASON_HASHED | (h & ~GORT_STW_REASON_HASHED);
}

std::string runtime_layout__stw_reason(const RuntimeLayout &layout, uint32_t reason)
{
	if (reason & GORT_STW_REASON_HASHED) {
		auto it = layout.stw_reason_texts.find(reason);
		return it != layout.stw_reason_texts.end() ? it->second : fmt::format("stw reason {:#x}", reason);
	}
	if (reason < layout.stw_reasons.size() && !layout.stw_reasons[reason].empty())
		return layout.stw_reasons[reason];
	return fmt::format("stw reason {}", reason);
}

RuntimeLayout runtime_layout__inspect(const GoBinary &bin, const OffsetsTable &table)
{
	const BuildInfo &info = bin.build_info();
	const GoVersion &v = info.version;
	if (!v.at_least(1, 19))
		unsupported(bin, "Go versions before 1.19 are not supported (gort reads the runtime of Go "
				 "1.19 and newer); rebuild with Go 1.19 or newer");
	if (bin.functions().empty())
		unsupported(bin, "neither a symbol table nor a readable .gopclntab; gort cannot find the runtime's "
				 "functions (rebuild without -ldflags=-s)");
	// DWARF, else derived from the binary, else gort's table for this minor version.
	StructOffsets offs = StructOffsets::of(bin, table);

	RuntimeLayout layout;
	layout.offsets.g_goid = required_offset(bin, offs, layout, "runtime.g", "goid");
	layout.offsets.g_startpc = required_offset(bin, offs, layout, "runtime.g", "startpc");
	layout.offsets.g_gopc = required_offset(bin, offs, layout, "runtime.g", "gopc");
	layout.offsets.g_m = required_offset(bin, offs, layout, "runtime.g", "m");
	layout.offsets.m_g0 = required_offset(bin, offs, layout, "runtime.m", "g0");
	layout.offsets.m_curg = required_offset(bin, offs, layout, "runtime.m", "curg");
	layout.tls_g_offset = bin.tls_g_offset();
	layout.system_ranges = system_ranges(bin);
	layout.stw_reasons = runtime_globals__stw_reason_strings(bin);

	auto add = [&](std::string program, AttachPoint point) {
		layout.probes.push_back({std::move(program), std::move(point)});
	};

	// Goroutine creation: runtime.newproc.func1 calls newproc1 then runqput(pp, newg, next);
	// the CALL runqput is emulated and RBX holds newg with its goid already assigned.
	auto runqput = probe_plan__call_sites(bin, "runtime.newproc.func1", "runtime.runqput");
	if (runqput.size() == 1) {
		add("goroutine_created_rbx", runqput.front());
	} else {
		auto after = probe_plan__return_sites(bin, "runtime.newproc.func1", "runtime.newproc1");
		if (after.size() != 1)
			unsupported(bin, "cannot find where runtime.newproc.func1 creates goroutines");
		add("goroutine_created_rax", after.front());
	}
	add("goroutine_exited_r14", probe_plan__entry(bin, "runtime.goexit1", {Reg::r14}));
	add("gc_cycle_done", probe_plan__entry(bin, "runtime.gcMarkTermination", {}));

	if (v.at_least(1, 23)) {
		layout.stw_abi = GORT_STW_ABI_WORLDSTOP_STOPPING;
	} else if (v.at_least(1, 22)) {
		layout.stw_abi = GORT_STW_ABI_WORLDSTOP_START;
	} else {
		if (v.at_least(1, 21)) {
			layout.stw_abi = GORT_STW_ABI_REASON_AT_STOP;
			add("world_stopping", probe_plan__entry(bin, "runtime.stopTheWorldWithSema", {Reg::rax}));
		} else {
			// 1.19-1.20: stopTheWorldWithSema() has no argument; the reason is noted where each
			// stop begins, on the goroutine that then runs it on g0 (bpf/stw.bpf.c). The GC
			// stops get stwReason's later numbers, so 1 and 2 mean GC everywhere.
			layout.stw_abi = GORT_STW_ABI_GOROUTINE_REASON;
			add("world_stopping", probe_plan__entry(bin, "runtime.stopTheWorldWithSema", {Reg::r14}));
			add("stw_reason_named", probe_plan__entry(bin, "runtime.stopTheWorld", {Reg::rax, Reg::rbx, Reg::r14}));
			add("stw_reason_sweep", probe_plan__entry(bin, "runtime.gcStart", {Reg::r14}));
			add("stw_reason_mark", probe_plan__entry(bin, "runtime.gcMarkDone", {Reg::r14}));
			layout.stw_reasons = {"unknown", "GC mark termination", "GC sweep termination"};
			// stopTheWorldGC(reason) passes its caller's string on to stopTheWorld.
			for (const char *callee : {"runtime.stopTheWorld", "runtime.stopTheWorldGC"})
				for (auto &text : probe_plan__string_arguments(bin, callee))
					layout.stw_reason_texts.emplace(runtime_layout__stw_reason_hash(text), text);
		}
		// GC pauses start at work.pauseStart and mark termination ends at
		// memstats.last_gc_nanotime; without them the figures would not be the runtime's.
		layout.work_pause_start = required_field(bin, offs, layout, "work", "runtime.workType", "pauseStart",
							 runtime_globals__pause_start_field(bin),
							 runtime_globals__work(bin, offs));
		layout.last_gc_nanotime = required_field(bin, offs, layout, "memstats", "runtime.mstats", "last_gc_nanotime",
							 runtime_globals__last_gc_nanotime_field(bin),
							 runtime_globals__memstats(bin, offs));
	}
	add("world_starting",
	    probe_plan__entry(bin, "runtime.startTheWorldWithSema", {Reg::rax, Reg::rbx, Reg::rcx, Reg::rdi}));
	auto returns = probe_plan__return_sites(bin, "runtime.", "runtime.startTheWorldWithSema");
	if (returns.empty())
		unsupported(bin, "cannot find the callers of runtime.startTheWorldWithSema");
	for (auto &r : returns)
		add("world_started", r);
	runtime_gc__plan(bin, offs, layout);
	// The layout is what the probes need; the name and code pages read to find it can go.
	bin.release_pages();
	return layout;
}

} // namespace gort::gobinary
