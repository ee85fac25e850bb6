// Interactive cameras of the viewer window, as plain math (no Vulkan, no GLFW): an orbit camera
// (drag to turn around a target, pan, zoom) and a fly camera (mouse look, WASD/QE), conversions
// between them that keep the view, and pose interpolation for smooth snapping to training cameras.
//
// Both produce COLMAP cam_from_world poses (x right, y down, z forward) through geometry::LookAt,
// so the image's y axis points away from the scene's `up` and the camera never rolls. Angles are
// measured in a horizontal basis (e1, e2) perpendicular to `up` that depends only on `up`
// (HorizontalBasis), with e1 x e2 = up: azimuth 0 is along e1 and grows towards e2.
// Mouse motion is in pixels, x to the right and y downwards, as GLFW reports it.
#pragma once

#include <Eigen/Core>

#include <numbers>
#include <utility>

#include "geometry/rigid3.h"

namespace facet::viewer {

inline constexpr double kRadiansPerPixel = 0.005;  // mouse drag / look sensitivity
inline constexpr double kMaxElevationRad = 89.0 * std::numbers::pi / 180.0;
inline constexpr double kZoomFactorPerStep = 0.9;  // distance multiplier per scroll step
inline constexpr double kMinOrbitDistance = 1e-6;

// (e1, e2): unit, perpendicular to each other and to `up` (unit), e1 x e2 = up.
std::pair<Eigen::Vector3d, Eigen::Vector3d> HorizontalBasis(const Eigen::Vector3d& up);

struct FlyCamera;

// A camera on a sphere of radius `distance` around `target`, looking at it. Its eye sits at
// target + distance * (cos(el) (cos(az) e1 + sin(az) e2) + sin(el) up).
struct OrbitCamera {
  Eigen::Vector3d target = Eigen::Vector3d::Zero();
  Eigen::Vector3d up = Eigen::Vector3d::UnitZ();  // the scene's up, unit length
  double distance = 1.0;                          // eye to target, scene units, > 0
  double azimuth_rad = 0.0;
  double elevation_rad = 0.0;  // above the horizontal plane; within +-kMaxElevationRad

  Eigen::Vector3d Eye() const;
  // Looks from Eye() at `target`: the target projects to the principal point.
  geometry::Rigid3 CamFromWorld() const;

  // A mouse drag: the scene turns with the cursor. Dragging right (dx > 0) moves the eye to the
  // camera's left (azimuth -= kRadiansPerPixel dx); dragging down (dy > 0) raises it (elevation
  // += kRadiansPerPixel dy), clamped to +-kMaxElevationRad.
  void Rotate(double dx_px, double dy_px);
  // A pan drag: moves target and eye in the image plane so that points at the target's depth
  // follow the cursor (the target moves by (dx fx / fy, dy) pixels: exactly the drag for square
  // pixels). `fy_px`: the focal length of the view in pixels, > 0.
  void Pan(double dx_px, double dy_px, double fy_px);
  // Scroll: distance *= kZoomFactorPerStep^steps (steps > 0 zooms in), at least
  // kMinOrbitDistance.
  void Zoom(double steps);

  // The orbit camera whose eye and viewing direction are those of `cam_from_world`, looking at
  // the point `distance` (> 0) ahead. The pose's roll is dropped (the orbit camera keeps `up`
  // upright) and an elevation beyond +-kMaxElevationRad is clamped. Throws facet::Error when
  // distance <= 0 or `up` is zero.
  static OrbitCamera FromPose(const geometry::Rigid3& cam_from_world, const Eigen::Vector3d& up,
                              double distance);
  // The fly camera with the same pose.
  FlyCamera ToFly() const;
};

// A free camera at `position` looking along
// forward = cos(pitch) (cos(yaw) e1 + sin(yaw) e2) + sin(pitch) up.
struct FlyCamera {
  Eigen::Vector3d position = Eigen::Vector3d::Zero();
  double yaw_rad = 0.0;
  double pitch_rad = 0.0;                         // within +-kMaxElevationRad
  Eigen::Vector3d up = Eigen::Vector3d::UnitZ();  // the scene's up, unit length

  Eigen::Vector3d Forward() const;  // unit viewing direction
  Eigen::Vector3d Right() const;    // unit, horizontal: the image's x axis
  geometry::Rigid3 CamFromWorld() const;

  // Mouse look: moving right (dx > 0) turns right, moving down (dy > 0) looks down, by
  // kRadiansPerPixel per pixel; pitch clamped to +-kMaxElevationRad.
  void Look(double dx_px, double dy_px);
  // WASD/QE: moves speed * seconds scene units times each factor (key states in [-1, 1]) along
  // Forward() (the true viewing direction), Right() and the scene's up.
  void Move(double forward, double right, double upward, double seconds, double speed);

  // The fly camera at the pose's centre looking along its viewing direction (roll dropped, pitch
  // clamped). Throws facet::Error when `up` is zero.
  static FlyCamera FromPose(const geometry::Rigid3& cam_from_world, const Eigen::Vector3d& up);
  // The orbit camera with the same pose, orbiting the point `distance` (> 0) ahead.
  OrbitCamera ToOrbit(double distance) const;
};

// The pose a fraction t of the way from `a` to `b` (t = 0: a, 1: b): the camera centre moves on
// the straight line, the rotation by quaternion slerp along the shorter arc.
geometry::Rigid3 InterpolatePose(const geometry::Rigid3& a, const geometry::Rigid3& b, double t);

// A timed, eased move between two poses (snapping the view to a training camera).
struct CameraTransition {
  geometry::Rigid3 from;
  geometry::Rigid3 to;
  double duration_s = 0.4;  // > 0
  double elapsed_s = 0.0;

  // Advances the clock by `dt_s` and returns the pose: InterpolatePose(from, to, s) with the
  // smoothstep s = 3u^2 - 2u^3 of u = elapsed / duration clamped to [0, 1].
  geometry::Rigid3 Advance(double dt_s);
  bool Done() const { return elapsed_s >= duration_s; }
};

}  // namespace facet::viewer
