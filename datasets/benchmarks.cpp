#include "datasets/benchmarks.h"

#include <Eigen/Geometry>
#include <Eigen/LU>
#include <Eigen/QR>

#include <cmath>

#include "core/error.h"
#include "datasets/detail/text_parse.h"

namespace facet::datasets {
namespace fs = std::filesystem;
using geometry::Camera;
using geometry::CameraModelId;
using geometry::Rigid3;

namespace {

Camera PinholeFromCalibration(const Eigen::Matrix3d& k, int width, int height) {
  Camera camera;
  camera.model = CameraModelId::kPinhole;
  camera.width = width;
  camera.height = height;
  camera.params = {k(0, 0), k(1, 1), k(0, 2), k(1, 2)};
  return camera;
}

int ScaledSize(double size, double scale) { return static_cast<int>(std::lround(size * scale)); }

}  // namespace

void StrechaReadOptions::Check() const {
  FACET_CHECK(image_scale > 0.0 && image_scale <= 1.0,
              "StrechaReadOptions::image_scale must be in (0, 1] (got {})", image_scale);
}

void DtuReadOptions::Check() const {
  FACET_CHECK(image_scale > 0.0 && image_scale <= 1.0,
              "DtuReadOptions::image_scale must be in (0, 1] (got {})", image_scale);
  FACET_CHECK(full_width > 0 && full_height > 0,
              "DtuReadOptions::full_width/full_height must be positive (got {}x{})", full_width,
              full_height);
}

StrechaCamera ReadStrechaCamera(const fs::path& path, const StrechaReadOptions& options) {
  options.Check();
  const std::string text = detail::ReadText(path);
  std::vector<double> v;
  int last_line = 0;
  for (const detail::TextLine& line : detail::SplitLines(text)) {
    for (std::string_view field : line.fields) {
      FACET_CHECK(v.size() < 26, "'{}' line {}: more than the 26 numbers of a Strecha camera",
                  path.string(), line.number);
      v.push_back(detail::ParseNumber<double>(field, path, line.number));
    }
    last_line = line.number;
  }
  FACET_CHECK(v.size() == 26,
              "'{}': a Strecha camera has 26 numbers (K, 3 distortion, R, C, width, height), "
              "found {} up to line {}",
              path.string(), v.size(), last_line);
  Eigen::Matrix3d k = Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(v.data());
  FACET_CHECK(k(1, 0) == 0.0 && k(2, 0) == 0.0 && k(2, 1) == 0.0 && k(2, 2) == 1.0 &&
                  k(0, 1) == 0.0 && k(0, 0) > 0.0 && k(1, 1) > 0.0,
              "'{}': K must be [fx 0 cx; 0 fy cy; 0 0 1] with positive focal lengths",
              path.string());
  FACET_CHECK(v[9] == 0.0 && v[10] == 0.0 && v[11] == 0.0,
              "'{}': non-zero distortion {} {} {} is not supported (Strecha's are zero)",
              path.string(), v[9], v[10], v[11]);
  const Eigen::Matrix3d world_from_cam =
      Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(v.data() + 12);
  const double error = (world_from_cam.transpose() * world_from_cam - Eigen::Matrix3d::Identity())
                           .cwiseAbs()
                           .maxCoeff();
  FACET_CHECK(error <= 1e-4 && world_from_cam.determinant() > 0.0,
              "'{}': R is not a rotation (|R^T R - I| = {:.2g}, det R = {:.6g})", path.string(),
              error, world_from_cam.determinant());
  const Eigen::Vector3d center(v[21], v[22], v[23]);
  FACET_CHECK(v[24] >= 1 && v[25] >= 1 && v[24] == std::floor(v[24]) &&
                  v[25] == std::floor(v[25]) && v[24] <= 1 << 20 && v[25] <= 1 << 20,
              "'{}': the image size {}x{} must be positive integers", path.string(), v[24], v[25]);

  k.topRows<2>() *= options.image_scale;
  StrechaCamera out;
  out.camera = PinholeFromCalibration(k, ScaledSize(v[24], options.image_scale),
                                      ScaledSize(v[25], options.image_scale));
  const Eigen::Quaterniond cam_from_world(world_from_cam.transpose());
  out.cam_from_world = Rigid3(cam_from_world.normalized(), Eigen::Vector3d::Zero());
  out.cam_from_world.translation = -(out.cam_from_world.rotation * center);
  return out;
}

std::map<std::string, StrechaCamera> ReadStrechaCameras(const fs::path& folder,
                                                        const StrechaReadOptions& options) {
  std::error_code ec;
  FACET_CHECK(fs::is_directory(folder, ec), "'{}' is not a folder of Strecha .camera files",
              folder.string());
  std::map<std::string, StrechaCamera> cameras;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".camera") continue;
    cameras[entry.path().stem().string()] = ReadStrechaCamera(entry.path(), options);
  }
  FACET_CHECK(!cameras.empty(), "'{}' holds no .camera files", folder.string());
  return cameras;
}

ProjectionDecomposition DecomposeProjection(const Eigen::Matrix<double, 3, 4>& projection) {
  Eigen::Matrix3d m = projection.leftCols<3>();
  Eigen::Vector3d p4 = projection.col(3);
  const double det = m.determinant();
  const double norm = m.norm();
  FACET_CHECK(std::isfinite(det) && std::abs(det) > 1e-12 * norm * norm * norm,
              "cannot decompose the projection matrix: its left 3x3 block is singular "
              "(det = {:.3g})",
              det);
  if (det < 0.0) {  // P is defined up to scale: make det(M) > 0 so that det(R) = +1 below
    m = -m;
    p4 = -p4;
  }
  // RQ from QR with the exchange matrix J: (J M)^T = Q U gives M = (J U^T J)(J Q^T), where
  // J U^T J is upper triangular and J Q^T orthogonal.
  Eigen::Matrix3d j;
  j << 0, 0, 1, 0, 1, 0, 1, 0, 0;
  const Eigen::HouseholderQR<Eigen::Matrix3d> qr((j * m).transpose());
  const Eigen::Matrix3d q = qr.householderQ();
  const Eigen::Matrix3d u = qr.matrixQR().triangularView<Eigen::Upper>();
  Eigen::Matrix3d k = j * u.transpose() * j;
  Eigen::Matrix3d r = j * q.transpose();
  // K D and D R with D = diag(sign K_ii) = D^-1: positive diagonal. det K > 0 and det M > 0, so
  // det R = +1.
  const Eigen::Vector3d signs = k.diagonal().array().sign();
  k = k * signs.asDiagonal();
  r = signs.asDiagonal() * r;
  // M = (s K') R with K'(2,2) = 1, and p4 = s K' t.
  const double s = k(2, 2);
  ProjectionDecomposition out;
  out.calibration = k / s;
  const Eigen::Vector3d t = k.lu().solve(p4);
  out.cam_from_world = Rigid3(Eigen::Quaterniond(r).normalized(), t);
  return out;
}

std::vector<DtuCamera> ReadDtuCameras(const fs::path& path, const DtuReadOptions& options) {
  options.Check();
  const std::string text = detail::ReadText(path);
  const std::vector<detail::TextLine> lines = detail::SplitLines(text);
  std::vector<DtuCamera> cameras;
  // S T (benchmarks.h): to facet's pixel convention first, then scaled, which is exact only there.
  Eigen::Matrix3d to_facet_pixels = Eigen::Matrix3d::Identity();
  to_facet_pixels(0, 2) = to_facet_pixels(1, 2) = geometry::kOpenCvToFacetPixelOffset;
  const Eigen::Matrix3d to_scaled_pixels =
      Eigen::Vector3d(options.image_scale, options.image_scale, 1.0).asDiagonal() * to_facet_pixels;
  for (std::size_t i = 0; i < lines.size(); i += 9) {
    const detail::TextLine& header = lines[i];
    FACET_CHECK(header.fields.size() == 2 && header.fields[0] == "view",
                "'{}' line {}: expected \"view <index>\"", path.string(), header.number);
    FACET_CHECK(i + 9 <= lines.size(),
                "'{}' line {}: view is truncated (two 4x4 matrices must follow)", path.string(),
                header.number);
    DtuCamera camera;
    camera.view = detail::ParseNumber<int>(header.fields[1], path, header.number);
    Eigen::Matrix4d matrices[2];
    for (int r = 0; r < 8; ++r) {
      const detail::TextLine& row = lines[i + 1 + static_cast<std::size_t>(r)];
      FACET_CHECK(row.fields.size() == 4, "'{}' line {}: expected 4 numbers, found {}",
                  path.string(), row.number, row.fields.size());
      for (int c = 0; c < 4; ++c) {
        matrices[r / 4](r % 4, c) = detail::ParseNumber<double>(row.fields[c], path, row.number);
      }
    }
    for (int m = 0; m < 2; ++m) {
      FACET_CHECK(matrices[m].row(3) == Eigen::RowVector4d(0, 0, 0, 1),
                  "'{}' line {}: the last row of a 4x4 matrix must be 0 0 0 1", path.string(),
                  lines[i + 4 * static_cast<std::size_t>(m) + 4].number);
    }
    camera.projection = to_scaled_pixels * matrices[0].topRows<3>();
    camera.world_from_normalized = matrices[1];
    ProjectionDecomposition decomposition;
    try {
      decomposition = DecomposeProjection(camera.projection);
    } catch (const Error& e) {
      FACET_THROW("'{}' view {} (line {}): {}", path.string(), camera.view, header.number,
                  e.what());
    }
    camera.calibration = decomposition.calibration;
    camera.cam_from_world = decomposition.cam_from_world;
    camera.camera = PinholeFromCalibration(camera.calibration,
                                           ScaledSize(options.full_width, options.image_scale),
                                           ScaledSize(options.full_height, options.image_scale));
    cameras.push_back(std::move(camera));
  }
  FACET_CHECK(!cameras.empty(), "'{}' holds no cameras", path.string());
  return cameras;
}

}  // namespace facet::datasets
