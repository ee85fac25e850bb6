// Per-ray marching through the occupancy grid (instant-ngp's generate_training_samples_nerf /
// advance_to_next_voxel; nerfacc's ray_marching, Li et al. 2023), shared by the CPU
// (nerf/ray_marching.cpp) and CUDA (nerf/cuda/ray_marching_cuda.cu) paths.
//
// A ray x(t) = o + t d (d unit, t in scene units) is clipped to [max(near, t_in), min(far, t_out)]
// where [t_in, t_out] is its intersection with the outermost cascade box. The clipped segment is
// cut into consecutive intervals [s, s + dt) starting at t_start + jitter * dt(t_start), with
// dt(s) = clamp(s * cone_angle, min_step, max_step) (constant min_step when cone_angle = 0; the
// interval starts are then t_start + (jitter + k) min_step); the last interval is cut at the
// segment end. Each interval is one sample at its midpoint
// t = s + dt / 2, kept when that point's cell is occupied. An empty cell is skipped by stepping
// the same lattice of intervals until the next midpoint lies past the cell's exit (a DDA jump):
// every skipped midpoint lies in the empty cell, so skipping changes no kept sample.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "nerf/kernels/occupancy.h"

namespace facet::nerf::kernels {

struct MarchParams {
  float near = 0.0f;
  float far = INFINITY;
  float min_step = 1e-3f;
  float max_step = 1e-1f;
  float cone_angle = 0.0f;
  std::uint32_t max_samples = 1024;
};

// Where the kept samples go; all null to only count them. Arrays start at the ray's first sample.
struct SampleOut {
  float* t = nullptr;           // [n]
  float* dt = nullptr;          // [n]
  float* positions = nullptr;   // [n x 3]
  float* directions = nullptr;  // [n x 3]
  std::uint32_t capacity = 0;   // samples past this many are counted but not written
};

FACET_HOST_DEVICE inline float StepSize(const MarchParams& p, float t) {
  return MinF(MaxF(t * p.cone_angle, p.min_step), p.max_step);
}

// Slab test of the ray against the box [lo, hi]; false when it misses. Axes with d[k] == 0 keep
// the whole line when o[k] is inside the slab.
FACET_HOST_DEVICE inline bool IntersectBox(const float lo[3], const float hi[3], const float o[3],
                                           const float d[3], float* t_in, float* t_out) {
  float t0 = -INFINITY, t1 = INFINITY;
  for (int k = 0; k < 3; ++k) {
    if (d[k] == 0.0f) {
      if (o[k] < lo[k] || o[k] > hi[k]) return false;
      continue;
    }
    const float inv = 1.0f / d[k];
    float a = (lo[k] - o[k]) * inv, b = (hi[k] - o[k]) * inv;
    if (a > b) {
      const float tmp = a;
      a = b;
      b = tmp;
    }
    t0 = fmaxf(t0, a);
    t1 = fminf(t1, b);
  }
  *t_in = t0;
  *t_out = t1;
  return t0 <= t1;
}

// Marches one ray; returns the number of kept samples (<= p.max_samples) and writes them to `out`
// unless its arrays are null. `jitter` in [0, 1) offsets the first interval. One function for
// counting and filling so that both passes make the same floating-point decisions.
FACET_HOST_DEVICE inline std::uint32_t MarchRay(const GridView& g, const MarchParams& p,
                                                const float o[3], const float d[3], float jitter,
                                                const SampleOut& out) {
  float lo[3], hi[3];
  const float outer = float(1u << (g.cascades - 1));
  for (int k = 0; k < 3; ++k) {
    lo[k] = g.centre[k] - g.half_extent[k] * outer;
    hi[k] = g.centre[k] + g.half_extent[k] * outer;
  }
  float t_in, t_out;
  if (!IntersectBox(lo, hi, o, d, &t_in, &t_out)) return 0;
  const float t_begin = fmaxf(t_in, p.near);
  const float t_end = fminf(t_out, p.far);
  if (!(t_begin < t_end)) return 0;
  // Constant steps (no cone stepping within this segment): interval k starts at
  // s_k = t_begin + (jitter + k) dt, computed from k so that a jump of many intervals costs one
  // division and rounds as a plain march. Otherwise each interval starts where the last ended.
  const bool constant = p.cone_angle * t_end <= p.min_step;
  const float step0 = StepSize(p, t_begin);
  std::uint32_t n = 0;
  float k = 0.0f;  // interval index in constant mode
  float s = t_begin + jitter * step0;
  while (s < t_end && n < p.max_samples) {
    const float dt = MinF(StepSize(p, s), t_end - s);
    const float t = s + 0.5f * dt;
    const float x[3] = {o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]};
    const int c = CascadeOf(g, x);
    if (c < g.cascades && g.occupancy[CellIndex(g, x, c)] != 0) {
      if (out.t != nullptr && n < out.capacity) {
        out.t[n] = t;
        out.dt[n] = dt;
        for (int j = 0; j < 3; ++j) {
          out.positions[3 * n + j] = x[j];
          out.directions[3 * n + j] = d[j];
        }
      }
      ++n;
      if (constant) {
        k += 1.0f;
        s = t_begin + (jitter + k) * step0;
      } else {
        s += dt;
      }
      continue;
    }
    // Empty (or, by rounding, just outside the grid): jump to the first interval whose midpoint
    // lies past this cell, leaving a relative margin for rounding so no occupied cell is missed.
    const float exit = c < g.cascades ? DistanceToNextCell(g, x, d, c) : 0.0f;
    const float target = t + exit - 1e-6f * (fabsf(t) + exit);
    if (constant) {
      // The first k' > k with s_k' + dt / 2 >= target.
      const float first = ceilf((target - t_begin) / step0 - jitter - 0.5f);
      k = MaxF(k + 1.0f, first);
      s = t_begin + (jitter + k) * step0;
      continue;
    }
    do {
      s += StepSize(p, s);
    } while (s < t_end && s + 0.5f * StepSize(p, s) < target);
  }
  return n;
}

}  // namespace facet::nerf::kernels
