// The facade: opens the pieces (elf_image, build_info, pclntab, dwarf_index) in order, indexes
// the symbols once at open(), and answers lookups by binary search afterwards.
#include "user/gobinary/go_binary.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "user/common/error.h"
#include "user/gobinary/dwarf_index.h"
#include "user/gobinary/elf_image.h"
#include "user/gobinary/name_index.h"
#include "user/gobinary/pclntab.h"
#include "user/gobinary/wrappers.h"

namespace gort::gobinary {

struct GoBinary::Impl {
	explicit Impl(const std::string &path) : image(path) {}

	ElfImage image;
	BuildInfo info;
	std::optional<Pclntab> pclntab;
	std::unique_ptr<DwarfIndex> dwarf;
	std::vector<Function> functions;  // sorted by addr
	NameIndex symtab_names;           // .symtab's symbols by name, one per name
	bool pcln_symbols = false;        // stripped: functions and names from the pclntab

	mutable std::once_flag gofunc_once;
	mutable std::optional<uint64_t> gofunc;

	std::optional<ElfSymbol> symbol(std::string_view name) const
	{
		const auto &symtab = image.symtab();
		if (auto i = symtab_names.find(name, [&symtab](uint32_t k) { return symtab[k].name; }))
			return symtab[*i];
		if (pcln_symbols)
			if (const PclnFunction *f = pclntab__function_named(*pclntab, name))
				return ElfSymbol{f->name, f->entry, f->end - f->entry, STT_FUNC};
		return std::nullopt;
	}

	// Functions and the name index, from .symtab or, stripped, from the pclntab (whose own
	// index resolves a name to the function rather than its ABI wrapper, as ELF's
	// ".abi0"-suffixed wrapper names do). Names are views into libelf's .strtab or the mapped
	// pclntab, never copies. One symbol per name from .symtab: the first with a size.
	void index_symbols()
	{
		const auto &symtab = image.symtab();
		for (const ElfSymbol &s : symtab)
			if (s.type == STT_FUNC && s.size > 0)
				functions.push_back({s.name, s.value, s.size});
		auto name_of = [&symtab](uint32_t k) { return symtab[k].name; };
		symtab_names.build(symtab.size(), name_of);
		symtab_names.dedupe(name_of, [&symtab](uint32_t k) { return symtab[k].size == 0; });
		if (functions.empty() && pclntab) {
			pcln_symbols = true;
			functions.reserve(pclntab->functions.size());
			for (const auto &pf : pclntab->functions)
				functions.push_back({pf.name, pf.entry, pf.end - pf.entry});
		}
		std::stable_sort(functions.begin(), functions.end(), [](auto &a, auto &b) { return a.addr < b.addr; });
	}

	// Without runtime.tlsg (stripped), the offset is read from how Go code loads g: every ABI
	// wrapper does `mov r14, fs:[disp32]` (64 4c 8b 34 25), or in PIEs `mov r14, imm32;
	// mov r14, fs:[r14]` (49 c7 c6 imm32, 64 4d 8b 36) (notes §3.2). The first is near the
	// start of the text: the scan reads windows of it and stops there.
	std::optional<int64_t> tls_g_offset_from_code() const
	{
		if (!pclntab || pclntab->functions.empty())
			return std::nullopt;
		const uint64_t lo = pclntab->functions.front().entry, hi = pclntab->functions.back().end;
		std::optional<int64_t> found;
		for (const auto &seg : image.loads()) {
			if (!(seg.flags & PF_X) || seg.vaddr >= hi || seg.vaddr + seg.filesz <= lo)
				continue;
			image.scan(seg, 11, [&](std::span<const uint8_t> code, uint64_t vaddr) {
				const uint8_t *b = code.data();
				for (size_t i = 0; i + 11 <= code.size(); i++) {
					if (vaddr + i < lo)
						continue;
					if (vaddr + i + 11 > hi)
						return false;
					int32_t disp;
					if (!memcmp(b + i, "\x64\x4c\x8b\x34\x25", 5)) {
						memcpy(&disp, b + i + 5, 4);
						found = disp;
						return false;
					}
					if (!memcmp(b + i, "\x49\xc7\xc6", 3) && !memcmp(b + i + 7, "\x64\x4d\x8b\x36", 4)) {
						memcpy(&disp, b + i + 3, 4);
						found = disp;
						return false;
					}
				}
				return true;
			});
			if (found)
				break;
		}
		return found;
	}
};

GoBinary::GoBinary() = default;
GoBinary::~GoBinary() = default;

std::unique_ptr<GoBinary> GoBinary::open(const std::string &path)
{
	std::unique_ptr<GoBinary> bin(new GoBinary());
	bin->impl_ = std::make_unique<Impl>(path);
	Impl &m = *bin->impl_;
	// Before anything costly: a non-Go ELF is refused on its section headers alone.
	if (!m.image.section(".go.buildinfo"))
		throw UserError(ExitCode::unsupported, path + " is not a Go program (no .go.buildinfo section)");
	m.pclntab = pclntab__find(m.image);
	m.index_symbols();
	m.info = build_info__read(m.image, [&m](std::string_view name) { return m.symbol(name).has_value(); });
	m.dwarf = std::make_unique<DwarfIndex>(m.image);
	if (!m.dwarf->ok())
		m.dwarf.reset();
	m.info.has_dwarf = m.dwarf != nullptr;
	bin->release_pages();
	return bin;
}

const std::string &GoBinary::path() const { return impl_->image.path(); }
const Pclntab *GoBinary::pclntab() const { return impl_->pclntab ? &*impl_->pclntab : nullptr; }
const ElfImage &GoBinary::image() const { return impl_->image; }
const DwarfIndex *GoBinary::dwarf() const { return impl_->dwarf.get(); }

void GoBinary::release_pages() const
{
	if (impl_->pclntab && impl_->pclntab->view)
		impl_->pclntab->view->release();
}

std::vector<std::pair<uint64_t, uint64_t>> GoBinary::data_ranges() const
{
	std::vector<std::pair<uint64_t, uint64_t>> out;
	for (const auto &s : impl_->image.loads())
		if ((s.flags & PF_W) && s.filesz)
			out.emplace_back(s.vaddr, s.vaddr + s.filesz);
	return out;
}

std::optional<uint64_t> GoBinary::moduledata() const
{
	if (!impl_->pclntab || !impl_->pclntab->moduledata)
		return std::nullopt;
	return impl_->pclntab->moduledata;
}

std::optional<uint64_t> GoBinary::gofunc() const
{
	std::call_once(impl_->gofunc_once, [this] {
		const Impl &m = *impl_;
		const GoVersion &v = m.info.version;
		if (m.pclntab && m.pclntab->moduledata && v.at_least(1, 18))
			m.gofunc = pclntab__gofunc(m.image, *m.pclntab, m.pclntab->moduledata, v.at_least(1, 27), v.at_least(1, 20));
	});
	return impl_->gofunc;
}

std::optional<uint64_t> GoBinary::pointer_at(uint64_t vaddr) const { return impl_->image.pointer_at(vaddr); }

bool GoBinary::is_wrapper(uint64_t entry) const
{
	const Pclntab *tab = pclntab();
	const PclnFunction *f = tab ? pclntab__function_starting(*tab, entry) : nullptr;
	return f && pclntab__is_wrapper(*tab, *f);
}

const BuildInfo &GoBinary::build_info() const { return impl_->info; }
const std::vector<Function> &GoBinary::functions() const { return impl_->functions; }

std::optional<Function> GoBinary::function(std::string_view name) const
{
	// ELF names the ABI0 wrapper "runtime.goexit1.abi0", so an exact match is the body.
	auto s = impl_->symbol(name);
	if (!s || s->type != STT_FUNC || s->size == 0)
		return std::nullopt;
	return Function{s->name, s->value, s->size};
}

const Function *GoBinary::function_at(uint64_t addr) const
{
	const auto &fs = impl_->functions;
	auto it = std::upper_bound(fs.begin(), fs.end(), addr, [](uint64_t v, const Function &f) { return v < f.addr; });
	if (it == fs.begin())
		return nullptr;
	--it;
	return addr < it->addr + it->size ? &*it : nullptr;
}

std::optional<uint64_t> GoBinary::symbol(std::string_view name) const
{
	auto s = impl_->symbol(name);
	if (!s)
		return std::nullopt;
	return s->value;
}

std::optional<std::vector<uint8_t>> GoBinary::read(uint64_t vaddr, size_t len) const
{
	return impl_->image.read(vaddr, len);
}

std::optional<uint64_t> GoBinary::file_offset(uint64_t vaddr) const
{
	for (const auto &s : impl_->image.loads())
		if ((s.flags & PF_X) && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz)
			return vaddr - s.vaddr + s.offset;
	return std::nullopt;
}

uint64_t GoBinary::first_load_vaddr() const
{
	const auto &loads = impl_->image.loads();
	return loads.empty() ? 0 : loads.front().vaddr;
}

std::optional<uint32_t> GoBinary::member_offset(std::string_view type, std::string_view member) const
{
	return impl_->dwarf ? impl_->dwarf->member_offset(type, member) : std::nullopt;
}

int64_t GoBinary::tls_g_offset() const
{
	// x86-64 TLS variant II: the executable's TLS block ends at the thread pointer, so a
	// variable at offset v in PT_TLS lives at fs - roundup(memsz, align) + v. Internally linked
	// Go binaries have no PT_TLS and use -8(FS) (cmd/link sym.go: Tlsoffset = -PtrSize).
	auto tlsg = symbol("runtime.tlsg");
	const auto &tls = impl_->image.tls();
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
	auto sym = impl_->symbol(name);
	if (!sym || sym->size % 16)
		return out;
	auto arr = read(sym->value, sym->size);
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
	if (impl_->dwarf) {
		impl_->dwarf->line(pc, &loc.file, &loc.line);
		return loc;
	}
	// -ldflags='-s -w' keeps the pclntab, whose pcfile/pcln tables are what the runtime's own
	// tracebacks print from; the compiler writes them from the same instruction positions as
	// DWARF's line table.
	if (impl_->pclntab)
		if (auto pl = pclntab__line(*impl_->pclntab, pc)) {
			loc.file = std::move(pl->file);
			loc.line = pl->line;
		}
	return loc;
}

std::string GoBinary::start_function(uint64_t startpc) const { return wrapper__start_function(*this, startpc); }

} // namespace gort::gobinary
