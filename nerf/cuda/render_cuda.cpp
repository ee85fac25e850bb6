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
                          const VolumeRenderingOptions& rendering,
                          NerfRenderWorkspaceCuda* workspace) {
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
  thread_local NerfRenderWorkspaceCuda thread_workspace;
  NerfRenderWorkspaceCuda& w = workspace != nullptr ? *workspace : thread_workspace;
  const std::vector<float> bg = {background.x(), background.y(), background.z()};
  w.background.Upload(bg);
  MarchRaysCudaInputs in;
  in.grid = grid.View();
  in.params = ResolveMarchParams(grid.aabb_min(), grid.aabb_max(), grid.options(), marching);
  in.jitter_seed = 0;
  for (std::int64_t begin = 0; begin < pixels; begin += kChunk) {
    const std::int64_t count = std::min(kChunk, pixels - begin);
    w.origins.Resize(3 * count);
    w.directions.Resize(3 * count);
    detail::LaunchPixelRays(view, width, begin, count, w.origins.data(), w.directions.data(),
                            nullptr);
    in.n_rays = count;
    in.origins = w.origins.data();
    in.directions = w.directions.data();
    w.offsets.Resize(count + 1);
    const std::int64_t n = CountRaySamplesCuda(in, w.offsets.data(), &w.march);
    // At least one element each, so that no pointer handed on is null.
    w.t.Resize(std::max<std::int64_t>(n, 1));
    w.dt.Resize(std::max<std::int64_t>(n, 1));
    w.positions.Resize(3 * std::max<std::int64_t>(n, 1));
    w.sample_directions.Resize(3 * std::max<std::int64_t>(n, 1));
    w.sigma.Resize(std::max<std::int64_t>(n, 1));
    w.rgb.Resize(3 * std::max<std::int64_t>(n, 1));
    FillRaySamplesCuda(in, w.offsets.data(), w.t.data(), w.dt.data(), w.positions.data(),
                       w.sample_directions.data());
    field.Radiance(w.positions.data(), w.sample_directions.data(), n, w.sigma.data(), w.rgb.data());
    w.colour.Resize(3 * count);
    w.opacity.Resize(count);
    w.depth.Resize(count);
    w.used.Resize(count);
    CompositeSamplesCuda samples;
    samples.n_rays = count;
    samples.ray_offsets = w.offsets.data();
    samples.t = w.t.data();
    samples.dt = w.dt.data();
    samples.sigma = w.sigma.data();
    samples.rgb = w.rgb.data();
    samples.background = w.background.data();
    samples.background_per_ray = false;
    RenderRaysCuda(samples, rendering.transmittance_threshold, w.colour.data(), w.opacity.data(),
                   w.depth.data(), w.used.data());
    // Expected distance along the unit ray, then its component along the optical axis.
    detail::LaunchCameraDepth(w.opacity.data(), w.directions.data(), axis, count, w.depth.data(),
                              nullptr);
    w.colour.Download(out.colour.data() + 3 * begin);
    w.opacity.Download(out.opacity.data() + begin);
    w.depth.Download(out.depth.data() + begin);
  }
  return out;
}

}  // namespace facet::nerf
