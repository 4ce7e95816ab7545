#include "user/gobinary/offsets_table.h"

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "user/gobinary/runtime_globals.h"
#include "user/gobinary/type_descriptors.h"

namespace gort::gobinary {

namespace {

bool table_switched_off()
{
	const char *v = getenv("GORT_OFFSETS_TABLE");
	return v && strcmp(v, "off") == 0;
}

// A member derived from the binary itself: the type descriptor of g/m/p, or for the members of
// runtime.work and runtime.memstats that gort reads, the address the code stores to minus the
// global's symbol (no symbol in a stripped binary: then only the address is known, which
// runtime_layout uses directly).
ResolvedOffset derived(const GoBinary &bin, std::string_view type, std::string_view member)
{
	ResolvedOffset r;
	if (auto d = type_descriptors__struct(bin, type)) {
		auto it = d->fields.find(member);
		if (it != d->fields.end()) {
			r.value = it->second;
			r.source = OffsetSource::type_descriptor;
			r.origin = fmt::format("type descriptor (new({}) in {})", type.substr(type.find('.') + 1), d->found_in);
		}
		return r;
	}
	std::optional<uint64_t> field, base;
	if (type == "runtime.workType" && member == "pauseStart") {
		field = runtime_globals__pause_start_field(bin);
		base = bin.symbol("runtime.work");
	} else if (type == "runtime.mstats" && member == "last_gc_nanotime") {
		field = runtime_globals__last_gc_nanotime_field(bin);
		base = bin.symbol("runtime.memstats");
	}
	if (field && base && *field >= *base) {
		r.value = static_cast<uint32_t>(*field - *base);
		r.source = OffsetSource::instructions;
		r.origin = "instructions";
	}
	return r;
}

} // namespace

const OffsetsTable &offsets_table__builtin()
{
	static const OffsetsTable table = {
#include "data/go_offsets.inc"
	};
	static const OffsetsTable none;
	return table_switched_off() ? none : table;
}

const OffsetsRow *offsets_table__row(const OffsetsTable &table, const GoVersion &v)
{
	const OffsetsRow *same_minor = nullptr;
	for (const auto &row : table) {
		if (row.version == v.raw)
			return &row;
		GoVersion r = go_version__parse(row.version);
		if (r.major == v.major && r.minor == v.minor)
			same_minor = &row;
	}
	return same_minor;
}

std::string offset_source__name(OffsetSource s)
{
	switch (s) {
	case OffsetSource::none: return "none";
	case OffsetSource::dwarf: return "DWARF";
	case OffsetSource::type_descriptor: return "type descriptor";
	case OffsetSource::instructions: return "instructions";
	case OffsetSource::table: return "table";
	}
	return "?";
}

StructOffsets StructOffsets::of(const GoBinary &bin, const OffsetsTable &table)
{
	StructOffsets s;
	s.bin_ = &bin;
	s.row_ = offsets_table__row(table, bin.build_info().version);
	return s;
}

bool StructOffsets::from_dwarf() const { return bin_ && bin_->build_info().has_dwarf; }

std::optional<uint32_t> StructOffsets::get(std::string_view type, std::string_view member) const
{
	return resolve(type, member).value;
}

ResolvedOffset StructOffsets::resolve(std::string_view type, std::string_view member) const
{
	std::string key = fmt::format("{}.{}", type, member);
	if (auto it = cache_.find(key); it != cache_.end())
		return it->second;
	const GoVersion &v = bin_->build_info().version;
	// Every source that has the member: the first is trusted, the others must agree with it.
	std::vector<ResolvedOffset> found;
	if (bin_->build_info().has_dwarf)
		if (auto d = bin_->member_offset(type, member))
			found.push_back({d, OffsetSource::dwarf, "DWARF", ""});
	if (auto d = derived(*bin_, type, member); d.value)
		found.push_back(d);
	if (row_) {
		auto it = row_->offsets.find(key);
		if (it != row_->offsets.end()) {
			GoVersion rv = go_version__parse(row_->version);
			found.push_back({it->second, OffsetSource::table, fmt::format("table go{}.{}", rv.major, rv.minor), ""});
		}
	}
	ResolvedOffset r;
	if (found.empty()) {
		r.problem = fmt::format("{}: not in {}, {}", key,
					bin_->build_info().has_dwarf ? "its DWARF" : "DWARF (there is none)",
					row_ ? "not derivable from the binary, not in gort's table"
					     : fmt::format("not derivable from the binary, and gort's offsets table has no Go {}.{} row",
							   v.major, v.minor));
	} else {
		r = found.front();
		for (size_t i = 1; i < found.size(); i++)
			r.origin += " = " + found[i].origin;
		for (const auto &other : found)
			if (other.value != r.value) {
				r.problem = fmt::format("{}: {} says {}, {} says {}", key, r.origin, *r.value, other.origin,
							*other.value);
				r.value.reset();
				r.source = OffsetSource::none;
				break;
			}
	}
	return cache_.emplace(std::move(key), std::move(r)).first->second;
}

} // namespace gort::gobinary
