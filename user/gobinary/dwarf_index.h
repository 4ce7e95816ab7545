// The DWARF of a Go executable, indexed once on first use: struct member offsets (how gort
// learns the runtime's layouts of each build), which CU holds a PC (Go emits no
// .debug_aranges), the line table, and what the compiler says of go-statement wrappers.
#pragma once

#include <elfutils/libdw.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "user/gobinary/elf_image.h"

namespace gort::gobinary {

class DwarfIndex {
public:
	// nullptr-like (ok() false) when the image has no readable DWARF. libdw decompresses
	// SHF_COMPRESSED (Go >= 1.11 compresses DWARF by default) and .zdebug_* sections.
	explicit DwarfIndex(const ElfImage &image);
	~DwarfIndex();
	DwarfIndex(const DwarfIndex &) = delete;
	DwarfIndex &operator=(const DwarfIndex &) = delete;
	bool ok() const { return dwarf_ != nullptr; }

	// Byte offset of `member` in struct type `type` (e.g. "runtime.g", "goid").
	std::optional<uint32_t> member_offset(std::string_view type, std::string_view member) const;
	// A CU covers `pc`.
	bool covers(uint64_t pc) const
	{
		Dwarf_Die cu;
		return cu_die_for(pc, &cu);
	}
	// file:line of `pc` from the line table; false if no CU covers it.
	bool line(uint64_t pc, std::string *file, int *line) const;

	// The compiler marks the closures it generates for `go f(x)` with DW_AT_trampoline (Go
	// 1.17+, named funcN up to 1.21 and gowrapN from 1.22). From 1.22 the wrapped function is
	// often inlined into the wrapper, leaving no call: DWARF then records it as an inlined
	// subroutine, whose name goes to *inlined.
	enum class Trampoline { no, yes, unknown };
	Trampoline trampoline(uint64_t entry, std::string *inlined) const;
	// The distinct (file, line) rows the line table has in [lo, hi).
	size_t distinct_lines(uint64_t lo, uint64_t hi) const;

private:
	// A CU's address range, for lookups without .debug_aranges.
	struct CuRange {
		uint64_t lo, hi;
		Dwarf_Off cu_off;
	};
	void index() const;
	bool cu_die_for(uint64_t pc, Dwarf_Die *cu) const;

	Dwarf *dwarf_ = nullptr;
	mutable std::once_flag once_;
	mutable std::unordered_map<std::string, Dwarf_Off> struct_dies_;
	mutable std::vector<CuRange> cu_ranges_;
	mutable std::map<std::pair<std::string, std::string>, std::optional<uint32_t>> member_cache_;
};

} // namespace gort::gobinary
