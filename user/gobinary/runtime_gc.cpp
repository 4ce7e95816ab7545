#include "user/gobinary/runtime_gc.h"

#include <optional>

#include "user/gobinary/runtime_globals.h"

namespace gort::gobinary {

namespace {

struct FieldSpec {
	gort_gc_field field;
	const char *type;    // runtime struct type ("" for a plain global)
	const char *member;  // member name; atomic.Int64 & co keep their value at offset 0
	uint8_t size;
};

// The gctrace line's inputs (mgc.go gcMarkTermination). The stack figure is maxStackScan in
// Go 1.19 and lastStackScan from 1.21 (1.20 is assumed to be 1.21's: no toolchain to check).
std::vector<FieldSpec> field_specs(const GoVersion &v)
{
	return {
		{GORT_GC_NUMGC, "runtime.mstats", "numgc", 4},
		{GORT_GC_T_SWEEP_TERM, "runtime.workType", "tSweepTerm", 8},
		{GORT_GC_T_MARK, "runtime.workType", "tMark", 8},
		{GORT_GC_T_MARK_TERM, "runtime.workType", "tMarkTerm", 8},
		{GORT_GC_T_END, "runtime.workType", "tEnd", 8},
		{GORT_GC_HEAP0, "runtime.workType", "heap0", 8},
		{GORT_GC_HEAP1, "runtime.workType", "heap1", 8},
		{GORT_GC_HEAP2, "runtime.workType", "heap2", 8},
		{GORT_GC_STWPROCS, "runtime.workType", "stwprocs", 4},
		{GORT_GC_MAXPROCS, "runtime.workType", "maxprocs", 4},
		{GORT_GC_USER_FORCED, "runtime.workType", "userForced", 1},
		{GORT_GC_ASSIST_TIME, "runtime.gcControllerState", "assistTime", 8},
		{GORT_GC_DEDICATED_MARK_TIME, "runtime.gcControllerState", "dedicatedMarkTime", 8},
		{GORT_GC_FRACTIONAL_MARK_TIME, "runtime.gcControllerState", "fractionalMarkTime", 8},
		{GORT_GC_IDLE_MARK_TIME, "runtime.gcControllerState", "idleMarkTime", 8},
		{GORT_GC_HEAP_GOAL, "runtime.gcControllerState", "lastHeapGoal", 8},
		{GORT_GC_STACK_SCAN, "runtime.gcControllerState", v.at_least(1, 20) ? "lastStackScan" : "maxStackScan", 8},
		{GORT_GC_GLOBALS_SCAN, "runtime.gcControllerState", "globalsScan", 8},
		{GORT_GC_CPU_FRACTION, "runtime.mstats", "gc_cpu_fraction", 8},
		{GORT_GC_RUNTIME_INIT_TIME, "", "runtimeInitTime", 8},
		{GORT_GC_PAUSE_NS, "runtime.workType", "pauseNS", 8},
		{GORT_GC_PAUSE_TOTAL_NS, "runtime.mstats", "pause_total_ns", 8},
		{GORT_GC_GC_PERCENT, "runtime.gcControllerState", "gcPercent", 4},
		{GORT_GC_MEMORY_LIMIT, "runtime.gcControllerState", "memoryLimit", 8},
		{GORT_GC_GOMAXPROCS, "", "gomaxprocs", 4},
		{GORT_GC_HEAP_MARKED, "runtime.gcControllerState", "heapMarked", 8},
	};
}

// The fields without which the gctrace line cannot be printed as the runtime prints it.
bool gctrace_field(gort_gc_field f)
{
	return f <= GORT_GC_RUNTIME_INIT_TIME;
}

// The heap figures' offsets (see HeapOffsets); nullopt if any is missing.
std::optional<HeapOffsets> heap_offsets(const StructOffsets &offs)
{
	HeapOffsets h;
	bool ok = true;
	auto get = [&](std::string_view type, std::string_view member) -> uint32_t {
		auto v = offs.get(type, member);
		ok = ok && v;
		return v.value_or(0);
	};
	h.total_alloc = get("runtime.gcControllerState", "totalAlloc");
	h.total_free = get("runtime.gcControllerState", "totalFree");
	h.stats = get("runtime.mstats", "heapStats") + get("runtime.consistentHeapStats", "stats");
	h.large_alloc_count = get("runtime.heapStatsDelta", "largeAllocCount");
	h.small_alloc_count = get("runtime.heapStatsDelta", "smallAllocCount");
	uint32_t large_free = get("runtime.heapStatsDelta", "largeFree");
	h.large_free_count = get("runtime.heapStatsDelta", "largeFreeCount");
	h.small_free_count = get("runtime.heapStatsDelta", "smallFreeCount");
	h.p_mcache = get("runtime.p", "mcache");
	h.mcache_alloc = get("runtime.mcache", "alloc");
	h.span_alloc_count = get("runtime.mspan", "allocCount");
	h.span_alloc_count_before_cache = get("runtime.mspan", "allocCountBeforeCache");
	h.span_elemsize = get("runtime.mspan", "elemsize");
	if (!ok || large_free <= h.small_alloc_count)
		return std::nullopt;
	// heapStatsDelta (mstats.go, Go 1.19-1.27) ends `smallAllocCount [_NumSizeClasses]uint64;
	// largeFree, largeFreeCount uint64; smallFreeCount [_NumSizeClasses]uint64` with no padding
	// on 64-bit: the array length and the struct's size follow from the member offsets, which
	// gort's table has for binaries without DWARF.
	h.size_classes = (large_free - h.small_alloc_count) / 8;
	h.delta_size = h.small_free_count + 8 * h.size_classes;
	return h;
}

} // namespace

void runtime_gc__plan(const GoBinary &bin, const StructOffsets &offs, RuntimeLayout &layout)
{
	std::optional<uint64_t> work, memstats, controller;
	try {
		work = runtime_globals__work(bin, offs);
		memstats = runtime_globals__memstats(bin, offs);
		controller = runtime_globals__gc_controller(bin, offs);
	} catch (...) {
		// A decoder failing on an odd binary costs the GC figures only.
	}
	std::optional<uint64_t> init_time = runtime_globals__runtime_init_time(bin);
	std::optional<uint64_t> gomaxprocs = runtime_globals__gomaxprocs(bin);
	std::optional<uint64_t> allp = runtime_globals__allp(bin);
	auto heap = heap_offsets(offs);
	layout.heap.gomaxprocs = gomaxprocs.value_or(0);
	if (heap && memstats && controller && allp && gomaxprocs) {
		layout.heap.valid = true;
		layout.heap.gc_controller = *controller;
		layout.heap.memstats = *memstats;
		layout.heap.allp = *allp;
		layout.heap.offsets = *heap;
	}

	bool complete = true;
	for (const FieldSpec &spec : field_specs(bin.build_info().version)) {
		std::string_view type = spec.type;
		std::optional<uint64_t> base;
		std::optional<uint32_t> off = 0;
		if (type.empty()) {
			base = std::string_view(spec.member) == "runtimeInitTime" ? init_time : gomaxprocs;
		} else {
			base = type == "runtime.workType" ? work : type == "runtime.mstats" ? memstats : controller;
			off = offs.get(type, spec.member);
		}
		if (base && off) {
			layout.gc_fields[spec.field] = {*base + *off, spec.size};
		} else {
			layout.gc_fields[spec.field] = {};
			if (gctrace_field(spec.field))
				complete = false;
		}
	}
	if (!complete)
		return;
	// The one CALL startTheWorldWithSema in gcMarkTermination or its systemstack closure.
	auto sites = probe_plan__return_sites(bin, "runtime.gcMarkTermination", "runtime.startTheWorldWithSema");
	if (sites.size() != 1)
		return;
	layout.probes.push_back({"gc_cycle_read", sites.front()});
	layout.gc_trace = true;
}

} // namespace gort::gobinary
