// Meshing trained splats: render the Gaussians' depth and colour at a set of views (the training
// cameras, or an orbit around the scene) and fuse them with TSDF fusion (geometry/tsdf_volume.h),
// whose marching cubes surface is then closed, manifold and coloured. Depth is the rasterizer's
// expected depth (sum of w z over accumulated opacity), kept where the accumulated opacity is at
// least min_alpha (elsewhere the pixel is "no measurement").
#pragma once

#include <span>
#include <vector>

#include "core/backend.h"
#include "core/progress.h"
#include "geometry/camera.h"
#include "geometry/point_cloud.h"
#include "geometry/rigid3.h"
#include "geometry/tsdf_volume.h"
#include "splatting/gaussians.h"

namespace facet::splatting {

struct SplatFusionView {
  geometry::Camera camera{};  // PINHOLE or SIMPLE_PINHOLE
  geometry::Rigid3 cam_from_world{};
};

struct SplatFusionOptions {
  double voxel_size = 0.0;  // world units; 0: the diagonal of RobustBounds / resolution
  int resolution = 512;     // voxels along that diagonal when voxel_size is 0; >= 8
  double truncation = 0.0;  // world units; 0: 4 voxels
  float min_alpha = 0.5f;   // (0, 1]
  int sh_degree = 3;        // colours rendered with SH bands up to this (clamped to the model's)
  int max_size = 800;       // views are rendered with their longer side at most this (px); >= 16
  // Only Gaussians in this box are rendered and fused (e.g. the object of interest);
  // std::nullopt: all.
  std::optional<geometry::Bounds3> crop{};
  Backend backend = Backend::kCpu;  // of the TSDF integration

  void Check() const;
};

// The box holding the central 98% of the Gaussians' centres on each axis (1st to 99th
// percentile), grown by 5% of its size: floaters far away do not inflate it.
geometry::Bounds3 RobustBounds(const Gaussians& model);

// `count` cameras on a sphere around `bounds` (Fibonacci lattice, all latitudes), each looking at
// its centre from 2.2 times its half-diagonal (the whole box in view) with a 60 degree field of
// view, `size` x `size` pixels. For models without their training cameras.
std::vector<SplatFusionView> OrbitViews(const geometry::Bounds3& bounds, int count, int size);

// Renders and fuses every view (progress on `bar` when given, one step per view). Throws
// facet::Error for an empty model, no views, or bad options.
geometry::TsdfVolume FuseSplats(const Gaussians& model, std::span<const SplatFusionView> views,
                                const SplatFusionOptions& options, ProgressBar* bar = nullptr);

}  // namespace facet::splatting
