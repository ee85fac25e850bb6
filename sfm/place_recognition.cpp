#include "sfm/place_recognition.h"

#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/alignment.h"
#include "sfm/detail/gray_image.h"

namespace facet::sfm {

void KeyframeFeatureOptions::Check() const {
  FACET_CHECK(max_features >= 1, "KeyframeFeatureOptions::max_features must be >= 1 (got {})",
              max_features);
  FACET_CHECK(scale_factor > 1.0 && scale_factor <= 2.0,
              "KeyframeFeatureOptions::scale_factor must be in (1, 2] (got {})", scale_factor);
  FACET_CHECK(num_levels >= 1, "KeyframeFeatureOptions::num_levels must be >= 1 (got {})",
              num_levels);
  FACET_CHECK(fast_threshold >= 1, "KeyframeFeatureOptions::fast_threshold must be >= 1 (got {})",
              fast_threshold);
  FACET_CHECK(std::isfinite(min_depth) && min_depth >= 0.0,
              "KeyframeFeatureOptions::min_depth must be >= 0 (got {})", min_depth);
  FACET_CHECK(std::isfinite(max_depth) && max_depth > min_depth,
              "KeyframeFeatureOptions::max_depth must be finite and > min_depth {} (got {})",
              min_depth, max_depth);
  FACET_CHECK(std::isfinite(max_relative_depth_jump) && max_relative_depth_jump > 0.0,
              "KeyframeFeatureOptions::max_relative_depth_jump must be > 0 (got {})",
              max_relative_depth_jump);
}

void DescriptorMatchOptions::Check() const {
  FACET_CHECK(ratio > 0.0 && ratio <= 1.0,
              "DescriptorMatchOptions::ratio must be in (0, 1] (got {})", ratio);
  FACET_CHECK(max_hamming_distance >= 0 && max_hamming_distance <= 256,
              "DescriptorMatchOptions::max_hamming_distance must be in [0, 256] (got {})",
              max_hamming_distance);
}

void KeyframeDatabaseOptions::Check() const {
  matching.Check();
  FACET_CHECK(min_matches >= 0, "KeyframeDatabaseOptions::min_matches must be >= 0 (got {})",
              min_matches);
}

void RelativePoseOptions::Check() const {
  matching.Check();
  FACET_CHECK(std::isfinite(max_error) && max_error > 0.0,
              "RelativePoseOptions::max_error must be positive and finite (got {})", max_error);
  FACET_CHECK(max_iterations >= 1, "RelativePoseOptions::max_iterations must be >= 1 (got {})",
              max_iterations);
  FACET_CHECK(min_inliers >= 3, "RelativePoseOptions::min_inliers must be >= 3 (got {})",
              min_inliers);
}

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// The depth at pixel (x, y) when usable: in range, and its 3x3 neighbourhood free of holes and
// discontinuities; NaN otherwise.
float StableDepth(ImageView<const float> depth, int x, int y, const KeyframeFeatureOptions& o) {
  if (x < 1 || y < 1 || x + 1 >= depth.width() || y + 1 >= depth.height()) return kNaN;
  const float d = depth(x, y);
  if (!std::isfinite(d) || d < o.min_depth || d > o.max_depth) return kNaN;
  const float jump = static_cast<float>(o.max_relative_depth_jump) * d;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      const float n = depth(x + dx, y + dy);
      if (!std::isfinite(n) || n <= 0.0f || std::abs(n - d) > jump) return kNaN;
    }
  }
  return d;
}

int Hamming(const OrbDescriptor& a, const OrbDescriptor& b) {
  int bits = 0;
  for (std::size_t k = 0; k < 32; k += 8) {
    std::uint64_t x = 0, y = 0;
    std::memcpy(&x, a.data() + k, 8);
    std::memcpy(&y, b.data() + k, 8);
    bits += std::popcount(x ^ y);
  }
  return bits;
}

// For every query descriptor, its nearest train descriptor when it passes the ratio test; -1
// otherwise.
std::vector<int> RatioTestNearest(const std::vector<OrbDescriptor>& query,
                                  const std::vector<OrbDescriptor>& train,
                                  const DescriptorMatchOptions& options) {
  std::vector<int> nearest(query.size(), -1);
  for (std::size_t i = 0; i < query.size(); ++i) {
    int best = 257, second = 257, best_j = -1;
    for (std::size_t j = 0; j < train.size(); ++j) {
      const int d = Hamming(query[i], train[j]);
      if (d < best) {
        second = best;
        best = d;
        best_j = static_cast<int>(j);
      } else if (d < second) {
        second = d;
      }
    }
    if (best_j < 0 || best > options.max_hamming_distance) continue;
    if (second <= 256 && !(best < options.ratio * second)) continue;
    nearest[i] = best_j;
  }
  return nearest;
}

void CheckFeatures(const KeyframeFeatures& features, const char* what) {
  FACET_CHECK(features.points_in_cam.size() == features.size() &&
                  features.descriptors.size() == features.size(),
              "{}: keyframe features have {} keypoints, {} points and {} descriptors (must be "
              "equal)",
              what, features.size(), features.points_in_cam.size(), features.descriptors.size());
}

}  // namespace

KeyframeFeatures ExtractKeyframeFeatures(ImageView<const std::uint8_t> rgb,
                                         ImageView<const float> depth_m,
                                         const geometry::Camera& camera,
                                         const KeyframeFeatureOptions& options) {
  options.Check();
  camera.Check();
  FACET_CHECK(!rgb.empty(), "ExtractKeyframeFeatures: the colour image is empty");
  FACET_CHECK(
      depth_m.width() == rgb.width() && depth_m.height() == rgb.height() && depth_m.channels() == 1,
      "ExtractKeyframeFeatures: the depth map is {}x{} with {} channels; it must be "
      "single-channel and the colour image's size {}x{}",
      depth_m.width(), depth_m.height(), depth_m.channels(), rgb.width(), rgb.height());
  FACET_CHECK(camera.width == rgb.width() && camera.height == rgb.height(),
              "ExtractKeyframeFeatures: the camera is {}x{} but the image is {}x{}", camera.width,
              camera.height, rgb.width(), rgb.height());

  const cv::Mat gray = detail::ToGray(rgb);
  const cv::Ptr<cv::ORB> orb = cv::ORB::create(
      options.max_features, static_cast<float>(options.scale_factor), options.num_levels, 31, 0, 2,
      cv::ORB::HARRIS_SCORE, 31, options.fast_threshold);
  std::vector<cv::KeyPoint> keypoints;
  cv::Mat descriptors;
  orb->detectAndCompute(gray, cv::noArray(), keypoints, descriptors);

  // A total order, so that the result never depends on OpenCV's internal ordering.
  std::vector<int> order(keypoints.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const cv::KeyPoint& ka = keypoints[static_cast<std::size_t>(a)];
    const cv::KeyPoint& kb = keypoints[static_cast<std::size_t>(b)];
    if (ka.response != kb.response) return ka.response > kb.response;
    if (ka.pt.y != kb.pt.y) return ka.pt.y < kb.pt.y;
    if (ka.pt.x != kb.pt.x) return ka.pt.x < kb.pt.x;
    if (ka.octave != kb.octave) return ka.octave < kb.octave;
    if (ka.angle != kb.angle) return ka.angle < kb.angle;
    return a < b;
  });

  KeyframeFeatures features;
  features.keypoints.reserve(order.size());
  features.points_in_cam.reserve(order.size());
  features.descriptors.reserve(order.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const int k : order) {
    const cv::KeyPoint& kp = keypoints[static_cast<std::size_t>(k)];
    // ORB reports a keypoint found at (x, y) on pyramid level l (scale s = scale_factor^l, first
    // pixel's centre at 0 there, as everywhere in OpenCV) as s (x, y) in the full image. Its
    // pyramid is built with bilinear resizing, which puts level pixel x at (x + 0.5) s - 0.5 in
    // the full image, i.e. at (x + 0.5) s in facet's convention: pt + 0.5 s.
    const float half_scale =
        0.5f * static_cast<float>(std::pow(options.scale_factor, std::max(kp.octave, 0)));
    const Eigen::Vector2f keypoint(kp.pt.x + half_scale, kp.pt.y + half_scale);
    features.keypoints.push_back(keypoint);
    // The 3D point of the pixel containing the keypoint.
    const int x = std::clamp(static_cast<int>(std::floor(keypoint.x())), 0, rgb.width() - 1);
    const int y = std::clamp(static_cast<int>(std::floor(keypoint.y())), 0, rgb.height() - 1);
    const float d = StableDepth(depth_m, x, y, options);
    Eigen::Vector3d point(nan, nan, nan);
    if (std::isfinite(d)) {
      const auto ray = camera.CamFromImg(Eigen::Vector2d(x + 0.5, y + 0.5));
      if (ray) point = double(d) * Eigen::Vector3d(ray->x(), ray->y(), 1.0);
    }
    features.points_in_cam.push_back(point);
    OrbDescriptor descriptor;
    std::memcpy(descriptor.data(), descriptors.ptr<std::uint8_t>(k), descriptor.size());
    features.descriptors.push_back(descriptor);
  }
  return features;
}

std::vector<std::array<int, 2>> MatchDescriptors(const std::vector<OrbDescriptor>& query,
                                                 const std::vector<OrbDescriptor>& train,
                                                 const DescriptorMatchOptions& options) {
  options.Check();
  const std::vector<int> nearest = RatioTestNearest(query, train, options);
  std::vector<std::array<int, 2>> matches;
  for (std::size_t i = 0; i < nearest.size(); ++i) {
    if (nearest[i] >= 0) matches.push_back({static_cast<int>(i), nearest[i]});
  }
  return matches;
}

KeyframeDatabase::KeyframeDatabase(const KeyframeDatabaseOptions& options) : options_(options) {
  options_.Check();
}

void KeyframeDatabase::Add(int keyframe_id, KeyframeFeatures features) {
  CheckFeatures(features, "KeyframeDatabase::Add");
  FACET_CHECK(Find(keyframe_id) == nullptr, "KeyframeDatabase::Add: keyframe {} is already stored",
              keyframe_id);
  ids_.push_back(keyframe_id);
  features_.push_back(std::move(features));
}

const KeyframeFeatures* KeyframeDatabase::Find(int keyframe_id) const {
  const auto it = std::find(ids_.begin(), ids_.end(), keyframe_id);
  return it == ids_.end() ? nullptr : &features_[static_cast<std::size_t>(it - ids_.begin())];
}

std::vector<LoopCandidate> KeyframeDatabase::Query(const KeyframeFeatures& query,
                                                   int max_keyframe_id, int max_candidates) const {
  CheckFeatures(query, "KeyframeDatabase::Query");
  FACET_CHECK(max_candidates >= 0, "KeyframeDatabase::Query: max_candidates must be >= 0 (got {})",
              max_candidates);
  std::vector<int> counts(ids_.size(), -1);
  ParallelFor(static_cast<std::int64_t>(ids_.size()), [&](std::int64_t k) {
    const auto kk = static_cast<std::size_t>(k);
    if (ids_[kk] > max_keyframe_id) return;
    const std::vector<int> nearest =
        RatioTestNearest(query.descriptors, features_[kk].descriptors, options_.matching);
    counts[kk] = static_cast<int>(
        std::count_if(nearest.begin(), nearest.end(), [](int j) { return j >= 0; }));
  });
  std::vector<LoopCandidate> candidates;
  for (std::size_t k = 0; k < ids_.size(); ++k) {
    if (counts[k] >= options_.min_matches) candidates.push_back({ids_[k], counts[k]});
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const LoopCandidate& a, const LoopCandidate& b) {
              if (a.num_matches != b.num_matches) return a.num_matches > b.num_matches;
              return a.keyframe_id < b.keyframe_id;
            });
  if (candidates.size() > static_cast<std::size_t>(max_candidates)) {
    candidates.resize(static_cast<std::size_t>(max_candidates));
  }
  return candidates;
}

RelativePoseEstimate EstimateRelativePose3D(const KeyframeFeatures& source,
                                            const KeyframeFeatures& target,
                                            const RelativePoseOptions& options) {
  options.Check();
  CheckFeatures(source, "EstimateRelativePose3D");
  CheckFeatures(target, "EstimateRelativePose3D");

  const std::vector<int> forward =
      RatioTestNearest(source.descriptors, target.descriptors, options.matching);
  std::vector<int> backward;
  if (options.mutual) {
    backward = RatioTestNearest(target.descriptors, source.descriptors, options.matching);
  }
  std::vector<std::array<int, 2>> matches;
  std::vector<Eigen::Vector3d> src, dst;
  for (std::size_t i = 0; i < forward.size(); ++i) {
    const int j = forward[i];
    if (j < 0) continue;
    if (options.mutual && backward[static_cast<std::size_t>(j)] != static_cast<int>(i)) continue;
    const Eigen::Vector3d& p = source.points_in_cam[i];
    const Eigen::Vector3d& q = target.points_in_cam[static_cast<std::size_t>(j)];
    if (!p.allFinite() || !q.allFinite()) continue;
    matches.push_back({static_cast<int>(i), j});
    src.push_back(p);
    dst.push_back(q);
  }

  RelativePoseEstimate estimate;
  estimate.matches = static_cast<int>(matches.size());
  if (estimate.matches < options.min_inliers) return estimate;

  geometry::RansacAlignmentOptions ransac;
  ransac.max_error = options.max_error;
  ransac.max_iterations = options.max_iterations;
  ransac.estimate_scale = false;
  ransac.seed = options.seed;
  const geometry::RansacAlignmentResult fit = geometry::EstimateSim3Robust(src, dst, ransac);
  if (!fit.success) return estimate;
  estimate.inliers = static_cast<int>(fit.num_inliers);
  estimate.inlier_rmse = fit.inlier_rms_error;
  estimate.target_from_source =
      geometry::Rigid3(fit.dst_from_src.rotation.normalized(), fit.dst_from_src.translation);
  for (std::size_t k = 0; k < matches.size(); ++k) {
    if (fit.inlier_mask[k] != 0) estimate.inlier_matches.push_back(matches[k]);
  }
  estimate.success = estimate.inliers >= options.min_inliers;
  return estimate;
}

}  // namespace facet::sfm
