// The pause sketch against exact nearest-rank percentiles: on random data of the shapes pauses
// have, every reported quantile is within the stated relative error, merging equals adding, and
// memory stays a few hundred buckets however many values went in.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "user/session/aggregator.h"
#include "user/session/duration_sketch.h"

using gort::session::DurationSketch;
using gort::session::percentile;

namespace {

void expect_within_bound(const DurationSketch &sketch, std::vector<uint64_t> exact, double q)
{
	uint64_t want = percentile(exact, q);
	uint64_t got = sketch.quantile(q);
	double err = std::fabs(double(got) - double(want));
	EXPECT_LE(err, double(want) * DurationSketch::kRelativeError) << "q=" << q << " exact=" << want << " sketch=" << got;
}

const double kQuantiles[] = {0.01, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0};

} // namespace

TEST(DurationSketch, EmptyAndSmallValuesAreExact)
{
	DurationSketch s;
	EXPECT_EQ(s.quantile(0.5), 0u);
	for (uint64_t v = 0; v < 256; v++)
		s.add(v);
	EXPECT_EQ(s.quantile(0.5), 127u);  // rank 128 of 0..255
	EXPECT_EQ(s.quantile(1.0), 255u);
	EXPECT_EQ(s.count(), 256u);
}

TEST(DurationSketch, RandomPausesWithinTheStatedError)
{
	std::mt19937_64 rng(12345);
	// Log-uniform over 1 µs .. 1 s (pauses of every kind), exponential around 300 µs (GC pauses),
	// and a bimodal mix (sweep termination ~20 µs, mark termination ~400 µs, rare 50 ms outliers).
	std::uniform_real_distribution<double> log_uniform(std::log(1e3), std::log(1e9));
	std::exponential_distribution<double> expo(1.0 / 300e3);
	std::normal_distribution<double> sweep(20e3, 5e3), mark(400e3, 80e3);
	std::uniform_int_distribution<int> pick(0, 999);
	for (int shape = 0; shape < 3; shape++) {
		for (size_t n : {1u, 7u, 100u, 10'000u, 200'000u}) {
			DurationSketch s;
			std::vector<uint64_t> values;
			for (size_t i = 0; i < n; i++) {
				double v = shape == 0 ? std::exp(log_uniform(rng))
					 : shape == 1 ? expo(rng)
					 : pick(rng) == 0 ? 50e6
					 : pick(rng) % 2 ? sweep(rng) : mark(rng);
				uint64_t d = uint64_t(std::max(0.0, v));
				values.push_back(d);
				s.add(d);
			}
			ASSERT_EQ(s.count(), n);
			for (double q : kQuantiles)
				expect_within_bound(s, values, q);
			// A session's worth of pauses fits in a few hundred counters.
			EXPECT_LE(s.buckets(), 128u * 21) << "shape " << shape << " n " << n;
		}
	}
}

TEST(DurationSketch, NeverAboveTheMaximumAndHugeValuesWork)
{
	DurationSketch s;
	s.add(1'000'001);
	EXPECT_EQ(s.quantile(0.99), 1'000'001u);  // the bucket's midpoint would be above it
	DurationSketch big;
	big.add(~uint64_t{0});
	big.add(uint64_t{1} << 63);
	std::vector<uint64_t> exact{~uint64_t{0}, uint64_t{1} << 63};
	expect_within_bound(big, exact, 0.5);
	expect_within_bound(big, exact, 1.0);
}

TEST(DurationSketch, MergingEqualsAddingEverything)
{
	std::mt19937_64 rng(7);
	std::uniform_int_distribution<uint64_t> d(1, 100'000'000);
	DurationSketch a, b, all;
	std::vector<uint64_t> values;
	for (int i = 0; i < 50'000; i++) {
		uint64_t v = d(rng);
		(i % 3 ? a : b).add(v);
		all.add(v);
		values.push_back(v);
	}
	a.merge(b);
	EXPECT_EQ(a.count(), all.count());
	for (double q : kQuantiles) {
		EXPECT_EQ(a.quantile(q), all.quantile(q));
		expect_within_bound(a, values, q);
	}
}
