#include "user/target/pclntab.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace gort::target {

namespace {

template <typename T>
bool load(const std::vector<uint8_t> &b, uint64_t off, T &out)
{
	if (off > b.size() || b.size() - off < sizeof(T))
		return false;
	memcpy(&out, b.data() + off, sizeof(T));
	return true;
}

// Size of the fixed part of a _func record: 1.20 added startLine before funcID.
size_t func_header_size(uint32_t magic) { return magic == PCLNTAB_MAGIC_GO118 ? 40 : 44; }

} // namespace

std::string pclntab__name(const Pclntab &tab, int64_t name_off)
{
	if (name_off < 0)
		return {};
	uint64_t at = tab.funcname_offset + static_cast<uint64_t>(name_off);
	if (at >= tab.bytes.size())
		return {};
	const char *s = reinterpret_cast<const char *>(tab.bytes.data() + at);
	size_t n = strnlen(s, tab.bytes.size() - at);
	return std::string(s, n);
}

std::optional<Pclntab> pclntab__parse(std::vector<uint8_t> bytes, uint64_t vaddr, uint64_t text_fallback)
{
	Pclntab t;
	uint64_t nfunc = 0, pcln = 0;
	if (!load(bytes, 0, t.magic) || (t.magic != PCLNTAB_MAGIC_GO118 && t.magic != PCLNTAB_MAGIC_GO120))
		return std::nullopt;
	// pad1, pad2 = 0; minLC (PC quantum) 1 on amd64; ptrSize 8.
	if (bytes.size() < 72 || bytes[4] != 0 || bytes[5] != 0 || bytes[6] != 1 || bytes[7] != 8)
		return std::nullopt;
	load(bytes, 8, nfunc);
	load(bytes, 24, t.text_start);
	load(bytes, 32, t.funcname_offset);
	load(bytes, 64, pcln);
	if (nfunc == 0 || nfunc > 10'000'000 || pcln >= bytes.size() || t.funcname_offset >= bytes.size() ||
	    pcln + (nfunc + 1) * 8 > bytes.size())
		return std::nullopt;
	if (!t.text_start)
		t.text_start = text_fallback;
	t.vaddr = vaddr;
	t.bytes = std::move(bytes);
	const size_t hdr = func_header_size(t.magic);
	t.functions.reserve(nfunc);
	std::map<std::string, uint8_t> first_id;
	std::map<uint8_t, size_t> dup_ids;
	for (uint64_t i = 0; i < nfunc; i++) {
		uint32_t entry_off, func_off, next_entry, rec_entry;
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
		f.name = pclntab__name(t, name_off);
		f.entry = t.text_start + entry_off;
		f.end = t.text_start + next_entry;
		f.func_id = t.bytes[rec + hdr - 4];
		f.func_off = static_cast<uint32_t>(rec);
		if (f.name.empty())
			return std::nullopt;
		// ABI wrappers carry their function's name: the funcID they have is FuncIDWrapper.
		auto [it, fresh] = first_id.try_emplace(f.name, f.func_id);
		if (!fresh && (it->second == 0) != (f.func_id == 0))
			dup_ids[it->second ? it->second : f.func_id]++;
		t.functions.push_back(std::move(f));
	}
	size_t best = 0;
	for (auto [id, n] : dup_ids)
		if (n > best) {
			best = n;
			t.wrapper_func_id = id;
		}
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

} // namespace gort::target
