#include "nerf/volume_rendering.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_reduce.h>

#include <atomic>
#include <cmath>

#include "core/error.h"
#include "core/parallel_for.h"
#include "nerf/kernels/loss.h"
#include "nerf/kernels/volume_rendering.h"

namespace facet::nerf {

void VolumeRenderingOptions::Check() const {
  FACET_CHECK(transmittance_threshold >= 0.0f && transmittance_threshold < 1.0f,
              "VolumeRendering transmittance_threshold must be in [0, 1) (got {})",
              transmittance_threshold);
}

namespace {

// Validates sizes and offsets; returns n_rays. Offsets are checked for monotonicity so that the
// per-ray loops stay in bounds.
std::size_t CheckSamples(const CompositeSamples& s, std::span<const float> background) {
  FACET_CHECK(!s.ray_offsets.empty() && s.ray_offsets.front() == 0,
              "RenderRays: ray_offsets must hold n_rays + 1 entries starting at 0");
  const std::size_t n_rays = s.ray_count();
  const std::size_t n = s.ray_offsets.back();
  for (std::size_t r = 0; r < n_rays; ++r) {
    FACET_CHECK(s.ray_offsets[r] <= s.ray_offsets[r + 1],
                "RenderRays: ray_offsets decrease at ray {}", r);
  }
  FACET_CHECK(s.t.size() == n && s.dt.size() == n && s.sigma.size() == n && s.rgb.size() == 3 * n,
              "RenderRays: {} samples need t, dt, sigma of {} and rgb of {} floats (got {}, {}, "
              "{}, {})",
              n, n, 3 * n, s.t.size(), s.dt.size(), s.sigma.size(), s.rgb.size());
  FACET_CHECK(background.size() == 3 || background.size() == 3 * n_rays,
              "RenderRays: background must hold 3 or 3 x {} floats (got {})", n_rays,
              background.size());
  std::atomic<bool> bad{false};
  ParallelFor(
      std::int64_t(n),
      [&](std::int64_t i) {
        const float sigma = s.sigma[std::size_t(i)];
        if (!(std::isfinite(sigma) && sigma >= 0.0f)) bad.store(true, std::memory_order_relaxed);
      },
      4096);
  FACET_CHECK(!bad.load(), "RenderRays: every sigma must be finite and >= 0");
  return n_rays;
}

const float* BackgroundOf(std::span<const float> background, std::size_t r) {
  return background.size() == 3 ? background.data() : background.data() + 3 * r;
}

}  // namespace

void RenderRays(const CompositeSamples& samples, std::span<const float> background,
                const VolumeRenderingOptions& options, const RayOutputs& out) {
  options.Check();
  const std::size_t n_rays = CheckSamples(samples, background);
  FACET_CHECK(out.colour.size() == 3 * n_rays && out.opacity.size() == n_rays &&
                  out.depth.size() == n_rays && out.samples_used.size() == n_rays,
              "RenderRays: outputs for {} rays need 3 x {} colour and {} opacity, depth and "
              "samples_used entries",
              n_rays, n_rays, n_rays);
  const float threshold = options.transmittance_threshold;
  ParallelFor(
      std::int64_t(n_rays),
      [&](std::int64_t ray) {
        const auto r = std::size_t(ray);
        const std::uint32_t b = samples.ray_offsets[r];
        const kernels::RayResult res = kernels::CompositeRay(
            samples.ray_offsets[r + 1] - b, samples.sigma.data() + b, samples.rgb.data() + 3 * b,
            samples.t.data() + b, samples.dt.data() + b, BackgroundOf(background, r), threshold);
        for (int k = 0; k < 3; ++k) out.colour[3 * r + std::size_t(k)] = res.colour[k];
        out.opacity[r] = res.opacity;
        out.depth[r] = res.depth;
        out.samples_used[r] = res.used;
      },
      64);
}

void RenderRaysBackward(const CompositeSamples& samples, std::span<const float> background,
                        std::span<const std::uint32_t> samples_used,
                        std::span<const float> d_colour, std::span<const float> d_opacity,
                        std::span<const float> d_depth, std::span<float> d_sigma,
                        std::span<float> d_rgb) {
  const std::size_t n_rays = CheckSamples(samples, background);
  const std::size_t n = samples.t.size();
  FACET_CHECK(samples_used.size() == n_rays &&
                  (d_colour.empty() || d_colour.size() == 3 * n_rays) &&
                  (d_opacity.empty() || d_opacity.size() == n_rays) &&
                  (d_depth.empty() || d_depth.size() == n_rays),
              "RenderRaysBackward: per-ray inputs for {} rays (samples_used {}, d_colour {}, "
              "d_opacity {}, d_depth {})",
              n_rays, samples_used.size(), d_colour.size(), d_opacity.size(), d_depth.size());
  FACET_CHECK(d_sigma.size() == n && d_rgb.size() == 3 * n,
              "RenderRaysBackward: gradients for {} samples need {} and {} floats (got {}, {})", n,
              n, 3 * n, d_sigma.size(), d_rgb.size());
  ParallelFor(
      std::int64_t(n_rays),
      [&](std::int64_t ray) {
        const auto r = std::size_t(ray);
        const std::uint32_t b = samples.ray_offsets[r];
        const float zero[3] = {0.0f, 0.0f, 0.0f};
        kernels::CompositeRayBackward(
            samples.ray_offsets[r + 1] - b, samples_used[r], samples.sigma.data() + b,
            samples.rgb.data() + 3 * b, samples.t.data() + b, samples.dt.data() + b,
            BackgroundOf(background, r), d_colour.empty() ? zero : d_colour.data() + 3 * r,
            d_opacity.empty() ? 0.0f : d_opacity[r], d_depth.empty() ? 0.0f : d_depth[r],
            d_sigma.data() + b, d_rgb.data() + 3 * b);
      },
      64);
}

double ColourLoss(std::span<const float> predicted, std::span<const float> target,
                  ColourLossKind kind, float huber_delta, std::span<float> d_predicted) {
  FACET_CHECK(predicted.size() == target.size() && predicted.size() == d_predicted.size() &&
                  predicted.size() % 3 == 0,
              "ColourLoss: predicted {}, target {} and gradient {} floats must match (n x 3)",
              predicted.size(), target.size(), d_predicted.size());
  FACET_CHECK(kind != ColourLossKind::kHuber || (std::isfinite(huber_delta) && huber_delta > 0.0f),
              "ColourLoss: huber_delta must be > 0 (got {})", huber_delta);
  const std::size_t n = predicted.size();
  if (n == 0) return 0.0;
  const float scale = 1.0f / float(n);
  const double sum = oneapi::tbb::parallel_deterministic_reduce(
      oneapi::tbb::blocked_range<std::size_t>(0, n, 4096), 0.0,
      [&](const oneapi::tbb::blocked_range<std::size_t>& range, double acc) {
        for (std::size_t i = range.begin(); i != range.end(); ++i) {
          const float r = predicted[i] - target[i];
          float d = 0.0f;
          const float l = kind == ColourLossKind::kL2 ? kernels::L2Loss(r, &d)
                                                      : kernels::HuberLoss(r, huber_delta, &d);
          d_predicted[i] = d * scale;
          acc += double(l);
        }
        return acc;
      },
      [](double a, double b) { return a + b; });
  return sum / double(n);
}

}  // namespace facet::nerf
