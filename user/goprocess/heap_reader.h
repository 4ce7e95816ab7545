// MemStats.HeapAlloc and HeapObjects of a running Go program, computed from its memory the way
// runtime.ReadMemStats computes them, without stopping it and without calling into it.
//
// readmemstats_m (mstats.go, Go 1.19-1.27) stops the world, flushes every P's mcache
// (flushallmcaches -> mcache.releaseAll) and then sums the consistent heap stats:
//   HeapAlloc   = totalAlloc - totalFree
//   HeapObjects = nMalloc - nFree
//               = largeAllocCount - largeFreeCount + sum(smallAllocCount - smallFreeCount)
// (tinyAllocCount is added to both nMalloc and nFree: it cancels). A small allocation is counted
// only when its span leaves the mcache: mcache.refill and releaseAll add
// `slotsUsed = s.allocCount - s.allocCountBeforeCache` to smallAllocCount and
// slotsUsed * s.elemsize to gcController.totalAlloc (refill stores allocCountBeforeCache when it
// caches the span). Reading from outside, the flush is done on paper: for each P in
// allp[:gomaxprocs] (flushallmcaches' loop), each span in p.mcache.alloc[] adds its slotsUsed
// (runtime.emptymspan, the placeholder, has both counts 0). The bytes come from
// gcController.totalAlloc - totalFree, which readmemstats_m checks equal to the consistent
// totals ("totalAlloc and consistent stats are not equal"), so no size-class table is needed.
// Exact when the program does not allocate or sweep meanwhile; otherwise one moment's figure
// within the few microseconds the reads take (two passes must agree, see heap_now__read).
#pragma once

#include <cstdint>
#include <optional>

#include "user/gobinary/runtime_layout.h"
#include "user/goprocess/process.h"

namespace gort::goprocess {

struct HeapNow {
	uint64_t alloc = 0;    // MemStats.HeapAlloc
	uint64_t objects = 0;  // MemStats.HeapObjects
	int32_t gomaxprocs = 0;
	bool stable = false;   // two passes in a row agreed
};

// nullopt when the layout is not valid or the memory cannot be read (the process ended).
std::optional<HeapNow> heap_now__read(const gobinary::HeapLayout &layout, uint64_t load_bias, const ProcessMemory &mem);

// runtime.gomaxprocs alone (0 when unknown).
int32_t heap_now__gomaxprocs(const gobinary::HeapLayout &layout, uint64_t load_bias, const ProcessMemory &mem);

} // namespace gort::goprocess
