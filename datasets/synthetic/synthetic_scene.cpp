#include "datasets/synthetic/synthetic_scene.h"

#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "core/error.h"
#include "datasets/synthetic/noise.h"
#include "datasets/synthetic/world.h"

namespace facet::datasets::synthetic {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;

// Deterministic value in [-1, 1] for a (seed, stream) pair.
double Jitter(std::uint32_t seed, int stream) {
  return 2.0 * HashToUnit(HashLattice(stream, 7, 3, seed)) - 1.0;
}

}  // namespace

void SynthOptions::Check() const {
  FACET_CHECK(num_views >= 1 && num_views <= 100000, "--views must be in 1-100000 (got {})",
              num_views);
  FACET_CHECK(width >= 16 && height >= 16 && width <= 16384 && height <= 16384,
              "--size must be between 16x16 and 16384x16384 (got {}x{})", width, height);
  FACET_CHECK(std::abs(distortion) <= 0.2, "--distortion must be in [-0.2, 0.2] (got {})",
              distortion);
  FACET_CHECK(focal_factor >= 0.3 && focal_factor <= 5.0,
              "focal factor must be in [0.3, 5] (got {})", focal_factor);
  FACET_CHECK(supersampling >= 1 && supersampling <= 4, "supersampling must be 1-4 (got {})",
              supersampling);
  FACET_CHECK(mesh_voxel_size >= 0.002 && mesh_voxel_size <= 0.05,
              "mesh voxel size must be in [0.002, 0.05] m (got {})", mesh_voxel_size);
}

geometry::Rigid3 LookAt(const Eigen::Vector3d& eye, const Eigen::Vector3d& target) {
  return geometry::LookAt(eye, target, Eigen::Vector3d::UnitZ());
}

std::vector<geometry::Rigid3> OrbitTrajectory(int num_views, std::uint32_t seed) {
  std::vector<geometry::Rigid3> poses;
  const double phase = kTwoPi * HashToUnit(HashLattice(1, 2, 3, seed));
  for (int i = 0; i < num_views; ++i) {
    const double theta = phase + kTwoPi * i / num_views;
    // Radius and height vary smoothly around the orbit so views differ in scale and elevation.
    const double radius = 2.0 + 0.15 * std::sin(3.0 * theta + 0.5);
    const double height = 1.05 + 0.35 * std::sin(2.0 * theta + 1.3);
    const Eigen::Vector3d eye(radius * std::cos(theta), radius * std::sin(theta), height);
    const Eigen::Vector3d target =
        ObjectCenter() + 0.04 * Eigen::Vector3d(Jitter(seed, 3 * i), Jitter(seed, 3 * i + 1),
                                                Jitter(seed, 3 * i + 2));
    poses.push_back(LookAt(eye, target));
  }
  return poses;
}

std::vector<geometry::Rigid3> HandheldTrajectory(int num_views, std::uint32_t seed) {
  std::vector<geometry::Rigid3> poses;
  const double phase = kTwoPi * HashToUnit(HashLattice(4, 5, 6, seed));
  for (int i = 0; i < num_views; ++i) {
    // Frames at 30 Hz of a person walking slowly around the object (0.25 rad/s, about 1.4 cm and
    // 0.5 degrees per frame), with the sway of a hand-held camera: slow wobbles of the position and
    // of the point looked at, and a slight roll. Half an orbit takes about 12 s (377 frames).
    const double t = i / 30.0;
    const double theta = phase + 0.25 * t;
    const double radius = 1.7 + 0.12 * std::sin(kTwoPi * 0.15 * t);
    const double height = 1.2 + 0.08 * std::sin(kTwoPi * 0.23 * t + 0.7);
    const Eigen::Vector3d eye(radius * std::cos(theta), radius * std::sin(theta), height);
    const Eigen::Vector3d target =
        ObjectCenter() + Eigen::Vector3d(0.08 * std::sin(kTwoPi * 0.1 * t),
                                         0.08 * std::cos(kTwoPi * 0.13 * t),
                                         0.05 * std::sin(kTwoPi * 0.07 * t));
    geometry::Rigid3 cam_from_world = LookAt(eye, target);
    const double roll = 0.04 * std::sin(kTwoPi * 0.3 * t + 0.3);
    const Eigen::AngleAxisd roll_in_cam(roll, Eigen::Vector3d::UnitZ());
    cam_from_world.rotation =
        (Eigen::Quaterniond(roll_in_cam) * cam_from_world.rotation).normalized();
    cam_from_world.translation = roll_in_cam * cam_from_world.translation;
    poses.push_back(cam_from_world);
  }
  return poses;
}

SyntheticScene MakeSyntheticScene(const SynthOptions& options) {
  options.Check();
  SyntheticScene synthetic;
  synthetic.options = options;
  const double focal = options.focal_factor * std::max(options.width, options.height);
  geometry::Camera camera = options.distortion != 0.0
                                ? geometry::Camera::Create(geometry::CameraModelId::kSimpleRadial,
                                                           focal, options.width, options.height)
                                : geometry::Camera::Create(geometry::CameraModelId::kPinhole, focal,
                                                           options.width, options.height);
  if (options.distortion != 0.0) camera.params[3] = options.distortion;
  synthetic.scene.cameras[CameraId(1)] = camera;

  const std::vector<geometry::Rigid3> poses =
      options.rgbd ? HandheldTrajectory(options.num_views, options.seed)
                   : OrbitTrajectory(options.num_views, options.seed);
  for (int i = 0; i < options.num_views; ++i) {
    Image image;
    image.id = ImageId(static_cast<std::uint32_t>(i + 1));
    image.name = fmt::format("{:05d}.png", i);
    image.camera_id = CameraId(1);
    image.cam_from_world = poses[static_cast<std::size_t>(i)];
    synthetic.image_order.push_back(image.id);
    synthetic.scene.images[image.id] = std::move(image);
  }
  synthetic.object_mesh = MakeObjectMesh(options.mesh_voxel_size);
  return synthetic;
}

Renderer MakeRenderer(const SyntheticScene& synthetic) {
  RenderOptions options;
  options.supersampling = synthetic.options.supersampling;
  options.texture_seed = synthetic.options.seed;
  options.noise_sigma = synthetic.options.noise ? 2.0 / 255.0 : 0.0;
  return Renderer(synthetic.object_mesh, synthetic.scene.cameras.at(CameraId(1)), options);
}

RenderedView RenderSyntheticView(const SyntheticScene& synthetic, const Renderer& renderer,
                                 int index) {
  FACET_CHECK(index >= 0 && index < static_cast<int>(synthetic.image_order.size()),
              "view index {} is out of range (the scene has {} views)", index,
              synthetic.image_order.size());
  const Image& image =
      synthetic.scene.images.at(synthetic.image_order[static_cast<std::size_t>(index)]);
  return renderer.Render(*image.cam_from_world, synthetic.options.rgbd,
                         synthetic.options.seed * 7919u + static_cast<std::uint32_t>(index));
}

}  // namespace facet::datasets::synthetic
