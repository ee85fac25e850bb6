#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/mesh_checks.h"
#include "datasets/synthetic/synthetic_scene.h"
#include "datasets/synthetic/world.h"

namespace facet::datasets::synthetic {
namespace {

double RotationAngleDeg(const Eigen::Quaterniond& a, const Eigen::Quaterniond& b) {
  return Eigen::AngleAxisd(a.inverse() * b).angle() * 180.0 / M_PI;
}

// Distance from a point to the nearest face of the room box.
double DistanceToRoomFaces(const Eigen::Vector3d& p) {
  const geometry::Bounds3 room = RoomBounds();
  return std::min((p - room.min).cwiseAbs().minCoeff(), (room.max - p).cwiseAbs().minCoeff());
}

TEST(SyntheticObject, MeshIsClosedConnectedGenusOneAndOnTheField) {
  const double voxel = 0.01;
  const geometry::TriangleMesh mesh = MakeObjectMesh(voxel);
  EXPECT_EQ(testing::CountBoundaryOrNonManifoldEdges(mesh), 0u);
  EXPECT_EQ(testing::CountComponents(mesh), 1u);  // the tray joins every part
  // One through-hole (the mug's handle): Euler characteristic 2 - 2g = 0.
  const auto v = static_cast<long>(mesh.vertices.size()),
             f = static_cast<long>(mesh.triangles.size());
  EXPECT_EQ(v - 3 * f / 2 + f, 0);
  EXPECT_GT(testing::SignedVolume(mesh), 0.0);
  // Each vertex lies on a tetrahedron edge (at most sqrt(3) voxels long) whose ends have opposite
  // signs, and the field is 1-Lipschitz, so |field| < sqrt(3) * voxel there; where the surface is
  // smooth, linear interpolation is far more accurate than that.
  std::vector<double> errors;
  for (const auto& p : mesh.vertices) errors.push_back(std::abs(ObjectSdf(p)));
  std::sort(errors.begin(), errors.end());
  EXPECT_LT(errors.back(), std::sqrt(3.0) * voxel);
  EXPECT_LT(errors[errors.size() / 2], 0.05 * voxel);
}

TEST(SyntheticObject, FieldIsNegativeInsideThePartsAndPositiveInTheCavity) {
  EXPECT_LT(ObjectSdf({0.0, 0.0, 0.025}), 0.0);                   // inside the tray
  EXPECT_GT(ObjectSdf({0.17, 0.05, 0.40}), 0.0);                  // inside the mug's cavity: empty
  EXPECT_LT(ObjectSdf({0.17, 0.05, 0.07}), 0.0);                  // the mug's floor
  EXPECT_GT(ObjectSdf({0.45, 0.05, 0.30}), 0.0);                  // the handle's hole
  EXPECT_GT(ObjectSdf({-0.30, 0.20, 0.235}), 0.0);                // the block's dent
  EXPECT_NEAR(ObjectNormal({-0.45, -0.3, 0.05}).z(), 1.0, 1e-6);  // the tray's top faces up
}

TEST(SyntheticScene, LookAtPutsTheTargetOnTheOpticalAxis) {
  const Eigen::Vector3d eye(2.0, 1.0, 1.5), target(0.1, -0.2, 0.3);
  const geometry::Rigid3 cam_from_world = LookAt(eye, target);
  const Eigen::Vector3d t = cam_from_world * target;
  EXPECT_NEAR(t.x(), 0.0, 1e-12);
  EXPECT_NEAR(t.y(), 0.0, 1e-12);
  EXPECT_NEAR(t.z(), (target - eye).norm(), 1e-12);
  // Image "down" (camera +y) points down in the world.
  EXPECT_LT((cam_from_world.rotation.inverse() * Eigen::Vector3d::UnitY()).z(), 0.0);
  EXPECT_LT((geometry::CameraCenter(cam_from_world) - eye).norm(), 1e-12);
}

TEST(SyntheticScene, OrbitSurroundsTheObjectFromInsideTheRoom) {
  const auto poses = OrbitTrajectory(40, 3);
  ASSERT_EQ(poses.size(), 40u);
  const geometry::Bounds3 room = RoomBounds();
  for (const auto& pose : poses) {
    const Eigen::Vector3d c = geometry::CameraCenter(pose);
    EXPECT_TRUE((c.array() > room.min.array()).all() && (c.array() < room.max.array()).all());
    const double distance = (c - ObjectCenter()).norm();
    // Orbit radius 1.85-2.15 m at heights 0.7-1.4 m around a centre 0.22 m up (+-4 cm jitter).
    EXPECT_GT(distance, 1.85);
    EXPECT_LT(distance, 2.5);
    EXPECT_GT((pose * ObjectCenter()).z(), 1.5);  // the object is in front
  }
  // Consecutive views: 9 degrees apart around the object, enough overlap for matching.
  for (std::size_t i = 1; i < poses.size(); ++i) {
    EXPECT_LT(RotationAngleDeg(poses[i - 1].rotation, poses[i].rotation), 15.0);
  }
}

TEST(SyntheticScene, HandheldTrajectoryIsSmooth) {
  const auto poses = HandheldTrajectory(100, 0);
  for (std::size_t i = 1; i < poses.size(); ++i) {
    const double step =
        (geometry::CameraCenter(poses[i]) - geometry::CameraCenter(poses[i - 1])).norm();
    EXPECT_LT(step, 0.1);
    EXPECT_LT(RotationAngleDeg(poses[i - 1].rotation, poses[i].rotation), 4.0);
  }
}

SynthOptions Small() {
  SynthOptions options;
  options.num_views = 3;
  options.width = 96;
  options.height = 72;
  options.mesh_voxel_size = 0.012;
  return options;
}

TEST(SyntheticScene, RenderingIsDeterministicForASeed) {
  const SyntheticScene a = MakeSyntheticScene(Small());
  const Renderer renderer_a = MakeRenderer(a);
  const RenderedView first = RenderSyntheticView(a, renderer_a, 1);
  const RenderedView again = RenderSyntheticView(a, renderer_a, 1);
  ASSERT_EQ(first.rgb.size(), 96u * 72u * 3u);
  EXPECT_TRUE(std::equal(first.rgb.data(), first.rgb.data() + first.rgb.size(), again.rgb.data()));

  SynthOptions other = Small();
  other.seed = 1;
  const SyntheticScene b = MakeSyntheticScene(other);
  const RenderedView different = RenderSyntheticView(b, MakeRenderer(b), 1);
  EXPECT_FALSE(
      std::equal(first.rgb.data(), first.rgb.data() + first.rgb.size(), different.rgb.data()));
}

// Every depth sample, unprojected through the (possibly distorted) camera, lies on the object's
// mesh surface or on the room's walls: the depth maps are exact ground truth.
void ExpectDepthOnTheSurfaces(const SynthOptions& options) {
  const SyntheticScene synthetic = MakeSyntheticScene(options);
  const Renderer renderer = MakeRenderer(synthetic);
  const geometry::Camera& camera = synthetic.scene.cameras.at(CameraId(1));
  std::vector<double> object_errors;
  for (int view = 0; view < options.num_views; ++view) {
    const RenderedView rendered = RenderSyntheticView(synthetic, renderer, view);
    ASSERT_EQ(rendered.depth.width(), options.width);
    const Image& image =
        synthetic.scene.images.at(synthetic.image_order[static_cast<std::size_t>(view)]);
    const geometry::Rigid3 world_from_cam = image.cam_from_world->Inverse();
    for (int y = 0; y < options.height; ++y) {
      for (int x = 0; x < options.width; ++x) {
        const auto uv = camera.CamFromImg(Eigen::Vector2d(x + 0.5, y + 0.5));
        ASSERT_TRUE(uv.has_value());
        const double z = rendered.depth(x, y);
        const Eigen::Vector3d p = world_from_cam * Eigen::Vector3d(uv->x() * z, uv->y() * z, z);
        const double to_object = std::abs(ObjectSdf(p));
        const double to_room = DistanceToRoomFaces(p);
        // On the room's faces exactly, or on the object's mesh, whose points are within
        // sqrt(3) voxels of the field's zero set (see MeshIsClosedConnectedGenusOneAndOnTheField).
        ASSERT_TRUE(to_room < 1e-6 || to_object < std::sqrt(3.0) * options.mesh_voxel_size)
            << "view " << view << " pixel " << x << "," << y << ": " << to_room << " m from the "
            << "room, " << to_object << " m from the object";
        if (to_room >= 1e-6) object_errors.push_back(to_object);
      }
    }
  }
  EXPECT_GT(object_errors.size(),
            std::size_t(options.num_views * options.width * options.height / 10));
  std::sort(object_errors.begin(), object_errors.end());
  EXPECT_LT(object_errors[object_errors.size() / 2], 0.1 * options.mesh_voxel_size);
}

TEST(SyntheticScene, DepthMapsAreExactForAPinholeCamera) {
  SynthOptions options = Small();
  options.rgbd = true;
  ExpectDepthOnTheSurfaces(options);
}

TEST(SyntheticScene, DepthMapsAreExactThroughRadialDistortion) {
  SynthOptions options = Small();
  options.rgbd = true;
  options.distortion = -0.05;
  ExpectDepthOnTheSurfaces(options);
}

TEST(SyntheticScene, SensorNoiseHasTheRequestedSpread) {
  SynthOptions options = Small();
  options.width = 160;
  options.height = 120;
  const SyntheticScene clean = MakeSyntheticScene(options);
  const RenderedView a = RenderSyntheticView(clean, MakeRenderer(clean), 0);
  options.noise = true;
  const SyntheticScene noisy = MakeSyntheticScene(options);
  const RenderedView b = RenderSyntheticView(noisy, MakeRenderer(noisy), 0);
  double sum = 0.0, sum2 = 0.0;
  for (std::size_t i = 0; i < a.rgb.size(); ++i) {
    const double d = double(b.rgb.data()[i]) - double(a.rgb.data()[i]);
    sum += d;
    sum2 += d * d;
  }
  const double n = static_cast<double>(a.rgb.size());
  const double stddev = std::sqrt(sum2 / n - (sum / n) * (sum / n));
  // sigma = 2 grey levels, plus the +-0.5 quantisation of both images (variance 1/12 each).
  EXPECT_NEAR(stddev, std::sqrt(4.0 + 2.0 / 12.0), 0.15);
  EXPECT_NEAR(sum / n, 0.0, 0.1);
}

TEST(SyntheticScene, OptionsAreChecked) {
  SynthOptions options;
  options.num_views = 0;
  EXPECT_THROW(MakeSyntheticScene(options), Error);
  options = SynthOptions();
  options.width = 4;
  EXPECT_THROW(MakeSyntheticScene(options), Error);
  options = SynthOptions();
  options.distortion = 0.9;
  EXPECT_THROW(MakeSyntheticScene(options), Error);
}

}  // namespace
}  // namespace facet::datasets::synthetic
