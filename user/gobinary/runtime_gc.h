// Where the runtime keeps each figure of its gctrace=1 line and of its pacer (enum
// gort_gc_field), per Go version: the globals (runtime_globals) plus struct member offsets.
#pragma once

#include "user/gobinary/go_binary.h"
#include "user/gobinary/offsets_table.h"
#include "user/gobinary/runtime_layout.h"

namespace gort::gobinary {

// Fills layout.gc_fields and, when every field of the gctrace line is found, adds the
// gc_cycle_read probe after gcMarkTermination's startTheWorldWithSema and sets layout.gc_trace.
// Never throws for a missing field: GC figures are extra, the rest of gort still works.
void runtime_gc__plan(const GoBinary &bin, const StructOffsets &offs, RuntimeLayout &layout);

} // namespace gort::gobinary
