// What gort needs to know about one Go executable, read from the file alone (no process):
// Go version and build flags (.go.buildinfo), functions (.symtab or the pclntab), data
// symbols, struct member offsets (DWARF), the TLS slot of g, and bytes at link-time addresses.
//
// A facade over the pieces in this folder: elf_image (the file), build_info, pclntab (with
// moduledata and inline trees), dwarf_index, wrappers. The file is not kept in memory: see
// elf_image.h.
//
// All addresses here are link-time virtual addresses; add the process's load bias for PIE.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "user/gobinary/build_info.h"

namespace gort::gobinary {

struct Pclntab;
class DwarfIndex;
class ElfImage;

struct Function {
	std::string_view name;  // into the binary's symbol or function name table: valid while it lives
	uint64_t addr = 0;
	uint64_t size = 0;
};

struct SourceLocation {
	std::string function;  // e.g. "main.leakWorker"; "" if unknown
	std::string file;      // full path as in DWARF; "" if unknown
	int line = 0;
};

class GoBinary {
public:
	// Opens and indexes the ELF file. `path` may be /proc/PID/exe.
	// Throws UserError(unsupported) with a one-line reason when it is not an ELF, not x86-64, or
	// not a Go binary (no .go.buildinfo) — e.g. "/usr/bin/sleep is not a Go program (no Go build info)".
	static std::unique_ptr<GoBinary> open(const std::string &path);
	~GoBinary();

	const std::string &path() const;
	const BuildInfo &build_info() const;

	// Go's function table (found even without section headers for it); nullptr if none.
	const Pclntab *pclntab() const;
	// [lo, hi) link-time ranges of the file-backed bytes of writable PT_LOADs (Go's data).
	std::vector<std::pair<uint64_t, uint64_t>> data_ranges() const;
	// Link-time address of runtime.firstmoduledata, found from the pclntab's address.
	std::optional<uint64_t> moduledata() const;
	// Link-time value of moduledata.gofunc: the base of the funcdata offsets (inline trees).
	std::optional<uint64_t> gofunc() const;
	// The pointer stored at a link-time address, as the process will see it before load bias:
	// the file's bytes, or a PIE's R_X86_64_RELATIVE addend where the file holds 0.
	std::optional<uint64_t> pointer_at(uint64_t vaddr) const;
	// The function at `entry` is compiler-generated (pclntab funcID FuncIDWrapper): an ABI
	// wrapper, or the closure of a `go f(x)` statement (what DWARF marks DW_AT_trampoline).
	bool is_wrapper(uint64_t entry) const;

	// Functions from .symtab (STT_FUNC, size > 0), or from the pclntab when the binary is
	// stripped, sorted by address.
	const std::vector<Function> &functions() const;
	// Exact name; prefers the ABIInternal body over an ".abi0" wrapper of the same name.
	std::optional<Function> function(std::string_view name) const;
	// The function containing addr.
	const Function *function_at(uint64_t addr) const;
	// Data or text symbol value by exact name (e.g. "runtime.allgs", "runtime.tlsg").
	std::optional<uint64_t> symbol(std::string_view name) const;

	// Bytes of the file image at a link-time address (from the PT_LOAD containing it; bytes of
	// .bss read as zero). Empty optional if the range is not covered.
	std::optional<std::vector<uint8_t>> read(uint64_t vaddr, size_t len) const;
	// File offset of a link-time address in an executable PT_LOAD (what uprobes attach to).
	std::optional<uint64_t> file_offset(uint64_t vaddr) const;
	// Lowest PT_LOAD p_vaddr (for process__load_bias).
	uint64_t first_load_vaddr() const;

	// DWARF: byte offset of `member` in struct type `type` (e.g. "runtime.g", "goid").
	std::optional<uint32_t> member_offset(std::string_view type, std::string_view member) const;

	// Offset from the thread pointer (fs_base) to the slot holding g: -8 for internally linked
	// binaries; for external linking runtime.tlsg's value minus roundup(PT_TLS.memsz, align).
	int64_t tls_g_offset() const;

	// A Go [N]string array in the binary's data (e.g. "runtime.stwReasonStrings"), read from the
	// file; empty if the symbol is missing.
	std::vector<std::string> string_array(std::string_view symbol) const;

	// The pieces, for readers in this folder that need more than the facade says.
	const ElfImage &image() const;
	const DwarfIndex *dwarf() const;  // nullptr without DWARF

	// Drops the pages of the file this binary had to touch (the pclntab's) from gort's memory:
	// called once the symbols a session needs are extracted; later lookups fault in only the
	// pages they read, from the page cache.
	void release_pages() const;

	// Source location of a PC (DWARF line table, or the pclntab's pcfile/pcln tables when the
	// binary has no DWARF, + the function's name from symbols).
	SourceLocation locate(uint64_t pc) const;

	// The function a goroutine started at `startpc` really runs: if startpc is a compiler `go`
	// wrapper (name ends in ".gowrapN", or a ".funcN" whose every line is the go statement's line),
	// the first function it calls outside the runtime; otherwise the function at startpc.
	std::string start_function(uint64_t startpc) const;

private:
	GoBinary();
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace gort::gobinary
