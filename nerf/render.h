// Rendering a NeRF view: one ray per pixel centre (facet's pixel convention) marched through the
// occupancy grid and composited; colour over a background, opacity, and the expected and median
// depths.
#pragma once

#include <Eigen/Core>

#include "core/image.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "nerf/field.h"
#include "nerf/kernels/pixel_rays.h"
#include "nerf/occupancy_grid.h"
#include "nerf/ray_marching.h"
#include "nerf/volume_rendering.h"

namespace facet::nerf {

struct NerfImages {
  ImageF32 colour{};   // 3 channels, sRGB in [0, 1], composited over the background
  ImageF32 opacity{};  // accumulated alpha in [0, 1]
  // Camera-frame z (scene units) of the expected termination point, sum w t / opacity along the
  // ray converted to z; 0 where the opacity is 0.
  ImageF32 depth{};
  // Camera-frame z of the median termination point, where the accumulated opacity reaches 0.5
  // (exact for the piecewise-constant density of the samples); 0 where it never does. Unlike the
  // expected depth it is not pulled off the surface by faint density in front of or behind it.
  ImageF32 median_depth{};
};

// The unit world direction through image point (x, y) (pixels, facet's convention: the first
// pixel's centre is (0.5, 0.5)) of a PINHOLE camera with world_from_cam's rotation.
Eigen::Vector3f PixelRayDirection(const geometry::Camera& camera,
                                  const Eigen::Matrix3f& world_from_cam, float x, float y);

// The camera as the per-ray kernels take it (rotation, centre and PINHOLE intrinsics as floats).
kernels::PinholeView PinholeViewOf(const geometry::Camera& camera,
                                   const geometry::Rigid3& cam_from_world);

// Renders `camera` (PINHOLE; facet::Error otherwise) at cam_from_world, `background` sRGB.
NerfImages RenderNerf(const NerfField& field, const OccupancyGrid& grid,
                      const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                      const Eigen::Vector3f& background, const RayMarchingOptions& marching = {},
                      const VolumeRenderingOptions& rendering = {});

}  // namespace facet::nerf
