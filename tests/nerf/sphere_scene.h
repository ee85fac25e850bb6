// A tiny analytic NeRF scene shared by the trainer and snapshot tests: RGBA photos of a shaded
// sphere (radius 0.5 at the origin; colour from the normal, transparent outside the exact
// silhouette) from 24 cameras on a spiral 2 units away, every 8th held out; and a small field
// and training setup that learn it in seconds.
#pragma once

#include <Eigen/Geometry>

#include <cmath>
#include <cstdint>

#include "datasets/synthetic/synthetic_scene.h"
#include "datasets/training_data.h"
#include "nerf/trainer.h"

namespace facet::nerf::test {

inline constexpr int kSize = 40;
inline constexpr double kRadius = 0.5;

// A view of the sphere: colour from the surface normal, alpha 0 off the silhouette.
inline datasets::TrainingView SphereView(const Eigen::Vector3d& eye, bool held_out) {
  datasets::TrainingView view;
  view.camera = geometry::Camera::Create(geometry::CameraModelId::kPinhole, 50.0, kSize, kSize);
  view.cam_from_world = datasets::synthetic::LookAt(eye, Eigen::Vector3d::Zero());
  view.held_out = held_out;
  view.image = ImageU8(kSize, kSize, 4);
  const Eigen::Matrix3d world_from_cam = view.cam_from_world.rotation.inverse().toRotationMatrix();
  for (int y = 0; y < kSize; ++y) {
    for (int x = 0; x < kSize; ++x) {
      const Eigen::Vector3d d =
          (world_from_cam *
           Eigen::Vector3d((x + 0.5 - kSize / 2.0) / 50.0, (y + 0.5 - kSize / 2.0) / 50.0, 1.0))
              .normalized();
      // |eye + t d| = r.
      const double b = eye.dot(d), c = eye.squaredNorm() - kRadius * kRadius;
      const double disc = b * b - c;
      Eigen::Vector3d colour = Eigen::Vector3d::Zero();
      std::uint8_t alpha = 0;
      if (disc > 0.0) {
        const Eigen::Vector3d normal = (eye + (-b - std::sqrt(disc)) * d).normalized();
        colour = Eigen::Vector3d::Constant(0.5) + 0.4 * normal;
        alpha = 255;
      }
      for (int k = 0; k < 3; ++k) view.image(x, y, k) = std::uint8_t(std::lround(255 * colour[k]));
      view.image(x, y, 3) = alpha;
    }
  }
  return view;
}

inline datasets::TrainingData SphereData() {
  datasets::TrainingData data;
  data.background = Eigen::Vector3f::Ones();
  data.has_alpha = true;
  const int views = 24;
  for (int i = 0; i < views; ++i) {
    // A spiral over the upper and lower hemispheres, 2 units from the centre.
    const double z = 1.6 * (i + 0.5) / views - 0.8;
    const double phi = 2.4 * i;
    const Eigen::Vector3d eye = 2.0 * Eigen::Vector3d(std::sqrt(1 - z * z) * std::cos(phi),
                                                      std::sqrt(1 - z * z) * std::sin(phi), z);
    datasets::TrainingView view = SphereView(eye, i % 8 == 0);
    (view.held_out ? data.test : data.train).push_back(std::move(view));
  }
  return data;
}

inline NerfFieldOptions SmallField() {
  NerfFieldOptions field;
  field.grid.levels = 8;
  field.grid.log2_table_size = 14;
  field.grid.base_resolution = 4;
  field.grid.max_resolution = 64;
  field.density_hidden = 32;
  field.color_hidden = 32;
  return field;
}

inline NerfTrainOptions SmallTraining() {
  NerfTrainOptions options;
  options.rays_per_batch = 1024;
  options.occupancy.resolution = 32;
  options.occupancy.warmup_steps = 64;
  options.marching.min_step = 0.01f;
  return options;
}

}  // namespace facet::nerf::test
