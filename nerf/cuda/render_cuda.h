// RenderNerfCuda: RenderNerf (nerf/render.h) on the device: one ray per pixel centre, marched
// through the device occupancy grid (ray_marching_cuda.h), the field evaluated by NerfFieldCuda
// and composited by volume_rendering_cuda.h, in chunks of rays; the images come back to the host.
// The same per-ray code as the CPU render, so the images agree up to float rounding. Include only
// from code built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <Eigen/Core>

#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "nerf/render.h"

namespace facet::nerf {

class NerfFieldCuda;
class OccupancyGridCuda;

// `camera` PINHOLE (facet::Error otherwise), `background` sRGB. Overwrites the field's workspace
// (not during a training step).
NerfImages RenderNerfCuda(const NerfFieldCuda& field, const OccupancyGridCuda& grid,
                          const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                          const Eigen::Vector3f& background,
                          const RayMarchingOptions& marching = {},
                          const VolumeRenderingOptions& rendering = {});

}  // namespace facet::nerf
