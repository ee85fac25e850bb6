// The mapper's model under construction: a datasets::Scene plus the bookkeeping that makes
// incremental mapping cheap (per-keypoint counts of triangulated correspondences, cached
// projection matrices) and the track operations: add/remove observations and points,
// triangulate an image's keypoints, complete and merge tracks, filter outliers.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

#include "datasets/scene.h"
#include "sfm/correspondence_graph.h"
#include "sfm/incremental_mapper.h"
#include "sfm/triangulation.h"

namespace facet::sfm::detail {

class ModelBuilder {
 public:
  ModelBuilder(const datasets::Scene& skeleton, std::span<const datasets::ImageId> image_ids,
               const CorrespondenceGraph& graph, const MapperOptions& options);

  datasets::Scene& scene() { return scene_; }
  const datasets::Scene& scene() const { return scene_; }
  datasets::Scene TakeScene() { return std::move(scene_); }
  datasets::ImageId IdOf(std::uint32_t image) const { return image_ids_[image]; }
  std::uint32_t IndexOf(datasets::ImageId id) const;
  std::size_t NumImages() const { return image_ids_.size(); }
  std::size_t NumRegistered() const { return num_registered_; }
  bool IsRegistered(std::uint32_t image) const { return registered_[image] != 0; }
  // Keypoints of `image` with a correspondence to a triangulated keypoint.
  std::uint32_t NumVisiblePoints(std::uint32_t image) const { return num_visible_[image]; }
  bool IsVisible(std::uint32_t image, std::uint32_t point2d) const {
    return visible_count_[image][point2d] > 0;
  }
  std::size_t NumRegisteredWithCamera(datasets::CameraId camera) const;

  void Register(std::uint32_t image, const geometry::Rigid3& cam_from_world);
  // Re-reads poses from the scene after bundle adjustment changed them.
  void RefreshPoses();

  datasets::Point3DId PointOf(std::uint32_t image, std::uint32_t point2d) const;
  datasets::Point3DId AddPoint(const Eigen::Vector3d& xyz, std::span<const Correspondence> track);
  void AddObservation(datasets::Point3DId point, const Correspondence& obs);
  // Removes one observation; the point goes too when fewer than two observations remain.
  void DeleteObservation(const Correspondence& obs);
  void DeletePoint(datasets::Point3DId point);

  // Normalised coordinates of a keypoint with its camera's current intrinsics.
  std::optional<Eigen::Vector2d> Normalized(std::uint32_t image, std::uint32_t point2d) const;
  // Squared reprojection error of `xyz` at a keypoint; +inf behind the camera.
  double SquaredError(const Eigen::Vector3d& xyz, const Correspondence& obs) const;

  // Triangulates the keypoints of a registered image: continues existing tracks of its
  // correspondences and creates new points with the registered, untriangulated ones. Returns the
  // number of observations added.
  std::size_t TriangulateImage(std::uint32_t image);
  // Extends the tracks of `points` to untriangulated correspondences in registered images, and
  // merges tracks that the correspondences connect when the merged point fits every observation.
  // Returns the number of observations added or merged.
  std::size_t CompleteAndMergeTracks(const std::set<datasets::Point3DId>& points);
  // Removes observations with reprojection error above the filter threshold (or behind the
  // camera), then points seen at too small an angle. `points` null: all points. Returns the number
  // of observations removed.
  std::size_t FilterPoints(const std::set<datasets::Point3DId>* points);

  // Every point id, and the points observed in the given images.
  std::set<datasets::Point3DId> AllPoints() const;
  std::set<datasets::Point3DId> PointsOf(std::span<const std::uint32_t> images) const;
  std::size_t NumObservations() const { return num_observations_; }

 private:
  bool TryMerge(datasets::Point3DId a, datasets::Point3DId b);
  void SetVisible(const Correspondence& obs, int delta);
  datasets::Image& ImageAt(std::uint32_t image) { return *image_ptrs_[image]; }
  const datasets::Image& ImageAt(std::uint32_t image) const { return *image_ptrs_[image]; }

  datasets::Scene scene_;
  std::vector<datasets::ImageId> image_ids_;
  std::vector<datasets::Image*> image_ptrs_;
  std::unordered_map<std::uint32_t, std::uint32_t> index_of_id_;
  const CorrespondenceGraph& graph_;
  const MapperOptions& options_;
  std::vector<char> registered_;
  std::size_t num_registered_ = 0;
  std::vector<std::vector<std::uint16_t>> visible_count_;
  std::vector<std::uint32_t> num_visible_;
  std::vector<Matrix34d> projections_;
  std::vector<Eigen::Vector3d> centers_;
  std::uint64_t next_point_id_ = 1;
  std::size_t num_observations_ = 0;
};

}  // namespace facet::sfm::detail
