// Reading one Go executable from its file: libelf for sections, program headers and .symtab,
// libdw for DWARF struct layouts and the line table, capstone to find the callee of a `go`
// wrapper. Everything is indexed once at open(); lookups afterwards are map/binary searches.
#include "user/gobinary/go_binary.h"

#include <elf.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "user/common/error.h"
#include "user/gobinary/disasm.h"
#include "user/gobinary/pclntab.h"

namespace gort::gobinary {

namespace {

struct FdCloser {
	int fd = -1;
	~FdCloser()
	{
		if (fd >= 0)
			close(fd);
	}
};

struct ElfDeleter {
	void operator()(Elf *e) const { elf_end(e); }
};
struct DwarfDeleter {
	void operator()(Dwarf *d) const { dwarf_end(d); }
};
using ElfPtr = std::unique_ptr<Elf, ElfDeleter>;
using DwarfPtr = std::unique_ptr<Dwarf, DwarfDeleter>;

struct Segment {
	uint64_t vaddr, memsz, offset, filesz, align;
	uint32_t flags;
};

struct Symbol {
	uint64_t value = 0, size = 0;
	unsigned char type = 0;
};

// A CU's address range, for locate() without relying on .debug_aranges (Go does not emit it).
struct CuRange {
	uint64_t lo, hi;
	Dwarf_Off cu_off;
};

bool read_uvarint(const uint8_t *&p, const uint8_t *end, uint64_t &out)
{
	out = 0;
	for (int shift = 0; p < end && shift < 64; shift += 7) {
		uint8_t b = *p++;
		out |= uint64_t(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

} // namespace

GoVersion go_version__parse(const std::string &raw)
{
	GoVersion v;
	v.raw = raw;
	size_t at = raw.find("go1");
	if (at == std::string::npos)
		return v;
	const char *p = raw.c_str() + at + 2;
	int *fields[] = {&v.major, &v.minor, &v.patch};
	for (int i = 0; i < 3; i++) {
		if (!isdigit(static_cast<unsigned char>(*p)))
			break;
		*fields[i] = static_cast<int>(strtol(p, const_cast<char **>(&p), 10));
		if (*p != '.')
			break;
		p++;
	}
	return v;
}

struct GoBinary::Impl {
	std::string path;
	FdCloser fd;
	ElfPtr elf;
	DwarfPtr dwarf;
	const uint8_t *image = nullptr;  // the whole file, mapped by libelf (elf_rawfile)
	size_t image_size = 0;
	uint16_t e_type = 0;

	std::vector<Segment> loads;
	std::optional<Segment> tls;
	bool interp = false;
	std::map<std::string, GElf_Shdr, std::less<>> sections;

	BuildInfo info;
	std::optional<Pclntab> pclntab;
	std::vector<Function> functions;  // sorted by addr
	std::unordered_map<std::string, Symbol> symbols;

	// DWARF indexes, built on first use (a binary opened only for build info never pays).
	mutable std::once_flag dwarf_once;
	mutable std::unordered_map<std::string, Dwarf_Off> struct_dies;
	mutable std::vector<CuRange> cu_ranges;
	mutable std::map<std::pair<std::string, std::string>, std::optional<uint32_t>> member_cache;

	std::optional<std::vector<uint8_t>> section_bytes(std::string_view name) const
	{
		auto it = sections.find(name);
		if (it == sections.end() || it->second.sh_type == SHT_NOBITS)
			return std::nullopt;
		const GElf_Shdr &sh = it->second;
		if (sh.sh_offset + sh.sh_size > image_size)
			return std::nullopt;
		return std::vector<uint8_t>(image + sh.sh_offset, image + sh.sh_offset + sh.sh_size);
	}

	std::optional<std::vector<uint8_t>> read(uint64_t vaddr, size_t len) const
	{
		for (const auto &s : loads) {
			if (vaddr < s.vaddr || vaddr + len > s.vaddr + s.memsz)
				continue;
			std::vector<uint8_t> out(len, 0);
			uint64_t rel = vaddr - s.vaddr;
			if (rel < s.filesz) {
				size_t n = std::min<uint64_t>(len, s.filesz - rel);
				if (s.offset + rel + n > image_size)
					return std::nullopt;
				memcpy(out.data(), image + s.offset + rel, n);
			}
			return out;
		}
		return std::nullopt;
	}

	void index_segments()
	{
		size_t n = 0;
		if (elf_getphdrnum(elf.get(), &n) != 0)
			return;
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(elf.get(), static_cast<int>(i), &ph))
				continue;
			Segment s{ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz, ph.p_align, ph.p_flags};
			if (ph.p_type == PT_LOAD)
				loads.push_back(s);
			else if (ph.p_type == PT_TLS)
				tls = s;
			else if (ph.p_type == PT_INTERP)
				interp = true;
		}
		std::sort(loads.begin(), loads.end(), [](auto &a, auto &b) { return a.vaddr < b.vaddr; });
	}

	void index_sections_and_symbols()
	{
		size_t shstrndx = 0;
		if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0)
			return;
		for (Elf_Scn *scn = nullptr; (scn = elf_nextscn(elf.get(), scn));) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh))
				continue;
			const char *name = elf_strptr(elf.get(), shstrndx, sh.sh_name);
			if (name)
				sections.emplace(name, sh);
			if (sh.sh_type != SHT_SYMTAB)
				continue;
			// Local symbols too: closures such as runtime.newproc.func1 are STB_LOCAL.
			Elf_Data *data = elf_getdata(scn, nullptr);
			if (!data || !sh.sh_entsize)
				continue;
			size_t count = sh.sh_size / sh.sh_entsize;
			for (size_t i = 1; i < count; i++) {
				GElf_Sym sym;
				if (!gelf_getsym(data, static_cast<int>(i), &sym))
					continue;
				const char *sname = elf_strptr(elf.get(), sh.sh_link, sym.st_name);
				if (!sname || !*sname)
					continue;
				unsigned char type = GELF_ST_TYPE(sym.st_info);
				auto [it, fresh] = symbols.try_emplace(sname, Symbol{sym.st_value, sym.st_size, type});
				if (!fresh && it->second.size == 0 && sym.st_size)
					it->second = Symbol{sym.st_value, sym.st_size, type};
				if (type == STT_FUNC && sym.st_size > 0)
					functions.push_back({sname, sym.st_value, sym.st_size});
			}
		}
		std::sort(functions.begin(), functions.end(), [](auto &a, auto &b) { return a.addr < b.addr; });
	}

	// The pclntab: its own section when the Go linker wrote the ELF (.gopclntab, or
	// .data.rel.ro.gopclntab for internal PIE); inside .data.rel.ro without a section of its
	// own in externally linked PIEs, so there the segments are scanned for a pcHeader that
	// parses (magic, pads, quantum, pointer size, then every _func's entry matching).
	void find_pclntab()
	{
		for (const char *name : {".gopclntab", ".data.rel.ro.gopclntab"}) {
			auto it = sections.find(name);
			if (it == sections.end())
				continue;
			if (auto bytes = section_bytes(name))
				pclntab = pclntab__parse(std::move(*bytes), it->second.sh_addr, text_start_fallback());
			if (pclntab)
				return;
		}
		for (const auto &seg : loads) {
			if (seg.offset + seg.filesz > image_size)
				continue;
			const uint8_t *b = image + seg.offset;
			for (uint64_t off = 0; off + 8 <= seg.filesz; off += 8) {
				uint32_t magic;
				memcpy(&magic, b + off, 4);
				if ((magic != PCLNTAB_MAGIC_GO118 && magic != PCLNTAB_MAGIC_GO120) || b[off + 4] || b[off + 5] ||
				    b[off + 6] != 1 || b[off + 7] != 8)
					continue;
				pclntab = pclntab__parse(std::vector<uint8_t>(b + off, b + seg.filesz), seg.vaddr + off,
							 text_start_fallback());
				if (pclntab)
					return;
			}
		}
	}

	// pcHeader.textStart is 0 on disk from Go 1.26 ("no longer stored as it requires a
	// relocation"; symtab.go), and may be left for the dynamic linker in PIEs. Function
	// addresses are then offsets from moduledata.text, fixed up in rebase_pclntab().
	uint64_t text_start_fallback() const { return 0; }

	// R_X86_64_RELATIVE relocations (r_offset -> addend): in a PIE the dynamic linker writes
	// these pointers, and the file may hold 0 where they go.
	mutable std::once_flag relocs_once;
	mutable std::unordered_map<uint64_t, uint64_t> relative_relocs;

	void index_relocs() const
	{
		for (Elf_Scn *scn = nullptr; (scn = elf_nextscn(elf.get(), scn));) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
				continue;
			Elf_Data *data = elf_getdata(scn, nullptr);
			for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Rela r;
				if (gelf_getrela(data, static_cast<int>(i), &r) && GELF_R_TYPE(r.r_info) == R_X86_64_RELATIVE)
					relative_relocs.emplace(r.r_offset, static_cast<uint64_t>(r.r_addend));
			}
		}
	}

	std::optional<uint64_t> pointer_at(uint64_t vaddr) const
	{
		auto b = read(vaddr, 8);
		if (!b)
			return std::nullopt;
		uint64_t v = le64(b->data());
		if (v == 0 && e_type == ET_DYN) {
			std::call_once(relocs_once, [this] { index_relocs(); });
			if (auto it = relative_relocs.find(vaddr); it != relative_relocs.end())
				return it->second;
		}
		return v;
	}

	// runtime.firstmoduledata: the moduledata whose first fields are the pcHeader pointer and
	// the funcnametab slice (runtime/symtab.go, Go 1.18-1.27), both pointing into the pclntab.
	std::optional<uint64_t> moduledata;

	void find_moduledata()
	{
		if (!pclntab)
			return;
		const uint64_t want = pclntab->vaddr, names = pclntab->vaddr + pclntab->funcname_offset;
		auto matches = [&](uint64_t at) { return pointer_at(at) == want && pointer_at(at + 8) == names; };
		for (const auto &seg : loads) {
			if (!(seg.flags & PF_W) || seg.offset + seg.filesz > image_size)
				continue;
			for (uint64_t off = 0; off + 16 <= seg.filesz; off += 8)
				if (le64(image + seg.offset + off) == want && matches(seg.vaddr + off)) {
					moduledata = seg.vaddr + off;
					return;
				}
		}
		if (e_type != ET_DYN)
			return;
		std::call_once(relocs_once, [this] { index_relocs(); });
		for (auto [at, addend] : relative_relocs)
			if (addend == want && matches(at)) {
				moduledata = at;
				return;
			}
	}

	// moduledata.text (offset 176: pcHeader, six slices, findfunctab, minpc, maxpc) is what
	// the runtime adds function offsets to (moduledata.textAddr).
	void rebase_pclntab()
	{
		if (!pclntab || pclntab->text_start)
			return;
		find_moduledata();
		std::optional<uint64_t> text = moduledata ? pointer_at(*moduledata + 176) : std::nullopt;
		if (!text || !*text) {
			pclntab.reset();
			return;
		}
		pclntab->text_start = *text;
		for (auto &f : pclntab->functions) {
			f.entry += *text;
			f.end += *text;
		}
	}

	// Without .symtab, functions come from the pclntab. An ABI wrapper shares its function's
	// name, so a name resolves to the function itself, as ELF's ".abi0"-suffixed names do.
	void index_pclntab_functions()
	{
		if (!pclntab)
			return;
		for (const auto &pf : pclntab->functions) {
			Symbol sym{pf.entry, pf.end - pf.entry, STT_FUNC};
			bool wrapper = pclntab->wrapper_func_id && pf.func_id == pclntab->wrapper_func_id;
			auto [it, fresh] = symbols.try_emplace(pf.name, sym);
			if (!fresh && !wrapper && it->second.type == STT_FUNC && is_wrapper_at(it->second.value))
				it->second = sym;
			functions.push_back({pf.name, pf.entry, pf.end - pf.entry});
		}
		std::sort(functions.begin(), functions.end(), [](auto &a, auto &b) { return a.addr < b.addr; });
	}

	// Without runtime.tlsg (stripped), the offset is read from how Go code loads g: every ABI
	// wrapper does `mov r14, fs:[disp32]` (64 4c 8b 34 25), or in PIEs `mov r14, imm32;
	// mov r14, fs:[r14]` (49 c7 c6 imm32, 64 4d 8b 36) (notes §3.2).
	std::optional<int64_t> tls_g_offset_from_code() const
	{
		if (!pclntab || pclntab->functions.empty())
			return std::nullopt;
		uint64_t lo = pclntab->functions.front().entry, hi = pclntab->functions.back().end;
		auto code = read(lo, hi - lo);
		if (!code)
			return std::nullopt;
		const uint8_t *b = code->data();
		for (size_t i = 0; i + 11 <= code->size(); i++) {
			int32_t disp;
			if (!memcmp(b + i, "\x64\x4c\x8b\x34\x25", 5)) {
				memcpy(&disp, b + i + 5, 4);
				return disp;
			}
			if (!memcmp(b + i, "\x49\xc7\xc6", 3) && !memcmp(b + i + 7, "\x64\x4d\x8b\x36", 4)) {
				memcpy(&disp, b + i + 3, 4);
				return disp;
			}
		}
		return std::nullopt;
	}

	// moduledata.gofunc, the base of funcdata offsets: its field offset differs by version
	// (304 in 1.19, 320 in 1.21-1.26, 344 in 1.27), so it is recognised instead. Each
	// candidate pointer after moduledata.text is tried as the base of the inline trees of
	// functions that have one; only gofunc makes every tree's first entry name a function.
	mutable std::once_flag gofunc_once;
	mutable std::optional<uint64_t> gofunc;

	void find_gofunc() const
	{
		if (!pclntab || !moduledata)
			return;
		std::vector<std::pair<uint32_t, uint64_t>> trees;  // funcdata offset, function size
		for (const auto &f : pclntab->functions) {
			if (auto off = pclntab__funcdata(*pclntab, f, FUNCDATA_INL_TREE))
				trees.emplace_back(*off, f.end - f.entry);
			if (trees.size() >= 32)
				break;
		}
		if (trees.size() < 4)
			return;
		// runtime.moduledata.gofunc (runtime/symtab.go of each version): 1.18-1.19 after 38
		// words; 1.20 adds covctrs/ecovctrs; 1.27 adds typedesclen, itaboffset and itabsize.
		const GoVersion &v = info.version;
		uint64_t field = v.at_least(1, 27) ? 344 : v.at_least(1, 20) ? 320 : v.at_least(1, 18) ? 304 : 0;
		if (!field)
			return;
		auto base = pointer_at(*moduledata + field);
		if (!base || !*base)
			return;
		// Zeroes would pass a name check (offset 0 is a name): the entry's line must be
		// positive and its parentPc inside its function too.
		bool go118 = pclntab->magic == PCLNTAB_MAGIC_GO118;
		bool all = std::all_of(trees.begin(), trees.end(), [&](auto tree) {
			auto e = inlined_call(*base + tree.first, 0);
			auto rec = read(*base + tree.first, go118 ? 20 : 16);
			if (!e || e->empty() || !rec)
				return false;
			int32_t line, parent_pc;
			memcpy(&line, rec->data() + (go118 ? 8 : 12), 4);
			memcpy(&parent_pc, rec->data() + (go118 ? 16 : 8), 4);
			return line > 0 && parent_pc >= 0 && static_cast<uint64_t>(parent_pc) < tree.second;
		});
		if (all)
			gofunc = *base;
	}

	// Name of entry `i` of the inline tree at `tree` (runtime.inlinedCall: 20 bytes with the
	// name offset at +12 in 1.18-1.19; 16 bytes with it at +4 from 1.20). nullopt if the
	// bytes do not name a function (the name must start right after a NUL in the name table).
	std::optional<std::string> inlined_call(uint64_t tree, size_t i) const
	{
		bool go118 = pclntab->magic == PCLNTAB_MAGIC_GO118;
		size_t size = go118 ? 20 : 16, name_at = go118 ? 12 : 4;
		auto rec = read(tree + i * size, size);
		if (!rec)
			return std::nullopt;
		int32_t name_off;
		memcpy(&name_off, rec->data() + name_at, 4);
		if (name_off < 0 || pclntab->funcname_offset + name_off >= pclntab->bytes.size() ||
		    (name_off > 0 && pclntab->bytes[pclntab->funcname_offset + name_off - 1] != 0))
			return std::nullopt;
		std::string name = pclntab__name(*pclntab, name_off);
		if (name.find('.') == std::string::npos)
			return std::nullopt;
		return name;
	}

	// The first function inlined into the wrapper at `entry` that is not the runtime's.
	std::string inlined_target(uint64_t entry) const
	{
		std::call_once(gofunc_once, [this] { find_gofunc(); });
		const PclnFunction *f = pcln_function_at(entry);
		if (!f || !gofunc)
			return {};
		auto off = pclntab__funcdata(*pclntab, *f, FUNCDATA_INL_TREE);
		if (!off)
			return {};
		// The tree's length is stored nowhere: its entries are the values PCDATA_InlTreeIndex
		// takes (reading on would run into the next function's tree). The wrapped call is an
		// outermost entry (its parentPc lies in the wrapper's own code, index -1) and, of those,
		// the first the wrapper makes.
		std::string best;
		int32_t best_pc = INT32_MAX;
		bool go118 = pclntab->magic == PCLNTAB_MAGIC_GO118;
		size_t size = go118 ? 20 : 16, pc_at = go118 ? 16 : 8;
		for (int32_t i : pclntab__pcdata_values(*pclntab, *f, PCDATA_INL_TREE_INDEX)) {
			if (i < 0)
				continue;
			auto name = inlined_call(*gofunc + *off, static_cast<size_t>(i));
			auto rec = read(*gofunc + *off + static_cast<uint64_t>(i) * size + pc_at, 4);
			if (!name || !rec)
				continue;
			int32_t parent_pc;
			memcpy(&parent_pc, rec->data(), 4);
			if (parent_pc < 0 || parent_pc >= static_cast<int64_t>(f->end - f->entry))
				continue;
			auto parent = pclntab__pcdata(*pclntab, *f, PCDATA_INL_TREE_INDEX, f->entry + parent_pc);
			bool outermost = !parent || *parent < 0;
			if (outermost && name->rfind("runtime.", 0) != 0 && parent_pc < best_pc) {
				best = *name;
				best_pc = parent_pc;
			}
		}
		return best;
	}

	const PclnFunction *pcln_function_at(uint64_t entry) const
	{
		if (!pclntab)
			return nullptr;
		auto &fs = pclntab->functions;
		auto it = std::lower_bound(fs.begin(), fs.end(), entry, [](const PclnFunction &f, uint64_t v) { return f.entry < v; });
		return it != fs.end() && it->entry == entry ? &*it : nullptr;
	}

	bool is_wrapper_at(uint64_t entry) const
	{
		const PclnFunction *f = pcln_function_at(entry);
		return f && pclntab->wrapper_func_id && f->func_id == pclntab->wrapper_func_id;
	}

	// .go.buildinfo (cmd/link ld/data.go, reader debug/buildinfo): 32-byte header
	// "\xff Go buildinf:" ptrSize flags; flag 0x2 = pointer-free: uvarint-prefixed version and
	// modinfo at +32. Otherwise (Go <= 1.17) two pointers to string headers at +16.
	bool parse_buildinfo()
	{
		auto bytes = section_bytes(".go.buildinfo");
		if (!bytes || bytes->size() < 32 || memcmp(bytes->data(), "\xff Go buildinf:", 14) != 0)
			return false;
		const uint8_t *b = bytes->data();
		uint8_t ptr_size = b[14], flags = b[15];
		std::string version, modinfo;
		if (flags & 0x2) {
			const uint8_t *p = b + 32, *end = b + bytes->size();
			uint64_t n = 0;
			if (!read_uvarint(p, end, n) || n > uint64_t(end - p))
				return false;
			version.assign(reinterpret_cast<const char *>(p), n);
			p += n;
			if (read_uvarint(p, end, n) && n <= uint64_t(end - p))
				modinfo.assign(reinterpret_cast<const char *>(p), n);
		} else {
			if (ptr_size != 8 || (flags & 0x1))
				return false;
			auto deref = [&](uint64_t hdr_addr) -> std::string {
				auto hdr = read(hdr_addr, 16);
				if (!hdr)
					return {};
				uint64_t ptr = le64(hdr->data()), len = le64(hdr->data() + 8);
				if (len > (1u << 20))
					return {};
				auto s = read(ptr, len);
				return s ? std::string(s->begin(), s->end()) : std::string();
			};
			version = deref(le64(b + 16));
			modinfo = deref(le64(b + 24));
		}
		// modinfo is wrapped in 16-byte sentinels (debug/buildinfo strips them the same way).
		if (modinfo.size() >= 33 && modinfo[modinfo.size() - 17] == '\n')
			modinfo = modinfo.substr(16, modinfo.size() - 32);
		info.version = go_version__parse(version);
		info.modinfo = modinfo;
		bool cgo_enabled = false;
		size_t pos = 0;
		while (pos < modinfo.size()) {
			size_t eol = modinfo.find('\n', pos);
			std::string line = modinfo.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
			pos = eol == std::string::npos ? modinfo.size() : eol + 1;
			if (line.rfind("path\t", 0) == 0)
				info.main_path = line.substr(5);
			else if (line == "build\tCGO_ENABLED=1")
				cgo_enabled = true;
			else if (line.rfind("build\t-pgo=", 0) == 0) {
				std::string v = line.substr(11);
				info.pgo = !v.empty() && v != "off";
			}
		}
		// CGO_ENABLED=1 is recorded whenever a C compiler was available, even if no package
		// used cgo, and internally linked PIEs have .interp without any C. runtime/cgo's
		// x_cgo_init, or the linker's runtime.tlsg (external linking only), mean C really
		// runs; in a stripped binary runtime/cgo shows as its assembly crosscall2 in the pclntab.
		info.cgo = cgo_enabled &&
			   (symbols.count("x_cgo_init") || symbols.count("runtime.tlsg") || symbols.count("crosscall2"));
		return true;
	}

	void index_dwarf() const
	{
		if (!dwarf)
			return;
		Dwarf_Off off = 0, next = 0;
		size_t hsize = 0;
		while (dwarf_nextcu(dwarf.get(), off, &next, &hsize, nullptr, nullptr, nullptr) == 0) {
			Dwarf_Die cu;
			if (dwarf_offdie(dwarf.get(), off + hsize, &cu)) {
				Dwarf_Addr base, lo, hi;
				ptrdiff_t it = 0;
				while ((it = dwarf_ranges(&cu, it, &base, &lo, &hi)) > 0)
					cu_ranges.push_back({lo, hi, dwarf_dieoffset(&cu)});
				// Go emits named types as direct children of the CU.
				Dwarf_Die child;
				if (dwarf_child(&cu, &child) == 0) {
					do {
						if (dwarf_tag(&child) != DW_TAG_structure_type)
							continue;
						const char *name = dwarf_diename(&child);
						if (name)
							struct_dies.try_emplace(name, dwarf_dieoffset(&child));
					} while (dwarf_siblingof(&child, &child) == 0);
				}
			}
			off = next;
		}
		std::sort(cu_ranges.begin(), cu_ranges.end(), [](auto &a, auto &b) { return a.lo < b.lo; });
	}

	bool cu_die_for(uint64_t pc, Dwarf_Die *cu) const
	{
		std::call_once(dwarf_once, [this] { index_dwarf(); });
		// CU ranges (one entry per DW_AT_ranges piece) do not overlap.
		auto it = std::upper_bound(cu_ranges.begin(), cu_ranges.end(), pc,
					   [](uint64_t v, const CuRange &r) { return v < r.lo; });
		if (it == cu_ranges.begin() || pc >= (--it)->hi)
			return false;
		return dwarf_offdie(dwarf.get(), it->cu_off, cu) != nullptr;
	}

	const Function *function_at(uint64_t addr) const
	{
		auto it = std::upper_bound(functions.begin(), functions.end(), addr,
					   [](uint64_t v, const Function &f) { return v < f.addr; });
		if (it == functions.begin())
			return nullptr;
		--it;
		return addr < it->addr + it->size ? &*it : nullptr;
	}
};

GoBinary::GoBinary() : impl_(std::make_unique<Impl>()) {}
GoBinary::~GoBinary() = default;

std::unique_ptr<GoBinary> GoBinary::open(const std::string &path)
{
	std::unique_ptr<GoBinary> bin(new GoBinary());
	Impl &m = *bin->impl_;
	m.path = path;
	m.fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (m.fd.fd < 0) {
		int err = errno;
		if (err == ENOENT && path.rfind("/proc/", 0) == 0)
			throw UserError(ExitCode::no_process, path + " does not exist: the process has exited");
		if (err == EACCES || err == EPERM)
			throw UserError(ExitCode::permission, "cannot read " + path + ": " + strerror(err) + " (run gort as root)");
		throw UserError(ExitCode::usage, "cannot open " + path + ": " + strerror(err) + " (check the path)");
	}
	elf_version(EV_CURRENT);
	m.elf.reset(elf_begin(m.fd.fd, ELF_C_READ_MMAP, nullptr));
	if (!m.elf || elf_kind(m.elf.get()) != ELF_K_ELF)
		throw UserError(ExitCode::unsupported, path + " is not an ELF executable; gort traces Go programs");
	GElf_Ehdr eh;
	if (!gelf_getehdr(m.elf.get(), &eh) || gelf_getclass(m.elf.get()) != ELFCLASS64)
		throw UserError(ExitCode::unsupported, path + " is not a 64-bit ELF executable; gort traces x86-64 Go programs");
	if (eh.e_machine != EM_X86_64)
		throw UserError(ExitCode::unsupported, path + " is not an x86-64 binary (e_machine " +
								std::to_string(eh.e_machine) + "); gort supports only x86-64");
	m.e_type = eh.e_type;
	m.image = reinterpret_cast<const uint8_t *>(elf_rawfile(m.elf.get(), &m.image_size));
	if (!m.image)
		throw UserError(ExitCode::unsupported, "cannot map " + path + ": " + elf_errmsg(-1));

	m.index_segments();
	m.index_sections_and_symbols();
	m.find_pclntab();
	m.rebase_pclntab();
	if (!m.moduledata)
		m.find_moduledata();
	if (m.functions.empty())
		m.index_pclntab_functions();
	if (!m.sections.count(".go.buildinfo"))
		throw UserError(ExitCode::unsupported, path + " is not a Go program (no .go.buildinfo section)");
	if (!m.parse_buildinfo())
		throw UserError(ExitCode::unsupported, path + " has an unreadable .go.buildinfo section; rebuild it with Go 1.18 or newer");

	m.info.pie = eh.e_type == ET_DYN;
	m.info.static_link = !m.interp;
	m.info.stripped = !m.sections.count(".symtab");

	// libdw decompresses SHF_COMPRESSED (Go >= 1.11 compresses DWARF by default) and .zdebug_*.
	m.info.has_dwarf = m.sections.count(".debug_info") || m.sections.count(".zdebug_info");
	if (m.info.has_dwarf)
		m.dwarf.reset(dwarf_begin_elf(m.elf.get(), DWARF_C_READ, nullptr));
	if (!m.dwarf)
		m.info.has_dwarf = false;
	return bin;
}

const std::string &GoBinary::path() const { return impl_->path; }
const Pclntab *GoBinary::pclntab() const { return impl_->pclntab ? &*impl_->pclntab : nullptr; }
std::vector<std::pair<uint64_t, uint64_t>> GoBinary::data_ranges() const
{
	std::vector<std::pair<uint64_t, uint64_t>> out;
	for (const auto &s : impl_->loads)
		if ((s.flags & PF_W) && s.filesz)
			out.emplace_back(s.vaddr, s.vaddr + s.filesz);
	return out;
}

std::optional<uint64_t> GoBinary::moduledata() const { return impl_->moduledata; }
std::optional<uint64_t> GoBinary::gofunc() const
{
	std::call_once(impl_->gofunc_once, [this] { impl_->find_gofunc(); });
	return impl_->gofunc;
}
std::optional<uint64_t> GoBinary::pointer_at(uint64_t vaddr) const { return impl_->pointer_at(vaddr); }
bool GoBinary::is_wrapper(uint64_t entry) const { return impl_->is_wrapper_at(entry); }
const BuildInfo &GoBinary::build_info() const { return impl_->info; }
const std::vector<Function> &GoBinary::functions() const { return impl_->functions; }

std::optional<Function> GoBinary::function(std::string_view name) const
{
	// ELF names the ABI0 wrapper "runtime.goexit1.abi0", so an exact match is the body.
	auto it = impl_->symbols.find(std::string(name));
	if (it == impl_->symbols.end() || it->second.type != STT_FUNC || it->second.size == 0)
		return std::nullopt;
	return Function{std::string(name), it->second.value, it->second.size};
}

const Function *GoBinary::function_at(uint64_t addr) const { return impl_->function_at(addr); }

std::optional<uint64_t> GoBinary::symbol(std::string_view name) const
{
	auto it = impl_->symbols.find(std::string(name));
	if (it == impl_->symbols.end())
		return std::nullopt;
	return it->second.value;
}

std::optional<std::vector<uint8_t>> GoBinary::read(uint64_t vaddr, size_t len) const
{
	return impl_->read(vaddr, len);
}

std::optional<uint64_t> GoBinary::file_offset(uint64_t vaddr) const
{
	for (const auto &s : impl_->loads)
		if ((s.flags & PF_X) && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz)
			return vaddr - s.vaddr + s.offset;
	return std::nullopt;
}

uint64_t GoBinary::first_load_vaddr() const
{
	return impl_->loads.empty() ? 0 : impl_->loads.front().vaddr;
}

std::optional<uint32_t> GoBinary::member_offset(std::string_view type, std::string_view member) const
{
	Impl &m = *impl_;
	if (!m.dwarf)
		return std::nullopt;
	auto key = std::make_pair(std::string(type), std::string(member));
	if (auto c = m.member_cache.find(key); c != m.member_cache.end())
		return c->second;
	std::call_once(m.dwarf_once, [&m] { m.index_dwarf(); });
	std::optional<uint32_t> result;
	if (auto it = m.struct_dies.find(key.first); it != m.struct_dies.end()) {
		Dwarf_Die die, child;
		if (dwarf_offdie(m.dwarf.get(), it->second, &die) && dwarf_child(&die, &child) == 0) {
			do {
				if (dwarf_tag(&child) != DW_TAG_member)
					continue;
				const char *name = dwarf_diename(&child);
				if (!name || key.second != name)
					continue;
				Dwarf_Attribute attr;
				Dwarf_Word off = 0;
				if (dwarf_attr(&child, DW_AT_data_member_location, &attr) &&
				    dwarf_formudata(&attr, &off) == 0)
					result = static_cast<uint32_t>(off);
				break;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
	}
	m.member_cache.emplace(std::move(key), result);
	return result;
}

int64_t GoBinary::tls_g_offset() const
{
	// x86-64 TLS variant II: the executable's TLS block ends at the thread pointer, so a
	// variable at offset v in PT_TLS lives at fs - roundup(memsz, align) + v. Internally linked
	// Go binaries have no PT_TLS and use -8(FS) (cmd/link sym.go: Tlsoffset = -PtrSize).
	auto tlsg = symbol("runtime.tlsg");
	const auto &tls = impl_->tls;
	if (!tls)
		return -8;
	if (!tlsg)
		return impl_->tls_g_offset_from_code().value_or(-8);
	uint64_t align = tls->align ? tls->align : 1;
	uint64_t rounded = (tls->memsz + align - 1) / align * align;
	return static_cast<int64_t>(*tlsg) - static_cast<int64_t>(rounded);
}

std::vector<std::string> GoBinary::string_array(std::string_view name) const
{
	std::vector<std::string> out;
	auto it = impl_->symbols.find(std::string(name));
	if (it == impl_->symbols.end() || it->second.size % 16)
		return out;
	auto arr = read(it->second.value, it->second.size);
	if (!arr)
		return out;
	// A Go string header is {ptr, len}; the pointers are link-time addresses into .rodata.
	for (size_t i = 0; i + 16 <= arr->size(); i += 16) {
		uint64_t ptr = le64(arr->data() + i), len = le64(arr->data() + i + 8);
		std::string s;
		if (len && len < 4096)
			if (auto bytes = read(ptr, len))
				s.assign(bytes->begin(), bytes->end());
		out.push_back(std::move(s));
	}
	return out;
}

SourceLocation GoBinary::locate(uint64_t pc) const
{
	SourceLocation loc;
	if (const Function *f = function_at(pc))
		loc.function = f->name;
	Dwarf_Die cu;
	if (!impl_->dwarf) {
		// -ldflags='-s -w' keeps the pclntab, whose pcfile/pcln tables are what the runtime's
		// own tracebacks print from; the compiler writes them from the same instruction
		// positions as DWARF's line table.
		if (impl_->pclntab)
			if (auto pl = pclntab__line(*impl_->pclntab, pc)) {
				loc.file = std::move(pl->file);
				loc.line = pl->line;
			}
		return loc;
	}
	if (!impl_->cu_die_for(pc, &cu))
		return loc;
	// libdw caches each CU's line table; the lookup is a binary search.
	if (Dwarf_Line *line = dwarf_getsrc_die(&cu, pc)) {
		if (const char *file = dwarf_linesrc(line, nullptr, nullptr))
			loc.file = file;
		int lineno = 0;
		if (dwarf_lineno(line, &lineno) == 0)
			loc.line = lineno;
	}
	return loc;
}

namespace {

// The first function a `go` wrapper calls directly (e8 rel32) outside the runtime, or "".
std::string wrapper__first_call(const GoBinary &bin, const Function &f)
{
	Decoded d = disasm__function(bin, f);
	for (size_t i = 0; i < d.size(); i++) {
		auto target = disasm__call_target(d[i]);
		const Function *callee = target ? bin.function_at(*target) : nullptr;
		if (callee && callee->name.rfind("runtime.", 0) != 0)
			return callee->name;
	}
	return {};
}

// The compiler marks the closures it generates for `go f(x)` with DW_AT_trampoline (Go 1.17+,
// named funcN up to 1.21 and gowrapN from 1.22). From 1.22 the wrapped function is often
// inlined into the wrapper, leaving no call: DWARF then records it as an inlined subroutine.
enum class Trampoline { no, yes, unknown };

Trampoline dwarf__trampoline_target(Dwarf_Die *cu, uint64_t entry, std::string *inlined)
{
	Dwarf_Die die;
	if (dwarf_child(cu, &die) != 0)
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

} // namespace

std::string GoBinary::start_function(uint64_t startpc) const
{
	const Function *f = function_at(startpc);
	if (!f)
		return {};
	const std::string &name = f->name;

	Dwarf_Die cu;
	Trampoline trampoline = Trampoline::unknown;
	std::string inlined;
	if (impl_->dwarf && impl_->cu_die_for(f->addr, &cu))
		trampoline = dwarf__trampoline_target(&cu, f->addr, &inlined);
	else if (impl_->pclntab) {
		// No DWARF: the pclntab's funcID says the same (the compiler marks go wrappers as
		// wrappers, which DWARF emits as DW_AT_trampoline), and its inline tree names what
		// was inlined into one.
		trampoline = is_wrapper(f->addr) ? Trampoline::yes : Trampoline::no;
		if (trampoline == Trampoline::yes)
			inlined = impl_->inlined_target(f->addr);
	}
	if (trampoline == Trampoline::no)
		return name;
	if (!inlined.empty())
		return inlined;
	if (trampoline == Trampoline::unknown) {
		// No DWARF: recognise wrappers by name. "<outer>.gowrapN" (Go >= 1.22) always is one;
		// a "<outer>.funcN" (Go <= 1.21) is one when all its code is on a single line (the go
		// statement's), whereas a closure literal has lines of its own body.
		auto suffix_is = [&](std::string_view tag) {
			size_t dot = name.rfind('.');
			if (dot == std::string::npos || name.compare(dot + 1, tag.size(), tag) != 0)
				return false;
			size_t digits = dot + 1 + tag.size();
			return digits < name.size() && std::all_of(name.begin() + digits, name.end(), [](char c) {
				       return isdigit(static_cast<unsigned char>(c));
			       });
		};
		bool wrapper = suffix_is("gowrap");
		if (!wrapper && suffix_is("func") && impl_->dwarf && impl_->cu_die_for(f->addr, &cu)) {
			Dwarf_Lines *lines = nullptr;
			size_t n = 0;
			std::set<std::pair<std::string, int>> seen;
			if (dwarf_getsrclines(&cu, &lines, &n) == 0) {
				for (size_t i = 0; i < n; i++) {
					Dwarf_Line *l = dwarf_onesrcline(lines, i);
					Dwarf_Addr a = 0;
					bool end = false;
					if (!l || dwarf_lineaddr(l, &a) != 0 || a < f->addr || a >= f->addr + f->size)
						continue;
					if (dwarf_lineendsequence(l, &end) == 0 && end)
						continue;
					int ln = 0;
					dwarf_lineno(l, &ln);
					const char *file = dwarf_linesrc(l, nullptr, nullptr);
					seen.emplace(file ? file : "", ln);
				}
			}
			wrapper = seen.size() == 1;
		}
		if (!wrapper)
			return name;
	}
	std::string called = wrapper__first_call(*this, *f);
	return called.empty() ? name : called;
}

} // namespace gort::gobinary
