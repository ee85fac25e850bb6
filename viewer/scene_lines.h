// Line geometry drawn over the content by `facet view`: the camera frustums of a COLMAP model and
// a ground grid. Both are point clouds whose vertices pair up into segments (0-1, 2-3, ...), for
// GpuMesh and MeshPipelines::DrawLines.
#pragma once

#include <Eigen/Core>

#include <array>
#include <vector>

#include "datasets/scene.h"
#include "geometry/point_cloud.h"

namespace facet::viewer {

inline const Eigen::Vector3f kFrustumColor{1.0f, 0.5f, 0.0f};  // orange
inline const Eigen::Vector3f kGridColor{0.45f, 0.45f, 0.45f};

// The far rectangle of a registered image's frustum: the image corners (0, 0), (W, 0), (W, H),
// (0, H), i.e. top-left, top-right, bottom-right, bottom-left, back-projected to `depth` along
// the optical axis, in world coordinates.
struct FrustumImagePlane {
  datasets::ImageId image_id{};
  std::array<Eigen::Vector3d, 4> corners{};
};

// One plane per registered image, in the order of scene.images (FrustumLines' order). Throws
// facet::Error when depth <= 0 or an image's camera is missing.
std::vector<FrustumImagePlane> FrustumImagePlaneCorners(const datasets::Scene& scene, double depth);

// Every registered image of `scene` as a pyramid: 4 segments from its centre to the image
// corners at `depth` (scene units, > 0) along its optical axis, and the 4 edges of that image
// rectangle. Throws facet::Error when depth <= 0 or an image's camera is missing.
geometry::PointCloud FrustumLines(const datasets::Scene& scene, double depth,
                                  const Eigen::Vector3f& color = kFrustumColor);

// A square grid of `cells` x `cells` cells of side 2 half_extent / cells, centred on `centre` in
// the plane whose normal is `up`. Throws facet::Error when half_extent <= 0, cells < 1 or up = 0.
geometry::PointCloud GridLines(const Eigen::Vector3d& centre, const Eigen::Vector3d& up,
                               double half_extent, int cells,
                               const Eigen::Vector3f& color = kGridColor);

}  // namespace facet::viewer
