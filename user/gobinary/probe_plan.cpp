// Choosing uprobe addresses by decoding Go machine code with capstone (x86-64, detail on).
//
// The kernel emulates a uprobed instruction instead of single-stepping it out of line only for
// a few encodings (arch/x86/kernel/uprobes.c): the "ideal" nops of x86_nops[], `push reg`
// (push_setup_xol_ops), and rel8/rel32 jmp/jcc/call without a 0x66 prefix
// (branch_setup_xol_ops). Emulated hits cost ~1 µs here, single-stepped ones ~13 µs (notes §10).
#include "user/gobinary/probe_plan.h"


#include <algorithm>
#include <cstring>
#include <optional>

#include "user/common/error.h"
#include "user/gobinary/disasm.h"

namespace gort::gobinary {

namespace {

// The kernel's x86_nops[] (arch/x86/kernel/alternative.c, P6 nops): only these exact byte
// sequences are emulated as nops.
bool is_kernel_nop(const cs_insn &in)
{
	static const std::vector<std::vector<uint8_t>> nops = {
		{},
		{0x90},
		{0x66, 0x90},
		{0x0f, 0x1f, 0x00},
		{0x0f, 0x1f, 0x40, 0x00},
		{0x0f, 0x1f, 0x44, 0x00, 0x00},
		{0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
		{0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
		{0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
	};
	return in.size < nops.size() && memcmp(in.bytes, nops[in.size].data(), in.size) == 0;
}

enum class Kind { other, push, nop, branch, call };

Kind kind_of(const cs_insn &in)
{
	const uint8_t *b = in.bytes;
	if (is_kernel_nop(in))
		return Kind::nop;
	// push_setup_xol_ops: 0x50-0x57, optionally with REX.B (0x41) for r8-r15.
	if ((in.size == 1 && b[0] >= 0x50 && b[0] <= 0x57) ||
	    (in.size == 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57))
		return Kind::push;
	// branch_setup_xol_ops: call rel32, jmp rel8/rel32, jcc rel8/rel32; no prefixes.
	if (in.size == 5 && b[0] == 0xe8)
		return Kind::call;
	if ((in.size == 5 && b[0] == 0xe9) || (in.size == 2 && b[0] == 0xeb) ||
	    (in.size == 2 && b[0] >= 0x70 && b[0] <= 0x7f) ||
	    (in.size == 6 && b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f))
		return Kind::branch;
	return Kind::other;
}

bool emulated(const cs_insn &in) { return kind_of(in) != Kind::other; }

std::optional<Reg> reg_family(unsigned r)
{
	switch (r) {
	case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX: case X86_REG_AH: case X86_REG_AL:
		return Reg::rax;
	case X86_REG_RBX: case X86_REG_EBX: case X86_REG_BX: case X86_REG_BH: case X86_REG_BL:
		return Reg::rbx;
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CH: case X86_REG_CL:
		return Reg::rcx;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DH: case X86_REG_DL:
		return Reg::rdx;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL:
		return Reg::rsi;
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL:
		return Reg::rdi;
	case X86_REG_R14: case X86_REG_R14D: case X86_REG_R14W: case X86_REG_R14B:
		return Reg::r14;
	default:
		return std::nullopt;
	}
}

const char *reg_name(Reg r)
{
	switch (r) {
	case Reg::rax: return "rax";
	case Reg::rbx: return "rbx";
	case Reg::rcx: return "rcx";
	case Reg::rdx: return "rdx";
	case Reg::rsi: return "rsi";
	case Reg::rdi: return "rdi";
	case Reg::r14: return "r14";
	}
	return "?";
}

// Does `in` write any of `live`? Capstone's implicit+explicit write set, plus — because
// capstone 4's access tables have gaps — the first register operand of anything that is not
// a pure compare/push/branch (mov rbx, ..; xor eax, eax; lea rcx, ..).
std::optional<Reg> writes_live(const Decoded &d, const cs_insn &in, const std::vector<Reg> &live)
{
	auto is_live = [&](unsigned r) -> std::optional<Reg> {
		auto f = reg_family(r);
		if (f && std::find(live.begin(), live.end(), *f) != live.end())
			return f;
		return std::nullopt;
	};
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;
	if (cs_regs_access(d.handle(), &in, rd, &nrd, wr, &nwr) == CS_ERR_OK)
		for (uint8_t i = 0; i < nwr; i++)
			if (auto f = is_live(wr[i]))
				return f;
	const cs_x86 &x = in.detail->x86;
	bool reads_only = in.id == X86_INS_CMP || in.id == X86_INS_TEST || in.id == X86_INS_PUSH ||
			  in.id == X86_INS_BT || kind_of(in) == Kind::branch || kind_of(in) == Kind::call;
	for (uint8_t i = 0; i < x.op_count; i++) {
		const cs_x86_op &op = x.operands[i];
		if (op.type != X86_OP_REG)
			continue;
		if ((op.access & CS_AC_WRITE) || (i == 0 && !reads_only))
			if (auto f = is_live(op.reg))
				return f;
	}
	return std::nullopt;
}

std::string text_of(const cs_insn &in)
{
	std::string s = in.mnemonic;
	if (in.op_str[0])
		s += std::string(" ") + in.op_str;
	return s;
}

// Go's stack-bound check (cmd/internal/obj/x86 stacksplit): `cmp rsp|r12, [r14+0x10]`
// (stackguard0), or [r14+0x18] (stackguard1, for functions that may run on g0/systemstack),
// preceded for big frames by `lea r12, [rsp-N]` (or mov/sub/jb), followed by jbe/jb to the
// morestack call. Returns the index after that branch, or 0 when there is no check.
size_t after_stack_check(const Decoded &d)
{
	for (size_t i = 0; i + 1 < d.size() && i < 5; i++) {
		const cs_insn &in = d[i];
		if (in.id != X86_INS_CMP)
			continue;
		const cs_x86 &x = in.detail->x86;
		if (x.op_count != 2 || x.operands[0].type != X86_OP_REG || x.operands[1].type != X86_OP_MEM)
			continue;
		unsigned r = x.operands[0].reg;
		const x86_op_mem &mem = x.operands[1].mem;
		if ((r != X86_REG_RSP && r != X86_REG_R12) || mem.base != X86_REG_R14 || mem.index != X86_REG_INVALID ||
		    (mem.disp != 0x10 && mem.disp != 0x18))
			continue;
		const cs_insn &br = d[i + 1];
		if (br.id == X86_INS_JBE || br.id == X86_INS_JB)
			return i + 2;
		return 0;
	}
	return 0;
}

AttachPoint make_point(const GoBinary &bin, const Function &f, const cs_insn &in, std::string why)
{
	AttachPoint p;
	p.function = f.name;
	p.vaddr = in.address;
	auto off = bin.file_offset(in.address);
	if (!off)
		throw UserError(ExitCode::unsupported, std::string(f.name) + " in " + bin.path() + " is not in an executable segment");
	p.file_offset = *off;
	p.instruction = text_of(in);
	p.emulated = emulated(in);
	p.why = std::move(why);
	return p;
}

Function need_function(const GoBinary &bin, std::string_view name)
{
	auto f = bin.function(name);
	if (!f)
		throw UserError(ExitCode::unsupported,
				std::string(name) + " not found in " + bin.path() +
					(bin.build_info().stripped ? " (the binary is stripped; rebuild without -ldflags=-s)"
								   : " (this Go version may not have it)"));
	return *f;
}

Decoded decode(const GoBinary &bin, const Function &f, size_t max = 0)
{
	Decoded d = disasm__function(bin, f, max);
	if (!d.ok())
		throw UserError(ExitCode::unsupported, "cannot decode the code of " + std::string(f.name) + " from " + bin.path());
	return d;
}

} // namespace

AttachPoint probe_plan__entry(const GoBinary &bin, std::string_view function, const std::vector<Reg> &live)
{
	Function f = need_function(bin, function);
	Decoded d = decode(bin, f, 24);
	// The check's jbe runs twice when the stack grows (morestack re-enters the function from
	// the top), so the probe goes after it: then it fires exactly once per call.
	size_t start = after_stack_check(d);
	std::string live_names;
	for (Reg r : live)
		live_names += (live_names.empty() ? "" : "/") + std::string(reg_name(r));
	for (size_t i = 0; i < d.size(); i++) {
		const cs_insn &in = d[i];
		if (i >= start && emulated(in)) {
			std::string why = text_of(in) + (start ? " after the stack check" : " at function entry (no stack check)") +
					  ": emulated, runs once per call" +
					  (live_names.empty() ? std::string() : ", " + live_names + " untouched");
			return make_point(bin, f, in, why);
		}
		if (i < start)
			continue;
		if (auto w = writes_live(d, in, live)) {
			// No emulated instruction before a live register dies (Go 1.19's prologue is
			// `sub rsp; mov [rsp+N], rbp; lea rbp`, no push). The first instruction after the
			// stack check still runs once per call with every register intact; it is merely
			// single-stepped.
			const cs_insn &first = d[start];
			return make_point(bin, f, first,
					  text_of(first) + (start ? " after the stack check" : " at function entry") +
						  ": single-stepped (no emulated instruction before `" + text_of(in) +
						  "` overwrites " + reg_name(*w) + "), runs once per call");
		}
	}
	throw UserError(ExitCode::unsupported, "no emulated instruction in the prologue of " + std::string(f.name) + " in " +
						       bin.path() + " (unexpected code for this Go version)");
}

std::vector<AttachPoint> probe_plan__call_sites(const GoBinary &bin, std::string_view caller, std::string_view callee)
{
	Function from = need_function(bin, caller);
	Function to = need_function(bin, callee);
	Decoded d = decode(bin, from);
	std::vector<AttachPoint> out;
	for (size_t i = 0; i < d.size(); i++) {
		const cs_insn &in = d[i];
		if (kind_of(in) != Kind::call || disasm__call_target(in) != to.addr)
			continue;
		out.push_back(make_point(bin, from, in,
					 "call " + std::string(to.name) + ": emulated, argument registers are set for the callee"));
	}
	return out;
}

namespace {

// Calls `visit(f, insns, i)` for every `call <callee>` (index i in f's decoded instructions) in
// the functions whose name starts with `caller_prefix`.
template <typename Visit>
void for_each_call(const GoBinary &bin, std::string_view caller_prefix, const Function &to, Visit visit)
{
	for (const Function &f : bin.functions()) {
		if (f.name.compare(0, caller_prefix.size(), caller_prefix) != 0)
			continue;
		auto code = bin.read(f.addr, f.size);
		if (!code)
			continue;
		// Cheap pre-filter: an e8 byte whose rel32 lands on the callee. Only functions with
		// such a byte are decoded (the byte may also sit inside another instruction).
		bool candidate = false;
		for (size_t i = 0; i + 5 <= code->size() && !candidate; i++) {
			if ((*code)[i] != 0xe8)
				continue;
			int32_t rel;
			memcpy(&rel, code->data() + i + 1, 4);
			candidate = f.addr + i + 5 + static_cast<int64_t>(rel) == to.addr;
		}
		if (!candidate)
			continue;
		Decoded d = disasm__code(code->data(), code->size(), f.addr);
		for (size_t i = 0; i < d.size(); i++) {
			const cs_insn &in = d[i];
			if (kind_of(in) == Kind::call && disasm__call_target(in) == to.addr)
				visit(f, d, i);
		}
	}
}

} // namespace

std::vector<AttachPoint> probe_plan__return_sites(const GoBinary &bin, std::string_view caller_prefix,
						  std::string_view callee)
{
	Function to = need_function(bin, callee);
	std::vector<AttachPoint> out;
	for_each_call(bin, caller_prefix, to, [&](const Function &f, const Decoded &d, size_t i) {
		if (i + 1 >= d.size())
			return;
		const cs_insn &next = d[i + 1];
		out.push_back(make_point(bin, f, next,
					 text_of(next) + " after call " + std::string(to.name) + ": rax holds its first result" +
						 (emulated(next) ? ", emulated" : ", single-stepped (rare event)")));
	});
	return out;
}

std::vector<std::string> probe_plan__string_arguments(const GoBinary &bin, std::string_view callee)
{
	std::vector<std::string> out;
	auto to = bin.function(callee);
	if (!to)
		return out;
	for_each_call(bin, "", *to, [&](const Function &, const Decoded &d, size_t call) {
		// A constant string argument is `lea rax, [rip+str]` and `mov ebx, len` among the
		// instructions just before the call (ABIInternal: a string's ptr/len in RAX/RBX).
		std::optional<uint64_t> ptr, len;
		for (size_t k = call; k-- > 0 && call - k <= 6;) {
			const cs_insn &in = d[k];
			const cs_x86 &x = in.detail->x86;
			if (x.op_count != 2 || x.operands[0].type != X86_OP_REG)
				continue;
			unsigned r = x.operands[0].reg;
			if (!ptr && in.id == X86_INS_LEA && r == X86_REG_RAX && x.operands[1].type == X86_OP_MEM &&
			    x.operands[1].mem.base == X86_REG_RIP)
				ptr = in.address + in.size + x.operands[1].mem.disp;
			else if (!len && in.id == X86_INS_MOV && (r == X86_REG_EBX || r == X86_REG_RBX) &&
				 x.operands[1].type == X86_OP_IMM)
				len = static_cast<uint64_t>(x.operands[1].imm);
		}
		if (!ptr || !len || *len > 256)
			return;
		if (auto bytes = bin.read(*ptr, *len)) {
			std::string s(bytes->begin(), bytes->end());
			if (std::find(out.begin(), out.end(), s) == out.end())
				out.push_back(std::move(s));
		}
	});
	return out;
}

} // namespace gort::gobinary
