// A NeRF's surface as a closed, coloured triangle mesh: depth and colour rendered at a set of
// views (the training cameras) are fused by TSDF fusion (geometry/tsdf_volume.h), whose marching
// cubes surface is closed and manifold by construction (geometry/marching_cubes.h), as
// splatting/splat_fusion.h does for splats. Depth is the median termination depth (where the
// ray's opacity reaches 0.5; the expected depth is pulled off the surface by the density's faint
// tails), kept where the accumulated opacity reaches min_opacity: fusing many views averages the
// depth and drops view-inconsistent floaters (meshing the density itself leaves them: a NeRF's
// density is not a clean surface).
#pragma once

#include <span>

#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "geometry/triangle_mesh.h"
#include "geometry/tsdf_volume.h"
#include "nerf/field.h"
#include "nerf/occupancy_grid.h"
#include "nerf/ray_marching.h"

namespace facet::nerf {

struct NerfMeshView {
  geometry::Camera camera{};  // PINHOLE
  geometry::Rigid3 cam_from_world{};
};

struct NerfMeshOptions {
  double voxel_size = 0.0;   // scene units; 0: the scene box's longest side / resolution
  int resolution = 256;      // voxels along the box's longest side when voxel_size is 0; >= 8
  double truncation = 0.0;   // scene units; 0: 4 voxels
  float min_opacity = 0.9f;  // (0, 1]: pixels less opaque are "no measurement"
  // Fuse the median termination depth (NerfImages::median_depth; true) or the expected one.
  bool median_depth = true;
  RayMarchingOptions marching{};

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

// Renders and fuses every view, only inside the field's scene box. Throws facet::Error for no
// views, cameras that are not PINHOLE, or bad options.
geometry::TsdfVolume FuseNerf(const NerfField& field, const OccupancyGrid& grid,
                              std::span<const NerfMeshView> views, const NerfMeshOptions& options);

// FuseNerf's closed surface with vertex colours; empty when no view saw anything opaque.
geometry::TriangleMesh MeshNerf(const NerfField& field, const OccupancyGrid& grid,
                                std::span<const NerfMeshView> views,
                                const NerfMeshOptions& options = {});

}  // namespace facet::nerf
