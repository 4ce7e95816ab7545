// Binaries without .symtab and DWARF (-ldflags='-s -w'): everything gort needs is recovered from
// the pclntab, the code, the type descriptors and gort's offsets table, and must equal what the unstripped build of
// the same program (same addresses: -s -w drops only non-loaded sections) says — for plain, PIE
// and cgo builds of every toolchain present.
#include <gtest/gtest.h>

#include "support/workloads.h"
#include "support/params.h"
#include "user/common/error.h"
#include "user/gobinary/offsets_table.h"
#include "user/gobinary/runtime_globals.h"
#include "user/gobinary/runtime_layout.h"

using gort::ExitCode;
using gort::UserError;
using gort::gobinary::GoBinary;
using gort::testing::GoToolchain;
namespace gobinary = gort::gobinary;

namespace {

struct Pair {
	std::unique_ptr<GoBinary> plain, stripped;
};

Pair open_pair(const gort::testing::StrippedPair &p)
{
	return {GoBinary::open(p.plain), GoBinary::open(p.stripped)};
}

class StrippedTest : public ::testing::TestWithParam<GoToolchain> {
protected:
	// plain, PIE and cgo (PGO builds are DerivedOffsets' in test_gobinary_offsets.cpp)
	std::vector<std::pair<std::string, Pair>> variants()
	{
		std::vector<std::pair<std::string, Pair>> v;
		for (const auto &p : gort::testing::groundtruth_pairs(GetParam(), false))
			v.emplace_back(p.name, open_pair(p));
		return v;
	}
};

} // namespace

// The table row of this toolchain's exact version equals its DWARF (the table is data generated
// by scripts/gen-offsets-table.sh; this is what keeps it honest).
TEST_P(StrippedTest, OffsetsTableMatchesDwarf)
{
	auto bin = GoBinary::open(gort::testing::workload(GetParam(), "groundtruth"));
	const auto &table = gobinary::offsets_table__builtin();
	const gobinary::OffsetsRow *row = nullptr;
	for (const auto &r : table)
		if (r.version == bin->build_info().version.raw)
			row = &r;
	ASSERT_NE(row, nullptr) << bin->build_info().version.raw
				<< " is not in data/go_offsets.inc: run scripts/gen-offsets-table.sh";
	EXPECT_GE(row->offsets.size(), 15u);
	for (const auto &[key, off] : row->offsets) {
		size_t dot = key.rfind('.');
		EXPECT_EQ(bin->member_offset(key.substr(0, dot), key.substr(dot + 1)), off) << key;
	}
}

TEST_P(StrippedTest, BuildInfoAndRecoveredGlobalsEqualSymbols)
{
	for (auto &[name, p] : variants()) {
		SCOPED_TRACE(name);
		const auto &plain = *p.plain, &stripped = *p.stripped;
		ASSERT_TRUE(stripped.build_info().stripped);
		EXPECT_FALSE(stripped.build_info().has_dwarf);
		EXPECT_EQ(stripped.build_info().version.raw, plain.build_info().version.raw);
		EXPECT_EQ(stripped.build_info().pie, plain.build_info().pie);
		EXPECT_EQ(stripped.build_info().cgo, plain.build_info().cgo);
		EXPECT_EQ(stripped.build_info().cgo, name == "cgo");

		// -s -w changes the build settings in .go.buildinfo, which moves data: data addresses
		// are compared with .symtab of the same binary, decoding it as if stripped.
		auto offs = gobinary::StructOffsets::of(stripped);
		EXPECT_FALSE(offs.from_dwarf());
		auto plain_offs = gobinary::StructOffsets::of(plain);
		auto decode = gobinary::Lookup::decode;
		EXPECT_EQ(gobinary::runtime_globals__allgs(plain, plain_offs, decode), plain.symbol("runtime.allgs"));
		EXPECT_EQ(gobinary::runtime_globals__allglen(plain, plain_offs, decode), plain.symbol("runtime.allglen"));
		EXPECT_TRUE(gobinary::runtime_globals__allgs(stripped, offs));
		EXPECT_TRUE(gobinary::runtime_globals__allglen(stripped, offs));
		if (!plain.build_info().version.at_least(1, 22)) {
			EXPECT_EQ(gobinary::runtime_globals__work(plain, plain_offs, decode), plain.symbol("runtime.work"));
			EXPECT_EQ(gobinary::runtime_globals__memstats(plain, plain_offs, decode), plain.symbol("runtime.memstats"));
			EXPECT_TRUE(gobinary::runtime_globals__work(stripped, offs));
			EXPECT_TRUE(gobinary::runtime_globals__memstats(stripped, offs));
		}
		// The gctrace fields' globals (user/gobinary/runtime_gc.cpp), on every version.
		EXPECT_EQ(gobinary::runtime_globals__work(plain, plain_offs, decode), plain.symbol("runtime.work"));
		EXPECT_EQ(gobinary::runtime_globals__memstats(plain, plain_offs, decode), plain.symbol("runtime.memstats"));
		EXPECT_EQ(gobinary::runtime_globals__gc_controller(plain, plain_offs, decode), plain.symbol("runtime.gcController"));
		EXPECT_EQ(gobinary::runtime_globals__runtime_init_time(plain, decode), plain.symbol("runtime.runtimeInitTime"));
		EXPECT_TRUE(gobinary::runtime_globals__gc_controller(stripped, offs));
		EXPECT_TRUE(gobinary::runtime_globals__runtime_init_time(stripped));
		// The heap figures' globals (GOMAXPROCS and the Ps whose mcaches ReadMemStats flushes).
		EXPECT_EQ(gobinary::runtime_globals__gomaxprocs(plain, decode), plain.symbol("runtime.gomaxprocs"));
		EXPECT_EQ(gobinary::runtime_globals__allp(plain, decode), plain.symbol("runtime.allp"));
		EXPECT_TRUE(gobinary::runtime_globals__gomaxprocs(stripped));
		EXPECT_TRUE(gobinary::runtime_globals__allp(stripped));
		// Sampled mode's totals (sched.goidgen, sched.ngsys: user/goprocess/runtime_state.cpp).
		EXPECT_EQ(gobinary::runtime_globals__sched(plain, plain_offs, decode), plain.symbol("runtime.sched"));
		EXPECT_TRUE(gobinary::runtime_globals__sched(stripped, offs));
		EXPECT_TRUE(gobinary::runtime_layout__inspect(stripped).heap.valid);
		EXPECT_EQ(gobinary::runtime_layout__inspect(stripped).heap.offsets, gobinary::runtime_layout__inspect(plain).heap.offsets);
		EXPECT_EQ(gobinary::runtime_layout__inspect(stripped).gc_trace, gobinary::runtime_layout__inspect(plain).gc_trace);
		EXPECT_TRUE(gobinary::runtime_layout__inspect(stripped).gc_trace);
		EXPECT_EQ(gobinary::runtime_globals__stw_reason_strings(stripped), plain.string_array("runtime.stwReasonStrings"));
		// g.waitreason indexes this table; its order changes between versions (1.26 reordered it).
		auto reasons = gobinary::runtime_globals__wait_reason_strings(stripped);
		EXPECT_EQ(reasons, plain.string_array("runtime.waitReasonStrings"));
		EXPECT_GT(reasons.size(), 20u);
		// The stack layout `gort goroutines` reads comes from gort's table without DWARF.
		for (auto [type, member] : {std::pair{"runtime.g", "sched"}, {"runtime.g", "stack"}, {"runtime.g", "waitsince"},
					    {"runtime.gobuf", "sp"}, {"runtime.gobuf", "pc"}, {"runtime.gobuf", "bp"}})
			EXPECT_EQ(offs.get(type, member), plain.member_offset(type, member)) << type << "." << member;
		EXPECT_EQ(stripped.tls_g_offset(), plain.tls_g_offset());
		if (name == "cgo") {
			EXPECT_NE(stripped.tls_g_offset(), -8) << "groundtruth_cgo's C thread-locals move the g slot";
		}
	}
}

// Goroutine start functions are resolved through `go` wrappers without DWARF: pclntab funcIDs
// mark the wrappers and its inline trees name what was inlined into them.
TEST_P(StrippedTest, StartFunctionsEqualDwarfs)
{
	for (auto &[name, p] : variants()) {
		SCOPED_TRACE(name);
		size_t wrappers = 0;
		for (const auto &f : p.plain->functions()) {
			if (f.name.rfind("main.", 0) != 0)
				continue;
			std::string want = p.plain->start_function(f.addr);
			if (want.ends_with(".abi0"))  // ELF's name of an ABI wrapper; the pclntab has none
				want.resize(want.size() - 5);
			EXPECT_EQ(p.stripped->start_function(f.addr), want) << f.name;
			wrappers += want != f.name;
		}
		EXPECT_GE(wrappers, 3u) << "groundtruth starts goroutines through go wrappers";
	}
}

// PGO builds inline differently (newproc1 may be inlined into newproc's closure, flushmcache
// into flushallmcaches): the globals sampled mode reads are decoded from them all the same.
TEST_P(StrippedTest, SampledModeGlobalsOfPgoBuildsEqualSymbols)
{
	if (!gort::testing::workload_built(GetParam(), "groundtruth", "pgo-stripped"))
		GTEST_SKIP() << "no PGO build before Go 1.21";
	for (const auto &pair : gort::testing::groundtruth_pairs(GetParam(), true)) {
		if (pair.name != "pgo")
			continue;
		auto p = open_pair(pair);
		const auto &plain = *p.plain, &stripped = *p.stripped;
		auto offs = gobinary::StructOffsets::of(plain), stripped_offs = gobinary::StructOffsets::of(stripped);
		auto decode = gobinary::Lookup::decode;
		EXPECT_TRUE(plain.build_info().pgo);
		EXPECT_EQ(gobinary::runtime_globals__sched(plain, offs, decode), plain.symbol("runtime.sched"));
		EXPECT_EQ(gobinary::runtime_globals__allp(plain, decode), plain.symbol("runtime.allp"));
		EXPECT_EQ(gobinary::runtime_globals__allglen(plain, offs, decode), plain.symbol("runtime.allglen"));
		EXPECT_TRUE(gobinary::runtime_globals__sched(stripped, stripped_offs));
		EXPECT_TRUE(gobinary::runtime_globals__allp(stripped));
		EXPECT_TRUE(gobinary::runtime_globals__allglen(stripped, stripped_offs));
		return;
	}
	ADD_FAILURE() << "the build made no PGO pair of groundtruth";
}

TEST_P(StrippedTest, LayoutEqualsTheUnstrippedOne)
{
	for (auto &[name, p] : variants()) {
		SCOPED_TRACE(name);
		auto a = gobinary::runtime_layout__inspect(*p.plain), b = gobinary::runtime_layout__inspect(*p.stripped);
		EXPECT_EQ(memcmp(&a.offsets, &b.offsets, sizeof a.offsets), 0);
		EXPECT_EQ(a.tls_g_offset, b.tls_g_offset);
		EXPECT_EQ(a.stw_abi, b.stw_abi);
		// (data addresses differ between the two builds: see above)
		EXPECT_EQ(a.work_pause_start != 0, b.work_pause_start != 0);
		EXPECT_EQ(a.last_gc_nanotime != 0, b.last_gc_nanotime != 0);
		EXPECT_EQ(a.stw_reasons, b.stw_reasons);
		EXPECT_EQ(a.stw_reason_texts, b.stw_reason_texts);
		ASSERT_EQ(a.probes.size(), b.probes.size());
		for (size_t i = 0; i < a.probes.size(); i++) {
			EXPECT_EQ(a.probes[i].program, b.probes[i].program);
			EXPECT_EQ(a.probes[i].point.vaddr, b.probes[i].point.vaddr) << a.probes[i].program;
			EXPECT_EQ(a.probes[i].point.file_offset, b.probes[i].point.file_offset) << a.probes[i].program;
		}
	}
}

// A stripped binary whose Go version is not in the table is refused with one line saying why
// and what would make it work; the table is a parameter, so the test restricts it.
// A version missing from the table is traced from the binary itself; a table row of its minor
// that disagrees with the binary makes gort refuse, in one line naming the field and both values.
TEST_P(StrippedTest, VersionMissingFromTableIsTracedDisagreementRefused)
{
	auto p = open_pair(gort::testing::groundtruth_pairs(GetParam(), false).at(0));
	const gobinary::GoVersion &v = p.stripped->build_info().version;
	gobinary::OffsetsTable others;
	const gobinary::OffsetsRow *mine = nullptr;
	for (const auto &row : gobinary::offsets_table__builtin()) {
		auto rv = gobinary::go_version__parse(row.version);
		if (rv.minor != v.minor)
			others.push_back(row);
		else
			mine = &row;
	}
	ASSERT_NE(mine, nullptr);
	auto traced = gobinary::runtime_layout__inspect(*p.stripped, others);
	EXPECT_EQ(traced.offsets.g_goid, *p.plain->member_offset("runtime.g", "goid"));
	EXPECT_NO_THROW(gobinary::runtime_layout__inspect(*p.plain, gobinary::OffsetsTable{}));

	gobinary::OffsetsRow wrong = *mine;
	wrong.offsets["runtime.g.goid"] += 8;
	others.push_back(wrong);
	try {
		gobinary::runtime_layout__inspect(*p.stripped, others);
		ADD_FAILURE() << "traced although the table and the binary disagree";
	} catch (const UserError &e) {
		std::string msg = e.what();
		EXPECT_EQ(e.code(), ExitCode::unsupported);
		EXPECT_NE(msg.find("runtime.g.goid: type descriptor"), std::string::npos) << msg;
		EXPECT_NE(msg.find(std::to_string(wrong.offsets["runtime.g.goid"])), std::string::npos) << msg;
		EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
	}
}

INSTANTIATE_TEST_SUITE_P(AllToolchains, StrippedTest, ::testing::ValuesIn(gort::testing::go_toolchains()), gort::testing::toolchain_name);
