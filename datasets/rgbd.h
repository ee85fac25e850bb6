// RGB-D sequences: colour + registered depth frames with optional reference poses.
//
// TUM RGB-D (Sturm et al., IROS 2012; format at cvg.cit.tum.de "file formats"):
//   rgb.txt, depth.txt     "timestamp filename" per line, '#' comments; timestamps in seconds
//   groundtruth.txt        "timestamp tx ty tz qx qy qz qw" (optional): the colour camera's
//                          optical centre and orientation in the world, i.e. world_from_cam with
//                          the camera axes x right, y down, z forward (COLMAP's)
//   depth PNGs             16-bit, 5000 units per metre, 0 = no measurement
//   cameras.txt            (optional, facet's addition; `facet synth --rgbd` writes it) the
//                          colour intrinsics as COLMAP's text cameras file with one camera, in
//                          facet's pixel convention (see ReadSequenceCameraFile)
//   Colour and depth are associated as TUM's associate.py does: pairs closer than
//   max_association_dt_s, greedily by increasing time difference, each image used once.
//   TUM's calibrations (ROS/OpenCV, pixel centres at integers) are converted to facet's pixel
//   convention: cx and cy gain 0.5 px (geometry/camera.h, CameraFromOpenCvIntrinsics).
//
// Redwood / Open3D (Choi et al., CVPR 2015; Open3D's RGB-D examples):
//   image/ (or color/, rgb/) *.jpg|*.png and depth/ *.png (16-bit millimetres), sorted by name and
//   paired by index; trajectory .log files: per entry a line of three integers (metadata; for a
//   camera trajectory the first is the frame index) then four lines of a 4x4 camera-to-world
//   matrix (world_from_cam, camera axes as above). Redwood/Open3D intrinsics are in OpenCV's
//   pixel convention (Open3D unprojects pixel (u, v) as ((u - cx) / fx, (v - cy) / fy) with
//   integer u, v): convert them with CameraFromOpenCvIntrinsics before passing them here.
#pragma once

#include <Eigen/Core>

#include <array>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/image.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"

namespace facet::datasets {

struct RgbdFrame {
  std::filesystem::path color_path{};
  std::filesystem::path depth_path{};
  double timestamp = 0.0;        // TUM: the colour image's time in seconds; Redwood: frame index
  double depth_timestamp = 0.0;  // TUM: the associated depth image's time; Redwood: frame index
  // Reference pose (TUM ground truth, or a Redwood/Open3D trajectory), when known.
  std::optional<geometry::Rigid3> world_from_cam{};

  std::optional<geometry::Rigid3> CamFromWorld() const {
    if (!world_from_cam) return std::nullopt;
    return world_from_cam->Inverse();
  }
};

struct RgbdSequence {
  geometry::Camera camera{};    // colour intrinsics; depth is registered to the colour camera
  double depth_scale = 1000.0;  // raw depth units per metre (TUM 5000, Redwood 1000)
  std::vector<RgbdFrame> frames{};
};

struct TumReadOptions {
  double max_association_dt_s = 0.02;  // colour-depth pairs further apart are dropped; > 0
  // Ground truth is interpolated (linear position, slerp rotation) between the two samples around
  // a frame's time when they are at most this far apart; > 0.
  double max_groundtruth_gap_s = 0.1;
  // Otherwise the nearest ground-truth sample is used when within this; >= 0. Frames matching
  // neither keep no pose.
  double max_groundtruth_dt_s = 0.02;
  // Colour intrinsics in facet's pixel convention. Precedence: this when set; else the
  // sequence's cameras.txt when present; else TUM's calibration for a folder name containing
  // "freiburg1/2/3" (FULL_OPENCV with its k1 k2 p1 p2 k3 for freiburg1/2); else TUM's default
  // 525, 525, 319.5, 239.5. TUM's numbers are OpenCV-convention and gain 0.5 px on cx and cy
  // (the default becomes 525, 525, 320, 240).
  std::optional<geometry::Camera> camera{};

  void Check() const;
};

// Reads a TUM RGB-D sequence folder. Throws facet::Error naming the file and line for malformed
// lines, when rgb.txt/depth.txt are missing, or when no colour image has a depth partner.
RgbdSequence ReadTumSequence(const std::filesystem::path& folder,
                             const TumReadOptions& options = {});

struct RedwoodReadOptions {
  double depth_scale = 1000.0;  // raw depth units per metre; > 0
  // A trajectory .log to attach as world_from_cam, by each entry's first metadata integer (the
  // frame index); empty: none. Relative paths are relative to the sequence folder.
  std::filesystem::path trajectory_log{};

  void Check() const;
};

// The intrinsics file of an RGB-D sequence folder: COLMAP's cameras.txt text format
// ("CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]" after '#' comment lines; colmap_model.h) holding exactly
// one camera, in facet's (= COLMAP's) pixel convention. The reader throws facet::Error naming the
// file and line when there is not exactly one camera line, the model is not one facet implements,
// a number is malformed, the parameter count does not fit the model, or Camera::Check fails. The
// writer prints 17 significant digits (the read-back is bit-exact), atomically.
geometry::Camera ReadSequenceCameraFile(const std::filesystem::path& path);
void WriteSequenceCameraFile(const std::filesystem::path& path, const geometry::Camera& camera);

// Reads a Redwood/Open3D RGB-D folder with `intrinsics` in facet's pixel convention (its size must
// match the first colour image; Open3D's PrimeSenseDefault 525, 525, 319.5, 239.5 is
// CameraFromOpenCvIntrinsics(525, 525, 319.5, 239.5, 640, 480), i.e. cx = 320, cy = 240). Throws
// facet::Error when the folders are missing, the colour and depth counts differ, or the trajectory
// names frames that do not exist.
RgbdSequence ReadRedwoodSequence(const std::filesystem::path& folder,
                                 const geometry::Camera& intrinsics,
                                 const RedwoodReadOptions& options = {});

struct TrajectoryEntry {
  std::array<int, 3> metadata{};                                 // e.g. frame, frame, frame + 1
  Eigen::Matrix4d world_from_cam = Eigen::Matrix4d::Identity();  // camera-to-world
};

// Reads a Redwood/Open3D .log trajectory. Throws facet::Error naming the file and line for
// malformed numbers, truncated entries, or matrices that are not rigid (|R^T R - I| > 1e-4 or a
// last row other than 0 0 0 1).
std::vector<TrajectoryEntry> ReadTrajectoryLog(const std::filesystem::path& path);
// Writes in Open3D's layout (8 decimals), atomically.
void WriteTrajectoryLog(const std::filesystem::path& path,
                        const std::vector<TrajectoryEntry>& entries);

// Writes a trajectory in TUM's format ("timestamp tx ty tz qx qy qz qw" per line, the camera's
// centre and orientation in the world: world_from_cam), atomically. Throws facet::Error when the
// vectors' lengths differ.
void WriteTumTrajectory(const std::filesystem::path& path, const std::vector<double>& timestamps,
                        const std::vector<geometry::Rigid3>& world_from_cam);

// Reads a 16-bit single-channel depth PNG as metres: value / scale, 0 (no measurement) stays 0.
// Throws facet::Error when the file is not a 16-bit single-channel PNG (checked on the header,
// before decoding) or is larger than 2^28 pixels.
ImageF32 LoadDepthMeters(const std::filesystem::path& path, double scale);

}  // namespace facet::datasets
