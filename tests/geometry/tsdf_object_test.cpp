// TSDF fusion of the synthetic scene's exact depth maps, then marching cubes: the acceptance test
// of issue 6 ("synthetic scene ground-truth depth maps -> TSDF -> marching cubes: watertight,
// Chamfer to the ground-truth object <= 0.5% of its bounding-box diagonal").
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "datasets/synthetic/renderer.h"
#include "datasets/synthetic/synthetic_scene.h"
#include "datasets/synthetic/world.h"
#include "geometry/mesh_checks.h"
#include "geometry/tsdf_volume.h"

namespace facet::geometry {
namespace {

namespace synthetic = datasets::synthetic;

// Keeps the depth of pixels that see the object (within `tolerance` of its surface) and clears
// the rest (floor, walls), so that only the object is fused.
void MaskToObject(const Camera& camera, const Rigid3& cam_from_world, double tolerance,
                  ImageF32* depth) {
  const Rigid3 world_from_cam = cam_from_world.Inverse();
  const Eigen::Vector2d principal = camera.PrincipalPoint();
  for (int y = 0; y < depth->height(); ++y) {
    for (int x = 0; x < depth->width(); ++x) {
      float& d = (*depth)(x, y);
      const Eigen::Vector3d ray((x + 0.5 - principal.x()) / camera.FocalX(),
                                (y + 0.5 - principal.y()) / camera.FocalY(), 1.0);
      const Eigen::Vector3d p = world_from_cam * (double(d) * ray);
      if (!std::isfinite(d) || !(std::abs(synthetic::ObjectSdf(p)) < tolerance)) d = 0.0f;
    }
  }
}

TEST(TsdfVolumeObject, SyntheticObjectIsWatertightAndMatchesTheGroundTruth) {
  synthetic::SynthOptions synth;
  synth.num_views = 24;
  synth.width = 160;
  synth.height = 120;
  synth.supersampling = 1;
  const synthetic::SyntheticScene scene = synthetic::MakeSyntheticScene(synth);
  const Camera& camera = scene.scene.cameras.begin()->second;
  synthetic::RenderOptions render;
  render.supersampling = 1;
  const synthetic::Renderer renderer(scene.object_mesh, camera, render);

  // The orbit sees the object from the side and somewhat above; views from above look into the
  // mug's cavity and views from below (the renderer draws the object from any pose; the floor is
  // not drawn there) see the tray's underside, so that every part of the surface is observed.
  std::vector<Rigid3> poses;
  for (const auto id : scene.image_order)
    poses.push_back(*scene.scene.images.at(id).cam_from_world);
  const Eigen::Vector3d mug(0.17, 0.05, 0.10);
  for (int k = 0; k < 6; ++k) {
    const double angle = 2.0 * M_PI * k / 6.0;
    const Eigen::Vector3d around(std::cos(angle), std::sin(angle), 0.0);
    poses.push_back(synthetic::LookAt(mug + 0.25 * around + Eigen::Vector3d(0, 0, 1.4), mug));
    poses.push_back(
        synthetic::LookAt(1.4 * around - Eigen::Vector3d(0, 0, 1.0), synthetic::ObjectCenter()));
  }

  TsdfVolume::Options options;
  options.voxel_size = 0.010;  // truncation 4 cm: thinner bands let creases leak (see below)
  options.depth_max = 10.0;
  Bounds3 crop = synthetic::ObjectBounds();
  crop.min -= Eigen::Vector3d::Constant(0.05);
  crop.max += Eigen::Vector3d::Constant(0.05);
  options.crop = crop;
  TsdfVolume volume(options);
  for (std::size_t v = 0; v < poses.size(); ++v) {
    synthetic::RenderedView view = renderer.Render(poses[v], /*with_depth=*/true, 0);
    MaskToObject(camera, poses[v], 0.002, &view.depth);
    volume.Integrate(view.depth.view(), camera, poses[v]);
  }

  const TriangleMesh mesh = volume.ExtractMesh();
  ASSERT_FALSE(mesh.triangles.empty());
  const WatertightReport report = CheckWatertight(mesh);
  EXPECT_TRUE(report.watertight) << report.reason;
  // Not asserted: the object is one solid of genus 1 (the handle), but the fusion adds a few
  // single-voxel bubbles (in the occluded wedge under the tray's rounded rim, which some views
  // see as behind the surface and others as in front) and closes thick parts' unobserved
  // interiors with inner shells where an unobserved crease connects them to free space (at 8 mm
  // voxels, a 3.2 cm band: genus ~60, Chamfer 4.3 mm; at 10 mm: genus 2, Chamfer 3.0 mm).
  std::printf("TSDF object: %lld components, genus %lld\n",
              static_cast<long long>(report.components), static_cast<long long>(report.genus));

  Bounds3 bounds;
  for (const Eigen::Vector3d& p : scene.object_mesh.vertices) bounds.Extend(p);
  const double diagonal = bounds.Extent().norm();
  const SurfaceDistance distance =
      CompareSurfaces(mesh, scene.object_mesh, 0.005 * diagonal, 200000, 1);
  std::printf(
      "TSDF object: %zu triangles, chamfer %.2f mm (%.3f%% of the %.3f m diagonal), "
      "accuracy %.2f mm, completeness %.2f mm, F-score %.3f\n",
      mesh.triangles.size(), 1e3 * distance.chamfer, 100 * distance.chamfer / diagonal, diagonal,
      1e3 * distance.accuracy, 1e3 * distance.completeness, distance.f_score);
  EXPECT_LE(distance.chamfer, 0.005 * diagonal);
  // Most of the surface within the threshold both ways.
  EXPECT_GT(distance.f_score, 0.85);
}

}  // namespace
}  // namespace facet::geometry
