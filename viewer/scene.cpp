#include "viewer/scene.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "geometry/rigid3.h"
#include "viewer/scene_lines.h"

namespace facet::viewer {
namespace {

// The positions that frame the view: those of the first shown of splats, mesh, points (of the
// first present when none is shown).
std::vector<Eigen::Vector3d> ContentPositions(const SceneData& scene) {
  const SceneLayers& on = scene.layers;
  const bool any_shown =
      (on.splats && scene.splats) || (on.mesh && scene.mesh) || (on.points && scene.points);
  std::vector<Eigen::Vector3d> out;
  if (scene.splats && (on.splats || !any_shown)) {
    out.reserve(scene.splats->positions.size());
    for (const Eigen::Vector3f& p : scene.splats->positions) out.push_back(p.cast<double>());
  } else if (scene.mesh && (on.mesh || !any_shown)) {
    out = scene.mesh->vertices;
  } else if (scene.points) {
    out = scene.points->points;
  }
  std::erase_if(out, [](const Eigen::Vector3d& p) { return !p.allFinite(); });
  return out;
}

}  // namespace

void PackForGpu(SceneData& scene) {
  if (scene.splats && !scene.packed_splats) {
    scene.packed_splats = std::make_shared<const PackedSplats>(PackedSplats::Pack(*scene.splats));
  }
}

SceneBounds RobustBounds(const SceneData& scene) {
  const std::vector<Eigen::Vector3d> positions = ContentPositions(scene);
  std::vector<Eigen::Vector3d> cameras;
  if (scene.layers.cameras && scene.model) {
    for (const auto& [id, image] : scene.model->images) {
      if (image.IsRegistered()) cameras.push_back(image.cam_from_world->Inverse().translation);
    }
  }
  if (scene.layers.trajectory) {
    for (const geometry::Rigid3& pose : scene.trajectory) {
      cameras.push_back(pose.Inverse().translation);
    }
  }
  if (positions.empty() && cameras.empty()) return {};
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(INFINITY), hi = -lo;
  if (!positions.empty()) {
    std::vector<double> xs(positions.size());
    for (int k = 0; k < 3; ++k) {
      for (std::size_t i = 0; i < positions.size(); ++i) xs[i] = positions[i][k];
      // Two selections, linear time: millions of splats frame in milliseconds.
      const auto low = xs.begin() + std::ptrdiff_t(xs.size() * 5 / 100);
      const auto high = xs.begin() + std::ptrdiff_t(std::min(xs.size() - 1, xs.size() * 95 / 100));
      std::nth_element(xs.begin(), low, xs.end());
      lo[k] = *low;
      std::nth_element(low, high, xs.end());
      hi[k] = *high;
    }
  }
  for (const Eigen::Vector3d& c : cameras) lo = lo.cwiseMin(c), hi = hi.cwiseMax(c);
  SceneBounds bounds;
  bounds.centre = 0.5 * (lo + hi);
  bounds.radius = std::max(0.5 * (hi - lo).norm(), 1e-6);
  return bounds;
}

Eigen::Vector3d SceneUp(const SceneData& scene) {
  std::vector<geometry::Rigid3> poses;
  if (scene.model) {
    for (const auto& [id, image] : scene.model->images) {
      if (image.cam_from_world) poses.push_back(*image.cam_from_world);
    }
  }
  if (poses.empty()) poses = scene.trajectory;
  return geometry::UpFromCameras(poses);
}

geometry::PointCloud SceneLines(const SceneData& scene, const SceneBounds& bounds,
                                const SceneLayers& layers) {
  geometry::PointCloud lines;
  if (layers.cameras && scene.model) lines = FrustumLines(*scene.model, FrustumDepth(bounds));
  const auto add = [&lines](const Eigen::Vector3d& a, const Eigen::Vector3d& b,
                            const Eigen::Vector3f& color) {
    lines.points.push_back(a), lines.points.push_back(b);
    lines.colors.push_back(color), lines.colors.push_back(color);
  };
  if (layers.trajectory && !scene.trajectory.empty()) {
    const std::size_t n = scene.trajectory.size();
    std::vector<Eigen::Vector3d> centres(n);
    for (std::size_t i = 0; i < n; ++i) centres[i] = scene.trajectory[i].Inverse().translation;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const float t = n > 2 ? float(i) / float(n - 2) : 0.0f;
      add(centres[i], centres[i + 1], Eigen::Vector3f(t, 0.3f, 1.0f - t));
    }
    const std::size_t step = std::max<std::size_t>(1, n / 20);
    for (std::size_t i = 0; i < n; i += step) {
      const Eigen::Vector3d forward =
          scene.trajectory[i].rotation.inverse() * Eigen::Vector3d::UnitZ();
      add(centres[i], centres[i] + 0.03 * bounds.radius * forward, Eigen::Vector3f::Ones());
    }
  }
  if (layers.grid) {
    const Eigen::Vector3d up = SceneUp(scene);
    std::vector<double> heights;
    for (const Eigen::Vector3d& p : ContentPositions(scene)) {
      heights.push_back((p - bounds.centre).dot(up));
    }
    double floor = 0.0;
    if (!heights.empty()) {
      const auto fifth = heights.begin() + std::ptrdiff_t(heights.size() * 5 / 100);
      std::nth_element(heights.begin(), fifth, heights.end());
      floor = *fifth;
    }
    const geometry::PointCloud grid_lines =
        GridLines(bounds.centre + floor * up, up, 1.5 * bounds.radius, 10);
    lines.points.insert(lines.points.end(), grid_lines.points.begin(), grid_lines.points.end());
    lines.colors.insert(lines.colors.end(), grid_lines.colors.begin(), grid_lines.colors.end());
  }
  return lines;
}

}  // namespace facet::viewer
