// Go's own function table (.gopclntab), kept by every link mode and by -ldflags='-s -w', which
// drop only .symtab and DWARF: function names and addresses of stripped binaries, which
// functions the compiler generated (funcID wrapper) or inlined (FUNCDATA_InlTree), and the
// file:line of any PC (pcfile/pcln tables, as the runtime's tracebacks read them).
//
// Layout (runtime/symtab.go pcHeader, cmd/link pcln.go; docs/go-runtime.md §6):
// magic 0xfffffff0 (Go 1.18-1.19) or 0xfffffff1 (1.20+), nfunc, textStart, offsets of the name,
// cu, file, pc and function tables; the function table holds {entryOff, funcOff} u32 pairs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "user/gobinary/elf_image.h"
#include "user/gobinary/name_index.h"

namespace gort::gobinary {

struct PclnFunction {
	std::string_view name;        // into Pclntab::bytes
	uint64_t entry = 0, end = 0;  // link-time [entry, end): up to the next function
	uint8_t func_id = 0;          // abi.FuncID: 0 normal; wrapper etc. per version
	uint8_t flag = 0;             // abi.FuncFlag: FUNC_FLAG_TOP_FRAME marks the end of a stack
	uint32_t func_off = 0;        // offset of its _func record in the function table
};

struct Pclntab {
	uint64_t vaddr = 0;      // link-time address of the pcHeader
	uint32_t magic = 0;
	uint64_t text_start = 0; // pcHeader.textStart (= runtime.text)
	uint64_t moduledata = 0; // link-time runtime.firstmoduledata (pclntab__find); 0 if not found
	uint64_t funcname_offset = 0;
	// pcHeader.cuOffset, filetabOffset, pctabOffset: the CU -> file index table (u32 each),
	// the NUL-terminated file paths, and the pc-value tables (pcsp, pcfile, pcln, pcdata).
	uint64_t cu_offset = 0, filetab_offset = 0, pctab_offset = 0;
	std::vector<PclnFunction> functions;  // sorted by entry
	NameIndex names;                      // functions by name, the ABI wrappers left out
	// FuncIDWrapper of this version (21 in 1.19-1.21, 22 in 1.22-1.26, 23 in 1.27): the funcID
	// of the ABI wrappers that share their name with the function they wrap; 0 if none seen.
	uint8_t wrapper_func_id = 0;
	// The table itself, from the pcHeader to the end of its section or segment: a read-only
	// file mapping (`view`), not a copy. Its pages are dropped once the binary is indexed;
	// lookups afterwards fault in only the pages they touch.
	std::span<const uint8_t> bytes;
	std::shared_ptr<const FileView> view;
};

// Parses a pcHeader at the start of `view` (link-time address `vaddr`); nullopt unless it is a
// well-formed Go 1.18+ amd64 pclntab. A zero textStart (not stored from Go 1.26, and left to
// the dynamic linker in PIEs) leaves function addresses relative: pclntab__find rebases them.
std::optional<Pclntab> pclntab__parse(std::shared_ptr<const FileView> view, uint64_t vaddr);

// The pclntab of an ELF image: its own section when the Go linker wrote the ELF (.gopclntab,
// or .data.rel.ro.gopclntab for internal PIE); inside .data.rel.ro without a section of its
// own in externally linked PIEs, where the segments are scanned for a pcHeader that parses.
// Function addresses are link-time addresses (rebased on moduledata.text where textStart is 0).
// Also finds runtime.firstmoduledata: the moduledata whose first fields are the pcHeader
// pointer and the funcnametab slice (runtime/symtab.go, Go 1.18-1.27).
std::optional<Pclntab> pclntab__find(const ElfImage &image);

// moduledata.gofunc, the base of funcdata offsets (inline trees), checked against the trees of
// the first functions that have one; nullopt if it does not check out. `go1_27`/`go1_20`: the
// Go version from build info, which moves the field.
std::optional<uint64_t> pclntab__gofunc(const ElfImage &image, const Pclntab &tab, uint64_t moduledata,
					  bool go1_27, bool go1_20);

// One entry of an inline tree (runtime.inlinedCall): 1.18-1.19 {parent i16, funcID u8, _, file,
// line, nameOff, parentPc}; 1.20+ {funcID u8, _ [3], nameOff, parentPc, startLine}.
struct InlinedCall {
	uint8_t func_id = 0;
	int32_t name_off = 0;
	int32_t parent_pc = 0;  // offset from the function's entry of the call it was inlined at
	int32_t line = 0;       // 1.18-1.19: the call's line; 1.20+: the callee's startLine
};
// Entry `i` of the inline tree at link-time `tree` (gofunc + the function's FUNCDATA_InlTree).
std::optional<InlinedCall> pclntab__inlined_call(const ElfImage &image, const Pclntab &tab, uint64_t tree, size_t i);
// The function the wrapper `f` (a go statement's) inlined first, outside the runtime; "" if none.
std::string pclntab__inlined_target(const ElfImage &image, const Pclntab &tab, uint64_t gofunc, const PclnFunction &f);

// runtime._FUNCDATA_InlTree: the funcdata slot of a function's inline tree.
constexpr unsigned FUNCDATA_INL_TREE = 3;
// runtime._PCDATA_InlTreeIndex: the pcdata table giving each pc's inline tree entry (-1: none).
// The tree's length is stored nowhere: the entries in use are the values this table takes.
constexpr unsigned PCDATA_INL_TREE_INDEX = 2;

// abi.FuncFlagTopFrame (the same bit 1.18-1.27): runtime.goexit, mstart, rt0_go... where a
// goroutine's stack ends; the unwinder stops there.
constexpr uint8_t FUNC_FLAG_TOP_FRAME = 1;

// The magic of the pclntab format of Go 1.18-1.19 and of 1.20+.
constexpr uint32_t PCLNTAB_MAGIC_GO118 = 0xfffffff0;
constexpr uint32_t PCLNTAB_MAGIC_GO120 = 0xfffffff1;

// Offset of funcdata slot `index` of a function (FUNCDATA_InlTree = 3), relative to
// moduledata.gofunc; nullopt when the function has none.
std::optional<uint32_t> pclntab__funcdata(const Pclntab &tab, const PclnFunction &f, unsigned index);

// The name at `name_off` in the function name table ("" if out of range).
std::string_view pclntab__name(const Pclntab &tab, int64_t name_off);

// The value of pcdata table `index` of `f` at link-time `pc` (runtime.pcdatavalue); nullopt if
// the function has no such table.
std::optional<int32_t> pclntab__pcdata(const Pclntab &tab, const PclnFunction &f, unsigned index, uint64_t pc);
// Every value pcdata table `index` of `f` takes, in pc order, once each.
std::vector<int32_t> pclntab__pcdata_values(const Pclntab &tab, const PclnFunction &f, unsigned index);

// The pclntab function whose [entry, end) holds the link-time `pc`; nullptr if none.
const PclnFunction *pclntab__function_at(const Pclntab &tab, uint64_t pc);
// The function of that name; of an ABI wrapper and the function it wraps (one name), the
// function itself. nullptr if none.
const PclnFunction *pclntab__function_named(const Pclntab &tab, std::string_view name);
// The pclntab function that starts at `entry`; nullptr if none.
const PclnFunction *pclntab__function_starting(const Pclntab &tab, uint64_t entry);
// Compiler-generated (FuncIDWrapper): an ABI wrapper or a go statement's closure.
bool pclntab__is_wrapper(const Pclntab &tab, const PclnFunction &f);

// runtime.funcspdelta: bytes the function at link-time `pc` has pushed below its caller's SP
// (not counting the return address), from its pcsp table; nullopt if it has none.
std::optional<int32_t> pclntab__spdelta(const Pclntab &tab, const PclnFunction &f, uint64_t pc);

struct PclnLine {
	std::string file;  // as the linker stored it: the path the runtime's tracebacks print
	int line = 0;
};

// Source position of the instruction at link-time `pc`, as runtime.funcline1 computes it: the
// function's pcfile and pcln tables stepped from its entry, the file through the CU's file list.
// In an inlined body this is the inlined callee's position, as in DWARF's line table. For a
// return address pass pc-1, as the runtime's traceback does. nullopt where the runtime says "?".
std::optional<PclnLine> pclntab__line(const Pclntab &tab, uint64_t pc);

} // namespace gort::gobinary
