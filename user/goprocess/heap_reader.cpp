#include "user/goprocess/heap_reader.h"

#include <cstring>
#include <set>
#include <vector>

namespace gort::goprocess {

namespace {

// allp never has more entries than GOMAXPROCS may be (_MaxGomaxprocs = 1024 before Go 1.10,
// no limit since; a torn or garbage read beyond this is refused rather than followed).
constexpr uint64_t kMaxProcs = 1 << 16;

std::optional<HeapNow> read_once(const gobinary::HeapLayout &l, uint64_t bias, const ProcessMemory &mem)
{
	const gobinary::HeapOffsets &o = l.offsets;
	HeapNow h;
	uint64_t slice[2], totals[2];
	int32_t procs = 0;
	std::vector<uint8_t> shards(3 * static_cast<size_t>(o.delta_size));
	std::vector<bool> ok = mem.read_many({
		{l.gomaxprocs + bias, &procs, sizeof procs},
		{l.allp + bias, slice, sizeof slice},
		{l.gc_controller + bias + o.total_alloc, &totals[0], 8},
		{l.gc_controller + bias + o.total_free, &totals[1], 8},
		{l.memstats + bias + o.stats, shards.data(), shards.size()},
	});
	for (bool b : ok)
		if (!b)
			return std::nullopt;
	if (procs <= 0 || slice[1] > kMaxProcs)
		return std::nullopt;
	h.gomaxprocs = procs;
	h.alloc = totals[0] - totals[1];
	// consistentHeapStats.unsafeRead: the three shards summed.
	auto u64_at = [&](size_t off) {
		uint64_t v;
		std::memcpy(&v, shards.data() + off, 8);
		return v;
	};
	for (size_t s = 0; s < 3; s++) {
		size_t base = s * o.delta_size;
		h.objects += u64_at(base + o.large_alloc_count) - u64_at(base + o.large_free_count);
		for (size_t i = 0; i < o.size_classes; i++)
			h.objects += u64_at(base + o.small_alloc_count + 8 * i) - u64_at(base + o.small_free_count + 8 * i);
	}

	// flushallmcaches: allp[i].mcache for i < gomaxprocs.
	std::vector<uint64_t> ps(std::min<uint64_t>(slice[1], static_cast<uint64_t>(procs)));
	if (!ps.empty() && !mem.read(slice[0], ps.data(), ps.size() * 8))
		return std::nullopt;
	std::vector<uint64_t> caches(ps.size());
	std::vector<ProcessMemory::Region> regions;
	for (size_t i = 0; i < ps.size(); i++)
		if (ps[i])
			regions.push_back({ps[i] + o.p_mcache, &caches[i], 8});
	const size_t span_classes = 2 * static_cast<size_t>(o.size_classes);  // numSpanClasses
	std::vector<uint64_t> alloc(caches.size() * span_classes);
	for (bool b : mem.read_many(regions))
		if (!b)
			return std::nullopt;
	regions.clear();
	for (size_t i = 0; i < caches.size(); i++)
		if (caches[i])
			regions.push_back({caches[i] + o.mcache_alloc, &alloc[i * span_classes], span_classes * 8});
	for (bool b : mem.read_many(regions))
		if (!b)
			return std::nullopt;
	// A span is cached by one mcache at a time; emptymspan fills every other slot.
	std::set<uint64_t> spans(alloc.begin(), alloc.end());
	spans.erase(0);
	struct Span {
		uint16_t count = 0, before_cache = 0;
		uint64_t elemsize = 0;
	};
	std::vector<Span> counts(spans.size());
	regions.clear();
	size_t k = 0;
	for (uint64_t s : spans) {
		regions.push_back({s + o.span_alloc_count, &counts[k].count, 2});
		regions.push_back({s + o.span_alloc_count_before_cache, &counts[k].before_cache, 2});
		regions.push_back({s + o.span_elemsize, &counts[k].elemsize, 8});
		k++;
	}
	for (bool b : mem.read_many(regions))
		if (!b)
			return std::nullopt;
	for (const Span &s : counts) {
		// mcache.releaseAll: slotsUsed := int64(s.allocCount) - int64(s.allocCountBeforeCache).
		int64_t used = static_cast<int64_t>(s.count) - static_cast<int64_t>(s.before_cache);
		h.objects += static_cast<uint64_t>(used);
		h.alloc += static_cast<uint64_t>(used * static_cast<int64_t>(s.elemsize));
	}
	return h;
}

} // namespace

std::optional<HeapNow> heap_now__read(const gobinary::HeapLayout &layout, uint64_t load_bias, const ProcessMemory &mem)
{
	if (!layout.valid)
		return std::nullopt;
	// The program runs on while it is read: a pass that straddles an allocation or a sweep may
	// mix before and after; two equal passes in a row are a moment's figures.
	std::optional<HeapNow> prev = read_once(layout, load_bias, mem);
	for (int i = 0; i < 4 && prev; i++) {
		auto next = read_once(layout, load_bias, mem);
		if (!next)
			return std::nullopt;
		if (next->alloc == prev->alloc && next->objects == prev->objects) {
			next->stable = true;
			return next;
		}
		prev = next;
	}
	return prev;
}

int32_t heap_now__gomaxprocs(const gobinary::HeapLayout &layout, uint64_t load_bias, const ProcessMemory &mem)
{
	int32_t n = 0;
	if (!layout.gomaxprocs || !mem.read(layout.gomaxprocs + load_bias, &n, sizeof n) || n < 0)
		return 0;
	return n;
}

} // namespace gort::goprocess
