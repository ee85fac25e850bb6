#include "sfm/absolute_pose.h"

#include <Eigen/Dense>
#include <opencv2/calib3d.hpp>
#include <opencv2/core/eigen.hpp>

#include <cmath>

#include "core/error.h"

namespace facet::sfm {

void AbsolutePoseOptions::Check() const {
  FACET_CHECK(max_error_px > 0, "AbsolutePoseOptions.max_error_px must be > 0 (got {})",
              max_error_px);
  FACET_CHECK(confidence > 0 && confidence < 1,
              "AbsolutePoseOptions.confidence must be in (0, 1) (got {})", confidence);
  FACET_CHECK(max_iterations >= 1, "AbsolutePoseOptions.max_iterations must be >= 1 (got {})",
              max_iterations);
  FACET_CHECK(min_num_inliers >= 4, "AbsolutePoseOptions.min_num_inliers must be >= 4 (got {})",
              min_num_inliers);
  FACET_CHECK(min_inlier_ratio >= 0 && min_inlier_ratio <= 1,
              "AbsolutePoseOptions.min_inlier_ratio must be in [0, 1] (got {})", min_inlier_ratio);
  FACET_CHECK(refine_iterations >= 0, "AbsolutePoseOptions.refine_iterations must be >= 0 (got {})",
              refine_iterations);
  FACET_CHECK(refine_loss_scale_px > 0,
              "AbsolutePoseOptions.refine_loss_scale_px must be > 0 (got {})",
              refine_loss_scale_px);
}

namespace {

Eigen::Matrix3d Skew(const Eigen::Vector3d& v) {
  Eigen::Matrix3d m;
  m << 0, -v.z(), v.y(), v.z(), 0, -v.x(), -v.y(), v.x(), 0;
  return m;
}

// Squared pixel error of one correspondence, or infinity when the point is not in front.
double SquaredError(const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                    const Eigen::Vector2d& xy, const Eigen::Vector3d& xyz) {
  const auto px = camera.ImgFromCam(cam_from_world * xyz);
  if (!px) return std::numeric_limits<double>::infinity();
  return (*px - xy).squaredNorm();
}

}  // namespace

bool RefineAbsolutePose(const geometry::Camera& camera, std::span<const Eigen::Vector2d> points2d,
                        std::span<const Eigen::Vector3d> points3d, int iterations,
                        double loss_scale_px, geometry::Rigid3* cam_from_world) {
  FACET_CHECK(points2d.size() == points3d.size(),
              "RefineAbsolutePose: {} 2D points but {} 3D points", points2d.size(),
              points3d.size());
  if (points2d.size() < 3) return false;
  const double c2 = loss_scale_px * loss_scale_px;
  geometry::Rigid3 pose = *cam_from_world;
  auto cost = [&](const geometry::Rigid3& p) {
    double sum = 0.0;
    for (std::size_t i = 0; i < points2d.size(); ++i) {
      const double e2 = SquaredError(camera, p, points2d[i], points3d[i]);
      sum += std::isfinite(e2) ? std::log1p(e2 / c2) : std::log1p(1e6);
    }
    return sum;
  };
  double current = cost(pose);
  double lambda = 1e-4;
  for (int it = 0; it < iterations; ++it) {
    // Left perturbation: x_cam = exp(w) (R X + t) + dt, so d x_cam / d(w, dt) = [-[x_cam]x | I].
    Eigen::Matrix<double, 6, 6> jtj = Eigen::Matrix<double, 6, 6>::Zero();
    Eigen::Matrix<double, 6, 1> jtr = Eigen::Matrix<double, 6, 1>::Zero();
    Eigen::Matrix<double, 2, 3> d_pixel;
    for (std::size_t i = 0; i < points2d.size(); ++i) {
      const Eigen::Vector3d x_cam = pose * points3d[i];
      const auto px = camera.ImgFromCam(x_cam, &d_pixel, nullptr);
      if (!px) continue;
      const Eigen::Vector2d r = *px - points2d[i];
      // Cauchy IRLS weight: rho(s) = c² log(1 + s / c²), rho'(s) = 1 / (1 + s / c²).
      const double w = 1.0 / (1.0 + r.squaredNorm() / c2);
      Eigen::Matrix<double, 2, 6> j;
      j.leftCols<3>() = -d_pixel * Skew(x_cam);
      j.rightCols<3>() = d_pixel;
      jtj.noalias() += w * j.transpose() * j;
      jtr.noalias() += w * j.transpose() * r;
    }
    bool improved = false;
    for (int attempt = 0; attempt < 8 && !improved; ++attempt) {
      Eigen::Matrix<double, 6, 6> a = jtj;
      a.diagonal() *= 1.0 + lambda;
      const Eigen::Matrix<double, 6, 1> delta = a.ldlt().solve(-jtr);
      if (!delta.allFinite()) return false;
      geometry::Rigid3 candidate = pose;
      const Eigen::Vector3d w = delta.head<3>();
      const double angle = w.norm();
      const Eigen::Quaterniond dq = angle > 0
                                        ? Eigen::Quaterniond(Eigen::AngleAxisd(angle, w / angle))
                                        : Eigen::Quaterniond::Identity();
      candidate.rotation = (dq * pose.rotation).normalized();
      candidate.translation = dq * pose.translation + delta.tail<3>();
      const double next = cost(candidate);
      if (next < current) {
        const double gain = current - next;
        pose = candidate;
        current = next;
        lambda = std::max(lambda * 0.1, 1e-10);
        improved = true;
        if (gain < 1e-10 * (1.0 + current)) it = iterations;  // converged
      } else {
        lambda *= 10.0;
      }
    }
    if (!improved) break;
  }
  *cam_from_world = pose;
  return true;
}

AbsolutePoseResult EstimateAbsolutePose(const geometry::Camera& camera,
                                        std::span<const Eigen::Vector2d> points2d,
                                        std::span<const Eigen::Vector3d> points3d,
                                        const AbsolutePoseOptions& options) {
  options.Check();
  FACET_CHECK(points2d.size() == points3d.size(),
              "EstimateAbsolutePose: {} 2D points but {} 3D points", points2d.size(),
              points3d.size());
  AbsolutePoseResult result;
  const std::size_t n = points2d.size();
  if (n < static_cast<std::size_t>(options.min_num_inliers)) return result;

  // RANSAC on undistorted normalised coordinates with an identity calibration.
  std::vector<cv::Point3d> object;
  std::vector<cv::Point2d> image;
  std::vector<std::size_t> index;
  object.reserve(n);
  image.reserve(n);
  index.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto uv = camera.CamFromImg(points2d[i]);
    if (!uv) continue;
    object.emplace_back(points3d[i].x(), points3d[i].y(), points3d[i].z());
    image.emplace_back(uv->x(), uv->y());
    index.push_back(i);
  }
  if (object.size() < static_cast<std::size_t>(options.min_num_inliers)) return result;
  cv::Mat rvec, tvec;
  std::vector<int> cv_inliers;
  const double threshold = options.max_error_px / camera.MeanFocal();
  const bool found =
      cv::solvePnPRansac(object, image, cv::Mat::eye(3, 3, CV_64F), cv::noArray(), rvec, tvec,
                         false, options.max_iterations, static_cast<float>(threshold),
                         options.confidence, cv_inliers, cv::SOLVEPNP_AP3P);
  if (!found || cv_inliers.size() < 4) return result;
  cv::Mat rmat;
  cv::Rodrigues(rvec, rmat);
  Eigen::Matrix3d rotation;
  Eigen::Vector3d translation;
  cv::cv2eigen(rmat, rotation);
  cv::cv2eigen(tvec, translation);
  geometry::Rigid3 pose(Eigen::Quaterniond(rotation).normalized(), translation);

  std::vector<Eigen::Vector2d> in2d;
  std::vector<Eigen::Vector3d> in3d;
  for (const int k : cv_inliers) {
    in2d.push_back(points2d[index[k]]);
    in3d.push_back(points3d[index[k]]);
  }
  RefineAbsolutePose(camera, in2d, in3d, options.refine_iterations, options.refine_loss_scale_px,
                     &pose);

  const double max_e2 = options.max_error_px * options.max_error_px;
  result.inlier_mask.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (SquaredError(camera, pose, points2d[i], points3d[i]) <= max_e2) {
      result.inlier_mask[i] = 1;
      ++result.num_inliers;
    }
  }
  result.cam_from_world = pose;
  result.success =
      result.num_inliers >= static_cast<std::size_t>(options.min_num_inliers) &&
      static_cast<double>(result.num_inliers) >= options.min_inlier_ratio * static_cast<double>(n);
  return result;
}

}  // namespace facet::sfm
