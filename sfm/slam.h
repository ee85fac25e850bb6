// Dense RGB-D SLAM: KinectFusion-style frame-to-model tracking with loop closure.
//
// Per frame (Newcombe et al., "KinectFusion", ISMAR 2011; with the colour term of Park et al.,
// ICCV 2017):
//   1. tracking: the TSDF map is raycast at the previous frame's pose and the frame registered to
//      it by projective point-to-plane + intensity ICP over an image pyramid
//      (geometry/rgbd_odometry.h), starting from a constant-velocity prediction; when that fails,
//      frame-to-frame against the previous frame; when that fails too, the frame is reported lost
//      and keeps the previous pose (it is not fused);
//   2. fusion: the frame is integrated into the TSDF at its pose (geometry/tsdf_volume.h);
//   3. keyframes: a frame becomes a keyframe after enough motion or frames since the last one;
//      keyframes are the pose graph's nodes, every other frame rides on its keyframe;
//   4. loop closure: each new keyframe is matched against older keyframes, found by ORB place
//      recognition (sfm/place_recognition.h) and by proximity of the current estimates, and each
//      candidate is verified by 3D feature RANSAC and dense RGB-D registration; accepted loops
//      become uncertain pose-graph edges.
// At the end the pose graph is optimised on Ceres with robust loop edges and pruning
// (sfm/pose_graph.h), every frame's pose is corrected through its keyframe, and when a loop was
// closed the map is fused again from the frames with the corrected poses (re-read through the
// frame source, so memory stays bounded by one frame plus the map).
//
// Conventions: depth in metres (camera-frame z), colour 8-bit sRGB, poses world_from_cam with the
// world frame the first frame's camera frame; cameras PINHOLE in facet's pixel convention.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/image.h"
#include "geometry/camera.h"
#include "geometry/rgbd_odometry.h"
#include "geometry/rigid3.h"
#include "geometry/triangle_mesh.h"
#include "geometry/tsdf_volume.h"
#include "sfm/pose_graph.h"

namespace facet::sfm {

struct SlamOptions {
  // The map: TSDF voxel size and truncation (0: 4 voxels), metres; depths outside
  // (depth_min, depth_max] are ignored.
  double voxel_size = 0.01;
  double truncation = 0.0;
  double depth_min = 0.1;
  double depth_max = 3.0;
  // Fuse colour into the map (and colour the mesh).
  bool colors = true;

  // Tracking (projective ICP with the colour term, coarse to fine over pyramid levels).
  geometry::RgbdOdometryOptions odometry{};
  // The map is ray cast at pyramid level raycast_level of the camera (0: full resolution, 1: half
  // width and height, a quarter of the cost) and the full-resolution frame registered to it;
  // 0 <= raycast_level < the odometry's levels.
  int raycast_level = 1;
  // A registration is accepted when at least this fraction of the frame's valid pixels found a
  // correspondence; (0, 1].
  double min_tracking_fitness = 0.3;

  // A new keyframe after this much motion since the last one (metres, degrees), or after
  // keyframe_max_frames frames; > 0.
  double keyframe_translation = 0.15;
  double keyframe_rotation_deg = 10.0;
  int keyframe_max_frames = 15;

  // Loop closure between keyframes at least loop_min_keyframe_gap keyframes apart.
  bool loop_closure = true;
  int loop_min_keyframe_gap = 8;
  // Place-recognition candidates verified per keyframe (>= 1), plus every older keyframe whose
  // current estimate is within loop_search_radius metres and loop_search_angle_deg.
  int loop_candidates = 3;
  double loop_search_radius = 0.5;
  double loop_search_angle_deg = 30.0;
  // A loop is accepted when the dense registration's fitness reaches this (0, 1] and its inlier
  // RMSE is at most loop_max_rmse metres.
  double loop_min_fitness = 0.5;
  double loop_max_rmse = 0.02;
  PoseGraphOptions pose_graph{};
  // Fuse the map again with the optimised poses when a loop was closed.
  bool reintegrate = true;

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

// One RGB-D frame: depth in metres (0: no measurement) and 3-channel sRGB colour, both the
// camera's size.
struct SlamFrame {
  ImageF32 depth_m{};
  ImageU8 rgb{};
};

// Where frames come from: `count` frames read by `load(i)` (called once per frame while tracking,
// and again for keyframes and re-integration; it may throw facet::Error for an unreadable frame,
// which the frame then counts as missing).
struct SlamFrameSource {
  geometry::Camera camera{};
  int count = 0;
  std::function<SlamFrame(int index)> load{};
};

enum class SlamFrameStatus : std::uint8_t {
  kTracked,       // registered to the map
  kFrameToFrame,  // registered to the previous frame only (the map registration failed)
  kLost,          // neither registration succeeded: the previous pose, not fused
  kMissing,       // the frame could not be read (or had no valid depth)
};

struct SlamFrameResult {
  geometry::Rigid3 world_from_cam{};
  SlamFrameStatus status = SlamFrameStatus::kMissing;
  double fitness = 0.0;      // of the accepted registration
  double inlier_rmse = 0.0;  // metres
  bool keyframe = false;
};

struct SlamLoop {
  int source_frame = 0, target_frame = 0;  // the two keyframes' frame indices
  geometry::Rigid3 target_from_source{};
  double fitness = 0.0;
  double inlier_rmse = 0.0;
  bool kept = true;  // survived the pose graph's pruning
};

struct SlamTimings {
  // raycast_s + tracking_s is the tracking cost (pyramids and registrations included).
  double raycast_s = 0.0, tracking_s = 0.0, integration_s = 0.0, keyframes_s = 0.0;
  double loop_closure_s = 0.0, pose_graph_s = 0.0, reintegration_s = 0.0, total_s = 0.0;
  // Frames per second of the per-frame loop (reading, tracking, fusion, keyframes, loops), and of
  // tracking alone (frames / (raycast_s + tracking_s)).
  double frames_per_second = 0.0;
  double tracking_frames_per_second = 0.0;
};

struct SlamResult {
  std::vector<SlamFrameResult> frames{};  // one per source frame
  std::vector<SlamLoop> loops{};
  PoseGraphSummary pose_graph{};
  SlamTimings timings{};
  int keyframes = 0;
  int lost_frames = 0;     // kLost
  int missing_frames = 0;  // kMissing
  // The fused map (re-integrated with the optimised poses when a loop was closed).
  std::optional<geometry::TsdfVolume> map{};
};

// Called after each frame with (frames done, frames in all); may be empty.
using SlamProgress = std::function<void(int, int)>;

// Runs SLAM over the frames. Throws facet::Error for invalid options, a camera that is not
// PINHOLE / SIMPLE_PINHOLE, an empty source, or when no frame at all can be read.
SlamResult RunSlam(const SlamFrameSource& source, const SlamOptions& options,
                   const SlamProgress& progress = {});

}  // namespace facet::sfm
