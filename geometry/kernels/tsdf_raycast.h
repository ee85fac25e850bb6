// Per-pixel ray casting of a TSDF on a voxel block grid (KinectFusion, Newcombe et al. ISMAR 2011,
// section 3.4; voxel hashing's block skipping, Niessner et al. SIGGRAPH Asia 2013), shared by the
// CPU path (geometry/tsdf_raycast.cpp) and a CUDA kernel that wants it. Plain data and
// FACET_HOST_DEVICE functions only: no Eigen, no CUDA types.
//
// A pixel's ray is parametrised by the camera-frame depth t (the ray direction has z = 1 in the
// camera), so the depth of a hit is t itself. Marching from t_begin to t_end:
//   - a point in an unallocated block advances to where the ray leaves the block;
//   - in an allocated block the nearest voxel's sdf s is read (unobserved voxels, weight 0,
//     advance by half a truncation); a positive s advances by max(s * step_fraction, voxel) along
//     the ray (s is truncated far from the surface, so the step is then large), a negative one by a
//     voxel;
//   - a sign change from + to - brackets the surface: the zero crossing is found by linear
//     interpolation (one secant step) of the trilinearly interpolated sdf, provided that the
//     trilinear sdf brackets it too (not at the edge of the observed band); crossings from - to +
//     (back faces) are ignored.
// The normal is the normalised gradient of the trilinear sdf (central differences one voxel
// either side; one-sided at the edge of the observed band), pointing out of the surface (towards
// positive sdf, hence towards the camera).
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "geometry/kernels/block_hash.h"

namespace facet::geometry::kernels {

// The grid as the ray caster reads it (host or device pointers).
struct RaycastGrid {
  BlockHashView hash{};
  const float* sdf = nullptr;     // kBlockVoxels per block, metres
  const float* weight = nullptr;  // kBlockVoxels per block
  const float* color = nullptr;   // 3 * kBlockVoxels per block, linear RGB; nullptr: none
  float voxel_size = 0;           // metres
  float truncation = 0;           // metres
};

// One ray-cast view.
struct RaycastView {
  float world_from_cam[12] = {};  // row-major 3x4 [R | t]
  float fx = 0, fy = 0, cx = 0, cy = 0;
  int width = 0, height = 0;
  float step_fraction = 1.0f;  // of a positive sdf, per step
};

// The last block looked up, so that consecutive samples in one block probe the hash once.
struct BlockCache {
  BlockKey key{kEmptyKeyCoord, kEmptyKeyCoord, kEmptyKeyCoord};
  std::int32_t block = -1;
};

FACET_HOST_DEVICE inline std::int32_t FloorToInt(float x) {
  const std::int32_t i = std::int32_t(x);
  return i - (float(i) > x ? 1 : 0);
}

FACET_HOST_DEVICE inline std::int32_t CachedBlock(const RaycastGrid& g, const BlockKey& key,
                                                  BlockCache* cache) {
  if (!(key == cache->key)) {
    cache->key = key;
    cache->block = g.hash.Find(key);
  }
  return cache->block;
}

// Voxel (x, y, z): its block (-1 when unallocated) and the offset of the voxel in the arrays.
FACET_HOST_DEVICE inline std::int64_t VoxelOffset(const RaycastGrid& g, std::int32_t x,
                                                  std::int32_t y, std::int32_t z,
                                                  BlockCache* cache) {
  const BlockKey key{BlockOf(x), BlockOf(y), BlockOf(z)};
  const std::int32_t block = CachedBlock(g, key, cache);
  if (block < 0) return -1;
  const int local =
      LocalVoxelIndex(x - key.x * kBlockSize, y - key.y * kBlockSize, z - key.z * kBlockSize);
  return std::int64_t(block) * kBlockVoxels + local;
}

// The trilinear sdf at point p (world, metres), and the colour when `rgb` is not null and the
// grid has colour; false unless the 8 surrounding voxels are allocated and observed.
FACET_HOST_DEVICE inline bool TrilinearSdf(const RaycastGrid& g, const float p[3],
                                           BlockCache* cache, float* sdf, float* rgb = nullptr) {
  const float inv = 1.0f / g.voxel_size;
  const float f[3] = {p[0] * inv, p[1] * inv, p[2] * inv};
  const std::int32_t i0[3] = {FloorToInt(f[0]), FloorToInt(f[1]), FloorToInt(f[2])};
  const float a[3] = {f[0] - float(i0[0]), f[1] - float(i0[1]), f[2] - float(i0[2])};
  float s = 0.0f;
  float c[3] = {0.0f, 0.0f, 0.0f};
  const bool with_color = rgb != nullptr && g.color != nullptr;
  std::int64_t offsets[8];
  const BlockKey key{BlockOf(i0[0]), BlockOf(i0[1]), BlockOf(i0[2])};
  const int l[3] = {i0[0] - key.x * kBlockSize, i0[1] - key.y * kBlockSize,
                    i0[2] - key.z * kBlockSize};
  if (l[0] < kBlockSize - 1 && l[1] < kBlockSize - 1 && l[2] < kBlockSize - 1) {
    // The eight corners share one block (most samples): one lookup.
    const std::int32_t block = CachedBlock(g, key, cache);
    if (block < 0) return false;
    const std::int64_t base =
        std::int64_t(block) * kBlockVoxels + LocalVoxelIndex(l[0], l[1], l[2]);
    for (int corner = 0; corner < 8; ++corner) {
      offsets[corner] = base + (corner & 1) + kBlockSize * ((corner >> 1) & 1) +
                        kBlockSize * kBlockSize * (corner >> 2);
    }
  } else {
    for (int corner = 0; corner < 8; ++corner) {
      offsets[corner] = VoxelOffset(g, i0[0] + (corner & 1), i0[1] + ((corner >> 1) & 1),
                                    i0[2] + (corner >> 2), cache);
      if (offsets[corner] < 0) return false;
    }
  }
  for (int corner = 0; corner < 8; ++corner) {
    const int dx = corner & 1, dy = (corner >> 1) & 1, dz = corner >> 2;
    const std::int64_t offset = offsets[corner];
    if (!(g.weight[offset] > 0.0f)) return false;
    const float w =
        (dx ? a[0] : 1.0f - a[0]) * (dy ? a[1] : 1.0f - a[1]) * (dz ? a[2] : 1.0f - a[2]);
    s += w * g.sdf[offset];
    if (with_color) {
      for (int k = 0; k < 3; ++k) c[k] += w * g.color[3 * offset + k];
    }
  }
  *sdf = s;
  if (with_color) {
    for (int k = 0; k < 3; ++k) rgb[k] = c[k];
  }
  return true;
}

// The unit outward normal at p (world frame), where the trilinear sdf is `s0`: the normalised
// central-difference gradient of the trilinear sdf, one voxel either side; an axis whose far
// sample is missing (the edge of the observed band) takes the one-sided difference with s0. False
// where both samples of an axis are missing or the gradient vanishes.
FACET_HOST_DEVICE inline bool SdfNormal(const RaycastGrid& g, const float p[3], float s0,
                                        BlockCache* cache, float n[3]) {
  const float h = g.voxel_size;
  for (int axis = 0; axis < 3; ++axis) {
    float plus[3] = {p[0], p[1], p[2]}, minus[3] = {p[0], p[1], p[2]};
    plus[axis] += h;
    minus[axis] -= h;
    float sp = 0, sm = 0;
    const bool has_plus = TrilinearSdf(g, plus, cache, &sp);
    const bool has_minus = TrilinearSdf(g, minus, cache, &sm);
    if (!has_plus && !has_minus) return false;
    n[axis] = has_plus && has_minus ? 0.5f * (sp - sm) : has_plus ? sp - s0 : s0 - sm;
  }
  const float norm = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  if (!(norm > 0.0f)) return false;
  for (int a = 0; a < 3; ++a) n[a] /= norm;
  return true;
}

// The ray of pixel (x, y): origin (camera centre) and direction with camera z = 1, world frame;
// returns the direction's length.
FACET_HOST_DEVICE inline float PixelRay(const RaycastView& v, int x, int y, float origin[3],
                                        float direction[3]) {
  const float d_cam[3] = {(float(x) + 0.5f - v.cx) / v.fx, (float(y) + 0.5f - v.cy) / v.fy, 1.0f};
  const float* m = v.world_from_cam;
  for (int r = 0; r < 3; ++r) {
    origin[r] = m[4 * r + 3];
    direction[r] = m[4 * r] * d_cam[0] + m[4 * r + 1] * d_cam[1] + m[4 * r + 2] * d_cam[2];
  }
  return std::sqrt(d_cam[0] * d_cam[0] + d_cam[1] * d_cam[1] + 1.0f);
}

// The result of one ray.
struct RayHit {
  float depth = 0;              // camera-frame z, metres; 0: no hit
  float point[3] = {0, 0, 0};   // world frame
  float normal[3] = {0, 0, 0};  // world frame, unit; zero when it could not be computed
  float rgb[3] = {0, 0, 0};     // linear RGB, with colour
};

// Marches the ray of pixel (x, y) over t in [t_begin, t_end] (see the top of the file).
FACET_HOST_DEVICE inline RayHit CastRay(const RaycastGrid& g, const RaycastView& v, int x, int y,
                                        float t_begin, float t_end, bool colors) {
  RayHit hit;
  float o[3], d[3];
  const float length = PixelRay(v, x, y, o, d);
  const float inv_length = 1.0f / length;
  const float block_step = g.voxel_size * float(kBlockSize) * inv_length;
  const float voxel_step = g.voxel_size * inv_length;
  const float unobserved_step =
      (0.5f * g.truncation > g.voxel_size ? 0.5f * g.truncation : g.voxel_size) * inv_length;
  const float inv_voxel = 1.0f / g.voxel_size;
  BlockCache cache;
  float t = t_begin, t_prev = 0.0f, s_prev = 0.0f;
  bool have_prev = false;
  while (t <= t_end) {
    const float p[3] = {o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]};
    const std::int32_t vx = FloorToInt(p[0] * inv_voxel + 0.5f);
    const std::int32_t vy = FloorToInt(p[1] * inv_voxel + 0.5f);
    const std::int32_t vz = FloorToInt(p[2] * inv_voxel + 0.5f);
    const std::int64_t offset = VoxelOffset(g, vx, vy, vz, &cache);
    if (offset < 0) {
      // Unallocated: on to where the ray leaves this block (the region whose nearest voxels
      // are the block's, (8 k - 0.5 .. 8 k + 7.5) voxels per axis), plus a hair.
      have_prev = false;
      const std::int32_t voxel[3] = {vx, vy, vz};
      float t_exit = t + block_step;
      for (int a = 0; a < 3; ++a) {
        if (d[a] == 0.0f) continue;
        const float lo = (float(BlockOf(voxel[a]) * kBlockSize) - 0.5f) * g.voxel_size;
        const float bound = d[a] > 0.0f ? lo + float(kBlockSize) * g.voxel_size : lo;
        const float t_axis = (bound - o[a]) / d[a];
        t_exit = t_axis < t_exit ? t_axis : t_exit;
      }
      t = (t_exit > t ? t_exit : t) + 0.01f * voxel_step;
      continue;
    }
    if (!(g.weight[offset] > 0.0f)) {
      // Unobserved voxels of an allocated block lie behind observed surfaces or outside every
      // view: half a truncation at a time.
      have_prev = false;
      t += unobserved_step;
      continue;
    }
    const float s = g.sdf[offset];
    if (have_prev && s_prev > 0.0f && s <= 0.0f) {
      // Bracketed by the nearest voxels: find the bracket of the trilinear sdf, starting at
      // t_prev (or a voxel before it when the interpolated sdf is not positive there) and walking
      // a voxel at a time up to one voxel after t (the nearest voxel's sign may differ from the
      // interpolated one).
      float ta = 0, tb = t, fa = 0, fb = s;
      bool bracketed = false, positive = false;
      const float sub = voxel_step;
      const float t_last = t + voxel_step;
      float tt = t_prev;
      {
        const float pt[3] = {o[0] + tt * d[0], o[1] + tt * d[1], o[2] + tt * d[2]};
        float f = 0;
        if (!TrilinearSdf(g, pt, &cache, &f) || !(f > 0.0f)) tt = t_prev - voxel_step;
      }
      for (;; tt += sub) {
        if (tt > t_last) tt = t_last;
        const float pt[3] = {o[0] + tt * d[0], o[1] + tt * d[1], o[2] + tt * d[2]};
        float f = 0;
        if (TrilinearSdf(g, pt, &cache, &f)) {
          if (f > 0.0f) {
            ta = tt;
            fa = f;
            positive = true;
          } else if (positive) {
            tb = tt;
            fb = f;
            bracketed = true;
            break;
          }
        }
        if (tt >= t_last) break;
      }
      if (!bracketed) {
        // No interpolated bracket: a sign change at the edge of the observed band, not a
        // surface.
        t_prev = t;
        s_prev = s;
        t += voxel_step;
        continue;
      }
      float th = ta + (tb - ta) * fa / (fa - fb);
      for (int secant = 0; secant < 1; ++secant) {
        const float ph[3] = {o[0] + th * d[0], o[1] + th * d[1], o[2] + th * d[2]};
        float fh = 0;
        if (!TrilinearSdf(g, ph, &cache, &fh) || !(fa > 0.0f && fb <= 0.0f)) break;
        if (fh > 0.0f) {
          ta = th;
          fa = fh;
        } else {
          tb = th;
          fb = fh;
        }
        if (fa - fb <= 0.0f) break;
        th = ta + (tb - ta) * fa / (fa - fb);
      }
      hit.depth = th;
      for (int k = 0; k < 3; ++k) hit.point[k] = o[k] + th * d[k];
      float s_hit = 0;
      float* rgb = colors ? hit.rgb : nullptr;
      if (!TrilinearSdf(g, hit.point, &cache, &s_hit, rgb)) {
        // The secant left the stencil (rare): the bracket's end inside it.
        s_hit = fb;
        for (int k = 0; k < 3; ++k) hit.point[k] = o[k] + tb * d[k];
        hit.depth = tb;
        TrilinearSdf(g, hit.point, &cache, &s_hit, rgb);
      }
      if (!SdfNormal(g, hit.point, s_hit, &cache, hit.normal)) {
        hit.normal[0] = hit.normal[1] = hit.normal[2] = 0.0f;
      }
      return hit;
    }
    t_prev = t;
    s_prev = s;
    have_prev = true;
    const float metric_step = s * v.step_fraction;
    t += (metric_step > g.voxel_size ? metric_step * inv_length : voxel_step);
  }
  return hit;
}

}  // namespace facet::geometry::kernels
