#include "sfm/bundle_adjustment.h"

#include <ceres/autodiff_cost_function.h>
#include <ceres/rotation.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "core/error.h"
#include "geometry/pose_metrics.h"
#include "sfm/reprojection_error.h"

namespace facet::sfm {
namespace {

using datasets::CameraId;
using datasets::ImageId;
using datasets::Point3DId;

constexpr int kNumImages = 8;
constexpr int kNumPoints = 300;
constexpr double kRadius = 8.0;  // distance of the cameras from the scene centre
const CameraId kCameraId{1};

ImageId Id(int k) { return ImageId(static_cast<std::uint32_t>(k + 1)); }

// A 640x480 camera of `model` with realistic parameters (a SIMPLE_RADIAL k of -0.1).
geometry::Camera TrueCamera(geometry::CameraModelId model) {
  geometry::Camera camera = geometry::Camera::Create(model, 500.0, 640, 480);
  switch (model) {
    case geometry::CameraModelId::kSimplePinhole:
      break;
    case geometry::CameraModelId::kPinhole:
      camera.params = {505.0, 495.0, 320.0, 240.0};
      break;
    case geometry::CameraModelId::kSimpleRadial:
      camera.params = {500.0, 320.0, 240.0, -0.1};
      break;
    case geometry::CameraModelId::kRadial:
      camera.params = {500.0, 320.0, 240.0, -0.1, 0.02};
      break;
    case geometry::CameraModelId::kOpenCV:
      camera.params = {505.0, 495.0, 320.0, 240.0, -0.12, 0.03, 0.001, -0.0015};
      break;
    case geometry::CameraModelId::kOpenCVFisheye:
      camera.params = {505.0, 495.0, 320.0, 240.0, 0.05, -0.01, 0.002, -0.0005};
      break;
    case geometry::CameraModelId::kFullOpenCV:
      camera.params = {505.0, 495.0,   320.0, 240.0, -0.12,  0.03,
                       0.001, -0.0015, 0.002, 0.01,  -0.005, 0.001};
      break;
  }
  return camera;
}

// kNumImages cameras on an 80° arc of radius kRadius looking at (near) the origin, and kNumPoints
// random points in the cube [-1.5, 1.5]³, observed exactly wherever they project into the image.
datasets::Scene MakeScene(const geometry::Camera& camera, std::uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  datasets::Scene scene;
  scene.cameras[kCameraId] = camera;
  for (int k = 0; k < kNumImages; ++k) {
    const double angle = (-40.0 + 80.0 * k / (kNumImages - 1)) * std::numbers::pi / 180.0;
    const Eigen::Vector3d center(kRadius * std::sin(angle), 0.5 * unit(rng),
                                 -kRadius * std::cos(angle));
    const Eigen::Vector3d target(0.2 * unit(rng), 0.2 * unit(rng), 0.2 * unit(rng));
    const Eigen::Vector3d z = (target - center).normalized();
    const Eigen::Vector3d x = Eigen::Vector3d::UnitY().cross(z).normalized();
    Eigen::Matrix3d world_from_cam;
    world_from_cam << x, z.cross(x), z;
    const Eigen::Quaterniond rotation(world_from_cam.transpose());
    datasets::Image& image = scene.images[Id(k)];
    image.id = Id(k);
    image.name = "image" + std::to_string(k) + ".png";
    image.camera_id = kCameraId;
    image.cam_from_world = geometry::Rigid3(rotation, -(rotation * center));
  }
  for (std::uint64_t p = 1; p <= kNumPoints; ++p) {
    datasets::Point3D& point = scene.points3d[Point3DId(p)];
    point.xyz = 1.5 * Eigen::Vector3d(unit(rng), unit(rng), unit(rng));
    for (auto& [id, image] : scene.images) {
      const auto pixel = camera.ImgFromCam(*image.cam_from_world * point.xyz);
      if (!pixel || pixel->x() < 0 || pixel->y() < 0 || pixel->x() > camera.width ||
          pixel->y() > camera.height) {
        continue;
      }
      point.track.push_back({id, static_cast<std::uint32_t>(image.points2d.size())});
      image.points2d.push_back({*pixel, Point3DId(p)});
    }
  }
  return scene;
}

std::size_t NumObservations(const datasets::Scene& scene) {
  std::size_t n = 0;
  for (const auto& [id, point] : scene.points3d) n += point.track.size();
  return n;
}

// All images, the first pose fixed and translation x of the second (COLMAP's gauge).
BundleAdjustmentConfig GaugeConfig() {
  BundleAdjustmentConfig config;
  for (int k = 0; k < kNumImages; ++k) config.images.insert(Id(k));
  config.constant_poses.insert(Id(0));
  config.constant_translation_coords[Id(1)] = {0};
  return config;
}

// Moves points by ~0.05, turns poses by ~0.01 rad and shifts them by ~0.05 (except the gauge:
// image 0 and translation x of image 1), and scales the focal lengths by 1.03.
datasets::Scene Perturbed(const datasets::Scene& truth, std::uint32_t seed = 11) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  const auto random_vector = [&]() -> Eigen::Vector3d {
    return {normal(rng), normal(rng), normal(rng)};
  };
  datasets::Scene scene = truth;
  for (auto& [id, point] : scene.points3d) point.xyz += 0.05 * random_vector();
  for (auto& [id, image] : scene.images) {
    if (id == Id(0)) continue;
    geometry::Rigid3& pose = *image.cam_from_world;
    const Eigen::Vector3d axis = random_vector().normalized();
    pose.rotation = Eigen::Quaterniond(Eigen::AngleAxisd(0.01, axis)) * pose.rotation;
    const double true_x = pose.translation.x();
    pose.translation += 0.05 * random_vector();
    if (id == Id(1)) pose.translation.x() = true_x;
  }
  geometry::Camera& camera = scene.cameras.at(kCameraId);
  camera.params[0] *= 1.03;
  if (!geometry::impl::HasSingleFocal(static_cast<int>(camera.model))) camera.params[1] *= 1.03;
  return scene;
}

struct PoseErrors {
  double max_rotation_rad = 0.0;
  double max_center = 0.0;  // scene units
};

PoseErrors ComparePoses(const datasets::Scene& estimate, const datasets::Scene& truth) {
  PoseErrors errors;
  for (const auto& [id, image] : truth.images) {
    const geometry::Rigid3& a = *estimate.images.at(id).cam_from_world;
    const geometry::Rigid3& b = *image.cam_from_world;
    errors.max_rotation_rad =
        std::max(errors.max_rotation_rad,
                 geometry::RotationAngleDeg(a.rotation, b.rotation) * std::numbers::pi / 180.0);
    errors.max_center =
        std::max(errors.max_center, (geometry::CameraCenter(a) - geometry::CameraCenter(b)).norm());
  }
  return errors;
}

double MaxPointError(const datasets::Scene& estimate, const datasets::Scene& truth) {
  double max_error = 0.0;
  for (const auto& [id, point] : truth.points3d) {
    max_error = std::max(max_error, (estimate.points3d.at(id).xyz - point.xyz).norm());
  }
  return max_error;
}

// The last Levenberg-Marquardt step is below parameter_tolerance (1e-8) relative to the
// parameters, and convergence on exact data is quadratic, so the truth is recovered to well
// within 1e-6 relative (the scene spans ~10 units, rotations are of order 1).
constexpr double kExactTolerance = 1e-6;

TEST(BundleAdjustment, RecoversTruthFromExactObservations) {
  const datasets::Scene truth = MakeScene(TrueCamera(geometry::CameraModelId::kSimpleRadial));
  datasets::Scene scene = Perturbed(truth);
  const BundleAdjustmentSummary summary = RunBundleAdjustment(scene, GaugeConfig());
  EXPECT_TRUE(summary.usable);
  EXPECT_EQ(summary.num_residuals, static_cast<int>(NumObservations(truth)));
  EXPECT_GT(summary.initial_rms_error_px, 5.0);  // 3% focal alone moves pixels ~6 px at 200 px
  EXPECT_LT(summary.final_rms_error_px, 1e-6);
  EXPECT_GT(summary.num_iterations, 0);
  EXPECT_GT(summary.seconds, 0.0);
  const PoseErrors errors = ComparePoses(scene, truth);
  EXPECT_LT(errors.max_rotation_rad, kExactTolerance);
  EXPECT_LT(errors.max_center, kExactTolerance * kRadius);
  EXPECT_LT(MaxPointError(scene, truth), kExactTolerance * kRadius);
  const auto& params = scene.cameras.at(kCameraId).params;
  EXPECT_NEAR(params[0], 500.0, 500.0 * kExactTolerance);
  EXPECT_NEAR(params[3], -0.1, kExactTolerance);
  // The gauge did not move at all.
  EXPECT_EQ(scene.images.at(Id(0)).cam_from_world->translation,
            truth.images.at(Id(0)).cam_from_world->translation);
  EXPECT_EQ(scene.images.at(Id(1)).cam_from_world->translation.x(),
            truth.images.at(Id(1)).cam_from_world->translation.x());
  // Every point's error was measured, and is ~0.
  for (const auto& [id, point] : scene.points3d) {
    EXPECT_GE(point.error, 0.0);
    EXPECT_LT(point.error, 1e-6);
  }
}

TEST(BundleAdjustment, FinalErrorMatchesObservationNoise) {
  const datasets::Scene truth = MakeScene(TrueCamera(geometry::CameraModelId::kSimpleRadial));
  datasets::Scene scene = Perturbed(truth);
  constexpr double kSigma = 0.5;  // px per coordinate
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, kSigma);
  for (auto& [id, image] : scene.images) {
    for (auto& point2d : image.points2d) point2d.xy += Eigen::Vector2d(noise(rng), noise(rng));
  }
  BundleAdjustmentOptions options;
  options.loss = LossFunction::kTrivial;  // plain least squares: the chi-square argument holds
  const BundleAdjustmentSummary summary = RunBundleAdjustment(scene, GaugeConfig(), options);
  ASSERT_TRUE(summary.usable);
  // At the least-squares optimum the sum of squared residuals is σ² χ² with 2N - P degrees of
  // freedom (P: free parameters, 3 per point, 6 per pose less the gauge's 7, f and k), so the
  // RMS distance is σ sqrt((2N - P) / N); its relative spread is ~1 / sqrt(2 (2N - P)) ≈ 1.1%.
  const double n = static_cast<double>(NumObservations(truth));
  const double num_params = 3.0 * kNumPoints + 6.0 * kNumImages - 7.0 + 2.0;
  const double expected = kSigma * std::sqrt((2.0 * n - num_params) / n);
  EXPECT_NEAR(summary.final_rms_error_px, expected, 0.05 * expected);
  // The noise moves the estimate by at most a few pixels' worth (1 px is 2e-3 rad at f = 500,
  // and 1% of the focal length is 5 px at the image border), far less than the perturbation.
  EXPECT_NEAR(scene.cameras.at(kCameraId).params[0], 500.0, 5.0);
  const PoseErrors errors = ComparePoses(scene, truth);
  EXPECT_LT(errors.max_rotation_rad, 5e-3);
  EXPECT_LT(errors.max_center, 0.01 * kRadius);
  // The points' mean errors are of the order of the noise (mean distance σ sqrt(π/2) ≈ 0.63).
  double mean_point_error = 0.0;
  for (const auto& [id, point] : scene.points3d) mean_point_error += point.error;
  mean_point_error /= kNumPoints;
  EXPECT_GT(mean_point_error, 0.3);
  EXPECT_LT(mean_point_error, 0.7);
}

TEST(BundleAdjustment, ConstantPosesAndCamerasDoNotMove) {
  const datasets::Scene truth = MakeScene(TrueCamera(geometry::CameraModelId::kSimpleRadial));
  datasets::Scene scene = Perturbed(truth);
  const datasets::Scene before = scene;
  BundleAdjustmentConfig config = GaugeConfig();
  config.constant_poses.insert(Id(4));
  config.constant_cameras.insert(kCameraId);
  config.constant_translation_coords[Id(6)] = {2, 0, 1, 0};  // all of them, in any order
  const BundleAdjustmentSummary summary = RunBundleAdjustment(scene, config);
  ASSERT_TRUE(summary.usable);
  EXPECT_LT(summary.final_rms_error_px, summary.initial_rms_error_px);
  for (const ImageId id : {Id(0), Id(4)}) {
    EXPECT_EQ(scene.images.at(id).cam_from_world->rotation.coeffs(),
              before.images.at(id).cam_from_world->rotation.coeffs());
    EXPECT_EQ(scene.images.at(id).cam_from_world->translation,
              before.images.at(id).cam_from_world->translation);
  }
  EXPECT_EQ(scene.cameras.at(kCameraId).params, before.cameras.at(kCameraId).params);
  EXPECT_NE(scene.images.at(Id(5)).cam_from_world->translation,
            before.images.at(Id(5)).cam_from_world->translation);
  EXPECT_EQ(scene.images.at(Id(6)).cam_from_world->translation,
            before.images.at(Id(6)).cam_from_world->translation);
  EXPECT_NE(scene.images.at(Id(6)).cam_from_world->rotation.coeffs(),
            before.images.at(Id(6)).cam_from_world->rotation.coeffs());
}

TEST(BundleAdjustment, NoIntrinsicsRefinementKeepsTheCamera) {
  const datasets::Scene truth = MakeScene(TrueCamera(geometry::CameraModelId::kSimpleRadial));
  datasets::Scene scene = Perturbed(truth);
  const std::vector<double> before = scene.cameras.at(kCameraId).params;
  BundleAdjustmentOptions options;
  options.refine_focal_length = false;
  options.refine_extra_params = false;
  RunBundleAdjustment(scene, GaugeConfig(), options);
  EXPECT_EQ(scene.cameras.at(kCameraId).params, before);
}

TEST(BundleAdjustment, PrincipalPointHeldOrRecovered) {
  geometry::Camera camera = TrueCamera(geometry::CameraModelId::kSimpleRadial);
  camera.params[1] += 4.0;
  camera.params[2] -= 4.0;
  const datasets::Scene truth = MakeScene(camera);
  datasets::Scene start = Perturbed(truth);
  start.cameras.at(kCameraId).params[1] = 320.0;
  start.cameras.at(kCameraId).params[2] = 240.0;

  datasets::Scene held = start;
  RunBundleAdjustment(held, GaugeConfig());  // refine_principal_point is false by default
  EXPECT_EQ(held.cameras.at(kCameraId).params[1], 320.0);
  EXPECT_EQ(held.cameras.at(kCameraId).params[2], 240.0);

  datasets::Scene refined = start;
  BundleAdjustmentOptions options;
  options.refine_principal_point = true;
  const BundleAdjustmentSummary summary = RunBundleAdjustment(refined, GaugeConfig(), options);
  EXPECT_LT(summary.final_rms_error_px, 1e-6);
  EXPECT_NEAR(refined.cameras.at(kCameraId).params[1], 324.0, 1e-4);
  EXPECT_NEAR(refined.cameras.at(kCameraId).params[2], 236.0, 1e-4);
  EXPECT_LT(ComparePoses(refined, truth).max_center, kExactTolerance * kRadius);
}

// 10% of the observations moved by 30 px in a random direction.
void AddOutliers(datasets::Scene& scene) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (auto& [id, image] : scene.images) {
    for (auto& point2d : image.points2d) {
      if (uniform(rng) >= 0.1) continue;
      const double angle = 2.0 * std::numbers::pi * uniform(rng);
      point2d.xy += 30.0 * Eigen::Vector2d(std::cos(angle), std::sin(angle));
    }
  }
}

TEST(BundleAdjustment, RobustLossesResistOutliers) {
  const datasets::Scene truth = MakeScene(TrueCamera(geometry::CameraModelId::kSimpleRadial));
  datasets::Scene start = Perturbed(truth);
  AddOutliers(start);
  const auto run = [&](LossFunction loss) {
    datasets::Scene scene = start;
    BundleAdjustmentOptions options;
    options.loss = loss;
    EXPECT_TRUE(RunBundleAdjustment(scene, GaugeConfig(), options).usable);
    return ComparePoses(scene, truth).max_center;
  };
  const double trivial = run(LossFunction::kTrivial);
  const double cauchy = run(LossFunction::kCauchy);
  const double soft_l1 = run(LossFunction::kSoftL1);
  // Least squares lets a 30 px outlier pull 30x harder than a 1 px residual; soft-L1's pull is
  // bounded (~1) and Cauchy's decays (~1/30), so their bias is at least an order smaller.
  EXPECT_GT(trivial, 1e-3);
  EXPECT_LT(cauchy, 0.1 * trivial);
  EXPECT_LT(soft_l1, 0.1 * trivial);
  EXPECT_LT(cauchy, 0.01);
}

TEST(BundleAdjustment, SkipsObservationsBehindTheCamera) {
  const datasets::Scene truth = MakeScene(TrueCamera(geometry::CameraModelId::kSimpleRadial));
  datasets::Scene scene = Perturbed(truth);
  // A point 2 units behind image 0, observed by it (a bad triangulation).
  const geometry::Rigid3 world_from_cam = scene.images.at(Id(0)).cam_from_world->Inverse();
  datasets::Point3D& point = scene.points3d[Point3DId(kNumPoints + 1)];
  point.xyz = world_from_cam * Eigen::Vector3d(0.1, 0.2, -2.0);
  datasets::Image& image = scene.images.at(Id(0));
  point.track.push_back({Id(0), static_cast<std::uint32_t>(image.points2d.size())});
  image.points2d.push_back({Eigen::Vector2d(300.0, 200.0), Point3DId(kNumPoints + 1)});
  scene.Check();
  const BundleAdjustmentSummary summary = RunBundleAdjustment(scene, GaugeConfig());
  EXPECT_TRUE(summary.usable);
  EXPECT_EQ(summary.num_residuals, static_cast<int>(NumObservations(truth)));
  EXPECT_LT(summary.final_rms_error_px, 1e-6);
}

TEST(BundleAdjustment, OutsideObservationsFixTheirPoses) {
  const datasets::Scene truth = MakeScene(TrueCamera(geometry::CameraModelId::kSimpleRadial));
  datasets::Scene start = Perturbed(truth);
  start.images.at(Id(1)).cam_from_world = truth.images.at(Id(1)).cam_from_world;
  // Adjust images 2..7 only; images 0 and 1 (exact) anchor the gauge through shared points.
  BundleAdjustmentConfig config;
  for (int k = 2; k < kNumImages; ++k) config.images.insert(Id(k));

  datasets::Scene with_outside = start;
  const BundleAdjustmentSummary summary = RunBundleAdjustment(with_outside, config);
  EXPECT_EQ(summary.num_residuals, static_cast<int>(NumObservations(truth)));
  EXPECT_LT(summary.final_rms_error_px, 1e-6);
  EXPECT_LT(ComparePoses(with_outside, truth).max_center, kExactTolerance * kRadius);
  for (const ImageId id : {Id(0), Id(1)}) {
    EXPECT_EQ(with_outside.images.at(id).cam_from_world->translation,
              start.images.at(id).cam_from_world->translation);
  }

  datasets::Scene inside_only = start;
  config.include_outside_observations = false;
  config.constant_poses.insert(Id(2));
  config.constant_translation_coords[Id(3)] = {0};
  const std::size_t outside =
      start.images.at(Id(0)).points2d.size() + start.images.at(Id(1)).points2d.size();
  EXPECT_EQ(RunBundleAdjustment(inside_only, config).num_residuals,
            static_cast<int>(NumObservations(truth) - outside));
}

// Every camera model, each linear solver.
class BundleAdjustmentModels : public testing::TestWithParam<geometry::CameraModelId> {};

TEST_P(BundleAdjustmentModels, RecoversTruth) {
  const datasets::Scene truth = MakeScene(TrueCamera(GetParam()));
  datasets::Scene scene = Perturbed(truth);
  const BundleAdjustmentSummary summary = RunBundleAdjustment(scene, GaugeConfig());
  EXPECT_TRUE(summary.usable);
  EXPECT_LT(summary.final_rms_error_px, 1e-6);
  EXPECT_LT(ComparePoses(scene, truth).max_center, kExactTolerance * kRadius);
  const auto& params = scene.cameras.at(kCameraId).params;
  const auto& true_params = truth.cameras.at(kCameraId).params;
  EXPECT_NEAR(params[0], true_params[0], true_params[0] * kExactTolerance);
}

INSTANTIATE_TEST_SUITE_P(
    AllModels, BundleAdjustmentModels,
    testing::Values(geometry::CameraModelId::kSimplePinhole, geometry::CameraModelId::kPinhole,
                    geometry::CameraModelId::kSimpleRadial, geometry::CameraModelId::kRadial,
                    geometry::CameraModelId::kOpenCV, geometry::CameraModelId::kOpenCVFisheye,
                    geometry::CameraModelId::kFullOpenCV));

TEST(BundleAdjustment, EveryLinearSolverRecoversTruth) {
  const datasets::Scene truth = MakeScene(TrueCamera(geometry::CameraModelId::kSimpleRadial));
  for (const auto& [dense_max, sparse_max] : {std::pair{50, 1000}, {0, 1000}, {0, 0}}) {
    datasets::Scene scene = Perturbed(truth);
    BundleAdjustmentOptions options;
    options.dense_max_images = dense_max;
    options.sparse_max_images = sparse_max;
    const BundleAdjustmentSummary summary = RunBundleAdjustment(scene, GaugeConfig(), options);
    EXPECT_LT(summary.final_rms_error_px, 1e-6) << dense_max << " " << sparse_max;
    EXPECT_LT(ComparePoses(scene, truth).max_center, kExactTolerance * kRadius);
  }
}

// The residual written directly as a template, for Ceres' autodiff: the reference for the
// analytic Jacobians.
template <int kNumParams>
struct AutoDiffReprojectionError {
  int model;
  Eigen::Vector2d observed;

  template <typename T>
  bool operator()(const T* cam_from_world, const T* x_in_world, const T* params, T* r) const {
    T x[3];
    ceres::UnitQuaternionRotatePoint(cam_from_world, x_in_world, x);
    for (int i = 0; i < 3; ++i) x[i] += cam_from_world[4 + i];
    geometry::impl::ImgFromCam(model, params, x[0], x[1], x[2], &r[0], &r[1]);
    r[0] -= observed.x();
    r[1] -= observed.y();
    return true;
  }
};

template <int kNumParams>
void ExpectJacobiansMatchAutoDiff(geometry::CameraModelId model_id) {
  const int model = static_cast<int>(model_id);
  const geometry::Camera camera = TrueCamera(model_id);
  ASSERT_EQ(static_cast<int>(camera.params.size()), kNumParams);
  std::mt19937 rng(17);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  const Eigen::Vector2d observed(300.0, 250.0);
  const ReprojectionErrorCost<kNumParams> analytic(model, observed);
  const ceres::AutoDiffCostFunction<AutoDiffReprojectionError<kNumParams>, 2, 7, 3, kNumParams>
      autodiff(new AutoDiffReprojectionError<kNumParams>{model, observed});
  for (int trial = 0; trial < 20; ++trial) {
    const Eigen::Quaterniond q = Eigen::Quaterniond(Eigen::AngleAxisd(
        0.5 * unit(rng), Eigen::Vector3d(unit(rng), unit(rng), unit(rng)).normalized()));
    double pose[7] = {q.w(), q.x(), q.y(), q.z(), 0.3 * unit(rng), 0.3 * unit(rng), 5.0};
    double point[3] = {unit(rng), unit(rng), unit(rng)};
    std::vector<double> params = camera.params;
    const double* parameters[3] = {pose, point, params.data()};
    double r_a[2], r_b[2];
    double j_a[3][2 * 12], j_b[3][2 * 12];
    double* jac_a[3] = {j_a[0], j_a[1], j_a[2]};
    double* jac_b[3] = {j_b[0], j_b[1], j_b[2]};
    ASSERT_TRUE(analytic.Evaluate(parameters, r_a, jac_a));
    ASSERT_TRUE(autodiff.Evaluate(parameters, r_b, jac_b));
    const int sizes[3] = {14, 6, 2 * kNumParams};
    for (int b = 0; b < 3; ++b) {
      for (int i = 0; i < sizes[b]; ++i) {
        // Same operations in a different order: agreement to rounding of O(1e3) magnitudes.
        EXPECT_NEAR(j_a[b][i], j_b[b][i], 1e-9 * (1.0 + std::abs(j_b[b][i])))
            << "block " << b << " entry " << i << " trial " << trial;
      }
    }
    EXPECT_NEAR(r_a[0], r_b[0], 1e-9);
    EXPECT_NEAR(r_a[1], r_b[1], 1e-9);
    // Without the camera's Jacobian (a constant camera) the others are unchanged.
    double j_c[2][14];
    double* jac_c[3] = {j_c[0], j_c[1], nullptr};
    ASSERT_TRUE(analytic.Evaluate(parameters, r_a, jac_c));
    for (int i = 0; i < 14; ++i)
      EXPECT_NEAR(j_c[0][i], j_b[0][i], 1e-9 * (1.0 + std::abs(j_b[0][i])));
    // The constant-pose residual agrees with the point and camera blocks.
    const ConstantPoseReprojectionErrorCost<kNumParams> constant(
        model, observed, q.toRotationMatrix(), Eigen::Vector3d(pose[4], pose[5], pose[6]));
    const double* constant_parameters[2] = {point, params.data()};
    double j_d[2][2 * 12];
    double* jac_d[2] = {j_d[0], j_d[1]};
    ASSERT_TRUE(constant.Evaluate(constant_parameters, r_a, jac_d));
    EXPECT_NEAR(r_a[0], r_b[0], 1e-9);
    for (int i = 0; i < 6; ++i)
      EXPECT_NEAR(j_d[0][i], j_b[1][i], 1e-9 * (1.0 + std::abs(j_b[1][i])));
    for (int i = 0; i < 2 * kNumParams; ++i) {
      EXPECT_NEAR(j_d[1][i], j_b[2][i], 1e-9 * (1.0 + std::abs(j_b[2][i])));
    }
  }
}

TEST(ReprojectionError, AnalyticJacobiansMatchAutoDiff) {
  ExpectJacobiansMatchAutoDiff<3>(geometry::CameraModelId::kSimplePinhole);
  ExpectJacobiansMatchAutoDiff<4>(geometry::CameraModelId::kSimpleRadial);
  ExpectJacobiansMatchAutoDiff<5>(geometry::CameraModelId::kRadial);
  ExpectJacobiansMatchAutoDiff<8>(geometry::CameraModelId::kOpenCV);
  ExpectJacobiansMatchAutoDiff<8>(geometry::CameraModelId::kOpenCVFisheye);
  ExpectJacobiansMatchAutoDiff<12>(geometry::CameraModelId::kFullOpenCV);
}

TEST(BundleAdjustment, InvalidOptionsAndConfigsThrow) {
  datasets::Scene scene = MakeScene(TrueCamera(geometry::CameraModelId::kSimpleRadial));
  const auto with = [](auto change) {
    BundleAdjustmentOptions options;
    change(options);
    return options;
  };
  const BundleAdjustmentConfig config = GaugeConfig();
  EXPECT_THROW(RunBundleAdjustment(scene, config, with([](auto& o) { o.loss_scale_px = 0.0; })),
               Error);
  EXPECT_THROW(RunBundleAdjustment(scene, config, with([](auto& o) { o.max_num_iterations = 0; })),
               Error);
  EXPECT_THROW(RunBundleAdjustment(scene, config, with([](auto& o) { o.num_threads = -1; })),
               Error);
  EXPECT_THROW(
      RunBundleAdjustment(scene, config, with([](auto& o) { o.function_tolerance = -1.0; })),
      Error);
  EXPECT_THROW(RunBundleAdjustment(scene, config, with([](auto& o) {
                                     o.dense_max_images = 10;
                                     o.sparse_max_images = 5;
                                   })),
               Error);
  BundleAdjustmentConfig unknown = config;
  unknown.images.insert(ImageId(99));
  EXPECT_THROW(RunBundleAdjustment(scene, unknown), Error);
  BundleAdjustmentConfig bad_coord = config;
  bad_coord.constant_translation_coords[Id(1)] = {3};
  EXPECT_THROW(RunBundleAdjustment(scene, bad_coord), Error);
  datasets::Scene unregistered = scene;
  unregistered.images.at(Id(3)).cam_from_world.reset();
  EXPECT_THROW(RunBundleAdjustment(unregistered, config), Error);
  try {
    RunBundleAdjustment(scene, config, with([](auto& o) { o.loss_scale_px = -2.0; }));
    ADD_FAILURE() << "a negative loss scale was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("loss_scale_px"), std::string::npos);
  }
}

}  // namespace
}  // namespace facet::sfm
