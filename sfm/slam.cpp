#include "sfm/slam.h"

#include <Eigen/Geometry>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "core/error.h"
#include "core/timer.h"
#include "geometry/pose_metrics.h"
#include "geometry/tsdf_raycast.h"
#include "sfm/place_recognition.h"

namespace facet::sfm {

void SlamOptions::Check() const {
  FACET_CHECK(std::isfinite(voxel_size) && voxel_size > 0.0,
              "SLAM voxel_size must be > 0 metres (got {})", voxel_size);
  FACET_CHECK(std::isfinite(truncation) && (truncation == 0.0 || truncation >= voxel_size),
              "SLAM truncation must be 0 (4 voxels) or >= voxel_size (got {})", truncation);
  FACET_CHECK(std::isfinite(depth_min) && std::isfinite(depth_max) && depth_min >= 0.0 &&
                  depth_min < depth_max,
              "SLAM needs 0 <= depth_min < depth_max (got {} and {})", depth_min, depth_max);
  odometry.Check();
  FACET_CHECK(min_tracking_fitness > 0.0 && min_tracking_fitness <= 1.0,
              "SLAM min_tracking_fitness must be in (0, 1] (got {})", min_tracking_fitness);
  FACET_CHECK(keyframe_translation > 0.0 && keyframe_rotation_deg > 0.0 && keyframe_max_frames >= 1,
              "SLAM keyframe thresholds must be > 0 (got {} m, {} deg, {} frames)",
              keyframe_translation, keyframe_rotation_deg, keyframe_max_frames);
  FACET_CHECK(loop_min_keyframe_gap >= 1 && loop_candidates >= 1,
              "SLAM loop_min_keyframe_gap and loop_candidates must be >= 1 (got {} and {})",
              loop_min_keyframe_gap, loop_candidates);
  FACET_CHECK(loop_search_radius >= 0.0 && loop_search_angle_deg >= 0.0,
              "SLAM loop search radius and angle must be >= 0 (got {} m, {} deg)",
              loop_search_radius, loop_search_angle_deg);
  FACET_CHECK(loop_min_fitness > 0.0 && loop_min_fitness <= 1.0 && loop_max_rmse > 0.0,
              "SLAM loop_min_fitness must be in (0, 1] and loop_max_rmse > 0 (got {} and {})",
              loop_min_fitness, loop_max_rmse);
  FACET_CHECK(raycast_level >= 0 && raycast_level < int(odometry.iterations_per_level.size()),
              "SLAM raycast_level must be in [0, {}) (the odometry's levels; got {})",
              odometry.iterations_per_level.size(), raycast_level);
  pose_graph.Check();
}

namespace {

using geometry::Rigid3;

double Seconds(const Timer& timer) { return timer.ElapsedSeconds(); }

// Translation (metres) and rotation (degrees) of a relative motion.
std::pair<double, double> MotionSize(const Rigid3& a_from_b) {
  return {a_from_b.translation.norm(),
          geometry::RotationAngleDeg(Eigen::Quaterniond::Identity(), a_from_b.rotation)};
}

bool HasValidDepth(const ImageF32& depth, double depth_min, double depth_max) {
  for (std::int64_t i = 0; i < std::int64_t(depth.width()) * depth.height(); ++i) {
    const float d = depth.data()[i];
    if (std::isfinite(d) && d > depth_min && d <= depth_max) return true;
  }
  return false;
}

struct Keyframe {
  int frame = 0;  // the frame it was made from
};

class SlamRunner {
 public:
  SlamRunner(const SlamFrameSource& source, const SlamOptions& options,
             const SlamProgress& progress)
      : source_(source), options_(options), progress_(progress) {}

  SlamResult Run();

 private:
  geometry::TsdfVolume MakeVolume() const;
  std::optional<SlamFrame> Load(int index) const;
  geometry::RgbdPyramidOptions PyramidOptions(bool target) const;
  int Levels() const;
  // The frame's pyramid; `target`: with the intensity gradients a registration target needs.
  geometry::RgbdPyramid Pyramid(const SlamFrame& frame, bool target) const;
  // Registers frame `index` and returns whether it was accepted.
  bool Track(int index, const geometry::RgbdPyramid& pyramid, SlamFrameResult* out);
  void AddKeyframe(int index, const SlamFrame& frame, const geometry::RgbdPyramid& pyramid);
  void CloseLoops(int node, const KeyframeFeatures& features, const geometry::RgbdPyramid& pyramid);
  bool AcceptRegistration(const geometry::RgbdOdometryResult& r, double min_fitness) const {
    return r.success && r.fitness >= min_fitness;
  }
  void Finish();

  const SlamFrameSource& source_;
  const SlamOptions& options_;
  const SlamProgress& progress_;
  SlamResult result_{};

  std::optional<SlamFrame> previous_frame_{};  // the last fused frame
  int previous_index_ = -1;                    // and its index
  Rigid3 velocity_{};                          // previous_from_current of the last motion
  // Pose graph over keyframes; node n is keyframe n, every frame rides on keyframe_of_[frame].
  PoseGraph graph_{};
  std::vector<Keyframe> keyframes_{};
  std::optional<geometry::RgbdPyramid> last_keyframe_pyramid_{};
  std::vector<int> keyframe_of_{};
  KeyframeDatabase database_{};
  std::vector<int> loop_edges_{};  // graph_.edges index of each result_.loops entry
};

geometry::TsdfVolume SlamRunner::MakeVolume() const {
  geometry::TsdfVolume::Options tsdf;
  tsdf.voxel_size = options_.voxel_size;
  tsdf.truncation = options_.truncation;
  tsdf.depth_min = options_.depth_min;
  tsdf.depth_max = options_.depth_max;
  tsdf.with_color = options_.colors;
  return geometry::TsdfVolume(tsdf);
}

std::optional<SlamFrame> SlamRunner::Load(int index) const {
  SlamFrame frame;
  try {
    frame = source_.load(index);
  } catch (const Error& e) {
    spdlog::warn("SLAM: frame {} skipped: {}", index, e.what());
    return std::nullopt;
  }
  const geometry::Camera& camera = source_.camera;
  FACET_CHECK(frame.depth_m.width() == camera.width && frame.depth_m.height() == camera.height &&
                  frame.depth_m.channels() == 1,
              "SLAM: frame {}'s depth is {}x{}x{}, the camera is {}x{} (one channel expected)",
              index, frame.depth_m.width(), frame.depth_m.height(), frame.depth_m.channels(),
              camera.width, camera.height);
  FACET_CHECK(frame.rgb.width() == camera.width && frame.rgb.height() == camera.height &&
                  frame.rgb.channels() >= 3,
              "SLAM: frame {}'s colour is {}x{}x{}, the camera is {}x{} (RGB expected)", index,
              frame.rgb.width(), frame.rgb.height(), frame.rgb.channels(), camera.width,
              camera.height);
  if (!HasValidDepth(frame.depth_m, options_.depth_min, options_.depth_max)) {
    spdlog::warn("SLAM: frame {} has no depth in ({}, {}] m; skipped", index, options_.depth_min,
                 options_.depth_max);
    return std::nullopt;
  }
  return frame;
}

geometry::RgbdPyramidOptions SlamRunner::PyramidOptions(bool target) const {
  geometry::RgbdPyramidOptions pyramid;
  pyramid.depth_min = options_.depth_min;
  pyramid.depth_max = options_.depth_max;
  pyramid.gradients = target;  // only the target of a registration reads them
  return pyramid;
}

int SlamRunner::Levels() const {
  return static_cast<int>(options_.odometry.iterations_per_level.size());
}

geometry::RgbdPyramid SlamRunner::Pyramid(const SlamFrame& frame, bool target) const {
  // Without colour in the map there is no model intensity: geometry only, on both sides.
  const ImageView<const std::uint8_t> rgb =
      options_.colors ? frame.rgb.view() : ImageView<const std::uint8_t>();
  return geometry::MakeRgbdPyramid(frame.depth_m, rgb, source_.camera, Levels(), nullptr,
                                   PyramidOptions(target));
}

bool SlamRunner::Track(int index, const geometry::RgbdPyramid& pyramid, SlamFrameResult* out) {
  const Rigid3& world_from_previous = result_.frames[previous_index_].world_from_cam;
  Timer timer;
  geometry::RaycastOptions raycast;
  raycast.depth_min = options_.depth_min;
  raycast.depth_max = options_.depth_max;
  raycast.colors = options_.colors;
  const geometry::Camera model_camera =
      geometry::PyramidCamera(source_.camera, options_.raycast_level);
  const geometry::RaycastMaps model =
      result_.map->Raycast(model_camera, world_from_previous.Inverse(), raycast);
  result_.timings.raycast_s += Seconds(timer);

  timer.Restart();
  const geometry::RgbdPyramid target = geometry::MakeRgbdPyramid(
      model.depth_m, model.rgb, model_camera, Levels(), &model, PyramidOptions(true));
  geometry::RgbdOdometryResult registration =
      geometry::RegisterRgbd(pyramid, target, velocity_, options_.odometry);
  out->status = SlamFrameStatus::kTracked;
  if (!AcceptRegistration(registration, options_.min_tracking_fitness)) {
    registration = geometry::RegisterRgbd(pyramid, Pyramid(*previous_frame_, true), velocity_,
                                          options_.odometry);
    out->status = SlamFrameStatus::kFrameToFrame;
  }
  result_.timings.tracking_s += Seconds(timer);
  if (!AcceptRegistration(registration, options_.min_tracking_fitness)) {
    spdlog::warn("SLAM: frame {} lost (fitness {:.2f}); it keeps the previous pose", index,
                 registration.fitness);
    out->status = SlamFrameStatus::kLost;
    out->world_from_cam = world_from_previous;
    return false;
  }
  // previous_from_current; the next frame starts from the same motion (constant velocity).
  velocity_ = registration.target_from_source;
  out->world_from_cam = world_from_previous * registration.target_from_source;
  out->fitness = registration.fitness;
  out->inlier_rmse = registration.inlier_rmse;
  return true;
}

void SlamRunner::AddKeyframe(int index, const SlamFrame& frame,
                             const geometry::RgbdPyramid& pyramid) {
  Timer timer;
  const int node = static_cast<int>(keyframes_.size());
  const Rigid3& world_from_cam = result_.frames[index].world_from_cam;
  graph_.world_from_cam.push_back(world_from_cam);
  if (node > 0) {
    // Odometry edge: the tracked relative pose, weighted by a direct registration of the two
    // keyframes (its correspondences measure how well the pair constrains the motion).
    PoseGraphEdge edge;
    edge.source = node;
    edge.target = node - 1;
    edge.target_from_source = graph_.world_from_cam[node - 1].Inverse() * world_from_cam;
    const geometry::RgbdOdometryResult direct = geometry::RegisterRgbd(
        pyramid, *last_keyframe_pyramid_, edge.target_from_source, options_.odometry);
    if (direct.success) {
      edge.information = direct.information;
    } else {
      edge.information.setIdentity();
    }
    graph_.edges.push_back(edge);
  }
  keyframes_.push_back({index});
  KeyframeFeatures features;
  if (options_.loop_closure) {
    features = ExtractKeyframeFeatures(frame.rgb, frame.depth_m, source_.camera, {});
  }
  last_keyframe_pyramid_ = Pyramid(frame, true);
  result_.frames[index].keyframe = true;
  result_.timings.keyframes_s += Seconds(timer);

  if (options_.loop_closure) {
    timer.Restart();
    CloseLoops(node, features, pyramid);
    database_.Add(node, std::move(features));
    result_.timings.loop_closure_s += Seconds(timer);
  }
}

void SlamRunner::CloseLoops(int node, const KeyframeFeatures& features,
                            const geometry::RgbdPyramid& pyramid) {
  const int newest_candidate = node - options_.loop_min_keyframe_gap;
  if (newest_candidate < 0) return;
  // Candidates: place recognition, then every old keyframe near the current estimate.
  std::set<int> candidates;
  for (const LoopCandidate& c :
       database_.Query(features, newest_candidate, options_.loop_candidates)) {
    candidates.insert(c.keyframe_id);
  }
  const Rigid3& world_from_node = graph_.world_from_cam[node];
  std::vector<std::pair<double, int>> nearby;  // (distance, keyframe), the closest verified
  for (int j = 0; j <= newest_candidate; ++j) {
    const auto [distance, angle] = MotionSize(graph_.world_from_cam[j].Inverse() * world_from_node);
    if (distance <= options_.loop_search_radius && angle <= options_.loop_search_angle_deg) {
      nearby.emplace_back(distance, j);
    }
  }
  std::sort(nearby.begin(), nearby.end());
  for (std::size_t n = 0; n < nearby.size() && n < std::size_t(options_.loop_candidates); ++n) {
    candidates.insert(nearby[n].second);
  }
  for (const int j : candidates) {
    // The initial guess: 3D feature RANSAC when it succeeds (large drift), else the estimates.
    Rigid3 j_from_node = graph_.world_from_cam[j].Inverse() * world_from_node;
    const RelativePoseEstimate coarse = EstimateRelativePose3D(features, *database_.Find(j), {});
    if (coarse.success) j_from_node = coarse.target_from_source;
    const std::optional<SlamFrame> frame = Load(keyframes_[j].frame);
    if (!frame) continue;
    const geometry::RgbdOdometryResult dense =
        geometry::RegisterRgbd(pyramid, Pyramid(*frame, true), j_from_node, options_.odometry);
    if (!AcceptRegistration(dense, options_.loop_min_fitness) ||
        dense.inlier_rmse > options_.loop_max_rmse) {
      continue;
    }
    PoseGraphEdge edge;
    edge.source = node;
    edge.target = j;
    edge.target_from_source = dense.target_from_source;
    edge.information = dense.information;
    edge.uncertain = true;
    loop_edges_.push_back(static_cast<int>(graph_.edges.size()));
    graph_.edges.push_back(edge);
    SlamLoop loop;
    loop.source_frame = keyframes_[node].frame;
    loop.target_frame = keyframes_[j].frame;
    loop.target_from_source = dense.target_from_source;
    loop.fitness = dense.fitness;
    loop.inlier_rmse = dense.inlier_rmse;
    result_.loops.push_back(loop);
    spdlog::debug("SLAM: loop between frames {} and {} (fitness {:.2f}, rmse {:.4f} m)",
                  loop.source_frame, loop.target_frame, loop.fitness, loop.inlier_rmse);
  }
}

SlamResult SlamRunner::Run() {
  options_.Check();
  FACET_CHECK(source_.count > 0, "SLAM needs at least one RGB-D frame (got none)");
  FACET_CHECK(static_cast<bool>(source_.load), "SLAM: the frame source has no loader");
  source_.camera.Check();
  FACET_CHECK(source_.camera.model == geometry::CameraModelId::kPinhole ||
                  source_.camera.model == geometry::CameraModelId::kSimplePinhole,
              "SLAM needs a PINHOLE or SIMPLE_PINHOLE camera (got {}); undistort the frames first",
              source_.camera.ModelName());
  const Timer total;
  result_.frames.resize(static_cast<std::size_t>(source_.count));
  keyframe_of_.assign(static_cast<std::size_t>(source_.count), -1);
  result_.map.emplace(MakeVolume());
  for (int index = 0; index < source_.count; ++index) {
    std::optional<SlamFrame> frame = Load(index);
    SlamFrameResult& out = result_.frames[index];
    if (previous_index_ >= 0) out.world_from_cam = result_.frames[previous_index_].world_from_cam;
    if (!frame) {
      out.status = SlamFrameStatus::kMissing;
      ++result_.missing_frames;
    } else {
      const geometry::RgbdPyramid pyramid = Pyramid(*frame, false);
      bool fuse = true;
      if (previous_index_ < 0) {
        out.status = SlamFrameStatus::kTracked;  // the first frame defines the world
        out.fitness = 1.0;
      } else {
        fuse = Track(index, pyramid, &out);
      }
      if (fuse) {
        Timer timer;
        result_.map->Integrate(frame->depth_m, frame->rgb, source_.camera,
                               out.world_from_cam.Inverse());
        result_.timings.integration_s += Seconds(timer);
        const bool first = keyframes_.empty();
        const auto [distance, angle] =
            first ? std::pair<double, double>{0.0, 0.0}
                  : MotionSize(graph_.world_from_cam.back().Inverse() * out.world_from_cam);
        if (first || distance >= options_.keyframe_translation ||
            angle >= options_.keyframe_rotation_deg ||
            index - keyframes_.back().frame >= options_.keyframe_max_frames) {
          AddKeyframe(index, *frame, pyramid);
        }
        previous_frame_ = std::move(*frame);
        previous_index_ = index;
      } else {
        ++result_.lost_frames;
      }
    }
    if (!keyframes_.empty()) keyframe_of_[index] = static_cast<int>(keyframes_.size()) - 1;
    if (progress_) progress_(index + 1, source_.count);
  }
  FACET_CHECK(!keyframes_.empty(),
              "SLAM: none of the {} frames could be read or had depth in ({}, {}] m", source_.count,
              options_.depth_min, options_.depth_max);
  const double loop_s = Seconds(total);
  SlamTimings& timings = result_.timings;
  timings.frames_per_second = loop_s > 0.0 ? source_.count / loop_s : 0.0;
  const double tracking_s = timings.raycast_s + timings.tracking_s;
  timings.tracking_frames_per_second = tracking_s > 0.0 ? source_.count / tracking_s : 0.0;
  Finish();
  result_.keyframes = static_cast<int>(keyframes_.size());
  result_.timings.total_s = Seconds(total);
  return std::move(result_);
}

void SlamRunner::Finish() {
  if (graph_.edges.empty()) return;
  Timer timer;
  const std::vector<Rigid3> before = graph_.world_from_cam;
  result_.pose_graph = OptimizePoseGraph(&graph_, options_.pose_graph);
  result_.timings.pose_graph_s = Seconds(timer);
  bool loop_kept = false;
  for (std::size_t l = 0; l < loop_edges_.size(); ++l) {
    result_.loops[l].kept = result_.pose_graph.edge_kept[loop_edges_[l]];
    loop_kept = loop_kept || result_.loops[l].kept;
  }
  // Every frame moves with its keyframe: world_from_cam = world_from_kf' * kf_from_cam.
  for (int index = 0; index < source_.count; ++index) {
    const int node = keyframe_of_[index];
    if (node < 0) continue;
    SlamFrameResult& frame = result_.frames[index];
    frame.world_from_cam =
        graph_.world_from_cam[node] * (before[node].Inverse() * frame.world_from_cam);
  }
  if (!loop_kept || !options_.reintegrate) return;
  timer.Restart();
  result_.map.emplace(MakeVolume());
  for (int index = 0; index < source_.count; ++index) {
    const SlamFrameResult& frame = result_.frames[index];
    if (frame.status != SlamFrameStatus::kTracked &&
        frame.status != SlamFrameStatus::kFrameToFrame) {
      continue;
    }
    const std::optional<SlamFrame> data = Load(index);
    if (!data) continue;
    result_.map->Integrate(data->depth_m, data->rgb, source_.camera,
                           frame.world_from_cam.Inverse());
  }
  result_.timings.reintegration_s = Seconds(timer);
}

}  // namespace

SlamResult RunSlam(const SlamFrameSource& source, const SlamOptions& options,
                   const SlamProgress& progress) {
  return SlamRunner(source, options, progress).Run();
}

}  // namespace facet::sfm
