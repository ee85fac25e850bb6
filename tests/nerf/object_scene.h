// The NeRF mesh figure, shared by tests/nerf/nerf_object_mesh_test.cpp (small, fast) and
// bench/nerf/object_mesh_bench.cpp (the full-size figure): the synthetic scene's object alone
// (datasets/synthetic/world.h: a tray carrying a mug, a ball and a dented block) rendered as RGBA
// views, trained into a NeRF on the CPU, meshed by TSDF fusion of its rendered depth at the
// training cameras (nerf/nerf_mesh.h), and compared with the object's ground-truth mesh.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <utility>
#include <vector>

#include "core/timer.h"
#include "datasets/synthetic/renderer.h"
#include "datasets/synthetic/synthetic_scene.h"
#include "datasets/synthetic/world.h"
#include "datasets/training_data.h"
#include "geometry/mesh_checks.h"
#include "geometry/mesh_processing.h"
#include "nerf/nerf_mesh.h"
#include "nerf/trainer.h"

namespace facet::nerf::test {

// The object's views at width x height (the synthetic camera, scaled): the 24 cameras of
// MakeSyntheticScene's orbit and, as tests/geometry/tsdf_object_test.cpp fuses its exact depth,
// 6 above the mug (into its cavity) and 6 below the tray (its underside), so that every part of
// the surface is seen. One sample per pixel, at its centre, where the exact depth tells whether
// the object is seen (alpha 255) or the room behind it (alpha 0, colour black). None held out.
inline datasets::TrainingData ObjectData(const datasets::synthetic::SyntheticScene& scene,
                                         int width, int height) {
  namespace synthetic = datasets::synthetic;
  const geometry::Camera camera =
      datasets::ScaleCamera(scene.scene.cameras.begin()->second, width, height);
  const synthetic::Renderer renderer(scene.object_mesh, camera, {.supersampling = 1});
  std::vector<geometry::Rigid3> poses;
  for (const auto id : scene.image_order) {
    poses.push_back(*scene.scene.images.at(id).cam_from_world);
  }
  const Eigen::Vector3d mug(0.17, 0.05, 0.10);
  for (int k = 0; k < 6; ++k) {
    const double angle = 2.0 * std::numbers::pi * k / 6.0;
    const Eigen::Vector3d around(std::cos(angle), std::sin(angle), 0.0);
    poses.push_back(synthetic::LookAt(mug + 0.25 * around + Eigen::Vector3d(0, 0, 1.4), mug));
    poses.push_back(
        synthetic::LookAt(1.4 * around - Eigen::Vector3d(0, 0, 1.0), synthetic::ObjectCenter()));
  }
  datasets::TrainingData data;
  data.background = Eigen::Vector3f::Ones();
  data.has_alpha = true;
  const Eigen::Vector2d principal = camera.PrincipalPoint();
  for (std::size_t v = 0; v < poses.size(); ++v) {
    const synthetic::RenderedView rendered = renderer.Render(poses[v], /*with_depth=*/true, 0);
    datasets::TrainingView view;
    view.name = "object_" + std::to_string(v);
    view.camera = camera;
    view.cam_from_world = poses[v];
    view.image = ImageU8(width, height, 4);
    const geometry::Rigid3 world_from_cam = poses[v].Inverse();
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const float d = rendered.depth(x, y);
        const Eigen::Vector3d ray((x + 0.5 - principal.x()) / camera.FocalX(),
                                  (y + 0.5 - principal.y()) / camera.FocalY(), 1.0);
        // The surface point at the pixel centre is on the object, not on the floor or a wall.
        const bool object =
            std::isfinite(d) && d > 0.0f &&
            std::abs(synthetic::ObjectSdf(world_from_cam * (double(d) * ray))) < 2e-3;
        for (int k = 0; k < 3; ++k) view.image(x, y, k) = object ? rendered.rgb(x, y, k) : 0;
        view.image(x, y, 3) = object ? 255 : 0;
      }
    }
    data.train.push_back(std::move(view));
  }
  return data;
}

struct ObjectMeshSetup {
  int width = 192, height = 144;  // the views' size
  int steps = 1000;
  int rays_per_batch = 4096;
  int max_resolution = 512;   // the hash grid's finest level
  int log2_table_size = 18;   // its entries per level
  int mesh_resolution = 128;  // TSDF voxels along the scene box's longest side
};

struct ObjectMeshResult {
  geometry::TriangleMesh mesh{};  // after removing components under 1% of the largest's area
  geometry::WatertightReport watertight{};
  std::size_t removed_components = 0;
  geometry::SurfaceDistance distance{};  // to the ground-truth object, threshold 1% of diagonal
  double diagonal = 0.0;                 // of the ground-truth object's bounding box (m)
  double training_s = 0.0, meshing_s = 0.0;
  double last_psnr = 0.0;  // of the last training batch, dB
};

// Renders, trains (the scene box: the object's bounds and 5 cm), meshes and compares; prints the
// figures.
inline ObjectMeshResult MeshSyntheticObject(const ObjectMeshSetup& setup) {
  namespace synthetic = datasets::synthetic;
  synthetic::SynthOptions synth;
  synth.num_views = 24;
  synth.width = setup.width;
  synth.height = setup.height;
  synth.supersampling = 1;
  const synthetic::SyntheticScene scene = synthetic::MakeSyntheticScene(synth);
  const datasets::TrainingData data = ObjectData(scene, setup.width, setup.height);

  const geometry::Bounds3 bounds = synthetic::ObjectBounds();
  const Eigen::Vector3f aabb_min = (bounds.min.array() - 0.05).matrix().cast<float>();
  const Eigen::Vector3f aabb_max = (bounds.max.array() + 0.05).matrix().cast<float>();
  NerfFieldOptions field;
  field.grid.levels = 12;
  field.grid.log2_table_size = setup.log2_table_size;
  field.grid.base_resolution = 8;
  field.grid.max_resolution = setup.max_resolution;
  field.density_hidden = 32;
  field.color_hidden = 32;
  NerfTrainOptions training;
  training.rays_per_batch = setup.rays_per_batch;
  training.planned_steps = setup.steps;
  training.occupancy.resolution = 64;
  training.occupancy.warmup_steps = 64;

  ObjectMeshResult result;
  NerfTrainer trainer(data, aabb_min, aabb_max, field, training);
  const Timer training_timer;
  for (int step = 0; step < setup.steps; ++step) result.last_psnr = trainer.Step().psnr;
  result.training_s = training_timer.ElapsedSeconds();

  std::vector<NerfMeshView> views;
  for (const datasets::TrainingView& view : data.train) {
    views.push_back({view.camera, view.cam_from_world});
  }
  NerfMeshOptions options;
  options.resolution = setup.mesh_resolution;
  options.marching = training.marching;
  const Timer meshing_timer;
  result.mesh = MeshNerf(trainer.field(), trainer.occupancy(), views, options);
  // `facet mesh`'s default cleanup: floaters under 1% of the largest component's area.
  result.removed_components =
      geometry::RemoveSmallComponents(result.mesh, {.min_area_fraction = 0.01});
  result.meshing_s = meshing_timer.ElapsedSeconds();
  if (result.mesh.triangles.empty()) return result;
  result.watertight = geometry::CheckWatertight(result.mesh);

  geometry::Bounds3 truth_bounds;
  for (const Eigen::Vector3d& p : scene.object_mesh.vertices) truth_bounds.Extend(p);
  result.diagonal = truth_bounds.Extent().norm();
  result.distance =
      geometry::CompareSurfaces(result.mesh, scene.object_mesh, 0.01 * result.diagonal, 100000, 1);
  std::printf(
      "NeRF object mesh (%dx%d views, %d steps of %d rays: %.1f s of training, last batch PSNR "
      "%.1f dB; meshed in %.1f s): %zu triangles, %s, %lld components (%zu small ones removed); "
      "chamfer %.2f mm (%.3f%% of the %.3f m diagonal), accuracy %.2f mm, completeness %.2f mm, "
      "F-score %.3f\n",
      setup.width, setup.height, setup.steps, setup.rays_per_batch, result.training_s,
      result.last_psnr, result.meshing_s, result.mesh.triangles.size(),
      result.watertight.watertight ? "watertight" : "NOT watertight",
      static_cast<long long>(result.watertight.components), result.removed_components,
      1e3 * result.distance.chamfer, 100 * result.distance.chamfer / result.diagonal,
      result.diagonal, 1e3 * result.distance.accuracy, 1e3 * result.distance.completeness,
      result.distance.f_score);
  return result;
}

}  // namespace facet::nerf::test
