// Where each uprobe goes, decided by decoding the target's instructions (capstone).
//
// On x86-64 the kernel emulates a few instructions at a uprobe (jmp/jcc/call, push, nop:
// arch/x86/kernel/uprobes.c branch_setup_xol_ops) and single-steps all others out of line, which
// costs several times more (~10.5 µs vs ~3.2 µs here; docs/go-runtime.md §5). Hot probes must sit on
// emulated instructions where the registers they read still hold the values of interest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "user/gobinary/go_binary.h"

namespace gort::gobinary {

struct AttachPoint {
	std::string function;     // the function the instruction is in
	uint64_t vaddr = 0;       // link-time address of the instruction
	uint64_t file_offset = 0; // what the uprobe is attached to
	std::string instruction;  // e.g. "push rbp"
	bool emulated = false;    // the kernel emulates it (cheap) rather than single-stepping
	std::string why;          // one line: why this instruction
};

// x86-64 registers a probe reads; an attach point must come before any instruction that writes one.
enum class Reg { rax, rbx, rcx, rdx, rsi, rdi, r14 };

// The first instruction of `function` that runs exactly once per call with `live` registers
// untouched, preferring an emulated one: skips the stack-bound check (`cmp rsp/r12, [r14+0x10]`
// + `jbe`), since that jbe runs again when morestack re-enters the function, and takes the
// next emulated instruction (normally `push rbp`). Throws UserError(unsupported) naming the
// function when it is missing or no safe instruction is found in its prologue.
AttachPoint probe_plan__entry(const GoBinary &bin, std::string_view function, const std::vector<Reg> &live);

// Every `call <callee>` instruction inside `caller` (emulated; argument registers are set).
std::vector<AttachPoint> probe_plan__call_sites(const GoBinary &bin, std::string_view caller,
						std::string_view callee);

// The instruction right after every `call <callee>` in any function whose name starts with
// `caller_prefix` (e.g. "runtime."): where RAX holds callee's first result. Not necessarily
// emulated; meant for rare events.
std::vector<AttachPoint> probe_plan__return_sites(const GoBinary &bin, std::string_view caller_prefix,
						  std::string_view callee);

// The constant strings passed to `callee(s string, ...)` at its call sites anywhere in the
// binary (`lea rax, [rip+s]; mov ebx, len` before the call), each once. Empty if it has none.
std::vector<std::string> probe_plan__string_arguments(const GoBinary &bin, std::string_view callee);

} // namespace gort::gobinary
