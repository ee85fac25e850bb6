#include "sfm/incremental_mapper.h"

#include <opencv2/calib3d.hpp>
#include <opencv2/core/eigen.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <set>

#include "core/error.h"
#include "sfm/detail/model_builder.h"

namespace facet::sfm {

using datasets::ImageId;
using datasets::Point3DId;
using detail::ModelBuilder;

void MapperOptions::Check() const {
  FACET_CHECK(init_min_num_inliers >= 5, "MapperOptions.init_min_num_inliers must be >= 5 (got {})",
              init_min_num_inliers);
  FACET_CHECK(init_min_tri_angle_deg > 0,
              "MapperOptions.init_min_tri_angle_deg must be > 0 (got {})", init_min_tri_angle_deg);
  FACET_CHECK(init_min_num_points >= 5, "MapperOptions.init_min_num_points must be >= 5 (got {})",
              init_min_num_points);
  abs_pose.Check();
  FACET_CHECK(relaxed_min_num_inliers >= 6,
              "MapperOptions.relaxed_min_num_inliers must be >= 6 (got {})",
              relaxed_min_num_inliers);
  FACET_CHECK(max_reg_trials >= 1, "MapperOptions.max_reg_trials must be >= 1 (got {})",
              max_reg_trials);
  FACET_CHECK(tri_min_angle_deg >= 0 && tri_max_error_px > 0,
              "MapperOptions: tri_min_angle_deg must be >= 0 and tri_max_error_px > 0");
  FACET_CHECK(filter_min_tri_angle_deg >= 0 && filter_max_error_px > 0,
              "MapperOptions: filter_min_tri_angle_deg must be >= 0 and filter_max_error_px > 0");
  FACET_CHECK(local_ba_num_images >= 2, "MapperOptions.local_ba_num_images must be >= 2 (got {})",
              local_ba_num_images);
  FACET_CHECK(local_ba_max_iterations >= 1 && global_ba_max_iterations >= 1,
              "MapperOptions: BA iteration counts must be >= 1");
  FACET_CHECK(global_ba_images_ratio >= 1 && global_ba_points_ratio >= 1,
              "MapperOptions: global BA growth ratios must be >= 1");
  FACET_CHECK(global_refinements >= 1, "MapperOptions.global_refinements must be >= 1 (got {})",
              global_refinements);
  FACET_CHECK(min_images_for_intrinsics >= 2,
              "MapperOptions.min_images_for_intrinsics must be >= 2 (got {})",
              min_images_for_intrinsics);
  ba.Check();
  FACET_CHECK(auto_principal_point_min_images >= 2 && auto_principal_point_min_shift >= 0 &&
                  auto_principal_point_max_shift > auto_principal_point_min_shift,
              "MapperOptions: auto_principal_point_min_images must be >= 2 and 0 <= "
              "auto_principal_point_min_shift < auto_principal_point_max_shift");
  FACET_CHECK(min_model_size >= 2, "MapperOptions.min_model_size must be >= 2 (got {})",
              min_model_size);
  FACET_CHECK(max_num_models >= 1, "MapperOptions.max_num_models must be >= 1 (got {})",
              max_num_models);
}

namespace {

// Relative pose of an image pair from its verified matches with the current intrinsics:
// five-point RANSAC on normalised coordinates and the cheirality check (cv::recoverPose).
std::optional<geometry::Rigid3> RelativePose(const ModelBuilder& model,
                                             const ImagePairGeometry& pair, double max_error_px) {
  std::vector<cv::Point2d> p1, p2;
  for (const FeatureMatch& m : pair.geometry.inlier_matches) {
    const auto a = model.Normalized(pair.image1, m.idx1);
    const auto b = model.Normalized(pair.image2, m.idx2);
    if (!a || !b) continue;
    p1.emplace_back(a->x(), a->y());
    p2.emplace_back(b->x(), b->y());
  }
  if (p1.size() < 5) return std::nullopt;
  const auto& scene = model.scene();
  const double focal =
      scene.cameras.at(scene.images.at(model.IdOf(pair.image1)).camera_id).MeanFocal();
  cv::Mat mask;
  cv::theRNG().state = 0x5f3759df;
  const cv::Mat e = cv::findEssentialMat(p1, p2, cv::Mat::eye(3, 3, CV_64F), cv::RANSAC, 0.9999,
                                         max_error_px / focal, mask);
  if (e.rows != 3 || e.cols != 3) return std::nullopt;
  cv::Mat r, t;
  const int in_front = cv::recoverPose(e, p1, p2, cv::Mat::eye(3, 3, CV_64F), r, t, mask);
  if (in_front < 5) return std::nullopt;
  Eigen::Matrix3d rotation;
  Eigen::Vector3d translation;
  cv::cv2eigen(r, rotation);
  cv::cv2eigen(t, translation);
  return geometry::Rigid3(Eigen::Quaterniond(rotation).normalized(), translation.normalized());
}

class Mapper {
 public:
  Mapper(const datasets::Scene& skeleton, std::span<const ImageId> image_ids,
         const CorrespondenceGraph& graph, const MapperOptions& options,
         const std::vector<char>& excluded)
      : model_(skeleton, image_ids, graph, options),
        graph_(graph),
        options_(options),
        excluded_(excluded),
        trials_(image_ids.size(), 0),
        abs_pose_(options.abs_pose) {}

  bool Initialize(std::size_t pair_index);
  // Continues a checkpointed model: its registered images, points and cameras.
  void Restore(const datasets::Scene& partial, ImageId init1, ImageId init2);
  void Grow(const std::function<void()>& on_registered);
  ImageId Init1() const { return model_.IdOf(init1_); }
  ImageId Init2() const { return model_.IdOf(init2_); }
  // Called after each global refinement while growing (MapperCallbacks::on_checkpoint).
  std::function<void()> on_refined;
  ModelBuilder& model() { return model_; }

 private:
  bool TryRegister(std::uint32_t image);
  std::vector<std::uint32_t> NextImages() const;
  double SpreadScore(std::uint32_t image) const;
  void LocalBundleAdjustment(std::uint32_t image);
  void GlobalRefinement(bool final_pass);
  // The final refinement's optional principal point (MapperOptions::auto_principal_point).
  void TryRefinePrincipalPoint(const BundleAdjustmentConfig& config);
  BundleAdjustmentSummary Adjust(BundleAdjustmentConfig config, int max_iterations,
                                 bool refine_principal_point);

  ModelBuilder model_;
  const CorrespondenceGraph& graph_;
  const MapperOptions& options_;
  const std::vector<char>& excluded_;
  std::vector<int> trials_;
  std::uint32_t init1_ = 0, init2_ = 0;
  bool final_refinement_ = false;  // inside the final global refinement
  // Registration thresholds in force: options_.abs_pose, or relaxed when nothing else registers.
  AbsolutePoseOptions abs_pose_;
};

bool Mapper::Initialize(std::size_t pair_index) {
  const ImagePairGeometry& pair = graph_.Pairs()[pair_index];
  const auto pose = RelativePose(model_, pair, options_.tri_max_error_px);
  if (!pose) return false;
  init1_ = pair.image1;
  init2_ = pair.image2;
  model_.Register(init1_, geometry::Rigid3());
  model_.Register(init2_, *pose);
  model_.TriangulateImage(init2_);
  if (model_.scene().points3d.size() < static_cast<std::size_t>(options_.init_min_num_points)) {
    return false;
  }
  GlobalRefinement(false);
  const std::size_t num_points = model_.scene().points3d.size();
  spdlog::debug("mapper: initial pair {} / {}: {} points", model_.IdOf(init1_).value,
                model_.IdOf(init2_).value, num_points);
  return num_points >= static_cast<std::size_t>(options_.init_min_num_points);
}

void Mapper::Restore(const datasets::Scene& partial, ImageId init1, ImageId init2) {
  datasets::Scene& scene = model_.scene();
  for (const auto& [id, camera] : partial.cameras) {
    FACET_CHECK(scene.cameras.contains(id) && scene.cameras.at(id).model == camera.model,
                "mapping checkpoint: camera {} does not fit these photos", id.value);
    scene.cameras.at(id) = camera;
  }
  for (const auto& [id, image] : partial.images) {
    if (image.IsRegistered()) model_.Register(model_.IndexOf(id), *image.cam_from_world);
  }
  std::vector<Correspondence> track;
  for (const auto& [id, point] : partial.points3d) {
    track.clear();
    for (const auto& e : point.track) {
      const std::uint32_t image = model_.IndexOf(e.image_id);
      FACET_CHECK(model_.IsRegistered(image) &&
                      e.point2d_idx < scene.images.at(e.image_id).points2d.size() &&
                      !model_.PointOf(image, e.point2d_idx).IsValid(),
                  "mapping checkpoint: point {} observes a keypoint these photos do not have",
                  id.value);
      track.push_back({image, e.point2d_idx});
    }
    if (track.size() >= 2) model_.AddPoint(point.xyz, track);
  }
  init1_ = model_.IndexOf(init1);
  init2_ = model_.IndexOf(init2);
  FACET_CHECK(model_.IsRegistered(init1_) && model_.IsRegistered(init2_),
              "mapping checkpoint: the initial pair is not registered");
}

// COLMAP's visibility pyramid (Schönberger & Frahm 2016, sec. 4.2): at each level l the image is
// split into 2^l x 2^l cells, and every occupied cell scores 2^l, so points spread over the image
// score higher than the same number in a clump.
double Mapper::SpreadScore(std::uint32_t image) const {
  constexpr int kLevels = 6;
  const auto& img = model_.scene().images.at(model_.IdOf(image));
  const auto& camera = model_.scene().cameras.at(img.camera_id);
  // Occupancy per level in one flat array (level l has (2^(l+1))^2 cells), counted as they fill:
  // this runs for every candidate at every registration.
  constexpr int kCells = 4 + 16 + 64 + 256 + 1024 + 4096;
  std::array<std::uint8_t, kCells> occupied{};
  std::array<std::size_t, kLevels> counts{};
  for (std::uint32_t k = 0; k < img.points2d.size(); ++k) {
    if (!model_.IsVisible(image, k)) continue;
    const Eigen::Vector2d& xy = img.points2d[k].xy;
    int offset = 0;
    for (int l = 0; l < kLevels; ++l) {
      const int dim = 2 << l;
      const int cx = std::clamp(static_cast<int>(xy.x() / camera.width * dim), 0, dim - 1);
      const int cy = std::clamp(static_cast<int>(xy.y() / camera.height * dim), 0, dim - 1);
      std::uint8_t& cell = occupied[static_cast<std::size_t>(offset + cy * dim + cx)];
      if (!cell) {
        cell = 1;
        ++counts[l];
      }
      offset += dim * dim;
    }
  }
  double score = 0.0;
  for (int l = 0; l < kLevels; ++l) score += static_cast<double>(counts[l]) * (2 << l);
  return score;
}

std::vector<std::uint32_t> Mapper::NextImages() const {
  std::vector<std::pair<double, std::uint32_t>> scored;
  for (std::uint32_t i = 0; i < model_.NumImages(); ++i) {
    if (excluded_[i] || model_.IsRegistered(i) || trials_[i] >= options_.max_reg_trials) continue;
    if (model_.NumVisiblePoints(i) < static_cast<std::uint32_t>(abs_pose_.min_num_inliers)) {
      continue;
    }
    scored.emplace_back(SpreadScore(i), i);
  }
  std::sort(scored.begin(), scored.end(), std::greater<>());
  std::vector<std::uint32_t> order;
  for (const auto& s : scored) order.push_back(s.second);
  return order;
}

bool Mapper::TryRegister(std::uint32_t image) {
  ++trials_[image];
  const auto& img = model_.scene().images.at(model_.IdOf(image));
  const auto& camera = model_.scene().cameras.at(img.camera_id);
  // 2D-3D correspondences through the graph: every triangulated correspondence of a keypoint.
  std::vector<std::uint32_t> keypoints;
  std::vector<Point3DId> point_ids;
  std::vector<Eigen::Vector2d> xy;
  std::vector<Eigen::Vector3d> xyz;
  for (std::uint32_t k = 0; k < img.points2d.size(); ++k) {
    if (!model_.IsVisible(image, k)) continue;
    const std::size_t first = point_ids.size();
    for (const Correspondence& c : graph_.Find(image, k)) {
      if (!model_.IsRegistered(c.image)) continue;
      const Point3DId p = model_.PointOf(c.image, c.point2d);
      if (!p.IsValid() || std::find(point_ids.begin() + static_cast<std::ptrdiff_t>(first),
                                    point_ids.end(), p) != point_ids.end()) {
        continue;
      }
      keypoints.push_back(k);
      point_ids.push_back(p);
      xy.push_back(img.points2d[k].xy);
      xyz.push_back(model_.scene().points3d.at(p).xyz);
    }
  }
  const AbsolutePoseResult pose = EstimateAbsolutePose(camera, xy, xyz, abs_pose_);
  spdlog::debug("mapper: image {}: {} 2D-3D correspondences, {} inliers{}", img.name, xy.size(),
                pose.num_inliers, pose.success ? "" : ": not registered");
  if (!pose.success) return false;
  model_.Register(image, pose.cam_from_world);
  // Each keypoint observes the inlier point that it fits best, and each point is seen once.
  std::vector<std::pair<double, std::size_t>> candidates;
  for (std::size_t i = 0; i < keypoints.size(); ++i) {
    if (pose.inlier_mask[i]) {
      candidates.emplace_back(model_.SquaredError(xyz[i], {image, keypoints[i]}), i);
    }
  }
  std::sort(candidates.begin(), candidates.end());
  const ImageId id = model_.IdOf(image);
  for (const auto& [error, i] : candidates) {
    if (model_.PointOf(image, keypoints[i]).IsValid()) continue;
    const auto& track = model_.scene().points3d.at(point_ids[i]).track;
    if (std::any_of(track.begin(), track.end(),
                    [&](const datasets::TrackElement& e) { return e.image_id == id; })) {
      continue;
    }
    model_.AddObservation(point_ids[i], {image, keypoints[i]});
  }
  return true;
}

BundleAdjustmentSummary Mapper::Adjust(BundleAdjustmentConfig config, int max_iterations,
                                       bool refine_principal_point) {
  BundleAdjustmentOptions ba = options_.ba;
  ba.max_num_iterations = max_iterations;
  ba.refine_focal_length = options_.refine_focal_length;
  ba.refine_extra_params = options_.refine_extra_params;
  ba.refine_principal_point = refine_principal_point;
  // While the model grows, BA only needs to keep it consistent for the next registrations; the
  // final refinement converges fully.
  if (!final_refinement_) {
    ba.function_tolerance = std::max(ba.function_tolerance, options_.growth_function_tolerance);
  }
  for (const auto& [camera_id, camera] : model_.scene().cameras) {
    if (model_.NumRegisteredWithCamera(camera_id) <
        static_cast<std::size_t>(options_.min_images_for_intrinsics)) {
      config.constant_cameras.insert(camera_id);
    }
  }
  // Gauge: the first image's pose, and the second's largest translation coordinate (the scale).
  const ImageId id1 = model_.IdOf(init1_), id2 = model_.IdOf(init2_);
  if (config.images.contains(id1)) config.constant_poses.insert(id1);
  if (config.images.contains(id2)) {
    const Eigen::Vector3d t = model_.scene().images.at(id2).cam_from_world->translation;
    int axis = 0;
    t.cwiseAbs().maxCoeff(&axis);
    config.constant_translation_coords[id2] = {axis};
  }
  const BundleAdjustmentSummary summary = RunBundleAdjustment(model_.scene(), config, ba);
  spdlog::debug(
      "mapper: BA of {} images, {} observations: {} iterations, {:.3f} s, RMS {:.3f} -> "
      "{:.3f} px",
      config.images.size(), summary.num_residuals, summary.num_iterations, summary.seconds,
      summary.initial_rms_error_px, summary.final_rms_error_px);
  model_.RefreshPoses();
  return summary;
}

void Mapper::LocalBundleAdjustment(std::uint32_t image) {
  // The new image and the registered images sharing the most points with it.
  std::map<std::uint32_t, std::size_t> shared;
  const auto& img = model_.scene().images.at(model_.IdOf(image));
  for (const auto& p : img.points2d) {
    if (!p.point3d_id.IsValid()) continue;
    for (const auto& e : model_.scene().points3d.at(p.point3d_id).track) {
      const std::uint32_t other = model_.IndexOf(e.image_id);
      if (other != image) ++shared[other];
    }
  }
  std::vector<std::pair<std::size_t, std::uint32_t>> ranked;
  for (const auto& [other, count] : shared) ranked.emplace_back(count, other);
  std::sort(ranked.begin(), ranked.end(), std::greater<>());
  std::vector<std::uint32_t> images{image};
  for (const auto& r : ranked) {
    if (images.size() >= static_cast<std::size_t>(options_.local_ba_num_images)) break;
    images.push_back(r.second);
  }
  BundleAdjustmentConfig config;
  for (const std::uint32_t i : images) config.images.insert(model_.IdOf(i));
  // Intrinsics are left to the global BAs: with them constant every residual touches a 6-dof pose
  // and a point only, which Ceres' Schur eliminator handles with fixed-size blocks (and a local
  // window of images constrains intrinsics poorly anyway).
  if (!options_.local_ba_refine_intrinsics) {
    for (const auto& [camera_id, camera] : model_.scene().cameras) {
      config.constant_cameras.insert(camera_id);
    }
  }
  Adjust(config, options_.local_ba_max_iterations, false);
  const std::set<Point3DId> points = model_.PointsOf(images);
  model_.CompleteAndMergeTracks(points);
  const std::set<Point3DId> remaining = model_.PointsOf(images);
  model_.FilterPoints(&remaining);
}

void Mapper::GlobalRefinement(bool final_pass) {
  final_refinement_ = final_pass;
  // Retriangulate what later registrations made possible, then alternate BA and track upkeep.
  for (std::uint32_t i = 0; i < model_.NumImages(); ++i) {
    if (model_.IsRegistered(i)) model_.TriangulateImage(i);
  }
  model_.CompleteAndMergeTracks(model_.AllPoints());
  BundleAdjustmentConfig config;
  for (std::uint32_t i = 0; i < model_.NumImages(); ++i) {
    if (model_.IsRegistered(i)) config.images.insert(model_.IdOf(i));
  }
  // While the model grows one round suffices (the next registration brings another); the final
  // refinement iterates until the model stops changing.
  const int rounds = final_pass ? options_.global_refinements : 1;
  for (int round = 0; round < rounds; ++round) {
    Adjust(config, options_.global_ba_max_iterations, false);
    const std::size_t observations = std::max<std::size_t>(1, model_.NumObservations());
    std::size_t changed = model_.CompleteAndMergeTracks(model_.AllPoints());
    changed += model_.FilterPoints(nullptr);
    if (static_cast<double>(changed) / static_cast<double>(observations) <
        options_.global_refinement_change) {
      break;
    }
  }
  if (final_pass && options_.refine_principal_point) {
    Adjust(config, options_.global_ba_max_iterations, true);
    model_.FilterPoints(nullptr);
  } else if (final_pass && options_.auto_principal_point) {
    TryRefinePrincipalPoint(config);
  }
}

void Mapper::TryRefinePrincipalPoint(const BundleAdjustmentConfig& config) {
  for (const auto& [camera_id, camera] : model_.scene().cameras) {
    const std::size_t n = model_.NumRegisteredWithCamera(camera_id);
    if (n > 0 && n < static_cast<std::size_t>(options_.auto_principal_point_min_images)) return;
  }
  const datasets::Scene before = model_.scene();
  const BundleAdjustmentSummary summary = Adjust(config, options_.global_ba_max_iterations, true);
  bool keep = summary.usable;
  for (const auto& [camera_id, camera] : model_.scene().cameras) {
    const geometry::Camera& old = before.cameras.at(camera_id);
    const double shift = (camera.PrincipalPoint() - old.PrincipalPoint()).norm();
    spdlog::debug("mapper: camera {}: principal point moved {:.2f} px", camera_id.value, shift);
    const double size = std::max(camera.width, camera.height);
    if (shift > options_.auto_principal_point_max_shift * size ||
        shift < options_.auto_principal_point_min_shift * size) {
      keep = false;
    }
  }
  if (!keep) {
    // BA changed values only (no observation came or went): put them back.
    datasets::Scene& scene = model_.scene();
    scene.cameras = before.cameras;
    for (auto& [id, image] : scene.images) {
      image.cam_from_world = before.images.at(id).cam_from_world;
    }
    for (auto& [id, point] : scene.points3d) {
      point.xyz = before.points3d.at(id).xyz;
      point.error = before.points3d.at(id).error;
    }
    model_.RefreshPoses();
    return;
  }
  model_.FilterPoints(nullptr);
}

void Mapper::Grow(const std::function<void()>& on_registered) {
  std::size_t last_global_images = model_.NumRegistered();
  std::size_t last_global_points = model_.scene().points3d.size();
  int retried = 0;
  while (true) {
    std::optional<std::uint32_t> added;
    for (const std::uint32_t candidate : NextImages()) {
      if (TryRegister(candidate)) {
        added = candidate;
        break;
      }
    }
    if (!added) {
      // A second chance for the images that failed: refine everything, reset their trials; then
      // a third with relaxed registration thresholds (small or weakly overlapping photos see
      // fewer points than the defaults ask for; COLMAP's controller relaxes the same way).
      if (retried == 0) {
        GlobalRefinement(false);
      } else if (retried == 1 && options_.relax_registration) {
        abs_pose_.min_num_inliers =
            std::max(options_.relaxed_min_num_inliers, options_.abs_pose.min_num_inliers / 2);
        abs_pose_.min_inlier_ratio = 0.5 * options_.abs_pose.min_inlier_ratio;
      } else {
        break;
      }
      std::fill(trials_.begin(), trials_.end(), 0);
      ++retried;
      continue;
    }
    retried = 0;
    abs_pose_ = options_.abs_pose;
    if (on_registered) on_registered();
    model_.TriangulateImage(*added);
    // A global refinement adjusts everything the local BA would: when one is due, it replaces it.
    if (static_cast<double>(model_.NumRegistered()) >=
            options_.global_ba_images_ratio * static_cast<double>(last_global_images) ||
        static_cast<double>(model_.scene().points3d.size()) >=
            options_.global_ba_points_ratio * static_cast<double>(last_global_points)) {
      GlobalRefinement(false);
      last_global_images = model_.NumRegistered();
      last_global_points = model_.scene().points3d.size();
      if (on_refined) on_refined();
    } else {
      LocalBundleAdjustment(*added);
    }
  }
  GlobalRefinement(true);
}

// Candidate initial pairs among images no model holds yet, best first: enough inliers, and the
// most of them among pairs whose median triangulation angle clears the threshold (halved until
// some pair does).
std::vector<std::size_t> InitialPairCandidates(const CorrespondenceGraph& graph,
                                               const std::vector<char>& excluded,
                                               const MapperOptions& options) {
  std::vector<std::pair<double, std::size_t>> scored;
  const auto& pairs = graph.Pairs();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto& p = pairs[i];
    if (excluded[p.image1] || excluded[p.image2]) continue;
    const auto n = static_cast<double>(p.geometry.inlier_matches.size());
    if (n < options.init_min_num_inliers) continue;
    if (p.geometry.config == TwoViewConfig::kPanoramic ||
        p.geometry.config == TwoViewConfig::kWatermark) {
      continue;
    }
    // Pairs without a known angle (uncalibrated) rank after those that clear the threshold.
    const double angle = p.geometry.has_pose ? p.geometry.median_tri_angle_deg : 0.0;
    double tier = 0.0;
    for (double t = options.init_min_tri_angle_deg; t >= options.tri_min_angle_deg; t *= 0.5) {
      if (angle >= t) break;
      tier += 1.0;
    }
    scored.emplace_back(tier * 1e9 - n, i);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::size_t> order;
  for (const auto& s : scored) order.push_back(s.second);
  return order;
}

}  // namespace

std::vector<datasets::Scene> RunIncrementalMapper(const datasets::Scene& skeleton,
                                                  std::span<const ImageId> image_ids,
                                                  const CorrespondenceGraph& graph,
                                                  const MapperOptions& options,
                                                  const MapperCallbacks& callbacks,
                                                  const MapperCheckpoint* resume) {
  options.Check();
  std::vector<char> excluded(image_ids.size(), 0);
  std::vector<datasets::Scene> models;
  std::set<std::size_t> tried;
  std::size_t registered_total = 0;
  const auto exclude_registered = [&](const datasets::Scene& model) {
    for (std::uint32_t i = 0; i < image_ids.size(); ++i) {
      const auto it = model.images.find(image_ids[i]);
      if (it != model.images.end() && it->second.IsRegistered()) excluded[i] = 1;
    }
    registered_total += model.NumRegisteredImages();
  };
  if (resume) {
    models = resume->finished;
    for (const auto& model : models) exclude_registered(model);
    spdlog::info("mapper: resuming with {} finished models{}", models.size(),
                 resume->partial ? " and one in progress" : "");
  }
  bool restore = resume && resume->partial.has_value();
  while (models.size() < static_cast<std::size_t>(options.max_num_models)) {
    std::optional<Mapper> mapper;
    if (restore) {
      mapper.emplace(skeleton, image_ids, graph, options, excluded);
      mapper->Restore(*resume->partial, resume->init1, resume->init2);
      restore = false;
    } else {
      for (const std::size_t pair : InitialPairCandidates(graph, excluded, options)) {
        if (!tried.insert(pair).second) continue;
        mapper.emplace(skeleton, image_ids, graph, options, excluded);
        if (mapper->Initialize(pair)) break;
        mapper.reset();
      }
    }
    if (!mapper) break;
    std::size_t in_model = mapper->model().NumRegistered();
    if (callbacks.on_registered) callbacks.on_registered(registered_total + in_model);
    if (callbacks.on_checkpoint) {
      mapper->on_refined = [&] {
        callbacks.on_checkpoint(models, &mapper->model().scene(), mapper->Init1(), mapper->Init2());
      };
    }
    mapper->Grow([&] {
      ++in_model;
      if (callbacks.on_registered) callbacks.on_registered(registered_total + in_model);
    });
    ModelBuilder& model = mapper->model();
    if (model.NumRegistered() >= static_cast<std::size_t>(options.min_model_size)) {
      spdlog::info("mapper: model {} with {} images and {} points", models.size(),
                   model.NumRegistered(), model.scene().points3d.size());
      models.push_back(model.TakeScene());
      // A model holds only its registered images (COLMAP's convention for sparse models).
      std::erase_if(models.back().images, [](const auto& kv) { return !kv.second.IsRegistered(); });
      exclude_registered(models.back());
      if (callbacks.on_checkpoint) callbacks.on_checkpoint(models, nullptr, {}, {});
    }
    if (!options.multiple_models) break;
  }
  std::stable_sort(models.begin(), models.end(), [](const auto& a, const auto& b) {
    return a.NumRegisteredImages() > b.NumRegisteredImages();
  });
  return models;
}

}  // namespace facet::sfm
