// Rigid3: a rotation and a translation mapping points of frame a into frame b, named for what it
// maps: `cam_from_world * x_in_world == x_in_cam` (COLMAP's convention).
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>

#include <optional>
#include <span>

namespace facet::geometry {

struct Rigid3 {
  Eigen::Quaterniond rotation = Eigen::Quaterniond::Identity();  // unit quaternion
  Eigen::Vector3d translation = Eigen::Vector3d::Zero();

  Rigid3() = default;
  Rigid3(const Eigen::Quaterniond& r, const Eigen::Vector3d& t) : rotation(r), translation(t) {}
  // From a 3x4 [R | t] matrix; R is re-orthonormalised through the quaternion.
  static Rigid3 FromMatrix(const Eigen::Matrix<double, 3, 4>& m);

  Eigen::Matrix<double, 3, 4> ToMatrix() const;
  // The homogeneous 4x4 [R | t; 0 0 0 1] (Open3D's and the .log trajectories' form).
  Eigen::Matrix4d ToMatrix4() const {
    Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
    m.topRows<3>() = ToMatrix();
    return m;
  }
  Rigid3 Inverse() const;

  // x_in_b = b_from_a * x_in_a
  Eigen::Vector3d operator*(const Eigen::Vector3d& x_in_a) const {
    return rotation * x_in_a + translation;
  }
  // c_from_a = c_from_b * b_from_a
  Rigid3 operator*(const Rigid3& b_from_a) const {
    return {(rotation * b_from_a.rotation).normalized(),
            rotation * b_from_a.translation + translation};
  }
};

// The centre of a camera in the world, from its world-to-camera pose.
inline Eigen::Vector3d CameraCenter(const Rigid3& cam_from_world) {
  return cam_from_world.Inverse().translation;
}

// cam_from_world of a camera at `eye` looking at `target`, its image's y axis pointing away from
// `up` (COLMAP's frame: x right, y down, z forward). Throws facet::Error when the viewing
// direction is parallel to `up` (the camera's roll is then undefined).
Rigid3 LookAt(const Eigen::Vector3d& eye, const Eigen::Vector3d& target,
              const Eigen::Vector3d& up = Eigen::Vector3d::UnitZ());

// The scene's up direction in the world: the mean of the cameras' -y axes (COLMAP cameras have y
// pointing down in the image, and photos are mostly taken upright), unit length. +z when there
// are no cameras or their y axes cancel out (half of them upside down says nothing about up).
Eigen::Vector3d UpFromCameras(std::span<const Rigid3> cam_from_world);

// The point the cameras look at: the least-squares meeting point of their optical axes, solving
// sum_i (I - d_i d_i^T) (p - c_i) = 0 over the centres c_i and viewing directions d_i. std::nullopt
// when the axes are (nearly) parallel, or there are fewer than two cameras: the smallest
// eigenvalue of sum_i (I - d_i d_i^T) below 1e-3 of the largest.
std::optional<Eigen::Vector3d> PointNearestToOpticalAxes(std::span<const Rigid3> cam_from_world);

}  // namespace facet::geometry
