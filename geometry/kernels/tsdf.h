// Per-voxel TSDF fusion (Curless & Levoy, "A Volumetric Method for Building Complex Models from
// Range Images", SIGGRAPH 1996; projective variant of KinectFusion, Newcombe et al. 2011), shared
// by the CPU (tsdf_volume.cpp) and CUDA (cuda/tsdf_cuda.cu) paths. Plain data and
// FACET_HOST_DEVICE functions only: no Eigen, no CUDA types.
//
// One observation of voxel v (lattice node at voxel_size * (x, y, z), VoxelBlockGrid's
// convention) from a depth map:
//   x_in_cam = cam_from_world * v;  skipped when z <= 0;
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

FACET_HOST_DEVICE inline void TransformPoint(const float m[12], float x, float y, float z,
                                             float out[3]) {
  out[0] = m[0] * x + m[1] * y + m[2] * z + m[3];
  out[1] = m[4] * x + m[5] * y + m[6] * z + m[7];
  out[2] = m[8] * x + m[9] * y + m[10] * z + m[11];
}

// A depth worth integrating: in (depth_min, depth_max] and finite (NaN fails every comparison).
FACET_HOST_DEVICE inline bool ValidDepth(const TsdfFrame& f, float d) {
  return d > f.depth_min && d <= f.depth_max && d <= FLT_MAX;
}

// The depth map as the kernels read it: valid depths kept, the rest -infinity, so that one
// comparison (distance > -truncation) rejects both a missing measurement and a hidden voxel.
FACET_HOST_DEVICE inline float SanitizeDepth(const TsdfFrame& f, float d) {
  return ValidDepth(f, d) ? d : -INFINITY;
}

// The pixel (i, j) whose square contains the projection of x_in_cam; false when the point is not
// in front of the camera or projects outside the image.
FACET_HOST_DEVICE inline bool ProjectToPixel(const TsdfFrame& f, const float x_in_cam[3], int* i,
                                             int* j) {
  if (!(x_in_cam[2] > 0.0f)) return false;
  const float inverse_z = 1.0f / x_in_cam[2];
  const float u = f.fx * x_in_cam[0] * inverse_z + f.cx;
  const float v = f.fy * x_in_cam[1] * inverse_z + f.cy;
  if (!(u >= 0.0f && v >= 0.0f && u < float(f.width) && v < float(f.height))) return false;
  *i = int(u);  // floor: u >= 0
  *j = int(v);
  // u just below width can round to int(width) only if float(width) is inexact; guard anyway.
  return *i < f.width && *j < f.height;
}

// Fuses one observation into a voxel whose camera-frame position is x_in_cam. `color` (3 floats,
// linear RGB) is updated when the frame has colour and `color` is not null.
FACET_HOST_DEVICE inline void IntegrateVoxel(const TsdfFrame& f, const float x_in_cam[3],
                                             float* sdf, float* weight, float* color) {
  int i = 0, j = 0;
  if (!ProjectToPixel(f, x_in_cam, &i, &j)) return;
  // Sanitised depth: -infinity (no measurement) fails too, and so would NaN.
  const float distance = f.depth[std::int64_t(j) * f.depth_stride + i] - x_in_cam[2];
  if (!(distance > -f.truncation)) return;
  const float tsdf = distance < f.truncation ? distance : f.truncation;
  const float w = *weight;
  const float w_plus = w + 1.0f;
  const float inverse = 1.0f / w_plus;  // one division for the four averages
  *sdf = (*sdf * w + tsdf) * inverse;
  if (color != nullptr && f.color != nullptr) {
    const std::uint8_t* rgb = f.color + std::int64_t(j) * f.color_stride + i * f.color_channels;
    for (int c = 0; c < 3; ++c) {
      color[c] = (color[c] * w + f.srgb_to_linear[rgb[c]]) * inverse;
    }
  }
  *weight = w_plus < f.max_weight ? w_plus : f.max_weight;
}

// Voxel `local` (0 .. kBlockVoxels-1, x fastest) of block `key`: its camera-frame position.
FACET_HOST_DEVICE inline void BlockVoxelInCamera(const TsdfFrame& f, const BlockKey& key, int local,
                                                 float x_in_cam[3]) {
  const int lx = local % kBlockSize;
  const int ly = (local / kBlockSize) % kBlockSize;
  const int lz = local / (kBlockSize * kBlockSize);
  // In float before multiplying: block coordinates reach +-2^28, 8 times that overflows int32.
  const float x = (float(key.x) * float(kBlockSize) + float(lx)) * f.voxel_size;
  const float y = (float(key.y) * float(kBlockSize) + float(ly)) * f.voxel_size;
  const float z = (float(key.z) * float(kBlockSize) + float(lz)) * f.voxel_size;
  TransformPoint(f.cam_from_world, x, y, z, x_in_cam);
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
