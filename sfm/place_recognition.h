// Keyframe place recognition and geometric verification for RGB-D loop closure.
//
// Each keyframe keeps ORB features (Rublee et al., "ORB: an efficient alternative to SIFT or
// SURF", ICCV 2011; OpenCV's cv::ORB) back-projected through its depth map. A new keyframe is
// compared with the stored ones by Hamming matching with Lowe's ratio test (brute force: exact and
// fast enough for a few hundred keyframes of ~1000 features); the best-ranked candidates are then
// verified by RANSAC (Fischler & Bolles 1981) over minimal 3-point rigid fits of the matched 3D
// points (Umeyama 1991 with unit scale, geometry/alignment.h), refit on the inliers.
//
// Pixel convention: facet's (COLMAP's): the first pixel's centre is (0.5, 0.5); see
// geometry/camera.h.
#pragma once

#include <Eigen/Core>
#include <climits>

#include <array>
#include <cstdint>
#include <vector>

#include "core/image.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"

namespace facet::sfm {

using OrbDescriptor = std::array<std::uint8_t, 32>;  // 256 bits

struct KeyframeFeatures {
  // Keypoint positions in pixels (facet's convention), strongest first.
  std::vector<Eigen::Vector2f> keypoints{};
  // The surface point at each keypoint's pixel centre in the camera frame (metres): depth times
  // the unprojected ray of that pixel's centre. NaN when the pixel has no valid depth, or sits on
  // a depth discontinuity (see KeyframeFeatureOptions).
  std::vector<Eigen::Vector3d> points_in_cam{};
  std::vector<OrbDescriptor> descriptors{};  // one per keypoint

  std::size_t size() const { return keypoints.size(); }
};

struct KeyframeFeatureOptions {
  int max_features = 1000;    // ORB features kept (the strongest); >= 1
  double scale_factor = 1.2;  // ORB pyramid scale step; in (1, 2]
  int num_levels = 8;         // ORB pyramid levels; >= 1
  int fast_threshold = 20;    // FAST corner threshold (intensity units 0-255); >= 1
  double min_depth = 0.1;     // metres; depths outside [min_depth, max_depth] are not used; >= 0
  double max_depth = 4.0;     // metres; > min_depth
  // A keypoint's depth is not used when any of its 3x3 neighbours lacks depth or differs from the
  // centre by more than this fraction of it (depth edges mix foreground and background); > 0.
  double max_relative_depth_jump = 0.05;

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

// ORB features of a colour (or gray) image with their 3D points from a depth map registered to it
// (same size; metres along the camera's z axis, 0 or non-finite for no measurement). Deterministic:
// the keypoints are sorted by a total order (response, then position). Throws facet::Error when
// the images are empty or differ in size from each other or from `camera`, or for invalid options.
KeyframeFeatures ExtractKeyframeFeatures(ImageView<const std::uint8_t> rgb,
                                         ImageView<const float> depth_m,
                                         const geometry::Camera& camera,
                                         const KeyframeFeatureOptions& options = {});

struct DescriptorMatchOptions {
  // Lowe's ratio test on Hamming distances: best < ratio * second best; in (0, 1].
  double ratio = 0.8;
  // Matches farther than this many bits are dropped; in [0, 256].
  int max_hamming_distance = 64;

  void Check() const;
};

// Pairs (index in `query`, index in `train`) passing the ratio test, in increasing query index.
std::vector<std::array<int, 2>> MatchDescriptors(const std::vector<OrbDescriptor>& query,
                                                 const std::vector<OrbDescriptor>& train,
                                                 const DescriptorMatchOptions& options = {});

struct LoopCandidate {
  int keyframe_id = 0;
  int num_matches = 0;  // ratio-test matches between the query and this keyframe
};

struct KeyframeDatabaseOptions {
  DescriptorMatchOptions matching{};
  // Keyframes with fewer ratio-test matches are not candidates; >= 0.
  int min_matches = 20;

  void Check() const;
};

// The keyframes seen so far, for place recognition. Not thread-safe for concurrent Add; Query is
// const and may run concurrently with other queries.
class KeyframeDatabase {
 public:
  explicit KeyframeDatabase(const KeyframeDatabaseOptions& options = {});

  // Stores a keyframe. Throws facet::Error when the id is already present or the features'
  // arrays differ in length.
  void Add(int keyframe_id, KeyframeFeatures features);

  // Keyframes with id <= max_keyframe_id (a SLAM loop excludes the recent ones, which odometry
  // already links) and at least min_matches matches, most matches first (ties: smaller id first),
  // at most max_candidates of them (>= 0). Matching runs in parallel over keyframes; the result
  // does not depend on the thread count.
  std::vector<LoopCandidate> Query(const KeyframeFeatures& query, int max_keyframe_id = INT_MAX,
                                   int max_candidates = 5) const;

  const KeyframeFeatures* Find(int keyframe_id) const;
  std::size_t size() const { return ids_.size(); }

 private:
  KeyframeDatabaseOptions options_;
  std::vector<int> ids_;
  std::vector<KeyframeFeatures> features_;
};

struct RelativePoseOptions {
  DescriptorMatchOptions matching{};
  // Also require the match to be the best one in the reverse direction (target to source).
  bool mutual = true;
  // RANSAC inlier threshold on |x_in_target - target_from_source * x_in_source|, metres; > 0.
  double max_error = 0.03;
  int max_iterations = 2000;  // RANSAC samples at most; >= 1
  int min_inliers = 25;       // success requires at least this many inliers; >= 3
  std::uint64_t seed = 0;     // RANSAC sampler seed: same inputs and seed, same result

  void Check() const;
};

struct RelativePoseEstimate {
  bool success = false;  // false: too few matches with depth, or fewer than min_inliers inliers
  // x_in_target = target_from_source * x_in_source (meaningful when success).
  geometry::Rigid3 target_from_source{};
  int matches = 0;           // ratio-test (and mutual) matches with 3D points on both sides
  int inliers = 0;           // of those, within max_error of the refit model
  double inlier_rmse = 0.0;  // RMS of the inliers' 3D errors, metres
  // Index pairs (source keypoint, target keypoint) of the inliers.
  std::vector<std::array<int, 2>> inlier_matches{};
};

// The rigid motion between two keyframes from their matched 3D points. Throws facet::Error for
// invalid options or features whose arrays differ in length.
RelativePoseEstimate EstimateRelativePose3D(const KeyframeFeatures& source,
                                            const KeyframeFeatures& target,
                                            const RelativePoseOptions& options = {});

}  // namespace facet::sfm
