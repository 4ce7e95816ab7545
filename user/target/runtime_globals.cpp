#include "user/target/runtime_globals.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

namespace gort::target {

namespace {

struct RipRefs {
	std::set<uint64_t> all;    // every RIP-relative memory operand's address
	std::set<uint64_t> xchg;   // those written by XCHG (sync/atomic stores on amd64)
	std::vector<uint64_t> order;  // every reference, in instruction order
	std::set<uint64_t> cmp;    // those compared by CMP
};

// How far apart (in references) the closest occurrences of all `addrs` are in `order`.
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
	auto code = bin.read(f->addr, f->size);
	csh cs = 0;
	if (!code || cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return std::nullopt;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	cs_insn *insn = nullptr;
	size_t n = cs_disasm(cs, code->data(), code->size(), f->addr, 0, &insn);
	RipRefs refs;
	std::map<unsigned, uint64_t> lea;  // register -> the address last `lea reg, [rip+X]` put in it
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
				if (insn[i].id == X86_INS_CMP)
					refs.cmp.insert(addr);
				if (insn[i].id == X86_INS_LEA && x.operands[0].type == X86_OP_REG)
					lea[x.operands[0].reg] = addr;
			} else if (insn[i].id == X86_INS_XCHG && mem.disp == 0 && mem.index == X86_REG_INVALID &&
				   lea.count(mem.base)) {
				// `lea rdx, [rip+X]; xchg [rdx], rcx`: how 1.19 compiles an atomic store.
				refs.xchg.insert(lea[mem.base]);
			}
		}
	}
	if (insn)
		cs_free(insn, n);
	cs_close(&cs);
	return refs;
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
	std::optional<uint64_t> found;
	for (uint64_t a : refs->all)
		if (refs->all.count(a + 8) && refs->all.count(a + 16) && !refs->xchg.count(a) && !refs->xchg.count(a + 8)) {
			if (found)
				return std::nullopt;
			found = a;
		}
	return found;
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
	auto code = bin.read(f->addr, f->size);
	csh cs = 0;
	if (!code || cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return std::nullopt;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	cs_insn *insn = nullptr;
	size_t n = cs_disasm(cs, code->data(), code->size(), f->addr, 0, &insn);
	std::optional<uint64_t> found;
	for (size_t i = 0; i + 1 < n && !found; i++) {
		const cs_x86 &call = insn[i].detail->x86;
		if (insn[i].id != X86_INS_CALL || call.op_count != 1 || call.operands[0].type != X86_OP_IMM ||
		    static_cast<uint64_t>(call.operands[0].imm) != target->addr)
			continue;
		// An ABI0 callee (nanotime1 is assembly) returns through a few instructions that
		// restore X15 and R14 before the result is stored.
		for (size_t k = i + 1; k < n && k <= i + 6 && insn[k].id != X86_INS_CALL; k++) {
			const cs_insn &mov = insn[k];
			const cs_x86 &x = mov.detail->x86;
			if (mov.id == X86_INS_MOV && x.op_count == 2 && x.operands[0].type == X86_OP_MEM &&
			    x.operands[0].mem.base == X86_REG_RIP && x.operands[1].type == X86_OP_REG &&
			    x.operands[1].reg == X86_REG_RAX) {
				found = mov.address + mov.size + x.operands[0].mem.disp;
				break;
			}
		}
		break;
	}
	if (insn)
		cs_free(insn, n);
	cs_close(&cs);
	return found;
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

std::optional<uint64_t> runtime_globals__gomaxprocs(const GoBinary &bin, Lookup how)
{
	if (how == Lookup::symbol_first)
		if (auto s = bin.symbol("runtime.gomaxprocs"))
			return s;
	// Not decoded: without .symtab the aggregator falls back on work.maxprocs, the GOMAXPROCS
	// the last cycle started with.
	return std::nullopt;
}

std::vector<std::string> runtime_globals__stw_reason_strings(const GoBinary &bin)
{
	auto named = bin.string_array("runtime.stwReasonStrings");
	if (!named.empty() || !bin.build_info().stripped)
		return named;
	// A [N]string is N {ptr, len} pairs; stwReason 1 and 2 are the same in 1.21-1.27.
	auto text = [&](uint64_t hdr, std::string *out) {
		auto ptr = bin.pointer_at(hdr);
		auto len = bin.read(hdr + 8, 8);
		if (!ptr || !len)
			return false;
		uint64_t n;
		memcpy(&n, len->data(), 8);
		if (n == 0 || n > 64)
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
			if (l1 != 19 || l2 != 20 || !text(lo + off, &s1) || s1 != "GC mark termination" ||
			    !text(lo + off + 16, &s2) || s2 != "GC sweep termination")
				continue;
			std::vector<std::string> out;
			for (uint64_t at = lo + off - 16;; at += 16) {
				std::string s;
				if (!text(at, &s))
					break;
				out.push_back(std::move(s));
			}
			return out;
		}
	}
	return {};
}

} // namespace gort::target
