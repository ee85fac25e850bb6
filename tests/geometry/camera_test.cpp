#include "geometry/camera.h"

#include <gtest/gtest.h>
#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>

#include <cstdio>
#include <random>

#include "core/error.h"

namespace facet::geometry {
namespace {

// Realistic parameters per model for a 640x480 image (distortion of typical consumer lenses).
Camera Example(CameraModelId model) {
  Camera camera = Camera::Create(model, 500.0, 640, 480);
  auto& p = camera.params;
  switch (model) {
    case CameraModelId::kSimplePinhole:
      break;
    case CameraModelId::kPinhole:
      p = {510.0, 490.0, 322.0, 236.0};
      break;
    case CameraModelId::kSimpleRadial:
      p = {500.0, 321.0, 239.0, -0.08};
      break;
    case CameraModelId::kRadial:
      p = {500.0, 321.0, 239.0, -0.1, 0.02};
      break;
    case CameraModelId::kOpenCV:
      p = {505.0, 495.0, 318.0, 242.0, -0.12, 0.03, 0.001, -0.0015};
      break;
    case CameraModelId::kOpenCVFisheye:
      p = {300.0, 301.0, 320.0, 240.0, 0.05, -0.01, 0.002, -0.0005};
      break;
    case CameraModelId::kFullOpenCV:
      p = {505.0, 495.0, 318.0, 242.0, -0.12, 0.03, 0.001, -0.0015, 0.002, 0.01, -0.005, 0.001};
      break;
  }
  return camera;
}

// The same camera in OpenCV's terms: K with the principal point 0.5 px smaller (OpenCV puts the
// first pixel's centre at 0, 0; facet at 0.5, 0.5: geometry/camera.h) and distCoeffs, or the
// four cv::fisheye coefficients.
struct OpenCvCamera {
  cv::Matx33d k;
  std::vector<double> dist_coeffs;
  bool fisheye = false;
};

OpenCvCamera ToOpenCv(const Camera& camera) {
  OpenCvCamera out;
  const Eigen::Vector2d c = camera.PrincipalPoint();
  out.k = cv::Matx33d(camera.FocalX(), 0.0, c.x() - kOpenCvToFacetPixelOffset,  //
                      0.0, camera.FocalY(), c.y() - kOpenCvToFacetPixelOffset,  //
                      0.0, 0.0, 1.0);
  const std::vector<double>& p = camera.params;
  switch (camera.model) {
    case CameraModelId::kSimplePinhole:
    case CameraModelId::kPinhole:
      out.dist_coeffs = {0.0, 0.0, 0.0, 0.0};
      break;
    case CameraModelId::kSimpleRadial:  // OpenCV's k1 with k2 = p1 = p2 = 0
      out.dist_coeffs = {p[3], 0.0, 0.0, 0.0};
      break;
    case CameraModelId::kRadial:  // k1 k2, p1 = p2 = 0
      out.dist_coeffs = {p[3], p[4], 0.0, 0.0};
      break;
    case CameraModelId::kOpenCV:      // k1 k2 p1 p2, the same order
    case CameraModelId::kFullOpenCV:  // k1 k2 p1 p2 k3 k4 k5 k6: OpenCV's rational model
      out.dist_coeffs.assign(p.begin() + 4, p.end());
      break;
    case CameraModelId::kOpenCVFisheye:  // cv::fisheye's k1-k4
      out.dist_coeffs.assign(p.begin() + 4, p.end());
      out.fisheye = true;
      break;
  }
  return out;
}

// OpenCV's pixels for camera-frame points (no rotation or translation).
std::vector<cv::Point2d> ProjectWithOpenCv(const OpenCvCamera& camera,
                                           const std::vector<cv::Point3d>& points) {
  std::vector<cv::Point2d> pixels;
  const cv::Vec3d rvec(0.0, 0.0, 0.0), tvec(0.0, 0.0, 0.0);
  if (camera.fisheye) {
    cv::fisheye::projectPoints(points, pixels, rvec, tvec, camera.k, camera.dist_coeffs);
  } else {
    cv::projectPoints(points, rvec, tvec, camera.k, camera.dist_coeffs, pixels);
  }
  return pixels;
}

// Points in front of the camera: for perspective models across the image and a little beyond
// (|x/z| <= 0.7, |y/z| <= 0.55, below the radius where the examples' distortion folds); for the
// fisheye up to 80 degrees off the axis, all around. Plus the optical axis itself.
std::vector<cv::Point3d> GoldenPoints(bool fisheye) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> unit(0.0, 1.0), depth(0.3, 30.0);
  std::vector<cv::Point3d> points = {{0.0, 0.0, 2.0}};
  for (int i = 0; i < 400; ++i) {
    const double z = depth(rng);
    if (fisheye) {
      const double theta = 80.0 * M_PI / 180.0 * unit(rng), phi = 2.0 * M_PI * unit(rng);
      const double r = std::tan(theta) * z;
      points.emplace_back(r * std::cos(phi), r * std::sin(phi), z);
    } else {
      points.emplace_back((1.4 * unit(rng) - 0.7) * z, (1.1 * unit(rng) - 0.55) * z, z);
    }
  }
  return points;
}

class CameraModelTest : public ::testing::TestWithParam<CameraModelId> {};

// Golden values: OpenCV's projectPoints (cv::fisheye::projectPoints for OPENCV_FISHEYE) computes
// the same formulas independently, in double precision. facet's pixel is OpenCV's plus 0.5 on
// both axes (the pixel conventions differ by half a pixel, geometry/camera.h). Both evaluate a
// few dozen floating-point operations, so they agree to ~1e-13 relative; 1e-9 leaves room for
// OpenCV's different operation order while catching any wrong coefficient (a 1e-6 change of k1
// moves a pixel by ~1e-4 px).
TEST_P(CameraModelTest, ProjectionMatchesOpenCv) {
  const Camera camera = Example(GetParam());
  const OpenCvCamera opencv = ToOpenCv(camera);
  const std::vector<cv::Point3d> points = GoldenPoints(opencv.fisheye);
  const std::vector<cv::Point2d> expected = ProjectWithOpenCv(opencv, points);
  ASSERT_EQ(expected.size(), points.size());
  double max_relative = 0.0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto pixel = camera.ImgFromCam(Eigen::Vector3d(points[i].x, points[i].y, points[i].z));
    ASSERT_TRUE(pixel.has_value());
    const Eigen::Vector2d golden(expected[i].x + kOpenCvToFacetPixelOffset,
                                 expected[i].y + kOpenCvToFacetPixelOffset);
    const double relative = (*pixel - golden).norm() / golden.norm();
    max_relative = std::max(max_relative, relative);
    EXPECT_LE(relative, 1e-9) << "point " << i << ": facet " << pixel->transpose()
                              << ", OpenCV + 0.5 " << golden.transpose();
  }
  std::printf("%s vs OpenCV: largest relative difference %.2g over %zu points\n",
              std::string(camera.ModelName()).c_str(), max_relative, points.size());
}

TEST_P(CameraModelTest, NameIdAndParameterCountMatchColmap) {
  const CameraModelId model = GetParam();
  EXPECT_EQ(CameraModelFromName(CameraModelName(model)), model);
  EXPECT_EQ(CameraModelFromId(static_cast<int>(model)), model);
  // The parameter names list exactly as many entries as the model has parameters.
  const std::string info(CameraModelParamsInfo(model));
  EXPECT_EQ(std::count(info.begin(), info.end(), ',') + 1, CameraModelNumParams(model));
  EXPECT_NO_THROW(Example(model).Check());
}

TEST_P(CameraModelTest, UnprojectInvertsProjectAcrossTheImage) {
  const Camera camera = Example(GetParam());
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> px(0.0, 640.0), py(0.0, 480.0), depth(0.5, 20.0);
  for (int i = 0; i < 500; ++i) {
    const Eigen::Vector2d pixel(px(rng), py(rng));
    const auto uv = camera.CamFromImg(pixel);
    ASSERT_TRUE(uv.has_value()) << "pixel " << pixel.transpose();
    const double z = depth(rng);
    const auto back = camera.ImgFromCam(Eigen::Vector3d(uv->x() * z, uv->y() * z, z));
    ASSERT_TRUE(back.has_value());
    EXPECT_LT((*back - pixel).norm(), 1e-8) << "pixel " << pixel.transpose();
  }
}

TEST_P(CameraModelTest, ProjectionJacobiansMatchFiniteDifferences) {
  const Camera camera = Example(GetParam());
  const Eigen::Vector3d x(0.3, -0.2, 2.5);
  Eigen::Matrix<double, 2, 3> d_point;
  Eigen::MatrixXd d_params;
  const auto pixel = camera.ImgFromCam(x, &d_point, &d_params);
  ASSERT_TRUE(pixel.has_value());
  EXPECT_LT((*pixel - *camera.ImgFromCam(x)).norm(), 1e-12);

  // Central differences: error O(h^2); with h ~ 1e-6 relative, agreement to ~1e-6 of the scale.
  for (int j = 0; j < 3; ++j) {
    const double h = 1e-6;
    Eigen::Vector3d xp = x, xm = x;
    xp[j] += h;
    xm[j] -= h;
    const Eigen::Vector2d numeric = (*camera.ImgFromCam(xp) - *camera.ImgFromCam(xm)) / (2 * h);
    EXPECT_LT((numeric - d_point.col(j)).norm(), 1e-5 * (1.0 + numeric.norm())) << "point " << j;
  }
  ASSERT_EQ(d_params.cols(), CameraModelNumParams(camera.model));
  for (int j = 0; j < d_params.cols(); ++j) {
    Camera cp = camera, cm = camera;
    const double h = 1e-6 * std::max(1.0, std::abs(camera.params[j]));
    cp.params[j] += h;
    cm.params[j] -= h;
    const Eigen::Vector2d numeric = (*cp.ImgFromCam(x) - *cm.ImgFromCam(x)) / (2 * h);
    EXPECT_LT((numeric - d_params.col(j)).norm(), 1e-5 * (1.0 + numeric.norm())) << "param " << j;
  }
}

TEST_P(CameraModelTest, PointsBehindTheCameraDoNotProject) {
  const Camera camera = Example(GetParam());
  EXPECT_FALSE(camera.ImgFromCam(Eigen::Vector3d(0.1, 0.1, -1.0)).has_value());
  EXPECT_FALSE(camera.ImgFromCam(Eigen::Vector3d(0.1, 0.1, 0.0)).has_value());
}

INSTANTIATE_TEST_SUITE_P(Models, CameraModelTest,
                         ::testing::Values(CameraModelId::kSimplePinhole, CameraModelId::kPinhole,
                                           CameraModelId::kSimpleRadial, CameraModelId::kRadial,
                                           CameraModelId::kOpenCV, CameraModelId::kOpenCVFisheye,
                                           CameraModelId::kFullOpenCV),
                         [](const auto& param_info) {
                           return std::string(CameraModelName(param_info.param));
                         });

TEST(Camera, CreateCentresThePrincipalPointAsColmap) {
  const Camera camera = Camera::Create(CameraModelId::kSimpleRadial, 768.0, 640, 480);
  EXPECT_EQ(camera.params, (std::vector<double>{768.0, 320.0, 240.0, 0.0}));
  // The optical axis hits the image centre, which is the corner between the four middle pixels
  // (pixel centres are at .5).
  EXPECT_EQ(*camera.ImgFromCam(Eigen::Vector3d(0, 0, 1)), Eigen::Vector2d(320.0, 240.0));
  EXPECT_FALSE(camera.HasDistortion());
  EXPECT_EQ(camera.CalibrationMatrix()(0, 2), 320.0);
}

TEST(Camera, OpenCvIntrinsicsGainHalfAPixel) {
  // OpenCV's centred principal point at 640x480 is (319.5, 239.5), the middle of pixels 0..639;
  // in facet's convention the image spans [0, 640], so the same point is (320, 240).
  const Camera pinhole = CameraFromOpenCvIntrinsics(525.0, 525.0, 319.5, 239.5, 640, 480);
  EXPECT_EQ(pinhole.model, CameraModelId::kPinhole);
  EXPECT_EQ(pinhole.params, (std::vector<double>{525.0, 525.0, 320.0, 240.0}));
  EXPECT_EQ(pinhole.params, Camera::Create(CameraModelId::kPinhole, 525.0, 640, 480).params);
  // distCoeffs keep OpenCV's order; their count picks the model.
  const Camera opencv = CameraFromOpenCvIntrinsics(500, 501, 300, 200, 640, 480, {1, 2, 3, 4});
  EXPECT_EQ(opencv.model, CameraModelId::kOpenCV);
  EXPECT_EQ(opencv.params, (std::vector<double>{500, 501, 300.5, 200.5, 1, 2, 3, 4}));
  const Camera k3 = CameraFromOpenCvIntrinsics(500, 501, 300, 200, 640, 480, {1, 2, 3, 4, 5});
  EXPECT_EQ(k3.model, CameraModelId::kFullOpenCV);
  EXPECT_EQ(k3.params, (std::vector<double>{500, 501, 300.5, 200.5, 1, 2, 3, 4, 5, 0, 0, 0}));
  EXPECT_THROW(CameraFromOpenCvIntrinsics(500, 501, 300, 200, 640, 480, {1, 2, 3}), Error);
  EXPECT_THROW(CameraFromOpenCvIntrinsics(-500, 501, 300, 200, 640, 480), Error);
}

TEST(Camera, OpenCvIntrinsicsProjectAsOpenCvPlusHalfAPixel) {
  // A calibration given in OpenCV's terms (K and 8 rational distCoeffs), projected by OpenCV with
  // those very numbers and by facet after CameraFromOpenCvIntrinsics: the same point lands half a
  // pixel further right and down in facet's coordinates, and nowhere else.
  const cv::Matx33d k(610.0, 0.0, 331.7, 0.0, 605.0, 244.2, 0.0, 0.0, 1.0);
  const std::vector<double> dist = {-0.2, 0.05, 0.0012, -0.0008, 0.01, 0.02, -0.004, 0.002};
  const Camera camera =
      CameraFromOpenCvIntrinsics(k(0, 0), k(1, 1), k(0, 2), k(1, 2), 640, 480, dist);
  const std::vector<cv::Point3d> points = GoldenPoints(false);
  const std::vector<cv::Point2d> expected = ProjectWithOpenCv({k, dist, false}, points);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Eigen::Vector2d pixel =
        *camera.ImgFromCam(Eigen::Vector3d(points[i].x, points[i].y, points[i].z));
    const Eigen::Vector2d golden(expected[i].x + 0.5, expected[i].y + 0.5);
    EXPECT_LE((pixel - golden).norm(), 1e-9 * golden.norm()) << "point " << i;
  }
}

TEST(Camera, CheckNamesWhatIsWrong) {
  Camera camera = Camera::Create(CameraModelId::kOpenCV, 500.0, 640, 480);
  camera.params.pop_back();
  try {
    camera.Check();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("OPENCV camera needs 8 parameters"), std::string::npos)
        << e.what();
  }
  camera = Camera::Create(CameraModelId::kPinhole, -1.0, 640, 480);
  EXPECT_THROW(camera.Check(), Error);
  camera = Camera::Create(CameraModelId::kPinhole, 500.0, 0, 480);
  EXPECT_THROW(camera.Check(), Error);
}

TEST(Camera, UnprojectionReportsFailureWhereDistortionIsNotInvertible) {
  // Strong barrel distortion folds over beyond r = 1/sqrt(3|k|): pixels far outside the image
  // have no preimage, and CamFromImg says so instead of returning garbage.
  Camera camera = Camera::Create(CameraModelId::kSimpleRadial, 500.0, 640, 480);
  camera.params[3] = -0.5;
  EXPECT_TRUE(camera.CamFromImg(Eigen::Vector2d(400.0, 300.0)).has_value());
  EXPECT_FALSE(camera.CamFromImg(Eigen::Vector2d(320.0 + 5000.0, 240.0)).has_value());
  // An equidistant fisheye maps the whole half-space to radius theta_d < pi/2 (with k = 0):
  // beyond that no ray exists.
  camera = Camera::Create(CameraModelId::kOpenCVFisheye, 300.0, 640, 480);
  EXPECT_TRUE(camera.CamFromImg(Eigen::Vector2d(320.0 + 300.0 * 1.5, 240.0)).has_value());
  EXPECT_FALSE(camera.CamFromImg(Eigen::Vector2d(320.0 + 300.0 * 1.6, 240.0)).has_value());
}

TEST(Camera, UnknownModelsAreNotInvented) {
  EXPECT_FALSE(CameraModelFromName("THIN_PRISM_FISHEYE").has_value());
  EXPECT_FALSE(CameraModelFromId(10).has_value());
  EXPECT_FALSE(CameraModelFromId(-1).has_value());
}

}  // namespace
}  // namespace facet::geometry
