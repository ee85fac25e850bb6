// Sim3: a similarity transform (uniform scale, rotation, translation) mapping points of frame a
// into frame b, named for what it maps like Rigid3: `b_from_a * x_in_a == x_in_b`, where
//   b_from_a * x = scale * (rotation * x) + translation.
// Used to align a reconstruction (defined up to a similarity: its gauge) to ground truth or to
// another reconstruction, and to move whole reconstructions between frames.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "geometry/rigid3.h"

namespace facet::geometry {

struct Sim3 {
  double scale = 1.0;                                            // > 0
  Eigen::Quaterniond rotation = Eigen::Quaterniond::Identity();  // unit quaternion
  Eigen::Vector3d translation = Eigen::Vector3d::Zero();

  Sim3() = default;
  Sim3(double s, const Eigen::Quaterniond& r, const Eigen::Vector3d& t)
      : scale(s), rotation(r), translation(t) {}
  explicit Sim3(const Rigid3& rigid) : rotation(rigid.rotation), translation(rigid.translation) {}

  // From a 3x4 matrix [s R | t]. The scale is det(s R)^(1/3); R is re-orthonormalised through the
  // quaternion. Throws facet::Error when the left 3x3 block has a non-positive determinant (a
  // reflection or a collapse is not a similarity).
  static Sim3 FromMatrix(const Eigen::Matrix<double, 3, 4>& m);
  // [s R | t] as 3x4, and as a 4x4 homogeneous matrix (last row 0 0 0 1).
  Eigen::Matrix<double, 3, 4> ToMatrix() const;
  Eigen::Matrix4d ToHomogeneous() const;

  // a_from_b: scale 1/s, rotation R^T, translation -R^T t / s.
  Sim3 Inverse() const;

  // x_in_b = b_from_a * x_in_a
  Eigen::Vector3d operator*(const Eigen::Vector3d& x_in_a) const {
    return scale * (rotation * x_in_a) + translation;
  }
  // c_from_a = c_from_b * b_from_a
  Sim3 operator*(const Sim3& b_from_a) const {
    return {scale * b_from_a.scale, (rotation * b_from_a.rotation).normalized(),
            scale * (rotation * b_from_a.translation) + translation};
  }
};

// Moves a camera pose along with its world: given the camera's pose in the old world frame and the
// similarity `new_from_old` that maps old world points to new ones, returns cam_from_new. The
// camera centre moves as a point (c_new = new_from_old * c_old); the camera's orientation turns
// with the world's rotation (R_cam_from_new = R_cam_from_old * R_new_from_oldᵀ) and is unaffected
// by the scale; the translation follows from the centre (t = -R_cam_from_new c_new). Points in
// front of the camera stay in front, with depths multiplied by the scale. (COLMAP's
// Reconstruction::Transform does the same to every image.)
Rigid3 TransformPose(const Sim3& new_from_old, const Rigid3& cam_from_old);

}  // namespace facet::geometry
