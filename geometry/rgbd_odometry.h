// RGB-D odometry: the rigid motion between two RGB-D frames, or between a frame and the ray-cast
// model of a TSDF (frame-to-model tracking, KinectFusion: Newcombe et al., ISMAR 2011).
//
// Projective data association (each source pixel's point, moved into the target camera, is paired
// with the target pixel it projects to), a point-to-plane geometric term plus a photometric term
// on intensity (the hybrid of Park et al., "Colored Point Cloud Registration Revisited",
// ICCV 2017, and of Open3D's RGBDOdometryJacobianFromHybridTerm, with KinectFusion's
// point-to-plane distance in place of the depth difference), solved by Gauss-Newton with Huber
// weights, coarse to fine over image pyramids. Residuals and Jacobians: kernels/rgbd_odometry.h.
//
// Frames and units: camera frames with x right, y down, z forward (COLMAP's); depth is the
// camera-frame z in metres; intensity is the sRGB value's luma (0.299 R + 0.587 G + 0.114 B) / 255
// in [0, 1]. Pyramid level l has the camera's focal lengths and principal point divided by 2^l
// (exact with facet's pixel convention, where pixel centres sit at +0.5) and 2x2-averaged images.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <vector>

#include "core/image.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "geometry/tsdf_raycast.h"

namespace facet::geometry {

struct RgbdPyramidLevel {
  Camera camera{};       // PINHOLE, this level's size
  ImageF32 depth{};      // metres, 0 = no measurement
  ImageF32 vertices{};   // 3 channels, camera frame, metres; zero where depth is 0
  ImageF32 normals{};    // 3 channels, unit, towards the camera; zero where unknown
  ImageF32 intensity{};  // [0, 1]; empty without colour
  // 2 channels: d intensity / du, d intensity / dv per pixel (Sobel / 8); NaN where the 3x3
  // neighbourhood is not all valid depth. Empty without colour or RgbdPyramidOptions::gradients.
  ImageF32 gradients{};
  std::int64_t valid_pixels = 0;  // pixels with depth
};

struct RgbdPyramid {
  std::vector<RgbdPyramidLevel> levels{};  // level 0: full resolution
};

struct RgbdPyramidOptions {
  // Depths outside (depth_min, depth_max] are dropped; 0 <= depth_min < depth_max.
  double depth_min = 0.0;
  double depth_max = 3.0;
  // Neighbouring depths further apart than this relative jump (|d1 - d2| > jump * min(d1, d2))
  // are a discontinuity: no normal across it, no averaging across it when downsampling; > 0.
  double max_relative_depth_jump = 0.05;
  // Compute the intensity gradients, which only the target of a registration reads (a frame
  // that is only ever a source can skip them).
  bool gradients = true;

  void Check() const;
};

// The PINHOLE camera of pyramid level `level` (>= 0) of `camera` (PINHOLE or SIMPLE_PINHOLE):
// focal lengths and principal point divided by 2^level, size divided by 2^level (rounded down).
// Also the camera to ray cast a model at reduced resolution for frame-to-model tracking: a target
// pyramid built at PyramidCamera(camera, 1) registers a full-resolution source at a quarter of
// the ray-casting cost. Throws facet::Error for a distorted camera or an empty result.
Camera PyramidCamera(const Camera& camera, int level);

// Builds `levels` (>= 1) levels from a depth map (metres, 1 channel, the camera's size; <= 0 and
// non-finite values are no measurement) and an sRGB image (3 or 4 channels, the camera's size;
// empty: no intensity, geometric term only). `camera`: PINHOLE or SIMPLE_PINHOLE. `model`: a ray
// cast of a TSDF whose depth map is `depth_m`: its normals are used (and 2x2-averaged) instead of
// normals from depth differences. Throws facet::Error for size or channel mismatches, a distorted
// camera, levels < 1 or a level smaller than 8x8 pixels.
RgbdPyramid MakeRgbdPyramid(ImageView<const float> depth_m, ImageView<const std::uint8_t> rgb,
                            const Camera& camera, int levels, const RaycastMaps* model = nullptr,
                            const RgbdPyramidOptions& options = {});

struct RgbdOdometryOptions {
  // Gauss-Newton iterations per pyramid level, level 0 (full resolution) first; the coarsest
  // level runs first. Its size is the number of levels used (<= the pyramids' levels); each >= 0.
  std::vector<int> iterations_per_level = {2, 4, 8};
  // Pairs whose points are further apart than this are not correspondences (metres, > 0).
  double max_correspondence_distance = 0.07;
  // ... nor pairs whose normals differ by more than this (degrees, in (0, 180]).
  double max_normal_angle_deg = 30.0;
  // Huber scale of the point-to-plane residual, metres; > 0.
  double geometric_huber = 0.01;
  // Weight of a squared intensity residual relative to a squared point-to-plane residual in
  // metres (Open3D's hybrid term weighs them 0.032 : 0.968); 0 disables the photometric term;
  // >= 0.
  double intensity_weight = 0.033;
  // Huber scale of the intensity residual, [0, 1] units; > 0.
  double intensity_huber = 0.1;
  // Stop a level when the update's norm |(omega, v)| falls below this (radians, metres); >= 0.
  double min_update = 1e-6;
  // Success needs at least this many level-0 correspondences; >= 6.
  std::int64_t min_correspondences = 1000;

  void Check() const;
};

struct RgbdOdometryResult {
  // Maps source-camera points into the target camera.
  Rigid3 target_from_source{};
  // Enough correspondences at level 0 at the returned pose and every solve well posed; false when
  // the frames do not overlap (the pose is then the last one reached, not to be trusted).
  bool success = false;
  // Level-0 source pixels with depth that found a correspondence / all level-0 source pixels
  // with depth.
  double fitness = 0.0;
  // sqrt(mean |p - q|^2) over those correspondences (point distance, metres).
  double inlier_rmse = 0.0;
  // Open3D's GetInformationMatrixFromRGBDImages at the returned pose: the sum over level-0
  // correspondences of G^T G, G = [ -[q]_x | I ] for target point q, (rotation, translation)
  // order; for pose-graph edges.
  Eigen::Matrix<double, 6, 6> information = Eigen::Matrix<double, 6, 6>::Zero();
  int iterations = 0;  // Gauss-Newton updates over all levels
};

// Registers `source` to `target` from `init_target_from_source`. Frame-to-model tracking: target
// is the pyramid of a TSDF ray cast at the predicted pose (MakeRgbdPyramid with the maps as
// `model`); frame-to-frame: target is another frame's pyramid. The per-pixel sums are reduced
// deterministically in parallel. Throws facet::Error for invalid options, pyramids with fewer
// levels than the options use, or an initial pose that is not finite.
RgbdOdometryResult RegisterRgbd(const RgbdPyramid& source, const RgbdPyramid& target,
                                const Rigid3& init_target_from_source,
                                const RgbdOdometryOptions& options = {});

}  // namespace facet::geometry
