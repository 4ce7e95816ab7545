// Struct offsets from the binary itself: the type descriptors new(g), new(m), new(p) are called
// with, and the code that stores work.pauseStart and memstats.last_gc_nanotime (Go 1.19-1.21),
// must equal DWARF's on every toolchain and build variant (plain, stripped, PIE, cgo, PGO).
// The table, keyed by minor version, must equal DWARF too; a Go version newer than anything
// known is traced from derivation alone, and refused naming the field when derivation fails.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "support/workloads.h"
#include "support/params.h"
#include "user/common/error.h"
#include "user/gobinary/offsets_table.h"
#include "user/gobinary/runtime_globals.h"
#include "user/gobinary/runtime_layout.h"
#include "user/gobinary/type_descriptors.h"

using gort::UserError;
using gort::gobinary::GoBinary;
using gort::testing::GoToolchain;
namespace gobinary = gort::gobinary;

namespace {

struct Variant {
	std::string name;
	std::string path;
	std::string dwarf_path;  // the same build with DWARF (itself unless stripped)
};

// The ground-truth program's builds with DWARF, and each stripped beside the one it came from.
std::vector<Variant> variants(const GoToolchain &tc)
{
	std::vector<Variant> v;
	for (const auto &p : gort::testing::groundtruth_pairs(tc, true)) {
		v.push_back({p.name, p.plain, p.plain});
		v.push_back({p.name + "_stripped", p.stripped, p.plain});
	}
	return v;
}

class DerivedOffsets : public ::testing::TestWithParam<GoToolchain> {};

// Replaces every occurrence of `from` in a copy of `src` by `to` (same length); returns the
// number of replacements.
size_t patch_copy(const std::string &src, const std::string &dst, const std::string &from, const std::string &to)
{
	std::ifstream in(src, std::ios::binary);
	std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	size_t n = 0;
	for (size_t at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at + to.size()), n++)
		bytes.replace(at, from.size(), to);
	std::ofstream out(dst, std::ios::binary | std::ios::trunc);
	out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
	out.close();
	std::filesystem::permissions(dst, std::filesystem::perms::owner_all);
	return n;
}

} // namespace

TEST_P(DerivedOffsets, EveryDerivedOffsetEqualsDwarf)
{
	for (const auto &v : variants(GetParam())) {
		SCOPED_TRACE(v.name);
		auto bin = GoBinary::open(v.path);
		auto dw = GoBinary::open(v.dwarf_path);
		ASSERT_TRUE(dw->build_info().has_dwarf);
		EXPECT_EQ(bin->build_info().stripped, v.name.ends_with("_stripped"));
		for (const char *type : {"runtime.g", "runtime.m", "runtime.p"}) {
			auto d = gobinary::type_descriptors__struct(*bin, type);
			ASSERT_TRUE(d) << "no type descriptor of " << type;
			// Every field the descriptor has, not only those gort reads today.
			EXPECT_GE(d->fields.size(), 20u) << type;
			for (const auto &[name, off] : d->fields)
				EXPECT_EQ(dw->member_offset(type, name), off) << type << "." << name;
		}
		if (!bin->build_info().version.at_least(1, 22)) {
			auto pause = gobinary::runtime_globals__pause_start_field(*bin);
			auto last_gc = gobinary::runtime_globals__last_gc_nanotime_field(*bin);
			ASSERT_TRUE(pause);
			ASSERT_TRUE(last_gc);
			if (auto work = bin->symbol("runtime.work")) {
				EXPECT_EQ(dw->member_offset("runtime.workType", "pauseStart"), *pause - *work);
				EXPECT_EQ(dw->member_offset("runtime.mstats", "last_gc_nanotime"),
					  *last_gc - *bin->symbol("runtime.memstats"));
			}
		}
		// The whole layout from the binary alone equals the one from DWARF or the table (which
		// runtime_layout__inspect cross-checks against the derived values).
		auto with = gobinary::runtime_layout__inspect(*bin);
		auto alone = gobinary::runtime_layout__inspect(*bin, gobinary::OffsetsTable{});
		EXPECT_EQ(memcmp(&with.offsets, &alone.offsets, sizeof with.offsets), 0);
		EXPECT_EQ(with.work_pause_start, alone.work_pause_start);
		EXPECT_EQ(with.last_gc_nanotime, alone.last_gc_nanotime);
		for (const auto &o : alone.offset_origins)
			EXPECT_TRUE(o.origin.find("table") == std::string::npos) << o.name << ": " << o.origin;
		if (bin->build_info().stripped) {
			for (const auto &o : alone.offset_origins)
				EXPECT_TRUE(o.origin.starts_with("type descriptor") || o.origin == "instructions")
					<< o.name << ": " << o.origin;
		}
	}
}

// Struct layouts do not change within a minor release: the table row gort uses for any patch
// release of this toolchain's minor version equals this toolchain's DWARF.
TEST_P(DerivedOffsets, TableRowOfTheMinorEqualsDwarf)
{
	auto bin = GoBinary::open(gort::testing::workload(GetParam(), "groundtruth"));
	gobinary::GoVersion other = bin->build_info().version;
	other.patch += 1;
	other.raw = "go1." + std::to_string(other.minor) + "." + std::to_string(other.patch);
	const gobinary::OffsetsRow *row = gobinary::offsets_table__row(gobinary::offsets_table__builtin(), other);
	ASSERT_NE(row, nullptr) << "no Go 1." << other.minor << " row in data/go_offsets.inc: run scripts/gen-offsets-table.sh";
	for (const auto &[key, off] : row->offsets) {
		size_t dot = key.rfind('.');
		EXPECT_EQ(bin->member_offset(key.substr(0, dot), key.substr(dot + 1)), off) << key;
	}
}

// A copy of a stripped binary that says it was built by go1.99.N (a release gort has never seen,
// same length in .go.buildinfo): its layout comes from the binary alone. Renaming runtime.g's
// field goid in its type descriptor (as a future runtime might) makes gort refuse in one line
// that names that field, and only that field.
TEST_P(DerivedOffsets, UnknownGoVersionTracedWhenDerivedRefusedNamingTheField)
{
	const GoToolchain &tc = GetParam();
	std::string stripped = gort::testing::workload(tc, "groundtruth", "stripped");
	std::string real = GoBinary::open(stripped)->build_info().version.raw;
	std::string fake = "go1.99" + real.substr(real.find('.', real.find('.') + 1));
	std::string dir = std::string(GORT_BUILD_DIR) + "/workloads/go" + tc.version;
	std::string newer = dir + "/groundtruth-go1.99", renamed = dir + "/groundtruth-go1.99-nogoid";
	ASSERT_GE(patch_copy(stripped, newer, real, fake), 1u);
	auto bin = GoBinary::open(newer);
	ASSERT_EQ(bin->build_info().version.raw, fake);
	EXPECT_EQ(gobinary::offsets_table__row(gobinary::offsets_table__builtin(), bin->build_info().version), nullptr);
	if (tc.version < "1.23") {
		// gort picks the stop-the-world ABI by version; an old runtime labelled 1.99 would be
		// probed as a new one, so only the offsets are checked here.
		auto offs = gobinary::StructOffsets::of(*bin);
		auto ref = GoBinary::open(gort::testing::workload(tc, "groundtruth"));
		EXPECT_EQ(offs.get("runtime.g", "goid"), ref->member_offset("runtime.g", "goid"));
		EXPECT_EQ(offs.get("runtime.m", "curg"), ref->member_offset("runtime.m", "curg"));
	} else {
		auto layout = gobinary::runtime_layout__inspect(*bin);
		auto ref = gobinary::runtime_layout__inspect(*GoBinary::open(stripped));
		EXPECT_EQ(memcmp(&layout.offsets, &ref.offsets, sizeof ref.offsets), 0);
	}

	// The field's name in the descriptor is runtime.name: flags byte 0, length 4, "goid".
	ASSERT_GE(patch_copy(newer, renamed, std::string("\0\4goid", 6), std::string("\0\4gxid", 6)), 1u);
	try {
		gobinary::runtime_layout__inspect(*GoBinary::open(renamed));
		FAIL() << "traced without runtime.g.goid";
	} catch (const UserError &e) {
		std::string what = e.what();
		EXPECT_EQ(what.find('\n'), std::string::npos) << what;
		EXPECT_NE(what.find("runtime.g.goid"), std::string::npos) << what;
		EXPECT_NE(what.find("no Go 1.99 row"), std::string::npos) << what;
		EXPECT_EQ(what.find("startpc"), std::string::npos) << what;
	}
}

INSTANTIATE_TEST_SUITE_P(EveryToolchain, DerivedOffsets, ::testing::ValuesIn(gort::testing::go_toolchains()),
			 gort::testing::toolchain_name);

// The table's claim, checked on binaries built by other patch releases than its rows: Debian's
// stripped Go programs (scripts/install-deps.sh fetch_app; sid's are built by go1.26.4 and
// go1.24.13, the rows by go1.26.10 and go1.24.4). Every row member the binary lets gort derive
// (type descriptors; code for work/memstats) must equal the row of its minor version.
TEST(DebianBinaries, TableRowsHoldForOtherPatchReleases)
{
	const char *env = getenv("GORT_DEBIAN_APPS");
	std::filesystem::path apps = env ? env : std::string(GORT_SOURCE_DIR) + "/.toolchains/apps";
	ASSERT_TRUE(std::filesystem::is_directory(apps)) << apps << " missing: run scripts/install-deps.sh";
	size_t other_patch = 0;
	for (const auto &pkg : std::filesystem::directory_iterator(apps)) {
		std::filesystem::path bindir = pkg.path() / "usr" / "bin";
		if (!std::filesystem::is_directory(bindir))
			continue;
		for (const auto &f : std::filesystem::directory_iterator(bindir)) {
			std::unique_ptr<GoBinary> bin;
			try {
				bin = GoBinary::open(f.path());
			} catch (const UserError &) {
				continue;  // not a Go program
			}
			SCOPED_TRACE(f.path().string() + " " + bin->build_info().version.raw);
			EXPECT_TRUE(bin->build_info().stripped);
			const gobinary::OffsetsRow *row = gobinary::offsets_table__row(gobinary::offsets_table__builtin(), bin->build_info().version);
			if (!row)
				continue;
			size_t checked = 0;
			auto offs = gobinary::StructOffsets::of(*bin, gobinary::OffsetsTable{});  // derived only
			for (const auto &[key, off] : row->offsets) {
				size_t dot = key.rfind('.');
				auto derived = offs.get(key.substr(0, dot), key.substr(dot + 1));
				if (!derived)
					continue;
				EXPECT_EQ(*derived, off) << key << " (row " << row->version << ")";
				checked++;
			}
			EXPECT_GE(checked, 6u) << "g and m members at least";
			if (row->version != bin->build_info().version.raw)
				other_patch++;
		}
	}
	EXPECT_GE(other_patch, 1u) << "no Debian binary built by a patch release other than the table's";
}
