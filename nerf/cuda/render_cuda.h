// RenderNerfCuda: RenderNerf (nerf/render.h) on the device: one ray per pixel centre, marched
// through the device occupancy grid (ray_marching_cuda.h), the field evaluated by NerfFieldCuda
// and composited by volume_rendering_cuda.h, in chunks of rays; the images come back to the host.
// The same per-ray code as the CPU render, so the images agree up to float rounding. Include only
// from code built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <Eigen/Core>

#include <cstdint>

#include "core/device_buffer.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "nerf/cuda/ray_marching_cuda.h"
#include "nerf/render.h"

namespace facet::nerf {

class NerfFieldCuda;
class OccupancyGridCuda;

// The device arrays of one chunk of rays, grown and never shrunk: a caller rendering many views
// (the trainer's held-out evaluation, a camera path) keeps one, so that a view allocates nothing
// once the first has been rendered (cudaFree synchronises the device).
struct NerfRenderWorkspaceCuda {
  DeviceBuffer<float> background;
  DeviceBuffer<float> origins, directions, t, dt, positions, sample_directions, sigma, rgb;
  DeviceBuffer<float> colour, opacity, depth;
  DeviceBuffer<std::uint32_t> offsets, used;
  RayMarchScratchCuda march;
};

// `camera` PINHOLE (facet::Error otherwise), `background` sRGB. Overwrites the field's workspace
// (not during a training step). `workspace` null: a grow-only workspace of the calling thread.
NerfImages RenderNerfCuda(const NerfFieldCuda& field, const OccupancyGridCuda& grid,
                          const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                          const Eigen::Vector3f& background,
                          const RayMarchingOptions& marching = {},
                          const VolumeRenderingOptions& rendering = {},
                          NerfRenderWorkspaceCuda* workspace = nullptr);

}  // namespace facet::nerf
