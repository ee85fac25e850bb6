// Per-pixel residuals and Jacobians of RGB-D odometry (geometry/rgbd_odometry.h), shared by the
// CPU path and a CUDA kernel that wants them. Plain data and FACET_HOST_DEVICE functions only: no
// Eigen, no CUDA types.
//
// The pose update is a twist xi = (omega, v) applied on the left of target_from_source,
// T <- exp(xi) T, linearised at xi = 0: a source point moved into the target frame, p = T p_s,
// becomes p + omega x p + v, so dp/dxi = [ -[p]_x | I ], and for any row g^T dp/dxi the Jacobian is
// [ (p x g)^T | g^T ].
//   geometric (point-to-plane, KinectFusion; Chen & Medioni 1992):
//     r_G = n . (p - q), q and n the target's vertex and normal at the pixel p projects to
//     (projective data association), J_G = [ (p x n)^T | n^T ];
//   photometric (Steinbruecker et al. 2011; the hybrid term of Park et al., "Colored Point Cloud
//   Registration Revisited", ICCV 2017, as Open3D's RGBDOdometryJacobianFromHybridTerm):
//     r_I = I_t(pi(p)) - I_s(u_s), pi(p) = (fx x / z + cx, fy y / z + cy) in facet's pixel
//     convention, J_I = grad I_t(pi(p))^T dpi/dp dp/dxi, i.e. g = dpi/dp^T grad I_t with
//     dpi/dp = [[fx / z, 0, -fx x / z^2], [0, fy / z, -fy y / z^2]].
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace facet::geometry::kernels {

struct OdometryCamera {
  float fx = 0, fy = 0, cx = 0, cy = 0;
  int width = 0, height = 0;
};

// The continuous pixel position of camera point p (facet's convention: pixel (i, j) spans
// [i, i+1) x [j, j+1)); false when p is not in front of the camera.
FACET_HOST_DEVICE inline bool ProjectPoint(const OdometryCamera& c, const float p[3], float* u,
                                           float* v) {
  if (!(p[2] > 0.0f)) return false;
  const float inv_z = 1.0f / p[2];
  *u = c.fx * p[0] * inv_z + c.cx;
  *v = c.fy * p[1] * inv_z + c.cy;
  return true;
}

// The point-to-plane residual n . (p - q) and its Jacobian.
FACET_HOST_DEVICE inline float PointToPlaneResidual(const float p[3], const float q[3],
                                                    const float n[3], float j[6]) {
  j[0] = p[1] * n[2] - p[2] * n[1];
  j[1] = p[2] * n[0] - p[0] * n[2];
  j[2] = p[0] * n[1] - p[1] * n[0];
  j[3] = n[0];
  j[4] = n[1];
  j[5] = n[2];
  return n[0] * (p[0] - q[0]) + n[1] * (p[1] - q[1]) + n[2] * (p[2] - q[2]);
}

// The photometric residual target_intensity - source_intensity, where target_intensity and its
// gradient (per pixel along u and v) are sampled at pi(p), and its Jacobian.
FACET_HOST_DEVICE inline float PhotometricResidual(const OdometryCamera& c, const float p[3],
                                                   float target_intensity, float grad_u,
                                                   float grad_v, float source_intensity,
                                                   float j[6]) {
  const float inv_z = 1.0f / p[2];
  const float gu = grad_u * c.fx * inv_z, gv = grad_v * c.fy * inv_z;
  const float g[3] = {gu, gv, -(gu * p[0] + gv * p[1]) * inv_z};
  j[0] = p[1] * g[2] - p[2] * g[1];
  j[1] = p[2] * g[0] - p[0] * g[2];
  j[2] = p[0] * g[1] - p[1] * g[0];
  j[3] = g[0];
  j[4] = g[1];
  j[5] = g[2];
  return target_intensity - source_intensity;
}

// Huber's IRLS weight for residual r and scale k > 0.
FACET_HOST_DEVICE inline float HuberWeight(float r, float k) {
  const float a = std::fabs(r);
  return a <= k ? 1.0f : k / a;
}

// Bilinear interpolation of `channels` floats per pixel at continuous position (u, v) (samples at
// the pixel centres i + 0.5); false outside the centres' hull or when a sample is not finite.
FACET_HOST_DEVICE inline bool SampleBilinear(const float* image, std::int64_t row_stride,
                                             int channels, int width, int height, float u, float v,
                                             int count, float* out) {
  const float x = u - 0.5f, y = v - 0.5f;
  if (!(x >= 0.0f && y >= 0.0f && x < float(width - 1) && y < float(height - 1))) return false;
  const int i = int(x), k = int(y);
  const float a = x - float(i), b = y - float(k);
  const float* p00 = image + std::int64_t(k) * row_stride + std::int64_t(i) * channels;
  const float* p10 = p00 + channels;
  const float* p01 = p00 + row_stride;
  const float* p11 = p01 + channels;
  for (int c = 0; c < count; ++c) {
    out[c] =
        (1.0f - b) * ((1.0f - a) * p00[c] + a * p10[c]) + b * ((1.0f - a) * p01[c] + a * p11[c]);
    if (!std::isfinite(out[c])) return false;
  }
  return true;
}

// Sums over the residual rows: upper triangle of J^T W J (row-major, 21), J^T W r, the weighted
// cost, the upper triangle of Open3D's information matrix, and the geometric correspondences'
// count and squared point distances.
struct OdometrySums {
  double jtj[21] = {};
  double jtr[6] = {};
  double info[21] = {};
  double cost = 0.0;
  double squared_distance_sum = 0.0;
  std::int64_t correspondences = 0;
};

FACET_HOST_DEVICE inline void AddOdometryRow(const float j[6], float r, float w,
                                             OdometrySums* sums) {
  int e = 0;
  for (int a = 0; a < 6; ++a) {
    const double wja = double(w) * double(j[a]);
    for (int b = a; b < 6; ++b) sums->jtj[e++] += wja * double(j[b]);
    sums->jtr[a] += wja * double(r);
  }
  sums->cost += double(w) * double(r) * double(r);
}

// Open3D's GetInformationMatrixFromRGBDImages term for target point q: G^T G with
// G = [ -[q]_x | I ].
FACET_HOST_DEVICE inline void AddOdometryInformation(const float q[3], OdometrySums* sums) {
  const double x = q[0], y = q[1], z = q[2];
  const double g[3][6] = {
      {0.0, z, -y, 1.0, 0.0, 0.0}, {-z, 0.0, x, 0.0, 1.0, 0.0}, {y, -x, 0.0, 0.0, 0.0, 1.0}};
  int e = 0;
  for (int a = 0; a < 6; ++a) {
    for (int b = a; b < 6; ++b) {
      sums->info[e++] += g[0][a] * g[0][b] + g[1][a] * g[1][b] + g[2][a] * g[2][b];
    }
  }
}

FACET_HOST_DEVICE inline void AddOdometrySums(const OdometrySums& other, OdometrySums* sums) {
  for (int e = 0; e < 21; ++e) sums->jtj[e] += other.jtj[e];
  for (int e = 0; e < 21; ++e) sums->info[e] += other.info[e];
  for (int a = 0; a < 6; ++a) sums->jtr[a] += other.jtr[a];
  sums->cost += other.cost;
  sums->squared_distance_sum += other.squared_distance_sum;
  sums->correspondences += other.correspondences;
}

}  // namespace facet::geometry::kernels
