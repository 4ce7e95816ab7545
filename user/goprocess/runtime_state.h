// Goroutine totals from the runtime's own bookkeeping, read through /proc/PID/mem without a
// probe (the "sampled" mode's source of exact totals; proc.go newproc1, gcount):
//  - goroutine IDs handed out: runtime.newproc1 takes each new goroutine's goid from its P's
//    cache p.goidcache..p.goidcacheend, refilled 16 at a time from sched.goidgen; so IDs handed
//    out = goidgen - the unused part of every P's cache (allp up to its capacity: procresize
//    keeps shrunk-away Ps, with their caches, for reuse);
//  - goroutines alive: what runtime.gcount() (= runtime.NumGoroutine) computes.
// Every Go-version difference of these structs is in runtime_state.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "user/gobinary/go_binary.h"
#include "user/goprocess/process.h"

namespace gort::goprocess {

struct RuntimeCounts {
	uint64_t goidgen = 0;
	// [goidcache, goidcacheend) of every P: IDs reserved but not given to a goroutine yet.
	std::vector<std::pair<uint64_t, uint64_t>> unused;
	uint64_t handed_out = 0;  // goidgen - sum of the unused ranges
	int64_t alive = 0;        // runtime.gcount(): user goroutines alive (NumGoroutine)
	int64_t system = 0;       // sched.ngsys: runtime-internal goroutines alive
};

// True if goroutine `goid` was handed out by the time `c` was read.
bool runtime_counts__handed_out(const RuntimeCounts &c, uint64_t goid);

class RuntimeStateReader {
public:
	// Throws UserError(unsupported) naming what is missing (symbols or offsets).
	RuntimeStateReader(const gobinary::GoBinary &bin, uint64_t load_bias);

	// One consistent reading: the globals are read twice in a row until two passes agree (at
	// most a few tries; a program creating goroutines on every P all the time may never give
	// two equal passes, then the last is returned and `stable` is false).
	std::optional<RuntimeCounts> read(const ProcessMemory &mem, bool *stable = nullptr) const;

private:
	std::optional<RuntimeCounts> read_once(const ProcessMemory &mem) const;

	uint64_t sched_ = 0, allp_ = 0, allglen_ = 0;  // runtime addresses (bias applied)
	uint32_t goidgen_ = 0, ngsys_ = 0;
	// sched.gFree's counters: one int32 (Go 1.19-1.25: gFree.n) or two (Go 1.26+: the
	// stack and noStack lists' own sizes).
	std::vector<uint32_t> sched_free_;
	uint32_t p_goidcache_ = 0, p_goidcacheend_ = 0, p_free_ = 0;
};

} // namespace gort::goprocess
