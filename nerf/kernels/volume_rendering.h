// Emission-absorption compositing of one ray's samples (Max 1995; NeRF, Mildenhall et al. 2020,
// eq. 3) and its O(n) reverse pass (instant-ngp's composite backward; nerfacc's
// render_weight_from_density backward, Li et al. 2023). Shared by nerf/volume_rendering.cpp and
// nerf/cuda/volume_rendering_cuda.cu.
//
// Forward, samples i = 0, 1, ... in order of t:
//   alpha_i = 1 - exp(-sigma_i dt_i),  T_0 = 1,  T_{i+1} = T_i (1 - alpha_i),  w_i = T_i alpha_i,
//   colour = sum w_i c_i + (1 - opacity) * background,  opacity = sum w_i,  depth = sum w_i t_i.
// Early termination: after the sample that brings T_{i+1} below the threshold the ray stops;
// used = i + 1 samples enter the sums (all of them when T stays above it).
//
// Backward, with a_i = dL/dw_i = g_c . (c_i - background) + g_o + g_d t_i (the background term
// comes from the (1 - opacity) factor):
//   dL/dc_i = w_i g_c,
//   dL/dsigma_i = dt_i (T_{i+1} a_i - sum_{j > i, j < used} w_j a_j),
// since dw_i/dsigma_i = dt_i T_{i+1} and dw_j/dsigma_i = -dt_i w_j for j > i. The suffix sum is the
// total S = sum_j w_j a_j (a first pass) minus the running prefix, so the reverse pass is O(n).
// Samples at or after `used` get zero gradients.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace facet::nerf::kernels {

struct RayResult {
  float colour[3] = {0.0f, 0.0f, 0.0f};
  float opacity = 0.0f;
  float depth = 0.0f;
  std::uint32_t used = 0;
};

// Composites samples [0, n) of one ray: sigma[n] (>= 0), rgb[n x 3], t[n], dt[n]; background[3].
FACET_HOST_DEVICE inline RayResult CompositeRay(std::uint32_t n, const float* sigma,
                                                const float* rgb, const float* t, const float* dt,
                                                const float* background,
                                                float transmittance_threshold) {
  RayResult r;
  float transmittance = 1.0f;
  std::uint32_t i = 0;
  while (i < n) {
    const float alpha = 1.0f - expf(-sigma[i] * dt[i]);
    const float w = transmittance * alpha;
    for (int k = 0; k < 3; ++k) r.colour[k] += w * rgb[3 * i + k];
    r.opacity += w;
    r.depth += w * t[i];
    transmittance *= 1.0f - alpha;
    ++i;
    if (transmittance < transmittance_threshold) break;
  }
  r.used = i;
  for (int k = 0; k < 3; ++k) r.colour[k] += (1.0f - r.opacity) * background[k];
  return r;
}

// Gradients of one ray given dL/dcolour (d_colour[3]), dL/dopacity and dL/ddepth; writes
// d_sigma[n] and d_rgb[n x 3] (zero from `used` on).
FACET_HOST_DEVICE inline void CompositeRayBackward(std::uint32_t n, std::uint32_t used,
                                                   const float* sigma, const float* rgb,
                                                   const float* t, const float* dt,
                                                   const float* background, const float* d_colour,
                                                   float d_opacity, float d_depth, float* d_sigma,
                                                   float* d_rgb) {
  if (used > n) used = n;
  const float g_o = d_opacity - (d_colour[0] * background[0] + d_colour[1] * background[1] +
                                 d_colour[2] * background[2]);
  // Pass 1: S = sum_j w_j a_j.
  float total = 0.0f;
  float transmittance = 1.0f;
  for (std::uint32_t i = 0; i < used; ++i) {
    const float alpha = 1.0f - expf(-sigma[i] * dt[i]);
    const float w = transmittance * alpha;
    const float a = d_colour[0] * rgb[3 * i] + d_colour[1] * rgb[3 * i + 1] +
                    d_colour[2] * rgb[3 * i + 2] + g_o + d_depth * t[i];
    total += w * a;
    transmittance *= 1.0f - alpha;
  }
  // Pass 2: the gradients, with the suffix sum S - prefix.
  float prefix = 0.0f;
  transmittance = 1.0f;
  for (std::uint32_t i = 0; i < used; ++i) {
    const float alpha = 1.0f - expf(-sigma[i] * dt[i]);
    const float w = transmittance * alpha;
    const float a = d_colour[0] * rgb[3 * i] + d_colour[1] * rgb[3 * i + 1] +
                    d_colour[2] * rgb[3 * i + 2] + g_o + d_depth * t[i];
    transmittance *= 1.0f - alpha;
    prefix += w * a;
    d_sigma[i] = dt[i] * (transmittance * a - (total - prefix));
    for (int k = 0; k < 3; ++k) d_rgb[3 * i + k] = w * d_colour[k];
  }
  for (std::uint32_t i = used; i < n; ++i) {
    d_sigma[i] = 0.0f;
    for (int k = 0; k < 3; ++k) d_rgb[3 * i + k] = 0.0f;
  }
}

}  // namespace facet::nerf::kernels
