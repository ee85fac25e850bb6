// Building blocks of the densification strategies (splatting/densify.h): the MCMC relocation
// formula, opacity-weighted sampling, position noise, and per-Gaussian copies. Internal to
// facet::splatting; declared here so that the tests can check each against its formula.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "splatting/adam.h"
#include "splatting/gaussians.h"

namespace facet::splatting::detail {

inline float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float Logit(float p) { return std::log(p / (1.0f - p)); }

// gsplat's binomial table size (n_max = 51): a Gaussian is split into at most this many copies
// by one relocation; more samples of the same source are clamped to it.
inline constexpr int kMaxRelocationCopies = 51;

// Kheradmand et al. 2024, eq. 9, as gsplat's relocation kernel evaluates it: a Gaussian of
// opacity `opacity` replaced by `copies` identical ones gets the opacity
//   o' = 1 - (1 - o)^(1 / copies)      (so that 1 - (1 - o')^copies = o at the centre)
// clamped to [min_opacity, 1 - FLT_EPSILON], and its scales multiplied by
//   o / sum_{i=1..copies} sum_{k=0..i-1} C(i-1, k) (-1)^k o'^(k+1) / sqrt(k+1)
// (so that the copies' summed opacity profile integrates, along each axis, to the original's).
// `copies` is clamped to [1, kMaxRelocationCopies].
struct Relocated {
  float opacity = 0.0f;
  float scale_factor = 1.0f;
};
Relocated Relocate(float opacity, int copies, float min_opacity);

// `count` indices in [0, weights.size()) drawn independently with probability proportional to
// the weights (torch.multinomial with replacement); zero-weight entries are never drawn. Throws
// facet::Error when the weights sum to zero and count > 0.
std::vector<std::int64_t> MultinomialSample(std::span<const float> weights, std::int64_t count,
                                            std::mt19937_64& rng);

// How many times each index occurs in `indices` (a histogram over [0, n)).
std::vector<std::int32_t> CountOccurrences(std::span<const std::int64_t> indices, std::int64_t n);

// Writes the parameters of Gaussian `src` over those of Gaussian `dst` (every group).
void CopyGaussian(Gaussians& g, std::int64_t src, std::int64_t dst);

// Whether `adam` holds moments for `params` (false before its first step); throws facet::Error
// when it holds moments for a different number of Gaussians.
bool HasMoments(const Adam& adam, const Gaussians& params, const char* who);

// gsplat's inject_noise_to_position (Kheradmand et al. 2024, eq. 10): for every Gaussian,
//   mean += Sigma * z * gate(1 - sigmoid(opacity)) * scale,   z ~ N(0, I_3),
// with Sigma = R S S^T R^T (Kerbl et al. eq. 6) and gate(x) = 1 / (1 + exp(-100 (x - 0.995))),
// which is ~1 for nearly transparent Gaussians and ~0 for opaque ones. `scale` = lr * noise_lr.
// The noise is drawn per block of Gaussians from std::mt19937_64 seeded with (seed, stream,
// block), so the result depends on neither the thread count nor the scheduling.
void InjectPositionNoise(Gaussians& params, float scale, std::uint64_t seed, std::uint64_t stream);

// The gate above, exposed for the tests.
inline float NoiseGate(float opacity) {
  return 1.0f / (1.0f + std::exp(-100.0f * ((1.0f - opacity) - 0.995f)));
}

}  // namespace facet::splatting::detail
