#include "geometry/camera.h"

#include <gtest/gtest.h>

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

class CameraModelTest : public ::testing::TestWithParam<CameraModelId> {};

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
