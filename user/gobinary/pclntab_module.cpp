// The pclntab in its ELF image: where it is, the moduledata that points at it, the base of its
// funcdata (moduledata.gofunc) and the inline trees there. The table format itself is in
// pclntab.cpp.
#include <elf.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "user/gobinary/pclntab.h"

namespace gort::gobinary {

namespace {

// moduledata.text (offset 176: pcHeader, six slices, findfunctab, minpc, maxpc) is what the
// runtime adds function offsets to (moduledata.textAddr).
constexpr uint64_t MODULEDATA_TEXT = 176;

bool pcheader_at(const uint8_t *b)
{
	uint32_t magic;
	memcpy(&magic, b, 4);
	return (magic == PCLNTAB_MAGIC_GO118 || magic == PCLNTAB_MAGIC_GO120) && !b[4] && !b[5] && b[6] == 1 && b[7] == 8;
}

std::optional<Pclntab> locate(const ElfImage &image)
{
	for (const char *name : {".gopclntab", ".data.rel.ro.gopclntab"}) {
		auto sec = image.section(name);
		if (!sec || sec->nobits)
			continue;
		if (auto tab = pclntab__parse(image.view(sec->offset, sec->size), sec->addr))
			return tab;
	}
	std::optional<Pclntab> found;
	for (const auto &seg : image.loads()) {
		image.scan(seg, 8, [&](std::span<const uint8_t> b, uint64_t vaddr) {
			for (size_t off = 0; off + 8 <= b.size(); off += 8) {
				if (!pcheader_at(b.data() + off))
					continue;
				uint64_t rel = vaddr + off - seg.vaddr;
				found = pclntab__parse(image.view(seg.offset + rel, seg.filesz - rel), vaddr + off);
				if (found)
					return false;
			}
			return true;
		});
		if (found)
			return found;
	}
	return std::nullopt;
}

std::optional<uint64_t> find_moduledata(const ElfImage &image, const Pclntab &tab)
{
	const uint64_t want = tab.vaddr, names = tab.vaddr + tab.funcname_offset;
	auto matches = [&](uint64_t at) { return image.pointer_at(at) == want && image.pointer_at(at + 8) == names; };
	std::optional<uint64_t> found;
	for (const auto &seg : image.loads()) {
		if (!(seg.flags & PF_W))
			continue;
		image.scan(seg, 16, [&](std::span<const uint8_t> b, uint64_t vaddr) {
			for (size_t off = 0; off + 16 <= b.size(); off += 8)
				if (le64(b.data() + off) == want && matches(vaddr + off)) {
					found = vaddr + off;
					return false;
				}
			return true;
		});
		if (found)
			return found;
	}
	// A PIE's file holds 0 where the dynamic linker writes the pointer: its relocation's
	// addend says what goes there.
	if (!image.pie())
		return std::nullopt;
	for (auto [at, addend] : image.relative_relocs())
		if (addend == want && matches(at))
			return at;
	return std::nullopt;
}

// The name an inline tree entry gives, if it names a function: the name must start right after
// a NUL in the name table and be qualified (zeroes would pass a bare range check).
std::optional<std::string_view> inlined_name(const Pclntab &tab, const InlinedCall &call)
{
	if (call.name_off < 0 || tab.funcname_offset + call.name_off >= tab.bytes.size() ||
	    (call.name_off > 0 && tab.bytes[tab.funcname_offset + call.name_off - 1] != 0))
		return std::nullopt;
	std::string_view name = pclntab__name(tab, call.name_off);
	if (name.find('.') == std::string_view::npos)
		return std::nullopt;
	return name;
}

} // namespace

std::optional<Pclntab> pclntab__find(const ElfImage &image)
{
	std::optional<Pclntab> tab = locate(image);
	if (!tab)
		return std::nullopt;
	tab->moduledata = find_moduledata(image, *tab).value_or(0);
	// pcHeader.textStart is 0 on disk from Go 1.26 ("no longer stored as it requires a
	// relocation"; runtime/symtab.go), and may be left for the dynamic linker in PIEs: the
	// function offsets are then from moduledata.text.
	if (!tab->text_start) {
		std::optional<uint64_t> text = tab->moduledata ? image.pointer_at(tab->moduledata + MODULEDATA_TEXT) : std::nullopt;
		if (!text || !*text)
			return std::nullopt;
		tab->text_start = *text;
		for (auto &f : tab->functions) {
			f.entry += *text;
			f.end += *text;
		}
	}
	return tab;
}

std::optional<InlinedCall> pclntab__inlined_call(const ElfImage &image, const Pclntab &tab, uint64_t tree, size_t i)
{
	const bool go118 = tab.magic == PCLNTAB_MAGIC_GO118;
	const size_t size = go118 ? 20 : 16;
	auto rec = image.read(tree + i * size, size);
	if (!rec)
		return std::nullopt;
	InlinedCall c;
	const uint8_t *b = rec->data();
	c.func_id = b[go118 ? 2 : 0];
	memcpy(&c.name_off, b + (go118 ? 12 : 4), 4);
	memcpy(&c.parent_pc, b + (go118 ? 16 : 8), 4);
	memcpy(&c.line, b + (go118 ? 8 : 12), 4);
	return c;
}

std::optional<uint64_t> pclntab__gofunc(const ElfImage &image, const Pclntab &tab, uint64_t moduledata,
					  bool go1_27, bool go1_20)
{
	// Each of the first functions with an inline tree (funcdata offset, function size).
	std::vector<std::pair<uint32_t, uint64_t>> trees;
	for (const auto &f : tab.functions) {
		if (auto off = pclntab__funcdata(tab, f, FUNCDATA_INL_TREE))
			trees.emplace_back(*off, f.end - f.entry);
		if (trees.size() >= 32)
			break;
	}
	if (trees.size() < 4 || !moduledata)
		return std::nullopt;
	// runtime.moduledata.gofunc (runtime/symtab.go of each version): 1.18-1.19 after 38 words;
	// 1.20 adds covctrs/ecovctrs; 1.27 adds typedesclen, itaboffset and itabsize.
	const uint64_t field = go1_27 ? 344 : go1_20 ? 320 : 304;
	auto base = image.pointer_at(moduledata + field);
	if (!base || !*base)
		return std::nullopt;
	// Only gofunc makes every tree's first entry name a function, with a positive line and a
	// parentPc inside its function.
	bool all = std::all_of(trees.begin(), trees.end(), [&](auto tree) {
		auto call = pclntab__inlined_call(image, tab, *base + tree.first, 0);
		return call && inlined_name(tab, *call) && call->line > 0 && call->parent_pc >= 0 &&
		       static_cast<uint64_t>(call->parent_pc) < tree.second;
	});
	return all ? base : std::nullopt;
}

std::string pclntab__inlined_target(const ElfImage &image, const Pclntab &tab, uint64_t gofunc, const PclnFunction &f)
{
	auto off = pclntab__funcdata(tab, f, FUNCDATA_INL_TREE);
	if (!off)
		return {};
	// The tree's length is stored nowhere: its entries are the values PCDATA_InlTreeIndex
	// takes (reading on would run into the next function's tree). The wrapped call is an
	// outermost entry (its parentPc lies in the wrapper's own code, index -1) and, of those,
	// the first the wrapper makes.
	std::string_view best;
	int32_t best_pc = INT32_MAX;
	for (int32_t i : pclntab__pcdata_values(tab, f, PCDATA_INL_TREE_INDEX)) {
		if (i < 0)
			continue;
		auto call = pclntab__inlined_call(image, tab, gofunc + *off, static_cast<size_t>(i));
		auto name = call ? inlined_name(tab, *call) : std::nullopt;
		if (!name || call->parent_pc < 0 || call->parent_pc >= static_cast<int64_t>(f.end - f.entry))
			continue;
		auto parent = pclntab__pcdata(tab, f, PCDATA_INL_TREE_INDEX, f.entry + call->parent_pc);
		bool outermost = !parent || *parent < 0;
		if (outermost && name->rfind("runtime.", 0) != 0 && call->parent_pc < best_pc) {
			best = *name;
			best_pc = call->parent_pc;
		}
	}
	return std::string(best);
}

} // namespace gort::gobinary
