#include "viewer/scene_lines.h"

#include <Eigen/Geometry>

#include <array>
#include <cmath>

#include "core/error.h"

namespace facet::viewer {
namespace {

void AddSegment(geometry::PointCloud* cloud, const Eigen::Vector3d& a, const Eigen::Vector3d& b,
                const Eigen::Vector3f& color) {
  cloud->points.push_back(a);
  cloud->points.push_back(b);
  cloud->colors.push_back(color);
  cloud->colors.push_back(color);
}

}  // namespace

std::vector<FrustumImagePlane> FrustumImagePlaneCorners(const datasets::Scene& scene,
                                                        double depth) {
  FACET_CHECK(depth > 0.0 && std::isfinite(depth),
              "viewer: frustum depth must be positive (got {})", depth);
  std::vector<FrustumImagePlane> planes;
  for (const auto& [id, image] : scene.images) {
    if (!image.IsRegistered()) continue;
    const auto camera = scene.cameras.find(image.camera_id);
    FACET_CHECK(camera != scene.cameras.end(),
                "viewer: image '{}' refers to camera {}, which the model lacks", image.name,
                image.camera_id.value);
    const geometry::Rigid3 world_from_cam = image.cam_from_world->Inverse();
    const double w = camera->second.width, h = camera->second.height;
    const std::array<Eigen::Vector2d, 4> pixels = {Eigen::Vector2d(0, 0), Eigen::Vector2d(w, 0),
                                                   Eigen::Vector2d(w, h), Eigen::Vector2d(0, h)};
    FrustumImagePlane plane{.image_id = id};
    for (int i = 0; i < 4; ++i) {
      // Distorted models may not undistort the far corners: fall back to the pinhole ray.
      const std::optional<Eigen::Vector2d> ray = camera->second.CamFromImg(pixels[i]);
      const Eigen::Vector2d xy =
          ray ? *ray
              : Eigen::Vector2d(
                    (pixels[i].x() - camera->second.PrincipalPoint().x()) / camera->second.FocalX(),
                    (pixels[i].y() - camera->second.PrincipalPoint().y()) /
                        camera->second.FocalY());
      plane.corners[i] = world_from_cam * Eigen::Vector3d(depth * xy.x(), depth * xy.y(), depth);
    }
    planes.push_back(plane);
  }
  return planes;
}

geometry::PointCloud FrustumLines(const datasets::Scene& scene, double depth,
                                  const Eigen::Vector3f& color) {
  geometry::PointCloud lines;
  for (const FrustumImagePlane& plane : FrustumImagePlaneCorners(scene, depth)) {
    const Eigen::Vector3d centre =
        geometry::CameraCenter(*scene.images.at(plane.image_id).cam_from_world);
    for (int i = 0; i < 4; ++i) {
      AddSegment(&lines, centre, plane.corners[i], color);
      AddSegment(&lines, plane.corners[i], plane.corners[(i + 1) % 4], color);
    }
  }
  return lines;
}

geometry::PointCloud GridLines(const Eigen::Vector3d& centre, const Eigen::Vector3d& up,
                               double half_extent, int cells, const Eigen::Vector3f& color) {
  FACET_CHECK(half_extent > 0.0 && std::isfinite(half_extent),
              "viewer: grid half extent must be positive (got {})", half_extent);
  FACET_CHECK(cells >= 1, "viewer: a grid needs at least one cell (got {})", cells);
  FACET_CHECK(up.norm() > 0.0, "viewer: the grid's up direction must not be 0");
  const Eigen::Vector3d n = up.normalized();
  const Eigen::Vector3d any =
      std::abs(n.x()) < 0.9 ? Eigen::Vector3d::UnitX() : Eigen::Vector3d::UnitY();
  const Eigen::Vector3d e1 = (any - any.dot(n) * n).normalized();
  const Eigen::Vector3d e2 = n.cross(e1);
  geometry::PointCloud lines;
  for (int i = 0; i <= cells; ++i) {
    const double t = -half_extent + 2.0 * half_extent * i / cells;
    AddSegment(&lines, centre + t * e1 - half_extent * e2, centre + t * e1 + half_extent * e2,
               color);
    AddSegment(&lines, centre + t * e2 - half_extent * e1, centre + t * e2 + half_extent * e1,
               color);
  }
  return lines;
}

}  // namespace facet::viewer
