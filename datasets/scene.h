// Scene: cameras, posed images with their 2D keypoints, and sparse 3D points with their tracks.
// The hand-off between SfM, splatting, NeRF and meshing, and what a COLMAP sparse model holds.
//
// Conventions (COLMAP's): camera frame x right, y down, z forward; `cam_from_world` maps world
// points into the camera; pixel (0, 0) is the top-left corner of the first pixel, so its centre is
// at (0.5, 0.5).
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/typed_id.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"

namespace facet::datasets {

using CameraId = TypedId<struct CameraIdTag, std::uint32_t>;
using ImageId = TypedId<struct ImageIdTag, std::uint32_t>;
using Point3DId = TypedId<struct Point3DIdTag, std::uint64_t>;

// A keypoint of an image and, when triangulated, the 3D point it observes.
struct Point2D {
  Eigen::Vector2d xy = Eigen::Vector2d::Zero();  // pixels, COLMAP convention
  Point3DId point3d_id{};                        // invalid when not triangulated
};

struct Image {
  ImageId id{};
  std::string name{};  // path relative to the image folder, '/'-separated
  CameraId camera_id{};
  // World-to-camera pose; empty while the image is not registered.
  std::optional<geometry::Rigid3> cam_from_world{};
  std::vector<Point2D> points2d{};

  bool IsRegistered() const { return cam_from_world.has_value(); }
};

// One observation of a 3D point: keypoint `point2d_idx` of image `image_id`.
struct TrackElement {
  ImageId image_id{};
  std::uint32_t point2d_idx = 0;
};

struct Point3D {
  Eigen::Vector3d xyz = Eigen::Vector3d::Zero();
  Eigen::Matrix<std::uint8_t, 3, 1> color = Eigen::Matrix<std::uint8_t, 3, 1>::Zero();  // sRGB
  double error = -1.0;  // mean reprojection error in pixels; -1 when unknown
  std::vector<TrackElement> track{};
};

struct Scene {
  std::map<CameraId, geometry::Camera> cameras{};
  std::map<ImageId, Image> images{};
  std::map<Point3DId, Point3D> points3d{};

  std::size_t NumRegisteredImages() const;
  // The image with this name, or nullptr.
  const Image* FindImage(const std::string& name) const;

  // Throws facet::Error naming the first inconsistency: an image whose camera is missing, a
  // keypoint referring to a missing 3D point, a track referring to a missing image or keypoint,
  // or a camera whose parameters do not fit its model.
  void Check() const;
};

}  // namespace facet::datasets
