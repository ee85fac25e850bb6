#include "viewer/camera_control.h"

#include <Eigen/Geometry>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <tuple>

#include "core/error.h"

namespace facet::viewer {
namespace {

Eigen::Vector3d UnitUp(const Eigen::Vector3d& up) {
  FACET_CHECK(up.norm() > 0.0 && up.allFinite(),
              "viewer: the camera's up direction must be a "
              "finite non-zero vector");
  return up.normalized();
}

double ClampElevation(double angle_rad) {
  return std::clamp(angle_rad, -kMaxElevationRad, kMaxElevationRad);
}

// A unit direction from angles in the horizontal basis of `up`.
Eigen::Vector3d Direction(const Eigen::Vector3d& up, double azimuth_rad, double elevation_rad) {
  const auto [e1, e2] = HorizontalBasis(up);
  return std::cos(elevation_rad) * (std::cos(azimuth_rad) * e1 + std::sin(azimuth_rad) * e2) +
         std::sin(elevation_rad) * up;
}

// The inverse of Direction: (azimuth, elevation) of a unit `direction`, elevation clamped.
std::pair<double, double> Angles(const Eigen::Vector3d& up, const Eigen::Vector3d& direction) {
  const auto [e1, e2] = HorizontalBasis(up);
  const double elevation = std::asin(std::clamp(direction.dot(up), -1.0, 1.0));
  return {std::atan2(direction.dot(e2), direction.dot(e1)), ClampElevation(elevation)};
}

// The camera's viewing direction (its z axis) in the world.
Eigen::Vector3d ForwardOf(const geometry::Rigid3& cam_from_world) {
  return (cam_from_world.rotation.inverse() * Eigen::Vector3d::UnitZ()).normalized();
}

}  // namespace

std::pair<Eigen::Vector3d, Eigen::Vector3d> HorizontalBasis(const Eigen::Vector3d& up) {
  const Eigen::Vector3d any =
      std::abs(up.x()) < 0.9 ? Eigen::Vector3d::UnitX() : Eigen::Vector3d::UnitY();
  const Eigen::Vector3d e1 = (any - any.dot(up) * up).normalized();
  return {e1, up.cross(e1)};
}

Eigen::Vector3d OrbitCamera::Eye() const {
  return target + distance * Direction(up, azimuth_rad, elevation_rad);
}

geometry::Rigid3 OrbitCamera::CamFromWorld() const { return geometry::LookAt(Eye(), target, up); }

void OrbitCamera::Rotate(double dx_px, double dy_px) {
  azimuth_rad = std::remainder(azimuth_rad - kRadiansPerPixel * dx_px, 2.0 * std::numbers::pi);
  elevation_rad = ClampElevation(elevation_rad + kRadiansPerPixel * dy_px);
}

void OrbitCamera::Pan(double dx_px, double dy_px, double fy_px) {
  FACET_CHECK(fy_px > 0.0, "viewer: Pan needs a positive focal length (got {} px)", fy_px);
  const Eigen::Quaterniond world_from_cam = CamFromWorld().rotation.inverse();
  const Eigen::Vector3d right = world_from_cam * Eigen::Vector3d::UnitX();
  const Eigen::Vector3d down = world_from_cam * Eigen::Vector3d::UnitY();
  // Moving the camera left by s makes a point at depth `distance` move right by fx s / distance.
  target -= distance / fy_px * (dx_px * right + dy_px * down);
}

void OrbitCamera::Zoom(double steps) {
  distance = std::max(distance * std::pow(kZoomFactorPerStep, steps), kMinOrbitDistance);
}

OrbitCamera OrbitCamera::FromPose(const geometry::Rigid3& cam_from_world, const Eigen::Vector3d& up,
                                  double distance) {
  FACET_CHECK(distance > 0.0 && std::isfinite(distance),
              "viewer: the orbit distance must be positive (got {})", distance);
  OrbitCamera orbit;
  orbit.up = UnitUp(up);
  orbit.distance = distance;
  const Eigen::Vector3d eye = geometry::CameraCenter(cam_from_world);
  const Eigen::Vector3d forward = ForwardOf(cam_from_world);
  std::tie(orbit.azimuth_rad, orbit.elevation_rad) = Angles(orbit.up, -forward);
  // eye + distance * forward, unless the elevation was clamped: the eye is kept either way.
  orbit.target = eye - distance * Direction(orbit.up, orbit.azimuth_rad, orbit.elevation_rad);
  return orbit;
}

FlyCamera OrbitCamera::ToFly() const { return FlyCamera::FromPose(CamFromWorld(), up); }

Eigen::Vector3d FlyCamera::Forward() const { return Direction(up, yaw_rad, pitch_rad); }

Eigen::Vector3d FlyCamera::Right() const { return Forward().cross(up).normalized(); }

geometry::Rigid3 FlyCamera::CamFromWorld() const {
  return geometry::LookAt(position, position + Forward(), up);
}

void FlyCamera::Look(double dx_px, double dy_px) {
  yaw_rad = std::remainder(yaw_rad - kRadiansPerPixel * dx_px, 2.0 * std::numbers::pi);
  pitch_rad = ClampElevation(pitch_rad - kRadiansPerPixel * dy_px);
}

void FlyCamera::Move(double forward, double right, double upward, double seconds, double speed) {
  const double metres = speed * seconds;
  position += metres * (forward * Forward() + right * Right() + upward * up);
}

FlyCamera FlyCamera::FromPose(const geometry::Rigid3& cam_from_world, const Eigen::Vector3d& up) {
  FlyCamera fly;
  fly.up = UnitUp(up);
  fly.position = geometry::CameraCenter(cam_from_world);
  std::tie(fly.yaw_rad, fly.pitch_rad) = Angles(fly.up, ForwardOf(cam_from_world));
  return fly;
}

OrbitCamera FlyCamera::ToOrbit(double distance) const {
  return OrbitCamera::FromPose(CamFromWorld(), up, distance);
}

geometry::Rigid3 InterpolatePose(const geometry::Rigid3& a, const geometry::Rigid3& b, double t) {
  const Eigen::Vector3d centre =
      (1.0 - t) * geometry::CameraCenter(a) + t * geometry::CameraCenter(b);
  // Eigen's slerp flips the sign of one quaternion when needed, taking the shorter arc.
  const Eigen::Quaterniond rotation = a.rotation.slerp(t, b.rotation).normalized();
  return {rotation, -(rotation * centre)};
}

geometry::Rigid3 CameraTransition::Advance(double dt_s) {
  FACET_CHECK(duration_s > 0.0, "CameraTransition::duration_s must be positive (got {})",
              duration_s);
  elapsed_s += dt_s;
  const double u = std::clamp(elapsed_s / duration_s, 0.0, 1.0);
  return InterpolatePose(from, to, u * u * (3.0 - 2.0 * u));
}

}  // namespace facet::viewer
