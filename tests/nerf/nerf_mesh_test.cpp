// The surface of a trained NeRF (TSDF fusion of rendered depth): the sphere scene's field renders
// its median depth on the sphere and meshes to one closed surface on the true sphere, coloured as
// the photos.
#include "nerf/nerf_mesh.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "geometry/mesh_checks.h"
#include "geometry/mesh_processing.h"
#include "nerf/render.h"
#include "nerf/trainer.h"
#include "sphere_scene.h"

namespace facet::nerf {
namespace {

float LinearToSrgb(float c) {
  return c <= 0.0031308f ? 12.92f * c : 1.055f * std::pow(c, 1.0f / 2.4f) - 0.055f;
}

TEST(NerfMesh, TrainedSphereMeshesToTheSphere) {
  const datasets::TrainingData data = test::SphereData();
  Eigen::Vector3f aabb_min, aabb_max;
  SceneBox(data, &aabb_min, &aabb_max);
  const NerfTrainOptions training = test::SmallTraining();
  NerfTrainer trainer(data, aabb_min, aabb_max, test::SmallField(), training);
  for (int step = 0; step < 300; ++step) trainer.Step();

  // The median depth of the held-out views lies on the sphere: |eye + z/cos * d| = r.
  double median_error = 0.0, expected_error = 0.0;
  int pixels = 0;
  for (const datasets::TrainingView& view : data.test) {
    const NerfImages images = RenderNerf(trainer.field(), trainer.occupancy(), view.camera,
                                         view.cam_from_world, data.background, training.marching);
    const Eigen::Vector3d eye = geometry::CameraCenter(view.cam_from_world);
    const Eigen::Matrix3d world_from_cam =
        view.cam_from_world.rotation.inverse().toRotationMatrix();
    for (int y = 0; y < test::kSize; ++y) {
      for (int x = 0; x < test::kSize; ++x) {
        const Eigen::Vector3d ray((x + 0.5 - test::kSize / 2.0) / 50.0,
                                  (y + 0.5 - test::kSize / 2.0) / 50.0, 1.0);
        const Eigen::Vector3d d = world_from_cam * ray;  // z = 1 along the axis
        const double b = eye.dot(d), a = d.squaredNorm();
        const double disc = b * b - a * (eye.squaredNorm() - test::kRadius * test::kRadius);
        // Rays passing within 0.8 r of the centre (the rim's depth is steep), seen as opaque.
        const double miss = eye.squaredNorm() - b * b / a;
        if (miss > 0.64 * test::kRadius * test::kRadius || images.opacity(x, y) < 0.9f) continue;
        const double z = (-b - std::sqrt(disc)) / a;
        median_error += std::abs(images.median_depth(x, y) - z);
        expected_error += std::abs(images.depth(x, y) - z);
        ++pixels;
      }
    }
  }
  ASSERT_GT(pixels, 100);
  std::printf("sphere depth: mean error %.4f (median), %.4f (expected) over %d pixels\n",
              median_error / pixels, expected_error / pixels, pixels);
  // The expected depth is pulled off the surface by the density's tails, the median less so.
  EXPECT_LT(median_error, expected_error);
  EXPECT_LT(median_error / pixels, 0.1 * test::kRadius);

  std::vector<NerfMeshView> views;
  for (const auto* set : {&data.train, &data.test}) {
    for (const datasets::TrainingView& view : *set)
      views.push_back({view.camera, view.cam_from_world});
  }
  NerfMeshOptions options;
  options.resolution = 64;
  options.marching = training.marching;
  geometry::TriangleMesh mesh = MeshNerf(trainer.field(), trainer.occupancy(), views, options);
  ASSERT_FALSE(mesh.triangles.empty());
  EXPECT_TRUE(geometry::CheckWatertight(mesh).watertight);
  // `facet mesh`'s default cleanup (components under 1% of the largest one's area) leaves the
  // sphere alone.
  const std::size_t removed = geometry::RemoveSmallComponents(mesh, {.min_area_fraction = 0.01});
  const geometry::WatertightReport check = geometry::CheckWatertight(mesh);
  EXPECT_TRUE(check.watertight) << check.reason;
  EXPECT_EQ(check.components, 1) << removed << " removed";
  // The voxel is 1.5 / 64 = 2.3 cm; the photos are 40 px across the sphere's 1 m diameter.
  const double voxel = 1.5 / 64;
  double radius_error = 0.0, colour_error = 0.0;
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    const double r = mesh.vertices[v].norm();
    radius_error += std::abs(r - test::kRadius);
    const Eigen::Vector3d n = mesh.vertices[v] / r;
    for (int k = 0; k < 3; ++k) {
      colour_error += std::abs(LinearToSrgb(mesh.vertex_colors[v][k]) - (0.5 + 0.4 * n[k]));
    }
  }
  const double mean_radius_error = radius_error / double(mesh.vertices.size());
  const double mean_colour_error = colour_error / (3.0 * double(mesh.vertices.size()));
  std::printf("sphere mesh: %zu triangles, mean radius error %.4f, mean colour error %.4f\n",
              mesh.triangles.size(), mean_radius_error, mean_colour_error);
  EXPECT_LT(mean_radius_error, voxel);
  EXPECT_LT(mean_colour_error, 0.05);
}

TEST(NerfMesh, BadInputThrows) {
  const NerfField field(test::SmallField(), -Eigen::Vector3f::Ones(), Eigen::Vector3f::Ones(), 1);
  const OccupancyGrid grid(-Eigen::Vector3f::Ones(), Eigen::Vector3f::Ones(), {});
  EXPECT_THROW(MeshNerf(field, grid, {}), Error);
  const NerfMeshView view{geometry::Camera::Create(geometry::CameraModelId::kPinhole, 20, 16, 16),
                          geometry::Rigid3()};
  EXPECT_THROW(MeshNerf(field, grid, std::span(&view, 1), {.resolution = 4}), Error);
  EXPECT_THROW(MeshNerf(field, grid, std::span(&view, 1), {.min_opacity = 0.0f}), Error);
}

}  // namespace
}  // namespace facet::nerf
