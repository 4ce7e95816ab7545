#include "user/gobinary/pclntab.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace gort::gobinary {

namespace {

template <typename T>
bool load(std::span<const uint8_t> b, uint64_t off, T &out)
{
	if (off > b.size() || b.size() - off < sizeof(T))
		return false;
	memcpy(&out, b.data() + off, sizeof(T));
	return true;
}

// Functions parsed between two releases of the table's pages (a few MB of records and names).
constexpr uint64_t kReleaseEvery = 16384;

// Size of the fixed part of a _func record: 1.20 added startLine before funcID.
size_t func_header_size(uint32_t magic) { return magic == PCLNTAB_MAGIC_GO118 ? 40 : 44; }

// Offsets in a _func record (runtime/runtime2.go, Go 1.18-1.27): entryOff, nameOff, args,
// deferreturn, pcsp, then these.
constexpr uint64_t FUNC_PCSP = 16, FUNC_PCFILE = 20, FUNC_PCLN = 24, FUNC_CU_OFFSET = 32;

// runtime.readvarint: little-endian base 128; a uint32 takes at most 5 bytes.
bool read_varint(std::span<const uint8_t> b, uint64_t &at, uint32_t &out)
{
	uint32_t v = 0;
	for (unsigned shift = 0; shift <= 28; shift += 7) {
		if (at >= b.size())
			return false;
		uint8_t c = b[at++];
		v |= static_cast<uint32_t>(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			out = v;
			return true;
		}
	}
	return false;
}

// runtime.pcvalue: the value of the pc-value table at pctab offset `off` for `target`. The
// table is a sequence of (value delta, pc delta) pairs from the function's entry, value starting
// at -1; the value holds for pcs below the pc reached after its pair. runtime.step reads a pair:
// the value delta is a zigzag varint, the pc delta a varint in units of the PC quantum, and a
// zero value delta ends the table, except in a pair read at the entry (where it leaves -1).
// Walks the table pair by pair: visit(value, end) for the pcs [previous end, end) holding value,
// until visit returns false or the table ends. False if the table is missing or malformed.
template <typename Visit>
bool pcvalue__walk(const Pclntab &tab, const PclnFunction &f, uint32_t off, Visit visit)
{
	if (off == 0)
		return false;
	const std::span<const uint8_t> b = tab.bytes;
	const uint32_t quantum = b[6];
	uint64_t at = tab.pctab_offset + off;
	uint64_t pc = f.entry;
	uint32_t val = static_cast<uint32_t>(-1);  // int32 arithmetic wraps in Go; uint32 does in C++
	for (;;) {
		if (at >= b.size())
			return false;
		if (b[at] == 0 && pc != f.entry)
			return true;  // the end of the table
		uint32_t uv = 0, pcdelta = 0;
		if (!read_varint(b, at, uv) || !read_varint(b, at, pcdelta))
			return false;
		val += (0u - (uv & 1)) ^ (uv >> 1);
		pc += static_cast<uint64_t>(pcdelta) * quantum;
		if (!visit(static_cast<int32_t>(val), pc))
			return true;
	}
}

std::optional<int32_t> pclntab__pcvalue(const Pclntab &tab, const PclnFunction &f, uint32_t off, uint64_t target)
{
	std::optional<int32_t> found;
	pcvalue__walk(tab, f, off, [&](int32_t val, uint64_t end) {
		if (target < end)
			found = val;
		return !found;
	});
	return found;
}

// Offset of pcdata table `index` of a function (0 if it has none): the u32s after the fixed part.
uint32_t pcdata__offset(const Pclntab &tab, const PclnFunction &f, unsigned index)
{
	uint32_t npcdata = 0, off = 0;
	if (!load(tab.bytes, f.func_off + 28, npcdata) || index >= npcdata ||
	    !load(tab.bytes, f.func_off + func_header_size(tab.magic) + 4ull * index, off))
		return 0;
	return off;
}

// The NUL-terminated string at `at`, which must end before `limit`.
std::optional<std::string> cstring_at(std::span<const uint8_t> b, uint64_t at, uint64_t limit)
{
	limit = std::min<uint64_t>(limit, b.size());
	if (at >= limit)
		return std::nullopt;
	const void *nul = memchr(b.data() + at, 0, limit - at);
	if (!nul)
		return std::nullopt;
	return std::string(reinterpret_cast<const char *>(b.data() + at), static_cast<const uint8_t *>(nul) - b.data() - at);
}

} // namespace

std::string_view pclntab__name(const Pclntab &tab, int64_t name_off)
{
	if (name_off < 0)
		return {};
	uint64_t at = tab.funcname_offset + static_cast<uint64_t>(name_off);
	if (at >= tab.bytes.size())
		return {};
	const char *s = reinterpret_cast<const char *>(tab.bytes.data() + at);
	size_t n = strnlen(s, tab.bytes.size() - at);
	return std::string_view(s, n);
}

std::optional<Pclntab> pclntab__parse(std::shared_ptr<const FileView> view, uint64_t vaddr)
{
	Pclntab t;
	if (!view)
		return std::nullopt;
	const std::span<const uint8_t> bytes = view->bytes();
	uint64_t nfunc = 0, pcln = 0;
	if (!load(bytes, 0, t.magic) || (t.magic != PCLNTAB_MAGIC_GO118 && t.magic != PCLNTAB_MAGIC_GO120))
		return std::nullopt;
	// pad1, pad2 = 0; minLC (PC quantum) 1 on amd64; ptrSize 8.
	if (bytes.size() < 72 || bytes[4] != 0 || bytes[5] != 0 || bytes[6] != 1 || bytes[7] != 8)
		return std::nullopt;
	load(bytes, 8, nfunc);
	load(bytes, 24, t.text_start);
	load(bytes, 32, t.funcname_offset);
	load(bytes, 40, t.cu_offset);
	load(bytes, 48, t.filetab_offset);
	load(bytes, 56, t.pctab_offset);
	load(bytes, 64, pcln);
	if (nfunc == 0 || nfunc > 10'000'000 || pcln >= bytes.size() || t.funcname_offset >= bytes.size() ||
	    pcln + (nfunc + 1) * 8 > bytes.size())
		return std::nullopt;
	t.vaddr = vaddr;
	t.bytes = bytes;
	t.view = std::move(view);
	const size_t hdr = func_header_size(t.magic);
	t.functions.reserve(nfunc);
	for (uint64_t i = 0; i < nfunc; i++) {
		uint32_t entry_off = 0, func_off = 0, next_entry = 0, rec_entry = 0;
		int32_t name_off;
		load(t.bytes, pcln + i * 8, entry_off);
		load(t.bytes, pcln + i * 8 + 4, func_off);
		load(t.bytes, pcln + (i + 1) * 8, next_entry);
		uint64_t rec = pcln + func_off;
		// Each _func starts with its own entryOff: a cheap check that this is really a pclntab.
		if (next_entry < entry_off || !load(t.bytes, rec, rec_entry) || rec_entry != entry_off ||
		    !load(t.bytes, rec + 4, name_off) || rec + hdr > t.bytes.size())
			return std::nullopt;
		PclnFunction f;
		// A view into the mapped table: a large binary has ~10 MB of names, not copied.
		f.name = pclntab__name(t, name_off);
		f.entry = t.text_start + entry_off;
		f.end = t.text_start + next_entry;
		f.func_id = t.bytes[rec + hdr - 4];
		f.flag = t.bytes[rec + hdr - 3];
		f.func_off = static_cast<uint32_t>(rec);
		if (f.name.empty())
			return std::nullopt;
		t.functions.push_back(f);
		// The walk touches every _func record and name once (~25 MB in a 100 MB binary): the
		// pages behind it go back to the page cache as it goes.
		if (i % kReleaseEvery == kReleaseEvery - 1)
			t.view->release();
	}
	auto name_of = [&t](uint32_t i) { return t.functions[i].name; };
	t.names.build(t.functions.size(), name_of);
	// ABI wrappers carry their function's name: the funcID they have is FuncIDWrapper.
	std::map<uint8_t, size_t> dup_ids;
	t.names.for_each_duplicate(name_of, [&](uint32_t first, uint32_t later) {
		uint8_t a = t.functions[first].func_id, b = t.functions[later].func_id;
		if ((a == 0) != (b == 0))
			dup_ids[a ? a : b]++;
	});
	size_t best = 0;
	for (auto [id, n] : dup_ids)
		if (n > best) {
			best = n;
			t.wrapper_func_id = id;
		}
	t.names.dedupe(name_of, [&t](uint32_t i) { return pclntab__is_wrapper(t, t.functions[i]); });
	t.view->release();
	return t;
}

std::optional<uint32_t> pclntab__funcdata(const Pclntab &tab, const PclnFunction &f, unsigned index)
{
	const size_t hdr = func_header_size(tab.magic);
	uint32_t npcdata = 0;
	if (!load(tab.bytes, f.func_off + 28, npcdata) || f.func_off + hdr > tab.bytes.size())
		return std::nullopt;
	uint8_t nfuncdata = tab.bytes[f.func_off + hdr - 1];
	if (index >= nfuncdata)
		return std::nullopt;
	uint32_t off = 0;
	if (!load(tab.bytes, f.func_off + hdr + 4ull * npcdata + 4ull * index, off) || off == ~0u)
		return std::nullopt;
	return off;
}

std::optional<int32_t> pclntab__pcdata(const Pclntab &tab, const PclnFunction &f, unsigned index, uint64_t pc)
{
	return pclntab__pcvalue(tab, f, pcdata__offset(tab, f, index), pc);
}

std::vector<int32_t> pclntab__pcdata_values(const Pclntab &tab, const PclnFunction &f, unsigned index)
{
	std::vector<int32_t> values;
	pcvalue__walk(tab, f, pcdata__offset(tab, f, index), [&](int32_t val, uint64_t) {
		if (std::find(values.begin(), values.end(), val) == values.end())
			values.push_back(val);
		return values.size() < 4096;  // a malformed table cannot make this unbounded
	});
	return values;
}

const PclnFunction *pclntab__function_named(const Pclntab &tab, std::string_view name)
{
	auto i = tab.names.find(name, [&tab](uint32_t k) { return tab.functions[k].name; });
	return i ? &tab.functions[*i] : nullptr;
}

const PclnFunction *pclntab__function_starting(const Pclntab &tab, uint64_t entry)
{
	auto &fs = tab.functions;
	auto it = std::lower_bound(fs.begin(), fs.end(), entry, [](const PclnFunction &f, uint64_t v) { return f.entry < v; });
	return it != fs.end() && it->entry == entry ? &*it : nullptr;
}

bool pclntab__is_wrapper(const Pclntab &tab, const PclnFunction &f)
{
	return tab.wrapper_func_id && f.func_id == tab.wrapper_func_id;
}

const PclnFunction *pclntab__function_at(const Pclntab &tab, uint64_t pc)
{
	auto &fs = tab.functions;
	auto it = std::upper_bound(fs.begin(), fs.end(), pc, [](uint64_t v, const PclnFunction &f) { return v < f.entry; });
	if (it == fs.begin())
		return nullptr;
	--it;
	return pc < it->end ? &*it : nullptr;
}

std::optional<int32_t> pclntab__spdelta(const Pclntab &tab, const PclnFunction &f, uint64_t pc)
{
	uint32_t pcsp = 0;
	if (!load(tab.bytes, f.func_off + FUNC_PCSP, pcsp))
		return std::nullopt;
	return pclntab__pcvalue(tab, f, pcsp, pc);
}

std::optional<PclnLine> pclntab__line(const Pclntab &tab, uint64_t pc)
{
	const PclnFunction *f = pclntab__function_at(tab, pc);
	uint32_t pcfile = 0, pcln = 0, cu = 0;
	if (!f || !load(tab.bytes, f->func_off + FUNC_PCFILE, pcfile) || !load(tab.bytes, f->func_off + FUNC_PCLN, pcln) ||
	    !load(tab.bytes, f->func_off + FUNC_CU_OFFSET, cu))
		return std::nullopt;
	auto fileno = pclntab__pcvalue(tab, *f, pcfile, pc);
	auto line = pclntab__pcvalue(tab, *f, pcln, pc);
	if (!fileno || !line || *fileno < 0 || *line < 0)
		return std::nullopt;
	// runtime.funcfile: cutab[cuOffset+fileno] is the file's offset in filetab, ^0 for none.
	// The tables lie in pcHeader order: cutab, filetab, pctab.
	uint32_t file_off = 0;
	uint64_t slot = tab.cu_offset + 4 * (static_cast<uint64_t>(cu) + static_cast<uint64_t>(*fileno));
	if (slot + 4 > tab.filetab_offset || !load(tab.bytes, slot, file_off) || file_off == ~0u)
		return std::nullopt;
	auto file = cstring_at(tab.bytes, tab.filetab_offset + file_off, tab.pctab_offset);
	if (!file)
		return std::nullopt;
	return PclnLine{std::move(*file), *line};
}

} // namespace gort::gobinary
