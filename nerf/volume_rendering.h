// Volume rendering of ray samples (NeRF, Mildenhall et al. 2020, eq. 3; instant-ngp, Müller et
// al. 2022; nerfacc, Li et al. 2023) on the CPU, parallel over rays: forward compositing and its
// O(n) reverse pass. The per-ray math and the exact formulas are nerf/kernels/volume_rendering.h,
// shared with nerf/cuda/volume_rendering_cuda.h. Colour losses: nerf/kernels/loss.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace facet::nerf {

struct VolumeRenderingOptions {
  // A ray stops after the sample that brings its transmittance below this, [0, 1); 0 = never.
  float transmittance_threshold = 1e-4f;

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

// The samples of a batch of rays (layout of RaySamples, nerf/ray_marching.h): ray r owns samples
// [ray_offsets[r], ray_offsets[r + 1]), in increasing t. sigma is the activated density
// (>= 0, 1 / scene unit), rgb the activated colour (n x 3, in [0, 1]).
struct CompositeSamples {
  std::span<const std::uint32_t> ray_offsets;  // n_rays + 1
  std::span<const float> t, dt;                // n
  std::span<const float> sigma;                // n
  std::span<const float> rgb;                  // n x 3
  std::size_t ray_count() const { return ray_offsets.empty() ? 0 : ray_offsets.size() - 1; }
};

// Per-ray outputs: colour (n_rays x 3, including the background term), opacity (accumulated
// alpha), depth (expected, un-normalised: sum w_i t_i) and samples_used (the samples that entered
// the sums before early termination; RenderRaysBackward takes it to match).
struct RayOutputs {
  std::span<float> colour;
  std::span<float> opacity;
  std::span<float> depth;
  std::span<std::uint32_t> samples_used;
};

// Composites every ray. `background` is one colour for all rays (3 floats) or one per ray
// (n_rays x 3). Throws facet::Error for spans of the wrong size, offsets that do not increase
// from 0 to n, a negative or non-finite sigma, or options out of range.
void RenderRays(const CompositeSamples& samples, std::span<const float> background,
                const VolumeRenderingOptions& options, const RayOutputs& out);

// Gradients of a loss L given dL/dcolour (n_rays x 3), dL/dopacity and dL/ddepth (n_rays each;
// empty spans mean zero) → dL/dsigma (n) and dL/drgb (n x 3); samples past samples_used get 0.
// The background is a constant. Same checks as RenderRays.
void RenderRaysBackward(const CompositeSamples& samples, std::span<const float> background,
                        std::span<const std::uint32_t> samples_used,
                        std::span<const float> d_colour, std::span<const float> d_opacity,
                        std::span<const float> d_depth, std::span<float> d_sigma,
                        std::span<float> d_rgb);

enum class ColourLossKind { kL2, kHuber };

// Mean over all n_rays x 3 channels of the per-channel loss of predicted - target
// (nerf/kernels/loss.h; huber_delta > 0 for kHuber); writes d_predicted (n_rays x 3) = dmean /
// dpredicted. Deterministic (fixed blocks). Throws facet::Error for mismatched sizes.
double ColourLoss(std::span<const float> predicted, std::span<const float> target,
                  ColourLossKind kind, float huber_delta, std::span<float> d_predicted);

}  // namespace facet::nerf
