// Random arrays and a scaled closeness check for the MLP tests (the fused kernels' CPU test and
// the CUDA MLP test).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace facet::nerf::test {

// `size` floats uniform in [-1, 1) from a generator seeded with `seed`.
inline std::vector<float> Random(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(size);
  for (float& x : v) x = u(rng);
  return v;
}

// |a - b| <= tolerance * max |b| over the array: both sides are float sums of the same terms in
// different orders, whose rounding differences scale with the magnitudes summed.
inline void ExpectClose(const std::vector<float>& a, const std::vector<float>& b, double tolerance,
                        const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  double scale = 0.0;
  for (float x : b) scale = std::max(scale, double(std::abs(x)));
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  EXPECT_LE(worst, tolerance * scale) << what << " (scale " << scale << ")";
}

}  // namespace facet::nerf::test
