#include "sfm/bundle_adjustment.h"

#include <ceres/loss_function.h>
#include <ceres/manifold.h>
#include <ceres/problem.h>
#include <ceres/product_manifold.h>
#include <ceres/solver.h>
#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/backend.h"
#include "core/error.h"
#include "core/parallel_for.h"
#include "core/timer.h"
#include "geometry/camera_models_impl.h"
#include "sfm/reprojection_error.h"

namespace facet::sfm {

void BundleAdjustmentOptions::Check() const {
  FACET_CHECK(std::isfinite(loss_scale_px) && loss_scale_px > 0.0,
              "BundleAdjustmentOptions::loss_scale_px must be positive and finite (got {})",
              loss_scale_px);
  FACET_CHECK(max_num_iterations >= 1,
              "BundleAdjustmentOptions::max_num_iterations must be >= 1 (got {})",
              max_num_iterations);
  FACET_CHECK(function_tolerance >= 0.0 && std::isfinite(function_tolerance),
              "BundleAdjustmentOptions::function_tolerance must be >= 0 (got {})",
              function_tolerance);
  FACET_CHECK(gradient_tolerance >= 0.0 && std::isfinite(gradient_tolerance),
              "BundleAdjustmentOptions::gradient_tolerance must be >= 0 (got {})",
              gradient_tolerance);
  FACET_CHECK(parameter_tolerance >= 0.0 && std::isfinite(parameter_tolerance),
              "BundleAdjustmentOptions::parameter_tolerance must be >= 0 (got {})",
              parameter_tolerance);
  FACET_CHECK(num_threads >= 0, "BundleAdjustmentOptions::num_threads must be >= 0 (got {})",
              num_threads);
  FACET_CHECK(dense_max_images >= 0,
              "BundleAdjustmentOptions::dense_max_images must be >= 0 (got {})", dense_max_images);
  FACET_CHECK(
      sparse_max_images >= dense_max_images,
      "BundleAdjustmentOptions::sparse_max_images must be >= dense_max_images ({}) (got {})",
      dense_max_images, sparse_max_images);
}

namespace {

using datasets::CameraId;
using datasets::ImageId;
using datasets::Point3DId;

template <int kNumParams>
ceres::CostFunction* MakeCostFunction(int model, const Eigen::Vector2d& observed,
                                      const geometry::Rigid3* constant_pose) {
  if (constant_pose == nullptr) return new ReprojectionErrorCost<kNumParams>(model, observed);
  return new ConstantPoseReprojectionErrorCost<kNumParams>(
      model, observed, constant_pose->rotation.normalized().toRotationMatrix(),
      constant_pose->translation);
}

// A fixed-size cost function per parameter count (its Jets are then fixed-size too).
ceres::CostFunction* CreateCostFunction(int model, const Eigen::Vector2d& observed,
                                        const geometry::Rigid3* constant_pose) {
  switch (geometry::impl::NumParams(model)) {
    case 3:
      return MakeCostFunction<3>(model, observed, constant_pose);
    case 4:
      return MakeCostFunction<4>(model, observed, constant_pose);
    case 5:
      return MakeCostFunction<5>(model, observed, constant_pose);
    case 8:
      return MakeCostFunction<8>(model, observed, constant_pose);
    case 12:
      return MakeCostFunction<12>(model, observed, constant_pose);
    default:
      FACET_THROW("bundle adjustment: camera model id {} is not supported", model);
  }
}

std::unique_ptr<ceres::LossFunction> CreateLoss(const BundleAdjustmentOptions& options) {
  switch (options.loss) {
    case LossFunction::kTrivial:
      return nullptr;
    case LossFunction::kSoftL1:
      return std::make_unique<ceres::SoftLOneLoss>(options.loss_scale_px);
    case LossFunction::kCauchy:
      return std::make_unique<ceres::CauchyLoss>(options.loss_scale_px);
    case LossFunction::kHuber:
      return std::make_unique<ceres::HuberLoss>(options.loss_scale_px);
  }
  FACET_THROW("BundleAdjustmentOptions::loss has an unknown value {}",
              static_cast<int>(options.loss));
}

// A variable pose as Ceres sees it: one block of the quaternion in Ceres' order (w, x, y, z) and
// the translation. One block of 6 degrees of freedom instead of two of 3 halves the number of
// camera blocks in the Schur complement, which makes its elimination markedly faster.
struct PoseBlock {
  ImageId image_id{};
  double cam_from_world[7] = {1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  bool used = false;  // has at least one residual (else Ceres does not know the block)
};
using PoseManifold = ceres::ProductManifold<ceres::QuaternionManifold, ceres::EuclideanManifold<3>>;
using PartlyConstantPoseManifold =
    ceres::ProductManifold<ceres::QuaternionManifold, ceres::SubsetManifold>;

void CheckConfig(const datasets::Scene& scene, const BundleAdjustmentConfig& config) {
  for (const ImageId id : config.images) {
    const auto it = scene.images.find(id);
    FACET_CHECK(it != scene.images.end(), "bundle adjustment: image {} is not in the scene", id);
    FACET_CHECK(it->second.IsRegistered(),
                "bundle adjustment: image {} ('{}') is not registered; only registered images "
                "can be adjusted",
                id, it->second.name);
    FACET_CHECK(scene.cameras.count(it->second.camera_id) == 1,
                "bundle adjustment: image {} uses camera {}, which is not in the scene", id,
                it->second.camera_id);
  }
  for (const ImageId id : config.constant_poses) {
    FACET_CHECK(scene.images.count(id) == 1,
                "bundle adjustment: constant pose of image {}, which is not in the scene", id);
  }
  for (const auto& [id, coords] : config.constant_translation_coords) {
    FACET_CHECK(scene.images.count(id) == 1,
                "bundle adjustment: constant translation coordinates of image {}, which is not in "
                "the scene",
                id);
    for (const int c : coords) {
      FACET_CHECK(c >= 0 && c <= 2,
                  "bundle adjustment: constant translation coordinate {} of image {} must be 0, 1 "
                  "or 2",
                  c, id);
    }
  }
  for (const CameraId id : config.constant_cameras) {
    FACET_CHECK(scene.cameras.count(id) == 1,
                "bundle adjustment: constant camera {} is not in the scene", id);
  }
  for (const Point3DId id : config.constant_points) {
    FACET_CHECK(scene.points3d.count(id) == 1,
                "bundle adjustment: constant point {} is not in the scene", id);
  }
}

// Indices of a camera's parameters that the options hold constant.
std::vector<int> ConstantIntrinsics(geometry::CameraModelId model_id,
                                    const BundleAdjustmentOptions& options) {
  const int model = static_cast<int>(model_id);
  const int num_params = geometry::impl::NumParams(model);
  const int pp = geometry::impl::PrincipalPointIndex(model);
  const int extra = geometry::impl::ExtraParamsIndex(model);
  std::vector<int> constant;
  if (!options.refine_focal_length) {
    for (int i = 0; i < pp; ++i) constant.push_back(i);
  }
  if (!options.refine_principal_point) {
    constant.push_back(pp);
    constant.push_back(pp + 1);
  }
  if (!options.refine_extra_params) {
    for (int i = extra; i < num_params; ++i) constant.push_back(i);
  }
  return constant;
}

ceres::Solver::Options SolverOptions(const BundleAdjustmentOptions& options, int num_images,
                                     int num_threads) {
  ceres::Solver::Options solver;
  solver.max_num_iterations = options.max_num_iterations;
  solver.function_tolerance = options.function_tolerance;
  solver.gradient_tolerance = options.gradient_tolerance;
  solver.parameter_tolerance = options.parameter_tolerance;
  solver.num_threads = num_threads;
  solver.minimizer_progress_to_stdout = false;
  solver.logging_type = ceres::SILENT;
  if (num_images < options.dense_max_images) {
    solver.linear_solver_type = ceres::DENSE_SCHUR;
  } else if (num_images <= options.sparse_max_images &&
             ceres::IsSparseLinearAlgebraLibraryTypeAvailable(ceres::SUITE_SPARSE)) {
    solver.linear_solver_type = ceres::SPARSE_SCHUR;
    solver.sparse_linear_algebra_library_type = ceres::SUITE_SPARSE;
  } else if (num_images <= options.sparse_max_images &&
             ceres::IsSparseLinearAlgebraLibraryTypeAvailable(ceres::EIGEN_SPARSE)) {
    solver.linear_solver_type = ceres::SPARSE_SCHUR;
    solver.sparse_linear_algebra_library_type = ceres::EIGEN_SPARSE;
  } else {
    solver.linear_solver_type = ceres::ITERATIVE_SCHUR;
    solver.preconditioner_type = ceres::SCHUR_JACOBI;
  }
  return solver;
}

// RMS over observations of the pixel distance, from the residuals without the robust loss.
double RmsReprojectionError(ceres::Problem& problem, int num_observations, int num_threads) {
  if (num_observations == 0) return 0.0;
  ceres::Problem::EvaluateOptions evaluate;
  evaluate.apply_loss_function = false;
  evaluate.num_threads = num_threads;
  std::vector<double> residuals;
  problem.Evaluate(evaluate, nullptr, &residuals, nullptr, nullptr);
  double sum = 0.0;
  for (const double r : residuals) sum += r * r;
  return std::sqrt(sum / num_observations);
}

// Mean reprojection error in pixels over a point's track (registered images, in front only);
// -1 when no observation is usable.
double MeanTrackError(const datasets::Scene& scene, const datasets::Point3D& point) {
  double sum = 0.0;
  int count = 0;
  for (const datasets::TrackElement& element : point.track) {
    const auto image = scene.images.find(element.image_id);
    if (image == scene.images.end() || !image->second.IsRegistered() ||
        element.point2d_idx >= image->second.points2d.size()) {
      continue;
    }
    const geometry::Camera& camera = scene.cameras.at(image->second.camera_id);
    const std::optional<Eigen::Vector2d> pixel =
        camera.ImgFromCam(*image->second.cam_from_world * point.xyz);
    if (!pixel) continue;
    sum += (*pixel - image->second.points2d[element.point2d_idx].xy).norm();
    ++count;
  }
  return count > 0 ? sum / count : -1.0;
}

}  // namespace

namespace {

// Ceres reports recoverable trouble (a failed Cholesky step that Levenberg-Marquardt retries with
// more damping) through glog warnings on stderr, which would break progress bars and the CLI's
// one-line errors. Keep glog to errors; facet reports what matters through its own summary.
void QuietCeresLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!google::IsGoogleLoggingInitialized()) google::InitGoogleLogging("facet");
    FLAGS_minloglevel = google::GLOG_ERROR;
    FLAGS_logtostderr = true;
  });
}

}  // namespace

BundleAdjustmentSummary RunBundleAdjustment(datasets::Scene& scene,
                                            const BundleAdjustmentConfig& config,
                                            const BundleAdjustmentOptions& options) {
  const Timer timer;
  options.Check();
  CheckConfig(scene, config);
  QuietCeresLogging();
  const int num_threads = options.num_threads > 0 ? options.num_threads : MaxThreads();

  // Variable poses, copied into Ceres' layout; the vector never reallocates after this.
  std::vector<PoseBlock> poses;
  std::unordered_map<ImageId, std::size_t> pose_index;
  poses.reserve(config.images.size());
  for (const ImageId id : config.images) {
    if (config.constant_poses.count(id) != 0) continue;
    const geometry::Rigid3& pose = *scene.images.at(id).cam_from_world;
    const Eigen::Quaterniond q = pose.rotation.normalized();
    PoseBlock block;
    block.image_id = id;
    block.cam_from_world[0] = q.w();
    block.cam_from_world[1] = q.x();
    block.cam_from_world[2] = q.y();
    block.cam_from_world[3] = q.z();
    for (int i = 0; i < 3; ++i) block.cam_from_world[4 + i] = pose.translation[i];
    pose_index.emplace(id, poses.size());
    poses.push_back(block);
  }

  // The loss and the manifolds are shared between blocks, so the problem must not delete them.
  ceres::Problem::Options problem_options;
  problem_options.loss_function_ownership = ceres::DO_NOT_TAKE_OWNERSHIP;
  problem_options.manifold_ownership = ceres::DO_NOT_TAKE_OWNERSHIP;
  ceres::Problem problem(problem_options);
  const std::unique_ptr<ceres::LossFunction> loss = CreateLoss(options);

  std::unordered_set<Point3DId> points;
  std::unordered_set<CameraId> cameras;
  int num_observations = 0;
  // Adds one observation's residual, unless its point is behind the camera.
  const auto add_observation = [&](const datasets::Image& image, const Eigen::Vector2d& xy,
                                   Point3DId point_id) {
    const auto point = scene.points3d.find(point_id);
    FACET_CHECK(point != scene.points3d.end(),
                "bundle adjustment: image {} ('{}') observes point {}, which is not in the scene",
                image.id, image.name, point_id);
    const geometry::Rigid3& cam_from_world = *image.cam_from_world;
    if ((cam_from_world * point->second.xyz).z() <= 0.0) return;
    geometry::Camera& camera = scene.cameras.at(image.camera_id);
    const int model = static_cast<int>(camera.model);
    FACET_CHECK(static_cast<int>(camera.params.size()) == geometry::impl::NumParams(model),
                "bundle adjustment: camera {} ({}) has {} parameters, expected {}", image.camera_id,
                camera.ModelName(), camera.params.size(), geometry::impl::NumParams(model));
    double* xyz = point->second.xyz.data();
    double* params = camera.params.data();
    const auto pose = pose_index.find(image.id);
    if (pose == pose_index.end()) {
      problem.AddResidualBlock(CreateCostFunction(model, xy, &cam_from_world), loss.get(), xyz,
                               params);
    } else {
      PoseBlock& block = poses[pose->second];
      block.used = true;
      problem.AddResidualBlock(CreateCostFunction(model, xy, nullptr), loss.get(),
                               block.cam_from_world, xyz, params);
    }
    points.insert(point_id);
    cameras.insert(image.camera_id);
    ++num_observations;
  };

  for (const ImageId id : config.images) {
    const datasets::Image& image = scene.images.at(id);
    for (const datasets::Point2D& point2d : image.points2d) {
      if (point2d.point3d_id.IsValid()) add_observation(image, point2d.xy, point2d.point3d_id);
    }
  }
  if (config.include_outside_observations) {
    // add_observation inserts into `points`: iterate over a copy.
    const std::vector<Point3DId> inside(points.begin(), points.end());
    for (const Point3DId point_id : inside) {
      for (const datasets::TrackElement& element : scene.points3d.at(point_id).track) {
        if (config.images.count(element.image_id) != 0) continue;
        const auto image = scene.images.find(element.image_id);
        if (image == scene.images.end() || !image->second.IsRegistered()) continue;
        FACET_CHECK(element.point2d_idx < image->second.points2d.size(),
                    "bundle adjustment: the track of point {} names keypoint {} of image {}, "
                    "which has {}",
                    point_id, element.point2d_idx, element.image_id, image->second.points2d.size());
        add_observation(image->second, image->second.points2d[element.point2d_idx].xy, point_id);
      }
    }
  }

  BundleAdjustmentSummary summary;
  summary.num_residuals = num_observations;
  if (num_observations == 0) {
    summary.usable = true;
    summary.seconds = timer.ElapsedSeconds();
    return summary;
  }

  // Manifolds: one for all free poses, one per distinct subset of held parameters.
  PoseManifold pose_manifold;
  std::vector<std::unique_ptr<ceres::Manifold>> owned_manifolds;
  std::map<std::pair<int, std::vector<int>>, ceres::Manifold*> subset_by_key;
  const auto subset_manifold = [&](int size, const std::vector<int>& constant) {
    auto [it, inserted] = subset_by_key.try_emplace({size, constant}, nullptr);
    if (inserted) {
      owned_manifolds.push_back(std::make_unique<ceres::SubsetManifold>(size, constant));
      it->second = owned_manifolds.back().get();
    }
    return it->second;
  };
  const auto sorted_unique = [](std::vector<int> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  };
  // Holds `constant` of a block's coordinates fixed: all of them makes it a constant block.
  const auto hold_constant = [&](double* block, int size, const std::vector<int>& held) {
    const std::vector<int> constant = sorted_unique(held);
    if (static_cast<int>(constant.size()) == size) {
      problem.SetParameterBlockConstant(block);
    } else if (!constant.empty()) {
      problem.SetManifold(block, subset_manifold(size, constant));
    }
  };

  for (PoseBlock& block : poses) {
    if (!block.used) continue;
    const auto coords = config.constant_translation_coords.find(block.image_id);
    if (coords == config.constant_translation_coords.end() || coords->second.empty()) {
      problem.SetManifold(block.cam_from_world, &pose_manifold);
    } else {
      owned_manifolds.push_back(std::make_unique<PartlyConstantPoseManifold>(
          ceres::QuaternionManifold(), ceres::SubsetManifold(3, sorted_unique(coords->second))));
      problem.SetManifold(block.cam_from_world, owned_manifolds.back().get());
    }
  }
  const bool refine_any_intrinsics =
      options.refine_focal_length || options.refine_principal_point || options.refine_extra_params;
  for (const CameraId id : cameras) {
    geometry::Camera& camera = scene.cameras.at(id);
    if (!refine_any_intrinsics || config.constant_cameras.count(id) != 0) {
      problem.SetParameterBlockConstant(camera.params.data());
    } else {
      hold_constant(camera.params.data(), static_cast<int>(camera.params.size()),
                    ConstantIntrinsics(camera.model, options));
    }
  }
  for (const Point3DId id : config.constant_points) {
    if (points.count(id) != 0) problem.SetParameterBlockConstant(scene.points3d.at(id).xyz.data());
  }

  summary.initial_rms_error_px = RmsReprojectionError(problem, num_observations, num_threads);
  const ceres::Solver::Options solver_options =
      SolverOptions(options, static_cast<int>(config.images.size()), num_threads);
  ceres::Solver::Summary ceres_summary;
  ceres::Solve(solver_options, &problem, &ceres_summary);
  summary.usable = ceres_summary.IsSolutionUsable();
  summary.num_iterations = std::max(0, static_cast<int>(ceres_summary.iterations.size()) - 1);
  summary.initial_cost = ceres_summary.initial_cost;
  summary.final_cost = ceres_summary.final_cost;
  summary.final_rms_error_px = RmsReprojectionError(problem, num_observations, num_threads);

  // Points and intrinsics were adjusted in place; poses go back from Ceres' layout.
  if (summary.usable) {
    for (const PoseBlock& block : poses) {
      if (!block.used) continue;
      geometry::Rigid3& pose = *scene.images.at(block.image_id).cam_from_world;
      const double* p = block.cam_from_world;
      pose.rotation = Eigen::Quaterniond(p[0], p[1], p[2], p[3]).normalized();
      pose.translation = Eigen::Vector3d(p[4], p[5], p[6]);
    }
  }
  std::vector<datasets::Point3D*> adjusted;
  adjusted.reserve(points.size());
  for (const Point3DId id : points) adjusted.push_back(&scene.points3d.at(id));
  const datasets::Scene& const_scene = scene;
  ParallelFor(
      static_cast<std::int64_t>(adjusted.size()),
      [&](std::int64_t i) { adjusted[i]->error = MeanTrackError(const_scene, *adjusted[i]); }, 256);
  summary.seconds = timer.ElapsedSeconds();
  return summary;
}

}  // namespace facet::sfm
