// Camera: an intrinsic model (COLMAP's models, ids and parameter order; see camera_models_impl.h),
// the image size in pixels and the parameter vector. Pixel (0, 0) is the top-left corner of the
// image; the first pixel's centre is (0.5, 0.5).
#pragma once

#include <Eigen/Core>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "geometry/camera_models_impl.h"

namespace facet::geometry {

enum class CameraModelId : int {
  kSimplePinhole = impl::kSimplePinholeId,
  kPinhole = impl::kPinholeId,
  kSimpleRadial = impl::kSimpleRadialId,
  kRadial = impl::kRadialId,
  kOpenCV = impl::kOpenCVId,
  kOpenCVFisheye = impl::kOpenCVFisheyeId,
  kFullOpenCV = impl::kFullOpenCVId,
};

// COLMAP's name ("SIMPLE_RADIAL"), the parameter count, and the names of the parameters
// ("f, cx, cy, k").
std::string_view CameraModelName(CameraModelId model);
int CameraModelNumParams(CameraModelId model);
std::string_view CameraModelParamsInfo(CameraModelId model);
// From COLMAP's name or numeric id; std::nullopt for models facet does not implement.
std::optional<CameraModelId> CameraModelFromName(std::string_view name);
std::optional<CameraModelId> CameraModelFromId(int id);

struct Camera {
  CameraModelId model = CameraModelId::kPinhole;
  int width = 0;   // pixels
  int height = 0;  // pixels
  std::vector<double> params{};

  // A camera of `model` with focal length `focal_px`, the principal point at the image centre and
  // no distortion (COLMAP's InitializeWithId).
  static Camera Create(CameraModelId model, double focal_px, int width, int height);

  // Throws facet::Error when the size is not positive, the parameter count does not fit the
  // model, or a focal length is not positive and finite.
  void Check() const;

  std::string_view ModelName() const { return CameraModelName(model); }
  double FocalX() const { return params[0]; }
  double FocalY() const {
    return impl::HasSingleFocal(static_cast<int>(model)) ? params[0] : params[1];
  }
  double MeanFocal() const { return 0.5 * (FocalX() + FocalY()); }
  Eigen::Vector2d PrincipalPoint() const;
  // The pinhole part as a 3x3 matrix (distortion excluded).
  Eigen::Matrix3d CalibrationMatrix() const;
  // True when any distortion parameter is non-zero.
  bool HasDistortion() const;

  // The pixel where `x_in_cam` projects; std::nullopt when the point is not in front (z <= 0).
  // The pixel may lie outside the image.
  std::optional<Eigen::Vector2d> ImgFromCam(const Eigen::Vector3d& x_in_cam) const;
  // As ImgFromCam, also returning d(pixel)/d(x_in_cam) (2x3) and d(pixel)/d(params) (2xP).
  std::optional<Eigen::Vector2d> ImgFromCam(const Eigen::Vector3d& x_in_cam,
                                            Eigen::Matrix<double, 2, 3>* d_pixel_d_point,
                                            Eigen::MatrixXd* d_pixel_d_params) const;
  // The normalised coordinates (u, v) of the ray through `pixel` (the ray is (u, v, 1)), with the
  // distortion inverted; std::nullopt when the inversion does not converge.
  std::optional<Eigen::Vector2d> CamFromImg(const Eigen::Vector2d& pixel) const;
};

}  // namespace facet::geometry
