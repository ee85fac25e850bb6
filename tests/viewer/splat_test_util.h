// Scenes and the CPU reference shared by the splat renderer tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "splatting/gaussians.h"
#include "splatting/rasterizer.h"
#include "viewer/splat_renderer.h"

namespace facet::viewer::test {

inline geometry::Camera TestCamera(int width = 160, int height = 120) {
  geometry::Camera camera;
  camera.model = geometry::CameraModelId::kPinhole;
  camera.width = width;
  camera.height = height;
  // fx != fy and an off-centre principal point, so a swapped axis or offset shows.
  camera.params = {0.9 * width, 0.95 * width, 0.49 * width, 0.52 * height};
  return camera;
}

// Random Gaussians in a box in front of the identity camera: anisotropic, rotated, all opacities,
// all SH bands non-zero (deterministic for a seed).
inline splatting::Gaussians RandomGaussians(int count, std::uint32_t seed) {
  splatting::Gaussians g(count, /*max_sh_degree=*/3);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), depth(2.0f, 6.0f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int i = 0; i < count; ++i) {
    const float z = depth(rng);
    g.means[3 * i] = 0.6f * z * u(rng);
    g.means[3 * i + 1] = 0.45f * z * u(rng);
    g.means[3 * i + 2] = z;
    for (int k = 0; k < 3; ++k) g.log_scales[3 * i + k] = std::log(0.01f) + 1.6f * std::abs(u(rng));
    for (int k = 0; k < 4; ++k) g.quats[4 * i + k] = normal(rng);
    g.opacities[i] = 2.0f * normal(rng);
    for (int c = 0; c < 3; ++c) g.sh_dc[3 * i + c] = 1.2f * u(rng);
    for (int k = 0; k < g.ShRestStride(); ++k) g.sh_rest[i * g.ShRestStride() + k] = 0.3f * u(rng);
  }
  return g;
}

// The CPU reference: splatting::RasterizeForward with the projection options SplatDrawOptions
// mirrors (its render mode and filters are the caller's to apply to `gaussians`).
inline splatting::RasterResult<float> RasterizeCpu(const splatting::Gaussians& gaussians,
                                                   const geometry::Camera& camera,
                                                   const geometry::Rigid3& cam_from_world,
                                                   const SplatDrawOptions& options,
                                                   const Eigen::Vector3f& background) {
  splatting::RasterOptions raster;
  raster.background = {background.x(), background.y(), background.z()};
  raster.sh_degree = options.sh_degree;
  raster.near_plane = float(options.near_m);
  raster.low_pass = options.low_pass;
  raster.clamp_factor = options.clamp_factor;
  splatting::RasterResult<float> result;
  splatting::RasterizeForward(gaussians.View(), splatting::MakeRasterCamera(camera, cam_from_world),
                              raster, &result);
  return result;
}

}  // namespace facet::viewer::test
