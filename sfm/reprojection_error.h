// Bundle adjustment's residual: the pixel where a 3D point projects, minus the observed keypoint,
// with analytic Jacobians. The camera model's own projection (geometry/camera_models_impl.h) is
// differentiated with a Ceres Jet over only the camera-frame point and the intrinsics (3 + P
// dimensions); the pose and world point enter by the chain rule. That is about twice as fast as
// autodiff over all 10 + P parameters, and the Jacobians are tested against it.
//
// Parameter blocks: cam_from_world as 7 numbers (unit quaternion w, x, y, z as Ceres orders it,
// then the translation), x_in_world (3), and the camera's P parameters. Jacobians are row-major
// 2 x block size, in the ambient (not tangent) coordinates, as Ceres expects.
#pragma once

#include <Eigen/Core>
#include <ceres/jet.h>
#include <ceres/sized_cost_function.h>

#include "geometry/camera_models_impl.h"

namespace facet::sfm {

// x_in_cam = R(q) x with R(q) x = x + 2w (v × x) + 2 v × (v × x) for q = (w, v) (the formula
// ceres::UnitQuaternionRotatePoint evaluates); optionally its 3x4 derivative by q and 3x3 by x.
inline Eigen::Vector3d RotatePoint(const double* q, const double* x,
                                   Eigen::Matrix<double, 3, 4>* d_rx_d_q = nullptr,
                                   Eigen::Matrix3d* d_rx_d_x = nullptr) {
  const double w = q[0];
  const Eigen::Vector3d v(q[1], q[2], q[3]);
  const Eigen::Vector3d p(x[0], x[1], x[2]);
  const Eigen::Vector3d a = v.cross(p);
  if (d_rx_d_q != nullptr || d_rx_d_x != nullptr) {
    const auto skew = [](const Eigen::Vector3d& u) -> Eigen::Matrix3d {
      Eigen::Matrix3d m;
      m << 0.0, -u.z(), u.y(), u.z(), 0.0, -u.x(), -u.y(), u.x(), 0.0;
      return m;
    };
    const Eigen::Matrix3d v_skew = skew(v);
    if (d_rx_d_q != nullptr) {
      // d/dw = 2 a; d/dv = -2 (w [x]× + [a]× + [v]× [x]×), since d(v × x)/dv = -[x]×.
      const Eigen::Matrix3d x_skew = skew(p);
      d_rx_d_q->col(0) = 2.0 * a;
      d_rx_d_q->rightCols<3>() = -2.0 * (w * x_skew + skew(a) + v_skew * x_skew);
    }
    if (d_rx_d_x != nullptr) {
      *d_rx_d_x = Eigen::Matrix3d::Identity() + 2.0 * w * v_skew + 2.0 * v_skew * v_skew;
    }
  }
  return p + 2.0 * (w * a + v.cross(a));
}

// The pixel of x_in_cam with its 2x3 derivative by the point and, when `d_pixel_d_params` is not
// null, its row-major 2xP derivative by the camera parameters.
template <int kNumParams>
Eigen::Vector2d ProjectWithJacobians(int model, const double* params,
                                     const Eigen::Vector3d& x_in_cam,
                                     Eigen::Matrix<double, 2, 3>* d_pixel_d_x,
                                     double* d_pixel_d_params) {
  if (d_pixel_d_params == nullptr) {
    using Jet = ceres::Jet<double, 3>;
    Jet p[kNumParams];
    for (int j = 0; j < kNumParams; ++j) p[j] = Jet(params[j]);
    Jet px, py;
    geometry::impl::ImgFromCam(model, p, Jet(x_in_cam.x(), 0), Jet(x_in_cam.y(), 1),
                               Jet(x_in_cam.z(), 2), &px, &py);
    d_pixel_d_x->row(0) = px.v.transpose();
    d_pixel_d_x->row(1) = py.v.transpose();
    return {px.a, py.a};
  }
  using Jet = ceres::Jet<double, 3 + kNumParams>;
  Jet p[kNumParams];
  for (int j = 0; j < kNumParams; ++j) p[j] = Jet(params[j], 3 + j);
  Jet px, py;
  geometry::impl::ImgFromCam(model, p, Jet(x_in_cam.x(), 0), Jet(x_in_cam.y(), 1),
                             Jet(x_in_cam.z(), 2), &px, &py);
  d_pixel_d_x->row(0) = px.v.template head<3>().transpose();
  d_pixel_d_x->row(1) = py.v.template head<3>().transpose();
  for (int j = 0; j < kNumParams; ++j) {
    d_pixel_d_params[j] = px.v[3 + j];
    d_pixel_d_params[kNumParams + j] = py.v[3 + j];
  }
  return {px.a, py.a};
}

// An observation whose pose is refined: blocks cam_from_world (7), x_in_world (3), params (P).
template <int kNumParams>
class ReprojectionErrorCost final : public ceres::SizedCostFunction<2, 7, 3, kNumParams> {
 public:
  ReprojectionErrorCost(int model, const Eigen::Vector2d& observed)
      : model_(model), observed_(observed) {}

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override {
    const double* pose = parameters[0];
    const double* params = parameters[2];
    const Eigen::Vector3d translation(pose[4], pose[5], pose[6]);
    if (jacobians == nullptr) {
      const Eigen::Vector3d x = RotatePoint(pose, parameters[1]) + translation;
      geometry::impl::ImgFromCam(model_, params, x.x(), x.y(), x.z(), &residuals[0], &residuals[1]);
      residuals[0] -= observed_.x();
      residuals[1] -= observed_.y();
      return true;
    }
    Eigen::Matrix<double, 3, 4> d_rx_d_q;
    Eigen::Matrix3d d_rx_d_x;
    const Eigen::Vector3d x = RotatePoint(pose, parameters[1], &d_rx_d_q, &d_rx_d_x) + translation;
    Eigen::Matrix<double, 2, 3> d_pixel_d_x;
    const Eigen::Vector2d pixel =
        ProjectWithJacobians<kNumParams>(model_, params, x, &d_pixel_d_x, jacobians[2]);
    residuals[0] = pixel.x() - observed_.x();
    residuals[1] = pixel.y() - observed_.y();
    if (jacobians[0] != nullptr) {
      Eigen::Map<Eigen::Matrix<double, 2, 7, Eigen::RowMajor>> d_pose(jacobians[0]);
      d_pose.leftCols<4>() = d_pixel_d_x * d_rx_d_q;
      d_pose.rightCols<3>() = d_pixel_d_x;
    }
    if (jacobians[1] != nullptr) {
      Eigen::Map<Eigen::Matrix<double, 2, 3, Eigen::RowMajor>> d_point(jacobians[1]);
      d_point = d_pixel_d_x * d_rx_d_x;
    }
    return true;
  }

 private:
  int model_;
  Eigen::Vector2d observed_;
};

// An observation from a fixed pose (constant images, outside observations): the pose is part of
// the residual, not a parameter. Blocks x_in_world (3), params (P).
template <int kNumParams>
class ConstantPoseReprojectionErrorCost final : public ceres::SizedCostFunction<2, 3, kNumParams> {
 public:
  ConstantPoseReprojectionErrorCost(int model, const Eigen::Vector2d& observed,
                                    const Eigen::Matrix3d& cam_from_world_rotation,
                                    const Eigen::Vector3d& cam_from_world_translation)
      : model_(model),
        observed_(observed),
        rotation_(cam_from_world_rotation),
        translation_(cam_from_world_translation) {}

  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override {
    const double* params = parameters[1];
    const Eigen::Vector3d x =
        rotation_ * Eigen::Map<const Eigen::Vector3d>(parameters[0]) + translation_;
    if (jacobians == nullptr) {
      geometry::impl::ImgFromCam(model_, params, x.x(), x.y(), x.z(), &residuals[0], &residuals[1]);
      residuals[0] -= observed_.x();
      residuals[1] -= observed_.y();
      return true;
    }
    Eigen::Matrix<double, 2, 3> d_pixel_d_x;
    const Eigen::Vector2d pixel =
        ProjectWithJacobians<kNumParams>(model_, params, x, &d_pixel_d_x, jacobians[1]);
    residuals[0] = pixel.x() - observed_.x();
    residuals[1] = pixel.y() - observed_.y();
    if (jacobians[0] != nullptr) {
      Eigen::Map<Eigen::Matrix<double, 2, 3, Eigen::RowMajor>> d_point(jacobians[0]);
      d_point = d_pixel_d_x * rotation_;
    }
    return true;
  }

 private:
  int model_;
  Eigen::Vector2d observed_;
  Eigen::Matrix3d rotation_;
  Eigen::Vector3d translation_;
};

}  // namespace facet::sfm
