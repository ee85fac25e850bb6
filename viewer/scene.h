// What the viewer shows, on the CPU: splats, a mesh, a point cloud and a COLMAP model's cameras
// (any of them), the layers switched on, and the framing derived from them (robust bounds, the
// scene's up direction, the camera-frustum and grid line segments). `facet view` fills a
// SceneData from its input (apps/view_content.h); GpuScene (viewer/scene_renderer.h) draws it.
#pragma once

#include <Eigen/Core>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datasets/colmap_model.h"
#include "datasets/gaussian_splats.h"
#include "geometry/point_cloud.h"
#include "geometry/rigid3.h"
#include "geometry/triangle_mesh.h"
#include "viewer/image_quads.h"
#include "viewer/splat_renderer.h"

namespace facet::viewer {

// The layers drawn; each shows only when the scene has its content.
struct SceneLayers {
  bool splats = false;
  bool mesh = false;
  bool points = false;      // a point cloud, or the model's sparse points
  bool cameras = false;     // the model's camera frustums
  bool grid = false;        // a ground grid in the scene's up plane
  bool photos = false;      // the model's photos as thumbnails on the frustums' far rectangles
  bool trajectory = false;  // a camera trajectory (`facet slam`'s) as a path
  bool operator==(const SceneLayers&) const = default;
};

struct SceneData {
  std::string name;  // shown in the window's title
  std::optional<datasets::GaussianSplats> splats;
  std::optional<geometry::TriangleMesh> mesh;
  std::optional<geometry::PointCloud> points;
  std::optional<datasets::Scene> model;  // the cameras (and sparse points) of a COLMAP model
  std::filesystem::path images_dir;      // the model's photos, when known (thumbnails)
  // The splats in the GPU's layout, when packed ahead (on the loader thread: PackForGpu).
  std::shared_ptr<const PackedSplats> packed_splats;
  // A camera trajectory in order (cam_from_world; `facet slam`'s trajectory.log), or empty.
  std::vector<geometry::Rigid3> trajectory;
  // The photos' thumbnails at the frustum depth SceneLines uses, when read.
  std::optional<FrustumThumbnails> thumbnails;
  SceneLayers layers;  // switched on at first
};

// Fills scene.packed_splats from scene.splats (the CPU half of the GPU upload), so that a loader
// thread does it rather than the thread that draws.
void PackForGpu(SceneData& scene);

// Centre and radius of the robust bounds: per axis the 5th to 95th percentile of the content's
// positions (those of the first shown of splats, mesh, points; stray splats and outlier points do
// not move the camera away), grown to hold every registered camera centre when `with_cameras`. Unit
// sphere around the origin when there is nothing.
struct SceneBounds {
  Eigen::Vector3d centre = Eigen::Vector3d::Zero();
  double radius = 1.0;
};
SceneBounds RobustBounds(const SceneData& scene);

// The mean of the registered cameras' (else the trajectory's) up (-y) axes, else +z.
Eigen::Vector3d SceneUp(const SceneData& scene);

// The depth of the camera frustums drawn for `bounds`: 10% of its radius.
inline double FrustumDepth(const SceneBounds& bounds) { return 0.1 * bounds.radius; }

// Line segments (DrawLines pairs) for the cameras layer (frustums at FrustumDepth), the
// trajectory layer (the path from blue at its start to red at its end, and every 1/20th of it a
// white tick along the camera's viewing direction, 3% of the radius long) and the grid
// layer (10 x 10 cells over three radii, in the up plane through the 5th percentile of the
// positions' height), as `cameras` and `grid` ask.
geometry::PointCloud SceneLines(const SceneData& scene, const SceneBounds& bounds,
                                const SceneLayers& layers);

}  // namespace facet::viewer
