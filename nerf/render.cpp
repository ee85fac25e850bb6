#include "nerf/render.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "core/error.h"

namespace facet::nerf {
namespace {

// The distance along a ray (samples [begin, end)) where its opacity reaches 0.5, 0 if it never
// does. Sample i holds density sigma_i over [t_i - dt_i / 2, t_i + dt_i / 2] (t is the midpoint):
// within it the opacity grows as 1 - T exp(-sigma s), solved for s.
float MedianDistance(const RaySamples& samples, std::span<const float> sigma, std::size_t begin,
                     std::size_t end) {
  float transmittance = 1.0f;
  for (std::size_t j = begin; j < end; ++j) {
    const float next = transmittance * std::exp(-sigma[j] * samples.dt[j]);
    if (next <= 0.5f) {
      const float s = sigma[j] > 0.0f ? std::log(transmittance / 0.5f) / sigma[j] : 0.0f;
      return samples.t[j] - 0.5f * samples.dt[j] + std::clamp(s, 0.0f, samples.dt[j]);
    }
    transmittance = next;
  }
  return 0.0f;
}

}  // namespace

kernels::PinholeView PinholeViewOf(const geometry::Camera& camera,
                                   const geometry::Rigid3& cam_from_world) {
  kernels::PinholeView view;
  const Eigen::Matrix3f world_from_cam =
      cam_from_world.rotation.inverse().toRotationMatrix().cast<float>();
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) view.world_from_cam[3 * r + c] = world_from_cam(r, c);
  }
  const Eigen::Vector3f origin = geometry::CameraCenter(cam_from_world).cast<float>();
  for (int k = 0; k < 3; ++k) view.origin[k] = origin[k];
  view.fx = float(camera.params[0]);
  view.fy = float(camera.params[1]);
  view.cx = float(camera.params[2]);
  view.cy = float(camera.params[3]);
  return view;
}

Eigen::Vector3f PixelRayDirection(const geometry::Camera& camera,
                                  const Eigen::Matrix3f& world_from_cam, float x, float y) {
  kernels::PinholeView view;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) view.world_from_cam[3 * r + c] = world_from_cam(r, c);
  }
  view.fx = float(camera.params[0]);
  view.fy = float(camera.params[1]);
  view.cx = float(camera.params[2]);
  view.cy = float(camera.params[3]);
  float d[3];
  kernels::PixelRay(view, x, y, d);
  return {d[0], d[1], d[2]};
}

NerfImages RenderNerf(const NerfField& field, const OccupancyGrid& grid,
                      const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                      const Eigen::Vector3f& background, const RayMarchingOptions& marching,
                      const VolumeRenderingOptions& rendering) {
  FACET_CHECK(camera.model == geometry::CameraModelId::kPinhole,
              "NeRF renders PINHOLE cameras (got {}); undistort first", camera.ModelName());
  camera.Check();
  const int width = camera.width, height = camera.height;
  NerfImages out{ImageF32(width, height, 3), ImageF32(width, height, 1), ImageF32(width, height, 1),
                 ImageF32(width, height, 1)};
  const Eigen::Matrix3f world_from_cam =
      cam_from_world.rotation.inverse().toRotationMatrix().cast<float>();
  const Eigen::Vector3f origin = geometry::CameraCenter(cam_from_world).cast<float>();
  const Eigen::Vector3f axis = world_from_cam.col(2);  // the camera's z axis in the world
  const std::size_t pixels = std::size_t(width) * height;
  constexpr std::size_t kChunk = 1 << 12;  // rays per march: bounds the samples held at once
  std::vector<float> origins, directions, sigma, rgb, colour, opacity, depth;
  std::vector<std::uint32_t> used;
  const float bg[3] = {background.x(), background.y(), background.z()};
  for (std::size_t begin = 0; begin < pixels; begin += kChunk) {
    const std::size_t count = std::min(kChunk, pixels - begin);
    origins.resize(3 * count);
    directions.resize(3 * count);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t p = begin + i;
      const Eigen::Vector3f d = PixelRayDirection(camera, world_from_cam, float(p % width) + 0.5f,
                                                  float(p / width) + 0.5f);
      for (int k = 0; k < 3; ++k) {
        origins[3 * i + k] = origin[k];
        directions[3 * i + k] = d[k];
      }
    }
    const RaySamples samples = MarchRays(origins, directions, count, grid, marching, 0);
    sigma.resize(samples.size());
    rgb.resize(3 * samples.size());
    field.Radiance(samples.positions, samples.directions, samples.size(), sigma, rgb);
    colour.resize(3 * count);
    opacity.resize(count);
    depth.resize(count);
    used.resize(count);
    RenderRays({samples.ray_offsets, samples.t, samples.dt, sigma, rgb}, bg, rendering,
               {colour, opacity, depth, used});
    std::copy(colour.begin(), colour.end(), out.colour.data() + 3 * begin);
    for (std::size_t i = 0; i < count; ++i) {
      out.opacity.data()[begin + i] = opacity[i];
      const Eigen::Vector3f d(directions[3 * i], directions[3 * i + 1], directions[3 * i + 2]);
      // Expected distance along the unit ray, then its component along the optical axis.
      out.depth.data()[begin + i] = opacity[i] > 0.0f ? depth[i] / opacity[i] * d.dot(axis) : 0.0f;
      out.median_depth.data()[begin + i] =
          MedianDistance(samples, sigma, samples.ray_offsets[i], samples.ray_offsets[i + 1]) *
          d.dot(axis);
    }
  }
  return out;
}

}  // namespace facet::nerf
