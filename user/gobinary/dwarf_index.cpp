#include "user/gobinary/dwarf_index.h"

#include <dwarf.h>

#include <algorithm>
#include <set>

namespace gort::gobinary {

DwarfIndex::DwarfIndex(const ElfImage &image)
{
	if (image.section(".debug_info") || image.section(".zdebug_info"))
		dwarf_ = dwarf_begin_elf(image.elf(), DWARF_C_READ, nullptr);
}

DwarfIndex::~DwarfIndex()
{
	if (dwarf_)
		dwarf_end(dwarf_);
}

void DwarfIndex::index() const
{
	Dwarf_Off off = 0, next = 0;
	size_t hsize = 0;
	while (dwarf_nextcu(dwarf_, off, &next, &hsize, nullptr, nullptr, nullptr) == 0) {
		Dwarf_Die cu;
		if (dwarf_offdie(dwarf_, off + hsize, &cu)) {
			Dwarf_Addr base, lo, hi;
			ptrdiff_t it = 0;
			while ((it = dwarf_ranges(&cu, it, &base, &lo, &hi)) > 0)
				cu_ranges_.push_back({lo, hi, dwarf_dieoffset(&cu)});
			// Go emits named types as direct children of the CU.
			Dwarf_Die child;
			if (dwarf_child(&cu, &child) == 0) {
				do {
					if (dwarf_tag(&child) != DW_TAG_structure_type)
						continue;
					if (const char *name = dwarf_diename(&child))
						struct_dies_.try_emplace(name, dwarf_dieoffset(&child));
				} while (dwarf_siblingof(&child, &child) == 0);
			}
		}
		off = next;
	}
	std::sort(cu_ranges_.begin(), cu_ranges_.end(), [](auto &a, auto &b) { return a.lo < b.lo; });
}

bool DwarfIndex::cu_die_for(uint64_t pc, Dwarf_Die *cu) const
{
	if (!dwarf_)
		return false;
	std::call_once(once_, [this] { index(); });
	// CU ranges (one entry per DW_AT_ranges piece) do not overlap.
	auto it = std::upper_bound(cu_ranges_.begin(), cu_ranges_.end(), pc,
				   [](uint64_t v, const CuRange &r) { return v < r.lo; });
	if (it == cu_ranges_.begin() || pc >= (--it)->hi)
		return false;
	return dwarf_offdie(dwarf_, it->cu_off, cu) != nullptr;
}

std::optional<uint32_t> DwarfIndex::member_offset(std::string_view type, std::string_view member) const
{
	if (!dwarf_)
		return std::nullopt;
	auto key = std::make_pair(std::string(type), std::string(member));
	if (auto c = member_cache_.find(key); c != member_cache_.end())
		return c->second;
	std::call_once(once_, [this] { index(); });
	std::optional<uint32_t> result;
	if (auto it = struct_dies_.find(key.first); it != struct_dies_.end()) {
		Dwarf_Die die, child;
		if (dwarf_offdie(dwarf_, it->second, &die) && dwarf_child(&die, &child) == 0) {
			do {
				if (dwarf_tag(&child) != DW_TAG_member)
					continue;
				const char *name = dwarf_diename(&child);
				if (!name || key.second != name)
					continue;
				Dwarf_Attribute attr;
				Dwarf_Word off = 0;
				if (dwarf_attr(&child, DW_AT_data_member_location, &attr) && dwarf_formudata(&attr, &off) == 0)
					result = static_cast<uint32_t>(off);
				break;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
	}
	member_cache_.emplace(std::move(key), result);
	return result;
}

bool DwarfIndex::line(uint64_t pc, std::string *file, int *line) const
{
	Dwarf_Die cu;
	if (!cu_die_for(pc, &cu))
		return false;
	// libdw caches each CU's line table; the lookup is a binary search.
	if (Dwarf_Line *l = dwarf_getsrc_die(&cu, pc)) {
		if (const char *f = dwarf_linesrc(l, nullptr, nullptr))
			*file = f;
		int n = 0;
		if (dwarf_lineno(l, &n) == 0)
			*line = n;
	}
	return true;
}

DwarfIndex::Trampoline DwarfIndex::trampoline(uint64_t entry, std::string *inlined) const
{
	Dwarf_Die cu, die;
	if (!cu_die_for(entry, &cu) || dwarf_child(&cu, &die) != 0)
		return Trampoline::unknown;
	do {
		Dwarf_Addr lo = 0;
		if (dwarf_tag(&die) != DW_TAG_subprogram || dwarf_lowpc(&die, &lo) != 0 || lo != entry)
			continue;
		if (!dwarf_hasattr(&die, DW_AT_trampoline))
			return Trampoline::no;
		Dwarf_Die child;
		if (dwarf_child(&die, &child) == 0) {
			do {
				Dwarf_Attribute attr;
				Dwarf_Die origin;
				if (dwarf_tag(&child) != DW_TAG_inlined_subroutine ||
				    !dwarf_attr(&child, DW_AT_abstract_origin, &attr) || !dwarf_formref_die(&attr, &origin))
					continue;
				const char *name = dwarf_diename(&origin);
				if (name && std::string_view(name).rfind("runtime.", 0) != 0) {
					*inlined = name;
					break;
				}
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		return Trampoline::yes;
	} while (dwarf_siblingof(&die, &die) == 0);
	return Trampoline::unknown;
}

size_t DwarfIndex::distinct_lines(uint64_t lo, uint64_t hi) const
{
	Dwarf_Die cu;
	Dwarf_Lines *lines = nullptr;
	size_t n = 0;
	std::set<std::pair<std::string, int>> seen;
	if (!cu_die_for(lo, &cu) || dwarf_getsrclines(&cu, &lines, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		Dwarf_Addr a = 0;
		bool end = false;
		if (!l || dwarf_lineaddr(l, &a) != 0 || a < lo || a >= hi)
			continue;
		if (dwarf_lineendsequence(l, &end) == 0 && end)
			continue;
		int ln = 0;
		dwarf_lineno(l, &ln);
		const char *file = dwarf_linesrc(l, nullptr, nullptr);
		seen.emplace(file ? file : "", ln);
	}
	return seen.size();
}

} // namespace gort::gobinary
