// Everything version-specific about tracing one Go binary, decided in one place: struct offsets,
// how STW boundaries are passed, the TLS slot of g, which functions start system goroutines, and
// the attach point of every probe. Nothing outside user/gobinary/ tests a Go version.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gort/bpf_shared.h"
#include "user/gobinary/go_binary.h"
#include "user/gobinary/offsets_table.h"
#include "user/gobinary/probe_plan.h"

namespace gort::gobinary {

struct ProbeAttachment {
	std::string program;  // BPF program name in bpf/*.bpf.c
	AttachPoint point;
};

// One struct offset (or, for globals' members, link-time address) gort traces with, and where
// it came from: "DWARF", "type descriptor (new(g) in runtime.malg)", "instructions",
// "table go1.21", or two agreeing sources joined by " = ".
struct OffsetOrigin {
	std::string name;  // "runtime.g.goid", "runtime.work.pauseStart"
	uint64_t value = 0;
	std::string origin;
};

// Where one gort_gc_field lives in the process (link-time address; 0: not in this version).
struct GcField {
	uint64_t addr = 0;
	uint8_t size = 0;
};

// What MemStats.HeapAlloc and HeapObjects are computed from without stopping the program
// (user/goprocess/heap_reader.h): member offsets of the runtime structs involved.
struct HeapOffsets {
	uint32_t total_alloc = 0, total_free = 0;  // gcControllerState.totalAlloc/totalFree (atomic.Uint64)
	uint32_t stats = 0;        // mstats.heapStats.stats: [3]heapStatsDelta, the consistent shards
	uint32_t delta_size = 0;   // sizeof(heapStatsDelta)
	uint32_t large_alloc_count = 0, small_alloc_count = 0, large_free_count = 0, small_free_count = 0;
	uint32_t size_classes = 0;  // _NumSizeClasses (smallAllocCount's length); numSpanClasses is twice it
	uint32_t p_mcache = 0, mcache_alloc = 0;
	uint32_t span_alloc_count = 0, span_alloc_count_before_cache = 0, span_elemsize = 0;
	bool operator==(const HeapOffsets &) const = default;
};

// Link-time addresses of the globals the heap figures read, and the offsets; valid when all
// were found (GOMAXPROCS alone may be known without the rest).
struct HeapLayout {
	bool valid = false;
	uint64_t gc_controller = 0, memstats = 0, allp = 0, gomaxprocs = 0;
	HeapOffsets offsets;
};

struct RuntimeLayout {
	gort_go_offsets offsets{};
	int64_t tls_g_offset = -8;
	gort_stw_abi stw_abi = GORT_STW_ABI_NONE;
	uint64_t work_pause_start = 0;  // link-time address, Go 1.21 only
	uint64_t last_gc_nanotime = 0;  // link-time address, Go 1.21 only
	// Start functions of runtime-internal goroutines, merged [lo, hi) link-time ranges.
	std::vector<std::pair<uint64_t, uint64_t>> system_ranges;
	std::vector<std::string> stw_reasons;  // runtime.stwReasonStrings
	// Go 1.19-1.20: stopTheWorld(reason string) texts by the value BPF reports for them
	// (GORT_STW_REASON_HASHED | runtime_layout__stw_reason_hash(text)).
	std::map<uint32_t, std::string> stw_reason_texts;
	std::vector<ProbeAttachment> probes;
	std::vector<OffsetOrigin> offset_origins;
	// The runtime's GC bookkeeping read at the end of every cycle (bpf/gc.bpf.c), by
	// enum gort_gc_field; empty addresses when the binary's globals cannot be found.
	GcField gc_fields[GORT_GC_NR_FIELDS]{};
	bool gc_trace = false;  // every gctrace field was found and gc_cycle_read is attached
	HeapLayout heap;
};

// Throws UserError(unsupported) naming what is missing and what would make it work.
// Struct offsets come from the binary's DWARF, its type descriptors and code, or `table` (gort's
// own by default; tests pass a restricted one to see the refusal), see offsets_table.h.
RuntimeLayout runtime_layout__inspect(const GoBinary &bin, const OffsetsTable &table = offsets_table__builtin());

// runtime.isSystemGoroutine by name: started in "runtime.*" other than runtime.main.
bool runtime_layout__is_system_function(std::string_view name);

// The runtime's name for an stwReason value ("GC mark termination", ...).
std::string runtime_layout__stw_reason(const RuntimeLayout &layout, uint32_t reason);
bool runtime_layout__stw_reason_is_gc(uint32_t reason);

// What BPF's go_string__reason_hash (bpf/stw.bpf.c) reports for a Go 1.19-1.20 stop reason.
uint32_t runtime_layout__stw_reason_hash(std::string_view text);

} // namespace gort::gobinary
