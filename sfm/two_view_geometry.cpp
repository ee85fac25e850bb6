#include "sfm/two_view_geometry.h"

#include <ceres/ceres.h>
#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.h"
#include "geometry/pose_metrics.h"

namespace facet::sfm {
namespace {

using Mask = std::vector<char>;

// The matched points: pixels for F and H, normalised (undistorted) coordinates for E and the pose.
struct MatchedPoints {
  std::vector<cv::Point2d> pixels1{}, pixels2{};
  std::vector<Eigen::Vector2d> normalized1{}, normalized2{};  // zero where !valid
  Mask valid{};  // both keypoints' distortion inverted (CamFromImg succeeded)
};

MatchedPoints GatherPoints(const geometry::Camera& camera1,
                           std::span<const Eigen::Vector2d> points1,
                           const geometry::Camera& camera2,
                           std::span<const Eigen::Vector2d> points2,
                           std::span<const FeatureMatch> matches) {
  MatchedPoints m;
  const std::size_t n = matches.size();
  m.pixels1.resize(n);
  m.pixels2.resize(n);
  m.normalized1.assign(n, Eigen::Vector2d::Zero());
  m.normalized2.assign(n, Eigen::Vector2d::Zero());
  m.valid.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const FeatureMatch& match = matches[i];
    FACET_CHECK(match.idx1 < points1.size() && match.idx2 < points2.size(),
                "two-view geometry: match {} refers to keypoints ({}, {}) but the images have {} "
                "and {} keypoints (pass all keypoints of both images)",
                i, match.idx1, match.idx2, points1.size(), points2.size());
    const Eigen::Vector2d& p1 = points1[match.idx1];
    const Eigen::Vector2d& p2 = points2[match.idx2];
    FACET_CHECK(p1.allFinite() && p2.allFinite(),
                "two-view geometry: keypoint {} of image 1 or {} of image 2 is not finite",
                match.idx1, match.idx2);
    m.pixels1[i] = {p1.x(), p1.y()};
    m.pixels2[i] = {p2.x(), p2.y()};
    const std::optional<Eigen::Vector2d> n1 = camera1.CamFromImg(p1);
    const std::optional<Eigen::Vector2d> n2 = camera2.CamFromImg(p2);
    if (n1 && n2 && n1->allFinite() && n2->allFinite()) {
      m.normalized1[i] = *n1;
      m.normalized2[i] = *n2;
      m.valid[i] = 1;
    }
  }
  return m;
}

// OpenCV's USAC with MAGSAC++ scoring and its sigma-consensus local optimisation (the settings
// of cv::USAC_MAGSAC), single-threaded (pairs run in parallel outside), with an explicit random
// state so that results depend on the seed only.
cv::UsacParams MakeUsacParams(double threshold, bool homography,
                              const TwoViewGeometryOptions& options) {
  cv::UsacParams params;
  params.threshold = threshold;
  params.confidence = options.confidence;
  params.maxIterations = options.max_iterations;
  params.isParallel = false;
  params.sampler = cv::SAMPLING_UNIFORM;
  params.score = cv::SCORE_METHOD_MAGSAC;
  params.loMethod = cv::LOCAL_OPTIM_SIGMA;
  params.loSampleSize = homography ? 75 : 50;
  params.loIterations = homography ? 15 : 10;
  params.randomGeneratorState =
      static_cast<int>((options.seed ^ (options.seed >> 31)) & 0x7fffffffULL);
  return params;
}

// Restores the calling thread's cv::theRNG() on scope exit, after seeding it: USAC samples with
// its own generator (UsacParams::randomGeneratorState), and this keeps any OpenCV code that still
// draws from theRNG() (thread-local) deterministic without leaking state into the caller.
class ScopedCvRng {
 public:
  explicit ScopedCvRng(std::uint64_t seed) : saved_(cv::theRNG().state) {
    cv::theRNG().state = seed == 0 ? 0x9e3779b97f4a7c15ULL : seed;
  }
  ~ScopedCvRng() { cv::theRNG().state = saved_; }
  ScopedCvRng(const ScopedCvRng&) = delete;
  ScopedCvRng& operator=(const ScopedCvRng&) = delete;

 private:
  std::uint64_t saved_;
};

std::optional<Eigen::Matrix3d> ToMatrix3d(const cv::Mat& m) {
  if (m.empty() || m.cols != 3 || m.rows < 3) return std::nullopt;
  cv::Mat m64;
  m.convertTo(m64, CV_64F);
  Eigen::Matrix3d out;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) out(r, c) = m64.at<double>(r, c);
  }
  if (!out.allFinite() || out.norm() == 0.0) return std::nullopt;
  return out;
}

enum class ModelKind { kEssential, kFundamental, kHomography };

// One robust estimate; std::nullopt when USAC finds no model (or rejects the input).
std::optional<Eigen::Matrix3d> EstimateModel(ModelKind kind, const std::vector<cv::Point2d>& pts1,
                                             const std::vector<cv::Point2d>& pts2, double threshold,
                                             const TwoViewGeometryOptions& options) {
  const std::size_t min_points = kind == ModelKind::kEssential     ? 5
                                 : kind == ModelKind::kFundamental ? 8
                                                                   : 4;
  if (pts1.size() < min_points) return std::nullopt;
  const cv::UsacParams params = MakeUsacParams(threshold, kind == ModelKind::kHomography, options);
  cv::Mat mask;
  try {
    switch (kind) {
      case ModelKind::kEssential: {
        const cv::Mat identity = cv::Mat::eye(3, 3, CV_64F);
        return ToMatrix3d(cv::findEssentialMat(pts1, pts2, identity, identity, cv::noArray(),
                                               cv::noArray(), mask, params));
      }
      case ModelKind::kFundamental:
        return ToMatrix3d(cv::findFundamentalMat(pts1, pts2, mask, params));
      case ModelKind::kHomography:
        return ToMatrix3d(cv::findHomography(pts1, pts2, mask, params));
    }
  } catch (const cv::Exception&) {
    // USAC throws on inputs it cannot sample (e.g. all points identical): no model.
  }
  return std::nullopt;
}

// Squared Sampson distance of x2ᵀ M x1 = 0 (M = F on pixels or E on normalised coordinates).
double SquaredSampsonError(const Eigen::Matrix3d& m, const Eigen::Vector2d& x1,
                           const Eigen::Vector2d& x2) {
  const Eigen::Vector3d mx1 = m * x1.homogeneous();
  const Eigen::Vector3d mtx2 = m.transpose() * x2.homogeneous();
  const double c = x2.homogeneous().dot(mx1);
  const double denom = mx1.head<2>().squaredNorm() + mtx2.head<2>().squaredNorm();
  return denom > 0.0 ? c * c / denom : std::numeric_limits<double>::infinity();
}

// Squared forward transfer error |x2 - H x1|² (COLMAP's homography residual).
double SquaredTransferError(const Eigen::Matrix3d& h, const Eigen::Vector2d& x1,
                            const Eigen::Vector2d& x2) {
  const Eigen::Vector3d p = h * x1.homogeneous();
  if (p.z() == 0.0) return std::numeric_limits<double>::infinity();
  return (p.hnormalized() - x2).squaredNorm();
}

Eigen::Vector2d ToEigen(const cv::Point2d& p) { return {p.x, p.y}; }

// The inlier masks of the three models under one definition each (COLMAP's residuals), so that
// the counts compare whatever USAC's internal scoring was.
struct Support {
  Mask mask{};
  int count = 0;
};

Support EssentialSupport(const std::optional<Eigen::Matrix3d>& e, const MatchedPoints& m,
                         double threshold) {
  Support s;
  s.mask.assign(m.valid.size(), 0);
  if (!e) return s;
  const double t2 = threshold * threshold;
  for (std::size_t i = 0; i < m.valid.size(); ++i) {
    if (m.valid[i] && SquaredSampsonError(*e, m.normalized1[i], m.normalized2[i]) <= t2) {
      s.mask[i] = 1;
      ++s.count;
    }
  }
  return s;
}

Support PixelSupport(const std::optional<Eigen::Matrix3d>& model, bool homography,
                     const MatchedPoints& m, double threshold) {
  Support s;
  s.mask.assign(m.pixels1.size(), 0);
  if (!model) return s;
  const double t2 = threshold * threshold;
  for (std::size_t i = 0; i < m.pixels1.size(); ++i) {
    const Eigen::Vector2d x1 = ToEigen(m.pixels1[i]), x2 = ToEigen(m.pixels2[i]);
    const double r2 =
        homography ? SquaredTransferError(*model, x1, x2) : SquaredSampsonError(*model, x1, x2);
    if (r2 <= t2) {
      s.mask[i] = 1;
      ++s.count;
    }
  }
  return s;
}

// COLMAP's watermark test (DetectWatermarkMatches): most inliers lie in the border band of both
// images, and most of them follow one 2D translation. The translation model has a one-point
// minimal sample, so every inlier (or an even stride of them) is tried: deterministic, no RNG.
bool IsWatermark(const geometry::Camera& camera1, const geometry::Camera& camera2,
                 const MatchedPoints& m, const Mask& inliers, int num_inliers,
                 const TwoViewGeometryOptions& options) {
  if (num_inliers == 0) return false;
  const auto in_border = [&options](const geometry::Camera& camera, const cv::Point2d& p) {
    const double bx = options.watermark_border * camera.width;
    const double by = options.watermark_border * camera.height;
    return p.x < bx || p.x > camera.width - bx || p.y < by || p.y > camera.height - by;
  };
  std::vector<Eigen::Vector2d> shifts;
  int num_in_border = 0;
  for (std::size_t i = 0; i < inliers.size(); ++i) {
    if (!inliers[i]) continue;
    shifts.push_back(ToEigen(m.pixels2[i]) - ToEigen(m.pixels1[i]));
    if (in_border(camera1, m.pixels1[i]) && in_border(camera2, m.pixels2[i])) ++num_in_border;
  }
  const double needed = options.watermark_min_inlier_ratio * num_inliers;
  if (num_in_border < needed) return false;
  constexpr std::size_t kMaxHypotheses = 500;
  const std::size_t stride = std::max<std::size_t>(1, shifts.size() / kMaxHypotheses);
  const double t2 = options.max_error_px * options.max_error_px;
  int best = 0;
  for (std::size_t h = 0; h < shifts.size(); h += stride) {
    int support = 0;
    for (const Eigen::Vector2d& s : shifts) support += (s - shifts[h]).squaredNorm() <= t2;
    best = std::max(best, support);
  }
  return best >= needed;
}

// Midpoint triangulation of the rays through normalised points x1 (camera 1 at the origin) and
// x2 (camera 2, `cam2_from_cam1`). Returns the angle in degrees between the rays at the point,
// or std::nullopt when the point is not in front of both cameras (or the rays are parallel).
std::optional<double> TriangulationAngleDeg(const geometry::Rigid3& cam2_from_cam1,
                                            const Eigen::Vector2d& x1, const Eigen::Vector2d& x2) {
  const Eigen::Matrix3d r_t = cam2_from_cam1.rotation.toRotationMatrix().transpose();
  const Eigen::Vector3d c2 = -(r_t * cam2_from_cam1.translation);
  const Eigen::Vector3d d1 = x1.homogeneous().normalized();
  const Eigen::Vector3d d2 = (r_t * x2.homogeneous()).normalized();
  // Closest points c1 + l1 d1 and c2 + l2 d2 (c1 = 0; unit directions).
  const double b = d1.dot(d2);
  const double denom = 1.0 - b * b;
  if (denom < 1e-15) return std::nullopt;
  const double d = -d1.dot(c2), e = -d2.dot(c2);
  const double l1 = (b * e - d) / denom;
  const double l2 = (e - b * d) / denom;
  if (l1 <= 0.0 || l2 <= 0.0) return std::nullopt;
  const Eigen::Vector3d x = 0.5 * (l1 * d1 + c2 + l2 * d2);
  return geometry::AngleBetweenDeg(x, x - c2);
}

struct PoseMeasure {
  int num_in_front = 0;
  double median_angle_deg = 0.0;
};

PoseMeasure MeasurePose(const geometry::Rigid3& cam2_from_cam1, const MatchedPoints& m,
                        const Mask& inliers) {
  std::vector<double> angles;
  for (std::size_t i = 0; i < inliers.size(); ++i) {
    if (!inliers[i] || !m.valid[i]) continue;
    if (const auto a = TriangulationAngleDeg(cam2_from_cam1, m.normalized1[i], m.normalized2[i])) {
      angles.push_back(*a);
    }
  }
  PoseMeasure measure;
  measure.num_in_front = static_cast<int>(angles.size());
  if (!angles.empty()) {
    const auto mid = angles.begin() + std::ptrdiff_t(angles.size() / 2);
    std::nth_element(angles.begin(), mid, angles.end());
    measure.median_angle_deg = *mid;
  }
  return measure;
}

geometry::Rigid3 RigidFromCv(const cv::Mat& r, const cv::Mat& t) {
  Eigen::Matrix<double, 3, 4> m;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) m(i, j) = r.at<double>(i, j);
    m(i, 3) = t.at<double>(i);
  }
  return geometry::Rigid3::FromMatrix(m);
}

void SelectValid(const MatchedPoints& m, const Mask& inliers, std::vector<cv::Point2d>& n1,
                 std::vector<cv::Point2d>& n2) {
  for (std::size_t i = 0; i < inliers.size(); ++i) {
    if (!inliers[i] || !m.valid[i]) continue;
    n1.emplace_back(m.normalized1[i].x(), m.normalized1[i].y());
    n2.emplace_back(m.normalized2[i].x(), m.normalized2[i].y());
  }
}

// Sampson distance of a correspondence under E = [t]x R (signed, so that squares sum to the error).
struct SampsonResidual {
  Eigen::Vector2d x1, x2;  // normalised coordinates

  template <typename T>
  bool operator()(const T* rotation, const T* translation, T* residual) const {
    const Eigen::Map<const Eigen::Quaternion<T>> q(rotation);
    const Eigen::Map<const Eigen::Matrix<T, 3, 1>> t(translation);
    Eigen::Matrix<T, 3, 3> t_cross;
    t_cross << T(0), -t.z(), t.y(), t.z(), T(0), -t.x(), -t.y(), t.x(), T(0);
    const Eigen::Matrix<T, 3, 3> e = t_cross * q.toRotationMatrix();
    const Eigen::Matrix<T, 3, 1> p1(T(x1.x()), T(x1.y()), T(1));
    const Eigen::Matrix<T, 3, 1> p2(T(x2.x()), T(x2.y()), T(1));
    const Eigen::Matrix<T, 3, 1> ep1 = e * p1;
    const Eigen::Matrix<T, 3, 1> etp2 = e.transpose() * p2;
    const T denom =
        ep1.x() * ep1.x() + ep1.y() * ep1.y() + etp2.x() * etp2.x() + etp2.y() * etp2.y();
    residual[0] = p2.dot(ep1) / ceres::sqrt(denom + T(1e-30));
    return true;
  }
};

// Minimises the Sampson distances of the inliers over the rotation and the translation direction
// (5 degrees of freedom: a quaternion and a unit vector), the least-squares polish that minimal
// samples lack; a Cauchy loss at the inlier threshold keeps borderline matches from pulling.
geometry::Rigid3 RefineRelativePose(const geometry::Rigid3& initial, const MatchedPoints& m,
                                    const Mask& inliers, double threshold) {
  Eigen::Quaterniond q = initial.rotation.normalized();
  Eigen::Vector3d t = initial.translation.normalized();
  ceres::Problem::Options problem_options;
  problem_options.loss_function_ownership = ceres::DO_NOT_TAKE_OWNERSHIP;
  ceres::Problem problem(problem_options);
  ceres::CauchyLoss loss(0.25 * threshold);
  for (std::size_t i = 0; i < inliers.size(); ++i) {
    if (!inliers[i] || !m.valid[i]) continue;
    problem.AddResidualBlock(new ceres::AutoDiffCostFunction<SampsonResidual, 1, 4, 3>(
                                 new SampsonResidual{m.normalized1[i], m.normalized2[i]}),
                             &loss, q.coeffs().data(), t.data());
  }
  if (problem.NumResidualBlocks() < 5) return initial;
  problem.SetManifold(q.coeffs().data(), new ceres::EigenQuaternionManifold);
  problem.SetManifold(t.data(), new ceres::SphereManifold<3>);
  ceres::Solver::Options options;
  options.linear_solver_type = ceres::DENSE_QR;
  options.max_num_iterations = 50;
  options.num_threads = 1;
  options.logging_type = ceres::SILENT;
  ceres::Solver::Summary summary;
  ceres::Solve(options, &problem, &summary);
  if (!summary.IsSolutionUsable() || !q.coeffs().allFinite() || !t.allFinite()) return initial;
  return {q.normalized(), t.normalized()};
}

// Relative pose from E with the cheirality check (cv::recoverPose on the inliers).
std::optional<geometry::Rigid3> PoseFromEssential(const Eigen::Matrix3d& e, const MatchedPoints& m,
                                                  const Mask& inliers) {
  std::vector<cv::Point2d> n1, n2;
  SelectValid(m, inliers, n1, n2);
  if (n1.size() < 5) return std::nullopt;
  cv::Mat e_cv(3, 3, CV_64F);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) e_cv.at<double>(r, c) = e(r, c);
  }
  cv::Mat r, t;
  const int num_good = cv::recoverPose(e_cv, n1, n2, cv::Mat::eye(3, 3, CV_64F), r, t);
  if (num_good <= 0) return std::nullopt;
  return RigidFromCv(r, t);
}

// Planar or panoramic, from H refitted on the normalised inliers (so distortion does not bias it)
// and decomposed (Malis & Vargas 2007, cv::decomposeHomographyMat); the solution with most
// triangulated points in front of both cameras wins, as in COLMAP's PoseFromHomographyMatrix. A
// median triangulation angle below max_panoramic_angle_deg makes it a pure rotation.
void PoseFromHomography(const MatchedPoints& m, const Mask& inliers,
                        const TwoViewGeometryOptions& options, TwoViewGeometry& geometry) {
  geometry.config = TwoViewConfig::kPlanar;
  std::vector<cv::Point2d> n1, n2;
  SelectValid(m, inliers, n1, n2);
  if (n1.size() < 4) return;
  cv::Mat h;
  try {
    h = cv::findHomography(n1, n2, 0);
  } catch (const cv::Exception&) {
    return;
  }
  if (h.empty()) return;
  std::vector<cv::Mat> rotations, translations, normals;
  cv::decomposeHomographyMat(h, cv::Mat::eye(3, 3, CV_64F), rotations, translations, normals);
  std::optional<geometry::Rigid3> best_pose;
  PoseMeasure best;
  for (std::size_t k = 0; k < rotations.size(); ++k) {
    const geometry::Rigid3 pose = RigidFromCv(rotations[k], translations[k]);
    const PoseMeasure measure = MeasurePose(pose, m, inliers);
    if (!best_pose || measure.num_in_front > best.num_in_front) {
      best_pose = pose;
      best = measure;
    }
  }
  if (!best_pose) return;
  const double t_norm = best_pose->translation.norm();
  if (best.num_in_front == 0 || best.median_angle_deg < options.max_panoramic_angle_deg ||
      t_norm < 1e-12) {
    geometry.config = TwoViewConfig::kPanoramic;
    geometry.cam2_from_cam1 = {best_pose->rotation, Eigen::Vector3d::Zero()};
    geometry.median_tri_angle_deg = 0.0;
  } else {
    geometry.cam2_from_cam1 = {best_pose->rotation, best_pose->translation / t_norm};
    geometry.median_tri_angle_deg = best.median_angle_deg;
  }
  geometry.has_pose = true;
}

}  // namespace

std::string_view ToString(TwoViewConfig config) {
  switch (config) {
    case TwoViewConfig::kUndefined:
      return "undefined";
    case TwoViewConfig::kDegenerate:
      return "degenerate";
    case TwoViewConfig::kCalibrated:
      return "calibrated";
    case TwoViewConfig::kUncalibrated:
      return "uncalibrated";
    case TwoViewConfig::kPlanar:
      return "planar";
    case TwoViewConfig::kPanoramic:
      return "panoramic";
    case TwoViewConfig::kPlanarOrPanoramic:
      return "planar_or_panoramic";
    case TwoViewConfig::kWatermark:
      return "watermark";
  }
  return "unknown";
}

void TwoViewGeometryOptions::Check() const {
  FACET_CHECK(min_num_inliers >= 5, "TwoViewGeometryOptions.min_num_inliers must be >= 5 (got {})",
              min_num_inliers);
  FACET_CHECK(max_error_px > 0.0 && std::isfinite(max_error_px),
              "TwoViewGeometryOptions.max_error_px must be positive (got {})", max_error_px);
  FACET_CHECK(confidence > 0.0 && confidence < 1.0,
              "TwoViewGeometryOptions.confidence must be in (0, 1) (got {})", confidence);
  FACET_CHECK(max_iterations >= 1, "TwoViewGeometryOptions.max_iterations must be >= 1 (got {})",
              max_iterations);
  FACET_CHECK(min_e_f_inlier_ratio >= 0.0 && min_e_f_inlier_ratio <= 1.0,
              "TwoViewGeometryOptions.min_e_f_inlier_ratio must be in [0, 1] (got {})",
              min_e_f_inlier_ratio);
  FACET_CHECK(max_h_inlier_ratio >= 0.0 && max_h_inlier_ratio <= 1.0,
              "TwoViewGeometryOptions.max_h_inlier_ratio must be in [0, 1] (got {})",
              max_h_inlier_ratio);
  FACET_CHECK(max_panoramic_angle_deg >= 0.0 && max_panoramic_angle_deg < 90.0,
              "TwoViewGeometryOptions.max_panoramic_angle_deg must be in [0, 90) (got {})",
              max_panoramic_angle_deg);
  FACET_CHECK(watermark_min_inlier_ratio >= 0.0 && watermark_min_inlier_ratio <= 1.0,
              "TwoViewGeometryOptions.watermark_min_inlier_ratio must be in [0, 1] (got {})",
              watermark_min_inlier_ratio);
  FACET_CHECK(watermark_border >= 0.0 && watermark_border < 0.5,
              "TwoViewGeometryOptions.watermark_border must be in [0, 0.5) (got {})",
              watermark_border);
}

TwoViewGeometry EstimateTwoViewGeometry(const geometry::Camera& camera1,
                                        std::span<const Eigen::Vector2d> points1,
                                        const geometry::Camera& camera2,
                                        std::span<const Eigen::Vector2d> points2,
                                        std::span<const FeatureMatch> matches,
                                        const TwoViewGeometryOptions& options) {
  options.Check();
  camera1.Check();
  camera2.Check();
  TwoViewGeometry geometry;
  geometry.config = TwoViewConfig::kDegenerate;
  const MatchedPoints m = GatherPoints(camera1, points1, camera2, points2, matches);
  const int min_inliers = options.min_num_inliers;
  if (static_cast<int>(matches.size()) < min_inliers) return geometry;

  // COLMAP's threshold on normalised coordinates: the pixel threshold over the mean focal length.
  const double e_threshold = 0.5 * (options.max_error_px / camera1.MeanFocal() +
                                    options.max_error_px / camera2.MeanFocal());
  std::vector<cv::Point2d> n1, n2;
  SelectValid(m, m.valid, n1, n2);
  std::optional<Eigen::Matrix3d> e, f, h;
  {
    const ScopedCvRng rng(options.seed);
    e = EstimateModel(ModelKind::kEssential, n1, n2, e_threshold, options);
    f = EstimateModel(ModelKind::kFundamental, m.pixels1, m.pixels2, options.max_error_px, options);
    h = EstimateModel(ModelKind::kHomography, m.pixels1, m.pixels2, options.max_error_px, options);
  }
  if (e) geometry.E = *e;
  if (f) geometry.F = *f;
  if (h) geometry.H = *h;
  const Support e_support = EssentialSupport(e, m, e_threshold);
  const Support f_support = PixelSupport(f, false, m, options.max_error_px);
  const Support h_support = PixelSupport(h, true, m, options.max_error_px);

  // Classification (COLMAP's EstimateCalibratedTwoViewGeometry, with the header's ratios).
  const Support* best = nullptr;
  bool planar_or_panoramic = false;
  bool calibrated = false;
  if (e_support.count >= min_inliers &&
      e_support.count >= options.min_e_f_inlier_ratio * f_support.count) {
    calibrated = true;
    best = e_support.count >= f_support.count ? &e_support : &f_support;
    planar_or_panoramic = h_support.count > options.max_h_inlier_ratio * e_support.count;
  } else if (f_support.count >= min_inliers) {
    best = &f_support;
    planar_or_panoramic = h_support.count > options.max_h_inlier_ratio * f_support.count;
  } else if (h_support.count >= min_inliers) {
    best = &h_support;
    planar_or_panoramic = true;
  } else {
    return geometry;
  }
  if (planar_or_panoramic && h_support.count > best->count) best = &h_support;
  geometry.config = !planar_or_panoramic
                        ? (calibrated ? TwoViewConfig::kCalibrated : TwoViewConfig::kUncalibrated)
                        : TwoViewConfig::kPlanarOrPanoramic;
  for (std::size_t i = 0; i < matches.size(); ++i) {
    if (best->mask[i]) geometry.inlier_matches.push_back(matches[i]);
  }

  if (options.detect_watermark &&
      IsWatermark(camera1, camera2, m, best->mask, best->count, options)) {
    geometry.config = TwoViewConfig::kWatermark;
    return geometry;
  }
  if (geometry.config == TwoViewConfig::kCalibrated) {
    if (const auto pose = PoseFromEssential(*e, m, best->mask)) {
      geometry.cam2_from_cam1 = RefineRelativePose(*pose, m, best->mask, e_threshold);
      geometry.has_pose = true;
      geometry.median_tri_angle_deg = MeasurePose(*pose, m, best->mask).median_angle_deg;
    }
  } else if (calibrated && planar_or_panoramic) {
    PoseFromHomography(m, h_support.mask, options, geometry);
  }
  return geometry;
}

}  // namespace facet::sfm
