#include "nerf/cuda/render_cuda.h"

#include <algorithm>
#include <vector>

#include "core/device_buffer.h"
#include "core/error.h"
#include "nerf/cuda/detail/launchers.h"
#include "nerf/cuda/field_cuda.h"
#include "nerf/cuda/occupancy_cuda.h"
#include "nerf/cuda/ray_marching_cuda.h"
#include "nerf/cuda/volume_rendering_cuda.h"

namespace facet::nerf {
namespace {

// Rays per march: bounds the samples held at once (at most kChunk x max_samples_per_ray).
constexpr std::int64_t kChunk = std::int64_t(1) << 14;

}  // namespace

NerfImages RenderNerfCuda(const NerfFieldCuda& field, const OccupancyGridCuda& grid,
                          const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                          const Eigen::Vector3f& background, const RayMarchingOptions& marching,
                          const VolumeRenderingOptions& rendering) {
  FACET_CHECK(camera.model == geometry::CameraModelId::kPinhole,
              "NeRF renders PINHOLE cameras (got {}); undistort first", camera.ModelName());
  camera.Check();
  marching.Check();
  rendering.Check();
  const int width = camera.width, height = camera.height;
  NerfImages out{ImageF32(width, height, 3), ImageF32(width, height, 1),
                 ImageF32(width, height, 1)};
  const kernels::PinholeView view = PinholeViewOf(camera, cam_from_world);
  const float axis[3] = {view.world_from_cam[2], view.world_from_cam[5], view.world_from_cam[8]};
  const std::int64_t pixels = std::int64_t(width) * height;
  const std::vector<float> bg = {background.x(), background.y(), background.z()};
  DeviceBuffer<float> d_background(bg);
  DeviceBuffer<float> origins, directions, t, dt, positions, sample_directions, sigma, rgb;
  DeviceBuffer<float> colour, opacity, depth;
  DeviceBuffer<std::uint32_t> offsets, used;
  MarchRaysCudaInputs in;
  in.grid = grid.View();
  in.params = ResolveMarchParams(grid.aabb_min(), grid.aabb_max(), grid.options(), marching);
  in.jitter_seed = 0;
  for (std::int64_t begin = 0; begin < pixels; begin += kChunk) {
    const std::int64_t count = std::min(kChunk, pixels - begin);
    origins.Resize(3 * count);
    directions.Resize(3 * count);
    detail::LaunchPixelRays(view, width, begin, count, origins.data(), directions.data(), nullptr);
    in.n_rays = count;
    in.origins = origins.data();
    in.directions = directions.data();
    offsets.Resize(count + 1);
    const std::int64_t n = CountRaySamplesCuda(in, offsets.data());
    // At least one element each, so that no pointer handed on is null.
    t.Resize(std::max<std::int64_t>(n, 1));
    dt.Resize(std::max<std::int64_t>(n, 1));
    positions.Resize(3 * std::max<std::int64_t>(n, 1));
    sample_directions.Resize(3 * std::max<std::int64_t>(n, 1));
    sigma.Resize(std::max<std::int64_t>(n, 1));
    rgb.Resize(3 * std::max<std::int64_t>(n, 1));
    FillRaySamplesCuda(in, offsets.data(), t.data(), dt.data(), positions.data(),
                       sample_directions.data());
    field.Radiance(positions.data(), sample_directions.data(), n, sigma.data(), rgb.data());
    colour.Resize(3 * count);
    opacity.Resize(count);
    depth.Resize(count);
    used.Resize(count);
    CompositeSamplesCuda samples;
    samples.n_rays = count;
    samples.ray_offsets = offsets.data();
    samples.t = t.data();
    samples.dt = dt.data();
    samples.sigma = sigma.data();
    samples.rgb = rgb.data();
    samples.background = d_background.data();
    samples.background_per_ray = false;
    RenderRaysCuda(samples, rendering.transmittance_threshold, colour.data(), opacity.data(),
                   depth.data(), used.data());
    // Expected distance along the unit ray, then its component along the optical axis.
    detail::LaunchCameraDepth(opacity.data(), directions.data(), axis, count, depth.data(),
                              nullptr);
    colour.Download(out.colour.data() + 3 * begin);
    opacity.Download(out.opacity.data() + begin);
    depth.Download(out.depth.data() + begin);
  }
  return out;
}

}  // namespace facet::nerf
