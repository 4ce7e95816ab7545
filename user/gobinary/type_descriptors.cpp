#include "user/gobinary/type_descriptors.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "user/gobinary/disasm.h"

namespace gort::gobinary {

namespace {

struct Allocator {
	std::string_view type;
	std::vector<std::string_view> functions;  // where new(type) is called, most direct first
	std::vector<std::string_view> fields;     // names only that type has, to tell it apart
};

// runtime/proc.go, 1.19-1.27: malg does `newg := new(g)` (newproc1 when PGO inlines malg),
// allocm `mp := new(m)` (1.22+: `&new(mPadded).m`), procresize `pp = new(p)`.
const Allocator kAllocators[] = {
	{"runtime.g", {"runtime.malg", "runtime.newproc1", "runtime.oneNewExtraM"}, {"goid", "startpc", "gopc"}},
	{"runtime.m", {"runtime.allocm", "runtime.newm"}, {"g0", "curg", "procid"}},
	{"runtime.p", {"runtime.procresize"}, {"runqhead", "runqtail", "mcache"}},
};

// runtime._type on amd64 (1.19-1.27): size, ptrdata, hash, tflag, align, fieldAlign, kind at
// byte 23 (low 5 bits: kindStruct = 25), equal, gcdata, str, ptrToThis: 48 bytes; structtype
// then has pkgPath (8) and the fields slice {ptr, len, cap} at 56.
constexpr uint64_t kKindOffset = 23;
constexpr uint8_t kKindMask = 0x1f;
constexpr uint8_t kKindStruct = 25;
constexpr uint64_t kFieldsOffset = 56;
constexpr uint64_t kStructFieldSize = 24;
constexpr uint64_t kMaxFields = 512;

uint64_t le64(const std::vector<uint8_t> &b, size_t at)
{
	uint64_t v;
	memcpy(&v, b.data() + at, 8);
	return v;
}

// runtime.name (1.17+): one flags byte, a uvarint length, then the bytes.
std::optional<std::string> read_name(const GoBinary &bin, uint64_t at)
{
	auto head = bin.read(at, 1 + 10);
	if (!head)
		return std::nullopt;
	uint64_t len = 0;
	size_t i = 1;
	for (int shift = 0; i < head->size(); i++, shift += 7) {
		len |= static_cast<uint64_t>((*head)[i] & 0x7f) << shift;
		if (!((*head)[i] & 0x80))
			break;
	}
	if (i >= head->size() || len == 0 || len > 256)
		return std::nullopt;
	auto bytes = bin.read(at + i + 1, len);
	if (!bytes)
		return std::nullopt;
	return std::string(bytes->begin(), bytes->end());
}

struct Fields {
	std::map<std::string, uint32_t, std::less<>> offsets;
	std::vector<uint64_t> at_zero;  // descriptors of the fields at offset 0 (an embedded m in mPadded)
};

std::optional<Fields> struct_fields(const GoBinary &bin, uint64_t desc)
{
	auto hdr = bin.read(desc, kFieldsOffset + 24);
	if (!hdr || ((*hdr)[kKindOffset] & kKindMask) != kKindStruct)
		return std::nullopt;
	uint64_t size = le64(*hdr, 0);
	auto ptr = bin.pointer_at(desc + kFieldsOffset);
	uint64_t n = le64(*hdr, kFieldsOffset + 8);
	if (!ptr || n == 0 || n > kMaxFields)
		return std::nullopt;
	Fields fields;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t f = *ptr + i * kStructFieldSize;
		auto name_at = bin.pointer_at(f);
		auto off = bin.read(f + 16, 8);
		if (!name_at || !off)
			return std::nullopt;
		auto name = read_name(bin, *name_at);
		uint64_t o = le64(*off, 0);
		if (!name || o >= size)
			return std::nullopt;
		if (o == 0)
			if (auto typ = bin.pointer_at(f + 8))
				fields.at_zero.push_back(*typ);
		fields.offsets.emplace(std::move(*name), static_cast<uint32_t>(o));
	}
	return fields;
}

} // namespace

std::optional<DescribedStruct> type_descriptors__struct(const GoBinary &bin, std::string_view type)
{
	auto a = std::find_if(std::begin(kAllocators), std::end(kAllocators), [&](const Allocator &x) { return x.type == type; });
	auto newobject = bin.function("runtime.newobject");
	if (a == std::end(kAllocators) || !newobject)
		return std::nullopt;
	for (std::string_view fn : a->functions) {
		auto f = bin.function(fn);
		if (!f)
			continue;
		Decoded d = disasm__function(bin, *f);
		// ABIInternal passes newobject's *_type in RAX: the last `lea rax, [rip+X]` before the call.
		uint64_t rax = 0;  // 0: no type descriptor address in RAX
		for (size_t i = 0; i < d.size(); i++) {
			const cs_insn &in = d[i];
			const cs_x86 &x = in.detail->x86;
			if (in.id == X86_INS_LEA && x.op_count == 2 && x.operands[0].type == X86_OP_REG &&
			    x.operands[0].reg == X86_REG_RAX) {
				rax = disasm__rip_operand(in, 1).value_or(0);
				continue;
			}
			if (disasm__call_target(in) != newobject->addr || !rax)
				continue;
			// Go 1.22+ allocates m as mPadded{m; pad}: the m is its field at offset 0.
			std::vector<uint64_t> candidates{rax};
			if (auto outer = struct_fields(bin, rax))
				candidates.insert(candidates.end(), outer->at_zero.begin(), outer->at_zero.end());
			for (uint64_t desc : candidates) {
				auto fields = struct_fields(bin, desc);
				if (fields && std::all_of(a->fields.begin(), a->fields.end(),
							  [&](auto n) { return fields->offsets.count(n) > 0; }))
					return DescribedStruct{desc, std::string(fn), std::move(fields->offsets)};
			}
			rax = 0;
		}
	}
	return std::nullopt;
}

} // namespace gort::gobinary
