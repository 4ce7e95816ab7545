// Percentiles of durations in bounded memory: a log2-linear histogram (HdrHistogram's bucket
// layout) with 2^kSubBucketBits buckets per power of two. Every value below 2^(kSubBucketBits+1)
// has a bucket of its own; above, a bucket [lo, lo + 2^s) has lo >= 2^kSubBucketBits * 2^s, and a
// percentile is reported as its bucket's midpoint, so it is within 1/2^(kSubBucketBits+1) of the
// exact nearest-rank value (kRelativeError; docs/go-runtime.md "Pause percentiles"). Memory is
// one counter per bucket that was hit: pauses of one kind cluster within a few powers of two, so
// a few hundred counters however long the session. Two sketches merge by adding counters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

namespace gort::session {

class DurationSketch {
public:
	static constexpr unsigned kSubBucketBits = 7;
	// The largest |reported - exact| / exact of any percentile (1/256, about 0.4 %).
	static constexpr double kRelativeError = 1.0 / (1u << (kSubBucketBits + 1));

	void add(uint64_t v, uint64_t n = 1);
	void merge(const DurationSketch &other);
	// The nearest-rank q-quantile (q in (0,1]) within kRelativeError, never above the largest
	// value added; 0 if empty.
	uint64_t quantile(double q) const;
	uint64_t count() const { return count_; }
	size_t buckets() const { return counts_.size(); }

private:
	static uint32_t index__of(uint64_t v);
	// The midpoint of the bucket (its only value for the exact ones).
	static uint64_t index__value(uint32_t index);

	std::map<uint32_t, uint64_t> counts_;  // bucket index (increasing with the value) -> values
	uint64_t count_ = 0, max_ = 0;
};

} // namespace gort::session
