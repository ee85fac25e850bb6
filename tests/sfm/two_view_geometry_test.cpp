#include "sfm/two_view_geometry.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/pose_metrics.h"

namespace facet::sfm {
namespace {

using geometry::Camera;
using geometry::CameraModelId;
using geometry::Rigid3;

constexpr double kDegToRad = std::numbers::pi / 180.0;

Camera MakeCamera(CameraModelId model, std::vector<double> params, int width = 640,
                  int height = 480) {
  Camera camera;
  camera.model = model;
  camera.width = width;
  camera.height = height;
  camera.params = std::move(params);
  camera.Check();
  return camera;
}

// Photo-sized cameras (1600 x 1200, 60° across), where 0.5 px of noise is typical of SIFT.
Camera Pinhole() {
  return MakeCamera(CameraModelId::kPinhole, {1400.0, 1410.0, 795.0, 607.0}, 1600, 1200);
}
// Barrel distortion moving the corners by ~20 px, which E sees through (normalised coordinates).
Camera SimpleRadial() {
  return MakeCamera(CameraModelId::kSimpleRadial, {1400.0, 800.0, 600.0, -0.08}, 1600, 1200);
}

Rigid3 MakePose(const Eigen::Vector3d& axis, double angle_deg, const Eigen::Vector3d& t) {
  return {Eigen::Quaterniond(Eigen::AngleAxisd(angle_deg * kDegToRad, axis.normalized())), t};
}

// Two views of synthetic points: true correspondences with Gaussian pixel noise, then outliers
// (independent uniform pixels in both images). Image 2's keypoints are stored in reverse order,
// so the matches' indices differ between the images.
struct TwoViews {
  Camera camera1{}, camera2{};
  std::vector<Eigen::Vector2d> points1{}, points2{};
  std::vector<FeatureMatch> matches{};
  std::vector<bool> is_true{};  // per match
  double true_median_angle_deg = 0.0;
};

enum class Structure { kVolume, kPlane };

struct SceneSpec {
  Camera camera1 = Pinhole();
  Camera camera2 = Pinhole();
  Rigid3 cam2_from_cam1 = MakePose({0.1, 1.0, 0.05}, 12.0, {-2.0, 0.2, 0.4});
  Structure structure = Structure::kVolume;
  int num_true = 400;
  double outlier_fraction = 0.3;  // of all matches
  double noise_px = 0.5;
  double min_depth = 4.0, max_depth = 10.0;
  std::uint32_t seed = 1;
};

bool InImage(const Camera& camera, const Eigen::Vector2d& p) {
  return p.x() >= 0.0 && p.y() >= 0.0 && p.x() <= camera.width && p.y() <= camera.height;
}

TwoViews MakeTwoViews(const SceneSpec& spec) {
  std::mt19937 rng(spec.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, spec.noise_px);
  TwoViews v{.camera1 = spec.camera1, .camera2 = spec.camera2};
  const Eigen::Vector3d center2 = geometry::CameraCenter(spec.cam2_from_cam1);
  const Eigen::Vector3d plane_normal = Eigen::Vector3d(0.0, -0.4, 1.0).normalized();
  std::vector<Eigen::Vector2d> p1, p2;
  std::vector<bool> is_true;
  std::vector<double> angles;
  while (static_cast<int>(p1.size()) < spec.num_true) {
    const Eigen::Vector2d pixel(unit(rng) * spec.camera1.width, unit(rng) * spec.camera1.height);
    const Eigen::Vector3d ray = spec.camera1.CamFromImg(pixel)->homogeneous();
    const double depth = spec.structure == Structure::kPlane
                             ? 6.0 / plane_normal.dot(ray)
                             : spec.min_depth + unit(rng) * (spec.max_depth - spec.min_depth);
    const Eigen::Vector3d x1 = depth * ray;
    const auto q = spec.camera2.ImgFromCam(spec.cam2_from_cam1 * x1);
    if (!q || !InImage(spec.camera2, *q)) continue;
    p1.push_back(pixel + Eigen::Vector2d(noise(rng), noise(rng)));
    p2.push_back(*q + Eigen::Vector2d(noise(rng), noise(rng)));
    is_true.push_back(true);
    angles.push_back(geometry::AngleBetweenDeg(x1, x1 - center2));
  }
  const int num_outliers = static_cast<int>(
      std::lround(spec.num_true * spec.outlier_fraction / (1.0 - spec.outlier_fraction)));
  for (int i = 0; i < num_outliers; ++i) {
    p1.emplace_back(unit(rng) * spec.camera1.width, unit(rng) * spec.camera1.height);
    p2.emplace_back(unit(rng) * spec.camera2.width, unit(rng) * spec.camera2.height);
    is_true.push_back(false);
  }
  // Interleave true and false matches.
  std::vector<std::size_t> order(p1.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  const std::size_t n = order.size();
  v.points1.resize(n);
  v.points2.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    v.points1[k] = p1[i];
    v.points2[n - 1 - k] = p2[i];
    v.matches.push_back({static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(n - 1 - k)});
    v.is_true.push_back(is_true[i]);
  }
  if (!angles.empty()) {
    const auto mid = angles.begin() + std::ptrdiff_t(angles.size() / 2);
    std::nth_element(angles.begin(), mid, angles.end());
    v.true_median_angle_deg = *mid;
  }
  return v;
}

TwoViewGeometry Estimate(const TwoViews& v, const TwoViewGeometryOptions& options = {}) {
  return EstimateTwoViewGeometry(v.camera1, v.points1, v.camera2, v.points2, v.matches, options);
}

struct PrecisionRecall {
  double precision = 0.0, recall = 0.0;
};

PrecisionRecall Score(const TwoViews& v, const TwoViewGeometry& g) {
  int true_positives = 0, num_true = 0;
  for (bool t : v.is_true) num_true += t;
  for (const FeatureMatch& m : g.inlier_matches) {
    const auto it = std::find(v.matches.begin(), v.matches.end(), m);
    EXPECT_NE(it, v.matches.end());
    if (it != v.matches.end()) true_positives += v.is_true[std::size_t(it - v.matches.begin())];
  }
  return {g.inlier_matches.empty() ? 0.0 : double(true_positives) / g.inlier_matches.size(),
          double(true_positives) / num_true};
}

void ExpectCalibratedPose(const SceneSpec& spec) {
  const TwoViews v = MakeTwoViews(spec);
  const TwoViewGeometry g = Estimate(v);
  ASSERT_EQ(g.config, TwoViewConfig::kCalibrated) << ToString(g.config);
  EXPECT_TRUE(g.IsVerified());
  const PrecisionRecall pr = Score(v, g);
  EXPECT_GT(pr.precision, 0.95);
  EXPECT_GT(pr.recall, 0.95);
  ASSERT_TRUE(g.has_pose);
  EXPECT_NEAR(g.cam2_from_cam1.translation.norm(), 1.0, 1e-9);
  EXPECT_LT(geometry::RotationAngleDeg(g.cam2_from_cam1.rotation, spec.cam2_from_cam1.rotation),
            0.1);
  EXPECT_LT(
      geometry::AngleBetweenDeg(g.cam2_from_cam1.translation, spec.cam2_from_cam1.translation),
      1.0);
  // A direction error of δ rad tilts the baseline, changing each angle by at most ~δ times the
  // angle; 1° of direction error is 1.7 %.
  EXPECT_NEAR(g.median_tri_angle_deg, v.true_median_angle_deg, 0.03 * v.true_median_angle_deg);
  // E is zero on the true normalised correspondences (Sampson distance well under a pixel).
  const Eigen::Matrix3d e = g.E / g.E.norm();
  for (std::size_t i = 0; i < v.matches.size(); ++i) {
    if (!v.is_true[i]) continue;
    const Eigen::Vector3d x1 = v.camera1.CamFromImg(v.points1[v.matches[i].idx1])->homogeneous();
    const Eigen::Vector3d x2 = v.camera2.CamFromImg(v.points2[v.matches[i].idx2])->homogeneous();
    EXPECT_LT(std::abs(x2.dot(e * x1)), 0.02);
  }
}

TEST(TwoViewGeometry, CalibratedPinholeRecoversInliersAndPose) { ExpectCalibratedPose({}); }

TEST(TwoViewGeometry, CalibratedSimpleRadialSeesThroughDistortion) {
  ExpectCalibratedPose({.camera1 = SimpleRadial(), .camera2 = SimpleRadial(), .seed = 2});
}

TEST(TwoViewGeometry, PlaneWithMotionIsPlanar) {
  const SceneSpec spec{.structure = Structure::kPlane, .seed = 3};
  const TwoViews v = MakeTwoViews(spec);
  const TwoViewGeometry g = Estimate(v);
  ASSERT_EQ(g.config, TwoViewConfig::kPlanar) << ToString(g.config);
  const PrecisionRecall pr = Score(v, g);
  EXPECT_GT(pr.precision, 0.95);
  EXPECT_GT(pr.recall, 0.95);
  ASSERT_TRUE(g.has_pose);
  EXPECT_NEAR(g.cam2_from_cam1.translation.norm(), 1.0, 1e-9);
  EXPECT_GT(g.median_tri_angle_deg, TwoViewGeometryOptions{}.max_panoramic_angle_deg);
}

TEST(TwoViewGeometry, PureRotationIsPanoramic) {
  const SceneSpec spec{.cam2_from_cam1 = MakePose({0.2, 1.0, -0.1}, 12.0, Eigen::Vector3d::Zero()),
                       .seed = 4};
  const TwoViews v = MakeTwoViews(spec);
  const TwoViewGeometry g = Estimate(v);
  ASSERT_EQ(g.config, TwoViewConfig::kPanoramic) << ToString(g.config);
  const PrecisionRecall pr = Score(v, g);
  EXPECT_GT(pr.precision, 0.95);
  EXPECT_GT(pr.recall, 0.95);
  ASSERT_TRUE(g.has_pose);
  EXPECT_EQ(g.cam2_from_cam1.translation, Eigen::Vector3d::Zero());
  EXPECT_EQ(g.median_tri_angle_deg, 0.0);
  EXPECT_LT(geometry::RotationAngleDeg(g.cam2_from_cam1.rotation, spec.cam2_from_cam1.rotation),
            0.1);
}

TEST(TwoViewGeometry, RandomMatchesAreDegenerate) {
  // 100 unrelated matches between two photos (what survives the ratio test between images that do
  // not overlap). A fundamental matrix has 7 degrees of freedom and fits 7 of them exactly, plus
  // those that fall within 4 px of their epipolar line by chance (a dozen here at 1600 x 1200;
  // more in small images, where a 4 px band is a larger part of the frame).
  TwoViews random{.camera1 = Pinhole(), .camera2 = Pinhole()};
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (std::uint32_t i = 0; i < 100; ++i) {
    random.points1.emplace_back(1600.0 * u(rng), 1200.0 * u(rng));
    random.points2.emplace_back(1600.0 * u(rng), 1200.0 * u(rng));
    random.matches.push_back({i, i});
  }
  const TwoViewGeometry g = Estimate(random);
  EXPECT_EQ(g.config, TwoViewConfig::kDegenerate) << ToString(g.config);
  EXPECT_FALSE(g.IsVerified());
  EXPECT_FALSE(g.has_pose);
}

TEST(TwoViewGeometry, TooFewTrueMatchesAreDegenerate) {
  // 10 true matches (< min_num_inliers = 15) among 30 random ones.
  const TwoViewGeometry g = Estimate(MakeTwoViews({.camera1 = Pinhole(),
                                                   .camera2 = Pinhole(),
                                                   .num_true = 10,
                                                   .outlier_fraction = 0.75,
                                                   .seed = 6}));
  EXPECT_EQ(g.config, TwoViewConfig::kDegenerate) << ToString(g.config);
  // Fewer matches than min_num_inliers: degenerate without estimating anything.
  const TwoViewGeometry few =
      Estimate(MakeTwoViews({.num_true = 12, .outlier_fraction = 0.0, .seed = 6}));
  EXPECT_EQ(few.config, TwoViewConfig::kDegenerate);
  EXPECT_TRUE(few.inlier_matches.empty());
}

TEST(TwoViewGeometry, StaticLogoInTheCornersIsWatermark) {
  // The same logo at the same place in both photos (top-left and bottom-right corners, inside the
  // 10 % border band), as a time stamp or a watermark would be.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.3);
  TwoViews v{.camera1 = Pinhole(), .camera2 = Pinhole()};
  for (std::uint32_t i = 0; i < 80; ++i) {
    const bool top_left = i % 2 == 0;
    const Eigen::Vector2d p(top_left ? 10.0 + 130.0 * u(rng) : 1460.0 + 130.0 * u(rng),
                            top_left ? 10.0 + 100.0 * u(rng) : 1090.0 + 100.0 * u(rng));
    v.points1.push_back(p);
    v.points2.push_back(p + Eigen::Vector2d(noise(rng), noise(rng)));
    v.matches.push_back({i, i});
  }
  const TwoViewGeometry g = Estimate(v);
  EXPECT_EQ(g.config, TwoViewConfig::kWatermark) << ToString(g.config);
  EXPECT_FALSE(g.IsVerified());
  EXPECT_GE(g.inlier_matches.size(), 72u);
  // The same matches with detection off pass as a (degenerate) rotation-free pair.
  TwoViewGeometryOptions off;
  off.detect_watermark = false;
  EXPECT_NE(Estimate(v, off).config, TwoViewConfig::kWatermark);
}

TEST(TwoViewGeometry, WrongFocalLengthIsUncalibrated) {
  // A wide lens (f = 300 px, 94° across) looking at a deep scene with strong rotation: the views
  // obey an F, but with the focal length given as 150 px no E explains more than ~80 % of it.
  const Camera truth = MakeCamera(CameraModelId::kSimplePinhole, {300.0, 320.0, 240.0});
  SceneSpec spec{.camera1 = truth,
                 .camera2 = truth,
                 .cam2_from_cam1 = MakePose({0.3, 1.0, 0.2}, 25.0, {-1.5, 0.3, 0.5}),
                 .min_depth = 2.0,
                 .max_depth = 12.0,
                 .seed = 8};
  TwoViews v = MakeTwoViews(spec);
  v.camera1.params[0] = v.camera2.params[0] = 150.0;
  const TwoViewGeometry g = Estimate(v);
  ASSERT_EQ(g.config, TwoViewConfig::kUncalibrated) << ToString(g.config);
  EXPECT_TRUE(g.IsVerified());
  EXPECT_FALSE(g.has_pose);
  const PrecisionRecall pr = Score(v, g);
  EXPECT_GT(pr.precision, 0.95);
  EXPECT_GT(pr.recall, 0.95);
  // With the right focal length the same matches are calibrated.
  v.camera1.params[0] = v.camera2.params[0] = 300.0;
  EXPECT_EQ(Estimate(v).config, TwoViewConfig::kCalibrated);
}

bool SameResult(const TwoViewGeometry& a, const TwoViewGeometry& b) {
  return a.config == b.config && a.inlier_matches == b.inlier_matches && a.E == b.E && a.F == b.F &&
         a.H == b.H && a.has_pose == b.has_pose &&
         a.cam2_from_cam1.rotation.coeffs() == b.cam2_from_cam1.rotation.coeffs() &&
         a.cam2_from_cam1.translation == b.cam2_from_cam1.translation &&
         a.median_tri_angle_deg == b.median_tri_angle_deg;
}

TEST(TwoViewGeometry, SameSeedSameResultWhateverOpenCvsRng) {
  const TwoViews v = MakeTwoViews({.seed = 9});
  TwoViewGeometryOptions options;
  options.seed = 42;
  const std::uint64_t caller_state = cv::theRNG().state;
  const TwoViewGeometry a = Estimate(v, options);
  EXPECT_EQ(cv::theRNG().state, caller_state);  // the caller's generator is left alone
  cv::theRNG().state = 123456789;
  (void)cv::theRNG().next();
  const TwoViewGeometry b = Estimate(v, options);
  EXPECT_TRUE(SameResult(a, b));
  options.seed = 7;
  const TwoViewGeometry c = Estimate(v, options);
  EXPECT_EQ(c.config, TwoViewConfig::kCalibrated);
}

TEST(TwoViewGeometry, ConcurrentCallsMatchSerialOnes) {
  std::vector<TwoViews> scenes;
  for (std::uint32_t s = 0; s < 6; ++s) {
    scenes.push_back(MakeTwoViews({.num_true = 120, .seed = 20 + s}));
  }
  std::vector<TwoViewGeometry> serial, parallel(scenes.size());
  for (const TwoViews& v : scenes) serial.push_back(Estimate(v));
  ParallelFor(static_cast<std::int64_t>(scenes.size()),
              [&](std::int64_t i) { parallel[std::size_t(i)] = Estimate(scenes[std::size_t(i)]); });
  for (std::size_t i = 0; i < scenes.size(); ++i) {
    EXPECT_TRUE(SameResult(serial[i], parallel[i])) << i;
  }
}

TEST(TwoViewGeometry, RejectsBadOptionsAndIndices) {
  const TwoViews v = MakeTwoViews({.num_true = 30, .seed = 10});
  TwoViewGeometryOptions bad;
  bad.confidence = 1.0;
  EXPECT_THROW(Estimate(v, bad), Error);
  bad = {};
  bad.min_num_inliers = 4;
  EXPECT_THROW(Estimate(v, bad), Error);
  bad = {};
  bad.watermark_border = 0.5;
  EXPECT_THROW(Estimate(v, bad), Error);
  TwoViews out_of_range = v;
  out_of_range.matches.push_back({0, static_cast<std::uint32_t>(v.points2.size())});
  EXPECT_THROW(Estimate(out_of_range), Error);
  EXPECT_EQ(ToString(TwoViewConfig::kPlanarOrPanoramic), "planar_or_panoramic");
}

}  // namespace
}  // namespace facet::sfm
