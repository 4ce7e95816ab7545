#include "user/target/offsets_table.h"

#include <tuple>

#include <fmt/format.h>

#include "user/common/error.h"

namespace gort::target {

const OffsetsTable &offsets_table__builtin()
{
	static const OffsetsTable table = {
#include "data/go_offsets.inc"
	};
	return table;
}

StructOffsets StructOffsets::of(const GoBinary &bin, const OffsetsTable &table)
{
	StructOffsets s;
	const BuildInfo &info = bin.build_info();
	const GoVersion &v = info.version;
	if (info.has_dwarf) {
		// The version's row too, if there is one: a damaged DWARF (a corrupted or altered file)
		// that lacks a member is answered by the table, which real toolchains' DWARF generated.
		s.bin_ = &bin;
		for (const auto &row : table)
			if (row.version == v.raw)
				s.row_ = &row;
		return s;
	}
	auto key = [](const GoVersion &x) { return std::tuple(x.major, x.minor, x.patch); };
	const OffsetsRow *newest = nullptr;
	for (const auto &row : table) {
		if (row.version == v.raw) {
			s.row_ = &row;
			return s;
		}
		if (!newest || key(go_version__parse(row.version)) > key(go_version__parse(newest->version)))
			newest = &row;
	}
	std::string prefix = fmt::format("{} ({}): no DWARF (built with -ldflags=-w or stripped), and ", bin.path(), v.raw);
	if (!newest)
		throw UserError(ExitCode::unsupported, prefix + "gort's offsets table is empty; rebuild without -s -w");
	if (key(v) > key(go_version__parse(newest->version)))
		throw UserError(ExitCode::unsupported,
				prefix + fmt::format("{} is newer than gort's offsets table (up to {}); rebuild without -s -w or "
						     "update gort",
						     v.raw, newest->version));
	std::string same_minor;
	for (const auto &row : table)
		if (go_version__parse(row.version).minor == v.minor && go_version__parse(row.version).major == v.major)
			same_minor += (same_minor.empty() ? "" : ", ") + row.version;
	throw UserError(ExitCode::unsupported,
			prefix + fmt::format("{} is not in gort's offsets table ({}); rebuild without -s -w, or add it "
					     "with scripts/gen-offsets-table.sh",
					     v.raw, same_minor.empty() ? "no Go 1." + std::to_string(v.minor) + " release" : "it has " + same_minor));
}

std::optional<uint32_t> StructOffsets::get(std::string_view type, std::string_view member) const
{
	if (bin_)
		if (auto off = bin_->member_offset(type, member))
			return off;
	if (!row_)
		return std::nullopt;
	auto it = row_->offsets.find(std::string(type) + "." + std::string(member));
	if (it == row_->offsets.end())
		return std::nullopt;
	return it->second;
}

} // namespace gort::target
