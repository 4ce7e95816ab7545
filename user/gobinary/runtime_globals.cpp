#include "user/gobinary/runtime_globals.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "user/gobinary/disasm.h"

namespace gort::gobinary {

namespace {

struct RipRefs {
	std::set<uint64_t> all;    // every RIP-relative memory operand's address
	std::set<uint64_t> xchg;   // those written by XCHG (sync/atomic stores on amd64)
	std::vector<uint64_t> order;  // every reference, in instruction order
	std::set<uint64_t> cmp;    // those compared by CMP
	std::set<uint64_t> xchg8;  // 8-byte XCHG stores (atomic.Store64)
	std::set<uint64_t> load8;  // 8-byte MOV loads into a register (atomic.Load64 and plain reads)
	std::set<uint64_t> read4;  // 4-byte operands read (MOV/MOVSXD into a register, CMP)
	std::set<uint64_t> xadd4, xadd8;  // 4- and 8-byte XADD targets (atomic Add32/Add64 on amd64)
};

// How far apart (in references) the closest occurrences of all `addrs` are in `order`.
// The one address of `addrs` that `fits`: nullopt if none does, and if several do (a decoder
// refuses to guess between candidates).
template <typename Fits>
std::optional<uint64_t> only_fit(const std::set<uint64_t> &addrs, Fits fits)
{
	std::optional<uint64_t> found;
	for (uint64_t a : addrs)
		if (fits(a)) {
			if (found)
				return std::nullopt;
			found = a;
		}
	return found;
}

size_t span_of(const std::vector<uint64_t> &order, const std::vector<uint64_t> &addrs)
{
	size_t best = SIZE_MAX;
	for (size_t i = 0; i < order.size(); i++) {
		if (order[i] != addrs[0])
			continue;
		size_t worst = 0;
		for (uint64_t a : addrs) {
			size_t d = SIZE_MAX;
			for (size_t j = 0; j < order.size(); j++)
				if (order[j] == a)
					d = std::min(d, j > i ? j - i : i - j);
			worst = std::max(worst, d);
		}
		best = std::min(best, worst);
	}
	return best;
}

// The data addresses `function` touches RIP-relative (how Go code on amd64 addresses globals).
std::optional<RipRefs> rip_refs(const GoBinary &bin, std::string_view function)
{
	auto f = bin.function(function);
	if (!f)
		return std::nullopt;
	Decoded insn = disasm__function(bin, *f);
	if (!insn.ok())
		return std::nullopt;
	size_t n = insn.size();
	RipRefs refs;
	std::map<unsigned, uint64_t> lea;  // register -> the address last `lea reg, [rip+X]` put in it
	auto xadd = [&](uint64_t addr, uint8_t size) {
		if (size == 4)
			refs.xadd4.insert(addr);
		else if (size == 8)
			refs.xadd8.insert(addr);
	};
	for (size_t i = 0; i < n; i++) {
		const cs_x86 &x = insn[i].detail->x86;
		for (uint8_t k = 0; k < x.op_count; k++) {
			if (x.operands[k].type != X86_OP_MEM)
				continue;
			const x86_op_mem &mem = x.operands[k].mem;
			if (mem.base == X86_REG_RIP) {
				uint64_t addr = insn[i].address + insn[i].size + mem.disp;
				refs.all.insert(addr);
				refs.order.push_back(addr);
				if (insn[i].id == X86_INS_XCHG)
					refs.xchg.insert(addr);
				if (insn[i].id == X86_INS_XCHG && x.operands[k].size == 8)
					refs.xchg8.insert(addr);
				if (insn[i].id == X86_INS_MOV && k == 1 && x.operands[0].type == X86_OP_REG &&
				    x.operands[k].size == 8)
					refs.load8.insert(addr);
				if (insn[i].id == X86_INS_CMP)
					refs.cmp.insert(addr);
				if (x.operands[k].size == 4 && (insn[i].id == X86_INS_CMP || (k == 1 && x.operands[0].type == X86_OP_REG &&
					(insn[i].id == X86_INS_MOV || insn[i].id == X86_INS_MOVSXD))))
					refs.read4.insert(addr);
				if (insn[i].id == X86_INS_LEA && x.operands[0].type == X86_OP_REG)
					lea[x.operands[0].reg] = addr;
				if (insn[i].id == X86_INS_XADD)
					xadd(addr, x.operands[k].size);
			} else if (mem.disp == 0 && mem.index == X86_REG_INVALID && lea.count(mem.base)) {
				// `lea rdx, [rip+X]; xchg [rdx], rcx`: how 1.19 compiles an atomic store;
				// `lea rsi, [rip+X]; lock xadd [rsi], edx`: how every version compiles an
				// atomic add to a global.
				if (insn[i].id == X86_INS_XCHG) {
					refs.xchg.insert(lea[mem.base]);
					if (x.operands[k].size == 8)
						refs.xchg8.insert(lea[mem.base]);
				}
				if (insn[i].id == X86_INS_XADD)
					xadd(lea[mem.base], x.operands[k].size);
			}
		}
	}
	return refs;
}

// `into` gains `from`'s references: a function and the one a PGO build may inline it into.
void rip_refs__merge(RipRefs &into, const RipRefs &from)
{
	for (auto [to, of] : {std::pair{&into.all, &from.all}, {&into.xchg, &from.xchg}, {&into.cmp, &from.cmp},
			      {&into.xchg8, &from.xchg8}, {&into.load8, &from.load8}, {&into.read4, &from.read4},
			      {&into.xadd4, &from.xadd4}, {&into.xadd8, &from.xadd8}})
		to->insert(of->begin(), of->end());
	into.order.insert(into.order.end(), from.order.begin(), from.order.end());
}

// The base B of a global of struct type `type` such that `function` touches B + each member.
std::optional<uint64_t> struct_base(const GoBinary &bin, const StructOffsets &offs, std::string_view function,
				    std::string_view type, const std::vector<std::string_view> &members)
{
	std::vector<uint32_t> off;
	for (auto m : members) {
		auto o = offs.get(type, m);
		if (!o)
			return std::nullopt;
		off.push_back(*o);
	}
	auto refs = rip_refs(bin, function);
	if (!refs || off.empty())
		return std::nullopt;
	// Several bases can fit when the code touches many members of the struct; the real one has
	// its members touched together (`work.tSweepTerm = now; work.pauseStart = now`), so the
	// closest group wins, and a tie is refused rather than guessed.
	std::optional<uint64_t> found;
	size_t found_span = SIZE_MAX;
	bool tie = false;
	for (uint64_t a : refs->all) {
		if (a < off[0])
			continue;
		uint64_t base = a - off[0];
		if (!std::all_of(off.begin(), off.end(), [&](uint32_t o) { return refs->all.count(base + o) > 0; }))
			continue;
		std::vector<uint64_t> addrs;
		for (uint32_t o : off)
			addrs.push_back(base + o);
		size_t span = span_of(refs->order, addrs);
		if (span < found_span) {
			found = base;
			found_span = span;
			tie = false;
		} else if (span == found_span) {
			tie = true;
		}
	}
	return tie ? std::nullopt : found;
}

} // namespace

std::optional<uint64_t> runtime_globals__allgs(const GoBinary &bin, const StructOffsets &, Lookup how)
{
	if (how == Lookup::symbol_first)
		if (auto s = bin.symbol("runtime.allgs"))
			return s;
	// allgadd: `allgs = append(allgs, gp)` reads and writes the slice's ptr, len and cap.
	auto refs = rip_refs(bin, "runtime.allgadd");
	if (!refs)
		return std::nullopt;
	return only_fit(refs->all, [&](uint64_t a) {
		return refs->all.count(a + 8) && refs->all.count(a + 16) && !refs->xchg.count(a) && !refs->xchg.count(a + 8);
	});
}

std::optional<uint64_t> runtime_globals__allglen(const GoBinary &bin, const StructOffsets &offs, Lookup how)
{
	if (how == Lookup::symbol_first)
		if (auto s = bin.symbol("runtime.allglen"))
			return s;
	// allgadd publishes the length with atomic.Storeuintptr(&allglen, ...), an XCHG on amd64.
	// Its other atomic store is atomicstorep(&allgptr, ...), guarded by `&allgs[0] != allgptr`,
	// so allgptr is also compared; allglen never is.
	auto refs = rip_refs(bin, "runtime.allgadd");
	auto allgs = runtime_globals__allgs(bin, offs, how);
	if (!refs || !allgs)
		return std::nullopt;
	std::vector<uint64_t> stores;
	for (uint64_t a : refs->xchg)
		if (!refs->cmp.count(a) && a != *allgs)
			stores.push_back(a);
	if (stores.size() != 1)
		return std::nullopt;
	return stores.front();
}

std::optional<uint64_t> runtime_globals__work(const GoBinary &bin, const StructOffsets &offs, Lookup how)
{
	if (how == Lookup::symbol_first)
		if (auto s = bin.symbol("runtime.work"))
			return s;
	// gcStart: `now := nanotime(); work.tSweepTerm = now; work.pauseStart = now` (1.19-1.21).
	if (auto base = struct_base(bin, offs, "runtime.gcStart", "runtime.workType", {"tSweepTerm", "pauseStart"}))
		return base;
	// 1.22+ has no pauseStart: gcMarkTermination's gctrace print reads the phase times and
	// heap sizes together.
	return struct_base(bin, offs, "runtime.gcMarkTermination", "runtime.workType",
			   {"tSweepTerm", "tMark", "tMarkTerm", "tEnd", "heap0", "heap1", "heap2"});
}

std::optional<uint64_t> runtime_globals__memstats(const GoBinary &bin, const StructOffsets &offs, Lookup how)
{
	if (how == Lookup::symbol_first)
		if (auto s = bin.symbol("runtime.memstats"))
			return s;
	// gcMarkTermination stores last_gc_unix and last_gc_nanotime and increments numgc.
	return struct_base(bin, offs, "runtime.gcMarkTermination", "runtime.mstats",
			   {"last_gc_nanotime", "last_gc_unix", "numgc"});
}

std::optional<uint64_t> runtime_globals__gc_controller(const GoBinary &bin, const StructOffsets &offs, Lookup how)
{
	if (how == Lookup::symbol_first)
		if (auto s = bin.symbol("runtime.gcController"))
			return s;
	// gcMarkTermination's gctrace print reads all these members together (mgc.go, every
	// version); with fewer, Go 1.26's gcMarkTermination offers a wrong base that fits them.
	return struct_base(bin, offs, "runtime.gcMarkTermination", "runtime.gcControllerState",
			   {"lastHeapGoal", "globalsScan", "idleMarkTime", "assistTime", "dedicatedMarkTime", "fractionalMarkTime"});
}

namespace {

// The one plain global `function` stores the result of its first `CALL callee` into:
// `call callee; mov [rip+X], rax`.
std::optional<uint64_t> store_of_call(const GoBinary &bin, std::string_view function, std::string_view callee)
{
	auto f = bin.function(function);
	auto target = bin.function(callee);
	if (!f || !target)
		return std::nullopt;
	Decoded d = disasm__function(bin, *f);
	for (size_t i = 0; i + 1 < d.size(); i++) {
		if (disasm__call_target(d[i]) != target->addr)
			continue;
		// An ABI0 callee (nanotime1 is assembly) returns through a few instructions that
		// restore X15 and R14 before the result is stored.
		for (size_t k = i + 1; k < d.size() && k <= i + 6 && d[k].id != X86_INS_CALL; k++) {
			const cs_x86 &x = d[k].detail->x86;
			if (d[k].id == X86_INS_MOV && x.op_count == 2 && x.operands[1].type == X86_OP_REG &&
			    x.operands[1].reg == X86_REG_RAX)
				if (auto at = disasm__rip_operand(d[k], 0))
					return at;
		}
		return std::nullopt;
	}
	return std::nullopt;
}

} // namespace

std::optional<uint64_t> runtime_globals__runtime_init_time(const GoBinary &bin, Lookup how)
{
	if (how == Lookup::symbol_first)
		if (auto s = bin.symbol("runtime.runtimeInitTime"))
			return s;
	// runtime.main: `runtimeInitTime = nanotime()`, its first call of nanotime (proc.go), which
	// the compiler inlines down to nanotime1.
	for (const char *callee : {"runtime.nanotime1", "runtime.nanotime1.abi0", "runtime.nanotime"})
		if (auto a = store_of_call(bin, "runtime.main", callee))
			return a;
	return std::nullopt;
}

namespace {

// The RIP-relative references of runtime.flushallmcaches and runtime.flushmcache together
// (mstats.go, Go 1.19-1.27: `for i := 0; i < int(gomaxprocs); i++ { flushmcache(i) }` and
// `p := allp[i]; c := p.mcache`): the loop reads gomaxprocs (int32) and nothing else global;
// flushmcache reads allp's pointer and length (allp, allp+8) and nothing else global. Taken
// together so that a build inlining one into the other (PGO) decodes the same.
std::optional<RipRefs> mcache_flush_refs(const GoBinary &bin)
{
	auto loop = rip_refs(bin, "runtime.flushallmcaches");
	if (!loop)
		return std::nullopt;
	if (auto one = rip_refs(bin, "runtime.flushmcache"))
		rip_refs__merge(*loop, *one);
	return loop;
}

} // namespace

std::optional<uint64_t> runtime_globals__gomaxprocs(const GoBinary &bin, Lookup how)
{
	if (how == Lookup::symbol_first)
		if (auto s = bin.symbol("runtime.gomaxprocs"))
			return s;
	auto refs = mcache_flush_refs(bin);
	if (!refs || refs->read4.size() != 1)
		return std::nullopt;
	return *refs->read4.begin();
}

std::optional<uint64_t> runtime_globals__allp(const GoBinary &bin, Lookup how)
{
	if (how == Lookup::symbol_first)
		if (auto s = bin.symbol("runtime.allp"))
			return s;
	auto refs = mcache_flush_refs(bin);
	if (!refs)
		return std::nullopt;
	return only_fit(refs->load8, [&](uint64_t a) { return refs->all.count(a + 8) && !refs->read4.count(a); });
}

std::optional<uint64_t> runtime_globals__sched(const GoBinary &bin, const StructOffsets &offs, Lookup how)
{
	if (how == Lookup::symbol_first)
		if (auto s = bin.symbol("runtime.sched"))
			return s;
	// newproc1 (proc.go, Go 1.19-1.27) refills its P's goid cache with
	// `sched.goidgen.Add(_GoidCacheBatch)` (a LOCK XADDQ on sched+off(goidgen)) and counts a
	// system goroutine with `sched.ngsys.Add(1)` (a LOCK XADDL on sched+off(ngsys)); its other
	// atomic adds target gcController's 8-byte counters. A PGO build may inline newproc1 into
	// the systemstack closure of newproc, so both are searched.
	auto goidgen = offs.get("runtime.schedt", "goidgen");
	auto ngsys = offs.get("runtime.schedt", "ngsys");
	if (!goidgen || !ngsys)
		return std::nullopt;
	std::optional<RipRefs> refs;
	for (const char *name : {"runtime.newproc1", "runtime.newproc.func1"}) {
		auto one = rip_refs(bin, name);
		if (one && refs)
			rip_refs__merge(*refs, *one);
		else if (one)
			refs = std::move(one);
	}
	if (!refs)
		return std::nullopt;
	auto goidgen_addr = only_fit(refs->xadd8, [&](uint64_t a) { return a >= *goidgen && refs->xadd4.count(a - *goidgen + *ngsys); });
	if (!goidgen_addr)
		return std::nullopt;
	return *goidgen_addr - *goidgen;
}

std::optional<uint64_t> runtime_globals__pause_start_field(const GoBinary &bin)
{
	// gcStart (1.19-1.21): `now := nanotime(); work.tSweepTerm = now; work.pauseStart = now`:
	// right after the call to nanotime1, one register stored to two globals in a row, the
	// second being pauseStart; gcMarkTermination reads it back (`now - work.pauseStart`).
	auto f = bin.function("runtime.gcStart");
	auto mark_term = rip_refs(bin, "runtime.gcMarkTermination");
	if (!f || !mark_term)
		return std::nullopt;
	Decoded d = disasm__function(bin, *f);
	auto store_of = [&](size_t i) -> std::optional<std::pair<uint64_t, unsigned>> {
		const cs_x86 &x = d[i].detail->x86;
		auto at = disasm__rip_operand(d[i], 0);
		if (d[i].id != X86_INS_MOV || !at || x.op_count != 2 || x.operands[1].type != X86_OP_REG ||
		    x.operands[0].size != 8)
			return std::nullopt;
		return std::pair{*at, static_cast<unsigned>(x.operands[1].reg)};
	};
	std::set<uint64_t> found;
	for (size_t i = 0; i < d.size(); i++) {
		auto target = disasm__call_target(d[i]);
		const Function *callee = target ? bin.function_at(*target) : nullptr;
		if (!callee || !callee->name.starts_with("runtime.nanotime"))
			continue;
		for (size_t k = i + 1; k + 1 < d.size() && k <= i + 8; k++) {
			auto a = store_of(k), b = store_of(k + 1);
			if (a && b && a->second == b->second && a->first != b->first && mark_term->all.count(b->first)) {
				found.insert(b->first);
				break;
			}
		}
	}
	if (found.size() != 1)
		return std::nullopt;
	return *found.begin();
}

std::optional<uint64_t> runtime_globals__last_gc_nanotime_field(const GoBinary &bin)
{
	// gcMarkTermination ends with atomic.Store64(&memstats.last_gc_unix, ...) and
	// atomic.Store64(&memstats.last_gc_nanotime, now); of the 8-byte globals it stores
	// atomically, only last_gc_nanotime is also loaded by gcTrigger.test (the forced-GC
	// period check `now - memstats.last_gc_nanotime > forcegcperiod`).
	auto mark_term = rip_refs(bin, "runtime.gcMarkTermination");
	auto test = rip_refs(bin, "runtime.gcTrigger.test");
	if (!mark_term || !test)
		return std::nullopt;
	std::vector<uint64_t> both;
	for (uint64_t a : mark_term->xchg8)
		if (test->load8.count(a))
			both.push_back(a);
	if (both.size() != 1)
		return std::nullopt;
	return both.front();
}

namespace {

// A Go [N]string in the data segments of a stripped binary, recognised by the texts of its
// entries 1 and 2 ({ptr, len} pairs of 16 bytes); entry 0 may be "" (a nil pointer, length 0).
std::vector<std::string> string_table_in_data(const GoBinary &bin, std::string_view first, std::string_view second)
{
	auto text = [&](uint64_t hdr, std::string *out, bool may_be_empty) {
		auto len = bin.read(hdr + 8, 8);
		if (!len)
			return false;
		uint64_t n;
		memcpy(&n, len->data(), 8);
		if (n == 0 && may_be_empty) {
			out->clear();
			return true;
		}
		auto ptr = bin.pointer_at(hdr);
		if (!ptr || n == 0 || n > 64)
			return false;
		auto bytes = bin.read(*ptr, n);
		if (!bytes || !std::all_of(bytes->begin(), bytes->end(), [](uint8_t c) { return c >= 0x20 && c < 0x7f; }))
			return false;
		out->assign(bytes->begin(), bytes->end());
		return true;
	};
	for (auto [lo, hi] : bin.data_ranges()) {
		auto seg = bin.read(lo, hi - lo);
		if (!seg)
			continue;
		for (uint64_t off = 16; off + 48 <= seg->size(); off += 8) {
			uint64_t l1, l2;
			memcpy(&l1, seg->data() + off + 8, 8);
			memcpy(&l2, seg->data() + off + 24, 8);
			std::string s1, s2;
			if (l1 != first.size() || l2 != second.size() || !text(lo + off, &s1, false) || s1 != first ||
			    !text(lo + off + 16, &s2, false) || s2 != second)
				continue;
			std::vector<std::string> out;
			for (uint64_t at = lo + off - 16;; at += 16) {
				std::string s;
				if (!text(at, &s, out.empty()))
					break;
				out.push_back(std::move(s));
			}
			return out;
		}
	}
	return {};
}

} // namespace

std::vector<std::string> runtime_globals__stw_reason_strings(const GoBinary &bin)
{
	auto named = bin.string_array("runtime.stwReasonStrings");
	if (!named.empty() || !bin.build_info().stripped)
		return named;
	// stwReason 1 and 2 are the same in 1.21-1.27.
	return string_table_in_data(bin, "GC mark termination", "GC sweep termination");
}

std::vector<std::string> runtime_globals__wait_reason_strings(const GoBinary &bin)
{
	auto named = bin.string_array("runtime.waitReasonStrings");
	if (!named.empty() || !bin.build_info().stripped)
		return named;
	// waitReason 1 and 2 are the same in every version, 1.26's reordering included (§1.3).
	return string_table_in_data(bin, "GC assist marking", "IO wait");
}

} // namespace gort::gobinary
