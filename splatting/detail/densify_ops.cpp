#include "splatting/detail/densify_ops.h"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "core/parallel_for.h"
#include "splatting/kernels/project.h"

namespace facet::splatting::detail {
namespace {

using BinomialTable = std::array<std::array<double, kMaxRelocationCopies>, kMaxRelocationCopies>;

// C(n, k) for 0 <= k <= n < kMaxRelocationCopies (Pascal's triangle; exact in double up to
// C(50, 25) ~ 1.3e14 < 2^53).
const BinomialTable& Binomials() {
  static const BinomialTable table = [] {
    BinomialTable t{};
    for (int n = 0; n < kMaxRelocationCopies; ++n) {
      t[n][0] = 1.0;
      for (int k = 1; k <= n; ++k) t[n][k] = t[n - 1][k - 1] + (k < n ? t[n - 1][k] : 0.0);
    }
    return t;
  }();
  return table;
}

// Noise is drawn per block of this many Gaussians, each block from its own seeded engine.
constexpr std::int64_t kNoiseBlock = 4096;

}  // namespace

Relocated Relocate(float opacity, int copies, float min_opacity) {
  const int n = std::clamp(copies, 1, kMaxRelocationCopies);
  const double o = opacity;
  // gsplat clamps before the scale correction, for the numerical stability of near-transparent
  // sources (which then do not keep the transparency invariant exactly).
  const double o_new =
      std::clamp(1.0 - std::pow(1.0 - o, 1.0 / n), static_cast<double>(min_opacity),
                 1.0 - static_cast<double>(FLT_EPSILON));
  const BinomialTable& binom = Binomials();
  double denom = 0.0;
  for (int i = 1; i <= n; ++i) {
    for (int k = 0; k < i; ++k) {
      const double sign = (k % 2 == 0) ? 1.0 : -1.0;
      denom += binom[i - 1][k] * sign / std::sqrt(k + 1.0) * std::pow(o_new, k + 1);
    }
  }
  return {static_cast<float>(o_new), static_cast<float>(o / denom)};
}

std::vector<std::int64_t> MultinomialSample(std::span<const float> weights, std::int64_t count,
                                            std::mt19937_64& rng) {
  FACET_CHECK(count >= 0, "MultinomialSample: negative sample count {}", count);
  if (count == 0) return {};
  const auto n = static_cast<std::int64_t>(weights.size());
  std::vector<double> cdf(weights.size());
  double total = 0.0;
  std::int64_t last_positive = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    FACET_CHECK(std::isfinite(weights[i]) && weights[i] >= 0.0f,
                "MultinomialSample: weight {} is {} (must be finite and non-negative)", i,
                weights[i]);
    total += weights[i];
    cdf[i] = total;
    if (weights[i] > 0.0f) last_positive = i;
  }
  FACET_CHECK(total > 0.0, "MultinomialSample: the {} weights sum to zero", n);
  std::uniform_real_distribution<double> uniform(0.0, total);
  std::vector<std::int64_t> out(static_cast<std::size_t>(count));
  for (auto& index : out) {
    // The first entry whose cumulative weight exceeds u: never one of zero weight.
    const double u = uniform(rng);
    index = std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
    index = std::min(index, last_positive);  // u rounded up to the total
  }
  return out;
}

std::vector<std::int32_t> CountOccurrences(std::span<const std::int64_t> indices, std::int64_t n) {
  std::vector<std::int32_t> counts(static_cast<std::size_t>(n), 0);
  for (const std::int64_t i : indices) {
    FACET_CHECK(i >= 0 && i < n, "CountOccurrences: index {} outside [0, {})", i, n);
    ++counts[i];
  }
  return counts;
}

void CopyGaussian(Gaussians& g, std::int64_t src, std::int64_t dst) {
  for (int k = 0; k < Gaussians::kNumGroups; ++k) {
    const auto group = static_cast<Gaussians::Group>(k);
    const std::int64_t w = g.Width(group);
    const std::span<float> data = g.Data(group);
    std::copy_n(data.begin() + src * w, w, data.begin() + dst * w);
  }
}

bool HasMoments(const Adam& adam, const Gaussians& params, const char* who) {
  const std::int64_t m = adam.FirstMoment().size();
  FACET_CHECK(m == 0 || m == params.size(),
              "{}: the optimiser holds moments for {} Gaussians but the model has {} (every "
              "change of the model must be mirrored on the optimiser)",
              who, m, params.size());
  return m > 0;
}

void InjectPositionNoise(Gaussians& params, float scale, std::uint64_t seed, std::uint64_t stream) {
  const std::int64_t n = params.size();
  const std::int64_t blocks = (n + kNoiseBlock - 1) / kNoiseBlock;
  float* means = params.means.data();
  const float* log_scales = params.log_scales.data();
  const float* quats = params.quats.data();
  const float* opacities = params.opacities.data();
  ParallelFor(blocks, [&](std::int64_t b) {
    const auto block = static_cast<std::uint64_t>(b);
    std::seed_seq seq{static_cast<std::uint32_t>(seed),   static_cast<std::uint32_t>(seed >> 32),
                      static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32),
                      static_cast<std::uint32_t>(block),  static_cast<std::uint32_t>(block >> 32)};
    std::mt19937_64 rng(seq);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const std::int64_t end = std::min(n, (b + 1) * kNoiseBlock);
    for (std::int64_t i = b * kNoiseBlock; i < end; ++i) {
      kernels::Vec3<float> z;
      z.x = normal(rng);
      z.y = normal(rng);
      z.z = normal(rng);
      const float factor = NoiseGate(Sigmoid(opacities[i])) * scale;
      const kernels::Quat<float> q{quats[4 * i], quats[4 * i + 1], quats[4 * i + 2],
                                   quats[4 * i + 3]};
      const kernels::Vec3<float> s{log_scales[3 * i], log_scales[3 * i + 1], log_scales[3 * i + 2]};
      const kernels::Vec3<float> step = factor * (kernels::QuatScaleToCovariance(q, s) * z);
      means[3 * i] += step.x;
      means[3 * i + 1] += step.y;
      means[3 * i + 2] += step.z;
    }
  });
}

}  // namespace facet::splatting::detail
