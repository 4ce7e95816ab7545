// Addresses of the runtime's global variables gort reads, for binaries with or without .symtab.
// Stripped binaries keep no data symbols, so they are recovered from the code that uses them:
// RIP-relative operands in known runtime functions (found through the pclntab), checked against
// the struct offsets the same code must touch. The unit tests compare every recovered address
// with .symtab on an unstripped build of the same program.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "user/gobinary/go_binary.h"
#include "user/gobinary/offsets_table.h"

namespace gort::gobinary {

// symbol_first: .symtab when present, else decode; decode: always decode (tests check the
// decoders against .symtab of the same binary).
enum class Lookup { symbol_first, decode };

// runtime.allgs ([]*g), runtime.allglen, runtime.work, runtime.memstats: link-time addresses.
std::optional<uint64_t> runtime_globals__allgs(const GoBinary &bin, const StructOffsets &offs,
					       Lookup how = Lookup::symbol_first);
std::optional<uint64_t> runtime_globals__allglen(const GoBinary &bin, const StructOffsets &offs,
						 Lookup how = Lookup::symbol_first);
std::optional<uint64_t> runtime_globals__work(const GoBinary &bin, const StructOffsets &offs,
					      Lookup how = Lookup::symbol_first);
std::optional<uint64_t> runtime_globals__memstats(const GoBinary &bin, const StructOffsets &offs,
						  Lookup how = Lookup::symbol_first);

// Link-time addresses of work.pauseStart and memstats.last_gc_nanotime (Go 1.19-1.21), decoded
// from the code that stores and reads them, with no symbol and no offset: what a stripped binary
// of a Go version gort has never seen still shows. nullopt when the code is not as expected.
std::optional<uint64_t> runtime_globals__pause_start_field(const GoBinary &bin);
std::optional<uint64_t> runtime_globals__last_gc_nanotime_field(const GoBinary &bin);

// runtime.gcController (gcControllerState), runtime.runtimeInitTime (int64),
// runtime.gomaxprocs (int32): what the gctrace line and the pacer figures are read from.
std::optional<uint64_t> runtime_globals__gc_controller(const GoBinary &bin, const StructOffsets &offs,
						       Lookup how = Lookup::symbol_first);
std::optional<uint64_t> runtime_globals__runtime_init_time(const GoBinary &bin, Lookup how = Lookup::symbol_first);
std::optional<uint64_t> runtime_globals__gomaxprocs(const GoBinary &bin, Lookup how = Lookup::symbol_first);
// runtime.allp ([]*p): the Ps whose mcaches hold small allocations not yet in the heap stats.
std::optional<uint64_t> runtime_globals__allp(const GoBinary &bin, Lookup how = Lookup::symbol_first);
// runtime.sched (schedt): goidgen and ngsys, what the sampled mode's totals are read from.
std::optional<uint64_t> runtime_globals__sched(const GoBinary &bin, const StructOffsets &offs,
					       Lookup how = Lookup::symbol_first);

// runtime.stwReasonStrings (Go 1.21+): from .symtab, else found in the data segments as the
// string table whose entries 1 and 2 are "GC mark termination", "GC sweep termination".
std::vector<std::string> runtime_globals__stw_reason_strings(const GoBinary &bin);

// runtime.waitReasonStrings (every version; the g.waitreason values index it, and they move
// between versions: never hard-coded): from .symtab, else found in the data segments as the
// table whose entries 1 and 2 are "GC assist marking", "IO wait".
std::vector<std::string> runtime_globals__wait_reason_strings(const GoBinary &bin);

} // namespace gort::gobinary
