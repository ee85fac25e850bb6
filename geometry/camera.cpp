#include "geometry/camera.h"

#include <array>
#include <cmath>

#include "core/error.h"
#include "geometry/dual.h"

namespace facet::geometry {
namespace {

struct ModelInfo {
  CameraModelId id;
  std::string_view name;
  std::string_view params_info;
};

constexpr std::array<ModelInfo, impl::kNumModels> kModels = {{
    {CameraModelId::kSimplePinhole, "SIMPLE_PINHOLE", "f, cx, cy"},
    {CameraModelId::kPinhole, "PINHOLE", "fx, fy, cx, cy"},
    {CameraModelId::kSimpleRadial, "SIMPLE_RADIAL", "f, cx, cy, k"},
    {CameraModelId::kRadial, "RADIAL", "f, cx, cy, k1, k2"},
    {CameraModelId::kOpenCV, "OPENCV", "fx, fy, cx, cy, k1, k2, p1, p2"},
    {CameraModelId::kOpenCVFisheye, "OPENCV_FISHEYE", "fx, fy, cx, cy, k1, k2, k3, k4"},
    {CameraModelId::kFullOpenCV, "FULL_OPENCV", "fx, fy, cx, cy, k1, k2, p1, p2, k3, k4, k5, k6"},
}};

int Index(CameraModelId model) { return static_cast<int>(model); }

}  // namespace

std::string_view CameraModelName(CameraModelId model) { return kModels.at(Index(model)).name; }
int CameraModelNumParams(CameraModelId model) { return impl::NumParams(Index(model)); }
std::string_view CameraModelParamsInfo(CameraModelId model) {
  return kModels.at(Index(model)).params_info;
}

std::optional<CameraModelId> CameraModelFromName(std::string_view name) {
  for (const ModelInfo& info : kModels) {
    if (info.name == name) return info.id;
  }
  return std::nullopt;
}

std::optional<CameraModelId> CameraModelFromId(int id) {
  if (id < 0 || id >= impl::kNumModels) return std::nullopt;
  return static_cast<CameraModelId>(id);
}

Camera Camera::Create(CameraModelId model, double focal_px, int width, int height) {
  Camera camera;
  camera.model = model;
  camera.width = width;
  camera.height = height;
  camera.params.assign(static_cast<std::size_t>(CameraModelNumParams(model)), 0.0);
  camera.params[0] = focal_px;
  if (!impl::HasSingleFocal(Index(model))) camera.params[1] = focal_px;
  const int c = impl::PrincipalPointIndex(Index(model));
  camera.params[static_cast<std::size_t>(c)] = 0.5 * width;
  camera.params[static_cast<std::size_t>(c) + 1] = 0.5 * height;
  return camera;
}

void Camera::Check() const {
  FACET_CHECK(CameraModelFromId(Index(model)).has_value(), "unknown camera model id {}",
              Index(model));
  FACET_CHECK(width > 0 && height > 0, "{} camera has an invalid size {}x{}", ModelName(), width,
              height);
  FACET_CHECK(static_cast<int>(params.size()) == CameraModelNumParams(model),
              "{} camera needs {} parameters ({}), got {}", ModelName(),
              CameraModelNumParams(model), CameraModelParamsInfo(model), params.size());
  for (double p : params) {
    FACET_CHECK(std::isfinite(p), "{} camera has a parameter that is not finite", ModelName());
  }
  FACET_CHECK(FocalX() > 0.0 && FocalY() > 0.0, "{} camera has a non-positive focal length",
              ModelName());
}

Eigen::Vector2d Camera::PrincipalPoint() const {
  const auto c = static_cast<std::size_t>(impl::PrincipalPointIndex(Index(model)));
  return {params[c], params[c + 1]};
}

Eigen::Matrix3d Camera::CalibrationMatrix() const {
  Eigen::Matrix3d k = Eigen::Matrix3d::Identity();
  k(0, 0) = FocalX();
  k(1, 1) = FocalY();
  k.block<2, 1>(0, 2) = PrincipalPoint();
  return k;
}

bool Camera::HasDistortion() const {
  for (std::size_t i = static_cast<std::size_t>(impl::ExtraParamsIndex(Index(model)));
       i < params.size(); ++i) {
    if (params[i] != 0.0) return true;
  }
  return false;
}

std::optional<Eigen::Vector2d> Camera::ImgFromCam(const Eigen::Vector3d& x_in_cam) const {
  if (!(x_in_cam.z() > 0.0)) return std::nullopt;
  Eigen::Vector2d pixel;
  impl::ImgFromCam(Index(model), params.data(), x_in_cam.x(), x_in_cam.y(), x_in_cam.z(),
                   &pixel.x(), &pixel.y());
  return pixel;
}

std::optional<Eigen::Vector2d> Camera::ImgFromCam(const Eigen::Vector3d& x_in_cam,
                                                  Eigen::Matrix<double, 2, 3>* d_pixel_d_point,
                                                  Eigen::MatrixXd* d_pixel_d_params) const {
  if (!(x_in_cam.z() > 0.0)) return std::nullopt;
  // Derivatives with respect to the 3 point coordinates, then the (up to 12) parameters.
  using D = Dual<3 + impl::kMaxParams>;
  const int num_params = static_cast<int>(params.size());
  D x = D::Variable(x_in_cam.x(), 0), y = D::Variable(x_in_cam.y(), 1),
    z = D::Variable(x_in_cam.z(), 2);
  std::array<D, impl::kMaxParams> p{};
  for (int i = 0; i < num_params; ++i)
    p[static_cast<std::size_t>(i)] = D::Variable(params[static_cast<std::size_t>(i)], 3 + i);
  D px, py;
  impl::ImgFromCam(Index(model), p.data(), x, y, z, &px, &py);
  if (d_pixel_d_point != nullptr) {
    for (int j = 0; j < 3; ++j) {
      (*d_pixel_d_point)(0, j) = px.v[j];
      (*d_pixel_d_point)(1, j) = py.v[j];
    }
  }
  if (d_pixel_d_params != nullptr) {
    d_pixel_d_params->resize(2, num_params);
    for (int j = 0; j < num_params; ++j) {
      (*d_pixel_d_params)(0, j) = px.v[3 + j];
      (*d_pixel_d_params)(1, j) = py.v[3 + j];
    }
  }
  return Eigen::Vector2d(px.a, py.a);
}

std::optional<Eigen::Vector2d> Camera::CamFromImg(const Eigen::Vector2d& pixel) const {
  Eigen::Vector2d uv;
  if (!impl::CamFromImg(Index(model), params.data(), pixel.x(), pixel.y(), &uv.x(), &uv.y())) {
    return std::nullopt;
  }
  return uv;
}

Camera CameraFromOpenCvIntrinsics(double fx, double fy, double cx, double cy, int width, int height,
                                  const std::vector<double>& opencv_dist_coeffs) {
  const std::size_t n = opencv_dist_coeffs.size();
  FACET_CHECK(n == 0 || n == 4 || n == 5 || n == 8,
              "OpenCV distortion with {} coefficients is not supported: pass none, 4 (k1 k2 p1 "
              "p2), 5 (+ k3) or 8 (+ k4 k5 k6)",
              n);
  Camera camera;
  camera.model = n == 0   ? CameraModelId::kPinhole
                 : n == 4 ? CameraModelId::kOpenCV
                          : CameraModelId::kFullOpenCV;
  camera.width = width;
  camera.height = height;
  camera.params = {fx, fy, cx + kOpenCvToFacetPixelOffset, cy + kOpenCvToFacetPixelOffset};
  camera.params.insert(camera.params.end(), opencv_dist_coeffs.begin(), opencv_dist_coeffs.end());
  camera.params.resize(static_cast<std::size_t>(CameraModelNumParams(camera.model)), 0.0);
  camera.Check();
  return camera;
}

}  // namespace facet::geometry
