// Camera: an intrinsic model (COLMAP's models, ids and parameter order; see camera_models_impl.h),
// the image size in pixels and the parameter vector.
//
// Pixel convention: COLMAP's. The top-left corner of the image is (0, 0), so the first pixel's
// centre is (0.5, 0.5), the image spans [0, W] x [0, H], and a centred principal point is
// (W/2, H/2). OpenCV puts the first pixel's centre at (0, 0) instead (a centred principal point is
// ((W-1)/2, (H-1)/2), e.g. 319.5, 239.5 at 640x480); so do calibrations made with it or in its
// convention: ROS and TUM RGB-D, Open3D and Redwood, IDR/NeuS's DTU cameras. One physical camera
// has cx = cx_opencv + 0.5 and cy = cy_opencv + 0.5 here; focal lengths and distortion coefficients
// (which act on normalised coordinates) are the same. Convert such numbers with
// CameraFromOpenCvIntrinsics.
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

// What to add to an OpenCV-convention pixel coordinate to get facet's (see the top of this file).
inline constexpr double kOpenCvToFacetPixelOffset = 0.5;

// The facet camera for intrinsics given in OpenCV's pixel convention (fx, fy in pixels; cx, cy
// with the first pixel's centre at 0, 0): the principal point moves by +0.5 px on both axes.
// `opencv_dist_coeffs` are OpenCV's distCoeffs in its order, k1 k2 p1 p2 [k3 [k4 k5 k6]]: none
// gives PINHOLE, 4 give OPENCV, 5 or 8 give FULL_OPENCV (k4-k6 zero when absent; facet's
// FULL_OPENCV order is OpenCV's). Throws facet::Error for other counts (OpenCV's 12- and
// 14-coefficient thin-prism and tilt models have no facet equivalent) or when Camera::Check fails.
Camera CameraFromOpenCvIntrinsics(double fx, double fy, double cx, double cy, int width, int height,
                                  const std::vector<double>& opencv_dist_coeffs = {});

}  // namespace facet::geometry
