#include "user/session/duration_sketch.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace gort::session {

namespace {
constexpr uint64_t kExactBelow = uint64_t{1} << (DurationSketch::kSubBucketBits + 1);
}

// Below kExactBelow the index is the value. Above, with e = bit_width(v) - 1 and shift
// s = e - kSubBucketBits, the top kSubBucketBits + 1 bits (v >> s, in [2^kSubBucketBits,
// 2^(kSubBucketBits+1))) pick one of 2^kSubBucketBits buckets of width 2^s: index = s *
// 2^kSubBucketBits + (v >> s), which continues the exact range without a gap or overlap.
uint32_t DurationSketch::index__of(uint64_t v)
{
	if (v < kExactBelow)
		return static_cast<uint32_t>(v);
	unsigned s = static_cast<unsigned>(std::bit_width(v)) - 1 - kSubBucketBits;
	return static_cast<uint32_t>((uint64_t{s} << kSubBucketBits) + (v >> s));
}

uint64_t DurationSketch::index__value(uint32_t index)
{
	if (index < kExactBelow)
		return index;
	unsigned s = (index >> kSubBucketBits) - 1;
	uint64_t top = index - (uint64_t{s} << kSubBucketBits);  // in [2^k, 2^(k+1))
	return (top << s) + (uint64_t{1} << (s - 1));
}

void DurationSketch::add(uint64_t v, uint64_t n)
{
	if (n == 0)
		return;
	counts_[index__of(v)] += n;
	count_ += n;
	max_ = std::max(max_, v);
}

void DurationSketch::merge(const DurationSketch &other)
{
	for (const auto &[index, n] : other.counts_)
		counts_[index] += n;
	count_ += other.count_;
	max_ = std::max(max_, other.max_);
}

uint64_t DurationSketch::quantile(double q) const
{
	if (count_ == 0)
		return 0;
	uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))), 1, count_);
	uint64_t seen = 0;
	for (const auto &[index, n] : counts_) {
		seen += n;
		if (seen >= rank)
			return std::min(index__value(index), max_);
	}
	return max_;
}

} // namespace gort::session
