// Ray casting of a TSDF (KinectFusion, Newcombe et al., "KinectFusion: Real-Time Dense Surface
// Mapping and Tracking", ISMAR 2011, section 3.4): the depth, normal and colour maps of the fused
// surface seen from a camera, the model that frame-to-model tracking registers the next frame
// against (geometry/rgbd_odometry.h).
//
// Per pixel (geometry/kernels/tsdf_raycast.h): the ray through the pixel's centre (facet's pixel
// convention, geometry/camera.h) is marched through the allocated blocks only, from block exit to
// block exit across unallocated space and by the sdf inside the band; the first
// zero crossing from positive to negative is located by linear interpolation of the trilinear
// sdf, and the normal is the normalised sdf gradient. Before marching, every allocated block is
// projected into the image and each 16 x 16 tile of pixels records the depth range of the blocks
// that cover it, so that a ray only visits the depths where the surface can be (InfiniTAM's
// "rendering range image", Kaehler et al., ISMAR 2015). Rays run in parallel over rows.
#pragma once

#include <cstdint>

#include "core/image.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "geometry/voxel_block_grid.h"

namespace facet::geometry {

struct RaycastOptions {
  // Rays are marched over camera-frame depths (z) in [depth_min, depth_max], metres;
  // 0 <= depth_min < depth_max.
  double depth_min = 0.1;
  double depth_max = 3.0;
  // Fill RaycastMaps::rgb (the grid must have colour).
  bool colors = false;
  // A positive sdf s advances the ray by max(step_fraction * s, voxel size); in (0, 1]. 1 is
  // safe: a surface within the step would have made s smaller; an overshoot lands in the
  // negative band, where the crossing is still bracketed.
  double step_fraction = 1.0;

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

struct RaycastMaps {
  // Camera-frame z of the first surface along each pixel's ray, metres; 0 = no hit.
  ImageF32 depth_m{};
  // 3 channels: the unit surface normal in the camera frame (pointing towards the camera); zero
  // where there is no hit or the gradient could not be evaluated.
  ImageF32 normals_in_cam{};
  // 3 channels of sRGB (the fused linear colour encoded), when RaycastOptions::colors; black where
  // there is no hit. Empty otherwise.
  ImageU8 rgb{};
};

// Ray casts `grid` (a TSDF whose sdf is clamped to +-truncation, metres: TsdfVolume's grid) from
// `camera` (PINHOLE or SIMPLE_PINHOLE; the maps have its size) at `cam_from_world`. Throws
// facet::Error for a distorted or invalid camera, a pose that is not finite, truncation <= 0,
// invalid options, or colours asked of a grid without them.
RaycastMaps RaycastTsdf(const VoxelBlockGrid& grid, double truncation, const Camera& camera,
                        const Rigid3& cam_from_world, const RaycastOptions& options = {});

}  // namespace facet::geometry
