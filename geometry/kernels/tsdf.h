// Per-voxel TSDF fusion (Curless & Levoy, "A Volumetric Method for Building Complex Models from
// Range Images", SIGGRAPH 1996; projective variant of KinectFusion, Newcombe et al. 2011), shared
// by the CPU (tsdf_integrate_cpu.cpp) and CUDA (cuda/tsdf_cuda.cu) paths. Plain data and
// FACET_HOST_DEVICE functions only: no Eigen, no CUDA types. Every operation is rounded on its own
// (no fused multiply-add, IEEE division) and the order of operations is fixed, so that the CPU's
// vector loop, the CPU's scalar loop and the device give the same voxels to the bit.
//
// One observation of voxel v (lattice node at voxel_size * (x, y, z), VoxelBlockGrid's
// convention) from a depth map:
//   x_in_cam = cam_from_world * v, summed as (R_1 y + R_2 z + t) + R_0 x (R_k the rotation's
//   columns) so that a row of voxels along x shares the first sum;  skipped when z <= 0;
//   the pixel is the one whose square contains the projection (fx x/z + cx, fy y/z + cy) in
//   facet's (COLMAP's) convention, pixel (i, j) spanning [i, i+1) x [j, j+1) -- the nearest pixel
//   centre; skipped when outside the image;
//   d = depth at that pixel, skipped unless depth_min < d <= depth_max and finite;
//   sdf = d - z (projective distance along the optical axis), skipped when sdf <= -truncation
//   (the voxel is hidden behind the observed surface);
//   tsdf = min(sdf, truncation) in metres;
//   running weighted average with unit observation weight, the weight capped at max_weight:
//     sdf' = (sdf W + tsdf) / (W + 1), colour likewise, W' = min(W + 1, max_weight).
// This is Open3D's legacy ScalableTSDFVolume / UniformTSDFVolume integration
// (UniformTSDFVolume::IntegrateWithDepthToCameraDistanceMultiplier: nearest pixel, skip
// sdf <= -sdf_trunc, min(1, sdf / sdf_trunc), weight + 1) with three differences: the distance is
// stored in metres rather than in units of the truncation, it stays the difference of z values
// (Open3D multiplies it by the pixel's ray length per unit z, overestimating the distance to an
// oblique surface further), and the weight is capped so that a long sequence still adapts.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "geometry/kernels/block_hash.h"

namespace facet::geometry::kernels {

// One depth (and colour) frame and the fusion parameters, as the kernels read them. The pointers
// are host or device pointers, for whichever side runs the kernel.
struct TsdfFrame {
  float cam_from_world[12] = {};  // row-major 3x4 [R | t]
  float fx = 0, fy = 0, cx = 0, cy = 0;
  int width = 0, height = 0;
  // Metres, sanitised (SanitizeDepth: -infinity where no valid measurement); pixel (i, j) at
  // depth[j * depth_stride + i].
  const float* depth = nullptr;
  std::int64_t depth_stride = 0;
  // sRGB 8-bit colour, `color_channels` (3 or 4) per pixel, row stride in bytes; nullptr: none.
  const std::uint8_t* color = nullptr;
  std::int64_t color_stride = 0;
  int color_channels = 3;
  const float* srgb_to_linear = nullptr;  // 256 entries, needed with colour
  float voxel_size = 0;                   // metres
  float truncation = 0;                   // metres
  float depth_min = 0, depth_max = 0;     // metres
  float max_weight = 0;
};

// A depth worth integrating: in (depth_min, depth_max] and finite (NaN fails every comparison).
FACET_HOST_DEVICE inline bool ValidDepth(const TsdfFrame& f, float d) {
  return d > f.depth_min && d <= f.depth_max && d <= FLT_MAX;
}

// The depth map as the kernels read it: valid depths kept, the rest -infinity, so that one
// comparison (distance > -truncation) rejects both a missing measurement and a hidden voxel.
FACET_HOST_DEVICE inline float SanitizeDepth(const TsdfFrame& f, float d) {
  return ValidDepth(f, d) ? d : -INFINITY;
}

// World coordinate of voxel `local` (0 .. kBlockSize-1) along one axis of a block whose
// coordinate on that axis is `block`. In float before multiplying: block coordinates reach
// +-2^28, 8 times that overflows int32.
FACET_HOST_DEVICE inline float BlockVoxelCoord(std::int32_t block, int local, float voxel_size) {
  return (float(block) * float(kBlockSize) + float(local)) * voxel_size;
}

// The camera frame position of a voxel at world (x, y, z), in two steps so that a row of voxels
// along x shares the first: the y, z and translation terms (`row`), then the x term.
FACET_HOST_DEVICE inline void RowInCamera(const TsdfFrame& f, float y, float z, float row[3]) {
  const float* m = f.cam_from_world;
  for (int r = 0; r < 3; ++r) row[r] = (m[4 * r + 1] * y + m[4 * r + 2] * z) + m[4 * r + 3];
}
FACET_HOST_DEVICE inline void VoxelInCamera(const TsdfFrame& f, const float row[3], float x,
                                            float x_in_cam[3]) {
  const float* m = f.cam_from_world;
  for (int r = 0; r < 3; ++r) x_in_cam[r] = row[r] + m[4 * r] * x;
}

// The projection (u, v) of x_in_cam in pixels, and whether it lies in the image in front of the
// camera: the pixel (int(u), int(v)) whose square contains it, facet's (COLMAP's) convention.
// Branch-free (a z <= 0 gives a meaningless (u, v) but `false`), so that the CPU loops vectorise.
FACET_HOST_DEVICE inline bool ProjectInImage(const TsdfFrame& f, const float x_in_cam[3], float* u,
                                             float* v) {
  const float inverse_z = 1.0f / x_in_cam[2];
  *u = f.fx * x_in_cam[0] * inverse_z + f.cx;
  *v = f.fy * x_in_cam[1] * inverse_z + f.cy;
  // u just below width can round to int(width) only if float(width) is inexact: int() < width
  // is tested by the callers.
  return (x_in_cam[2] > 0.0f) & (*u >= 0.0f) & (*v >= 0.0f) & (*u < float(f.width)) &
         (*v < float(f.height));
}

// The pixel (i, j) whose square contains the projection of x_in_cam; false when the point is not
// in front of the camera or projects outside the image.
FACET_HOST_DEVICE inline bool ProjectToPixel(const TsdfFrame& f, const float x_in_cam[3], int* i,
                                             int* j) {
  float u = 0, v = 0;
  if (!ProjectInImage(f, x_in_cam, &u, &v)) return false;
  *i = int(u);  // floor: u >= 0
  *j = int(v);
  return *i < f.width && *j < f.height;
}

// The truncated distance of an observation at projective distance `distance` = depth - z, and
// whether it is fused at all: not when the voxel hides behind the surface (distance <=
// -truncation), nor for a missing measurement (sanitised depth -infinity; NaN fails too).
FACET_HOST_DEVICE inline bool TruncateDistance(const TsdfFrame& f, float distance, float* tsdf) {
  *tsdf = distance < f.truncation ? distance : f.truncation;
  return distance > -f.truncation;
}

// The running averages' update for a voxel of weight w: 1 / (w + 1), and the new weight.
FACET_HOST_DEVICE inline float InverseNextWeight(float w) { return 1.0f / (w + 1.0f); }
FACET_HOST_DEVICE inline float NextWeight(const TsdfFrame& f, float w) {
  const float w_plus = w + 1.0f;
  return w_plus < f.max_weight ? w_plus : f.max_weight;
}
// (value w + observation) / (w + 1), with `inverse` = InverseNextWeight(w).
FACET_HOST_DEVICE inline float Average(float value, float w, float observation, float inverse) {
  return (value * w + observation) * inverse;
}

// Fuses one observation into a voxel whose camera-frame position is x_in_cam. `color` (3 floats,
// linear RGB) is updated when the frame has colour and `color` is not null.
FACET_HOST_DEVICE inline void IntegrateVoxel(const TsdfFrame& f, const float x_in_cam[3],
                                             float* sdf, float* weight, float* color) {
  int i = 0, j = 0;
  if (!ProjectToPixel(f, x_in_cam, &i, &j)) return;
  float tsdf = 0;
  if (!TruncateDistance(f, f.depth[std::int64_t(j) * f.depth_stride + i] - x_in_cam[2], &tsdf)) {
    return;
  }
  const float w = *weight;
  const float inverse = InverseNextWeight(w);  // one division for the four averages
  *sdf = Average(*sdf, w, tsdf, inverse);
  if (color != nullptr && f.color != nullptr) {
    const std::uint8_t* rgb = f.color + std::int64_t(j) * f.color_stride + i * f.color_channels;
    for (int c = 0; c < 3; ++c) color[c] = Average(color[c], w, f.srgb_to_linear[rgb[c]], inverse);
  }
  *weight = NextWeight(f, w);
}

// Voxel `local` (0 .. kBlockVoxels-1, x fastest) of block `key`: its camera-frame position.
FACET_HOST_DEVICE inline void BlockVoxelInCamera(const TsdfFrame& f, const BlockKey& key, int local,
                                                 float x_in_cam[3]) {
  const int lx = local % kBlockSize;
  const int ly = (local / kBlockSize) % kBlockSize;
  const int lz = local / (kBlockSize * kBlockSize);
  float row[3];
  RowInCamera(f, BlockVoxelCoord(key.y, ly, f.voxel_size), BlockVoxelCoord(key.z, lz, f.voxel_size),
              row);
  VoxelInCamera(f, row, BlockVoxelCoord(key.x, lx, f.voxel_size), x_in_cam);
}

// Fuses one observation into voxel `local` of block `key`, whose arrays are sdf/weight
// (kBlockVoxels each) and color (3 * kBlockVoxels, or nullptr).
FACET_HOST_DEVICE inline void IntegrateBlockVoxel(const TsdfFrame& f, const BlockKey& key,
                                                  int local, float* sdf, float* weight,
                                                  float* color) {
  float x_in_cam[3];
  BlockVoxelInCamera(f, key, local, x_in_cam);
  IntegrateVoxel(f, x_in_cam, sdf + local, weight + local,
                 color != nullptr ? color + 3 * local : nullptr);
}

}  // namespace facet::geometry::kernels
