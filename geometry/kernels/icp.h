// Per-correspondence ICP math shared by the CPU path (geometry/icp.cpp) and CUDA kernels that
// want it: robust weights and the accumulation of the Gauss-Newton normal equations of
// point-to-point and point-to-plane ICP, and of Open3D's information matrix. Plain structs and
// FACET_HOST_DEVICE functions, no Eigen or CUDA types.
//
// The update is a twist xi = (omega, v) applied on the left, T <- exp(xi) T, linearised at
// xi = 0: a transformed source point p moves to p + omega x p + v, so
//   point-to-point  r = p - q          (3 rows),  J = [ -[p]_x | I ]
//   point-to-plane  r = n . (p - q)    (1 row),   J = [ (p x n)^T | n^T ]
// (Rusinkiewicz & Levoy 2001; Low 2004 for the point-to-plane linearisation).
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "geometry/kernels/triangle_queries.h"

namespace facet::geometry::kernels {

// Same values as geometry::IcpOptions::RobustKernel.
enum class IcpKernel : int { kNone = 0, kHuber, kCauchy, kTukey, kGemanMcClure };

// Iteratively reweighted least squares weight w(r) = rho'(r) / r of a residual r >= 0 for a
// kernel with scale k (scene units). Huber: 1 inside k, k / r beyond; Cauchy: 1 / (1 + (r/k)^2);
// Tukey's biweight: (1 - (r/k)^2)^2 inside k, 0 beyond; Geman-McClure: (k^2 / (k^2 + r^2))^2
// (Black & Rangarajan 1996, scaled so that k is a distance like the others).
FACET_HOST_DEVICE inline double IcpRobustWeight(IcpKernel kernel, double k, double r) {
  r = std::fabs(r);
  switch (kernel) {
    case IcpKernel::kHuber:
      return r <= k ? 1.0 : k / r;
    case IcpKernel::kCauchy:
      return 1.0 / (1.0 + (r / k) * (r / k));
    case IcpKernel::kTukey: {
      if (r >= k) return 0.0;
      const double s = 1.0 - (r / k) * (r / k);
      return s * s;
    }
    case IcpKernel::kGemanMcClure: {
      const double s = k * k / (k * k + r * r);
      return s * s;
    }
    case IcpKernel::kNone:
    default:
      return 1.0;
  }
}

// Sums over correspondences: the upper triangle of J^T W J (row-major, 21 entries), J^T W r,
// the upper triangle of Open3D's information matrix G^T G, and the inlier count and squared
// distances behind fitness and RMSE.
struct IcpSums {
  double jtj[21] = {};
  double jtr[6] = {};
  double info[21] = {};
  double squared_distance_sum = 0.0;
  std::int64_t inliers = 0;
};

FACET_HOST_DEVICE inline void AddRow(const double j[6], double r, double w, IcpSums* sums) {
  int e = 0;
  for (int a = 0; a < 6; ++a) {
    const double wja = w * j[a];
    for (int b = a; b < 6; ++b) sums->jtj[e++] += wja * j[b];
    sums->jtr[a] += wja * r;
  }
}

FACET_HOST_DEVICE inline void AddSums(const IcpSums& other, IcpSums* sums) {
  for (int e = 0; e < 21; ++e) sums->jtj[e] += other.jtj[e];
  for (int e = 0; e < 21; ++e) sums->info[e] += other.info[e];
  for (int a = 0; a < 6; ++a) sums->jtr[a] += other.jtr[a];
  sums->squared_distance_sum += other.squared_distance_sum;
  sums->inliers += other.inliers;
}

// Open3D's GetInformationMatrixFromPointClouds: for the target point q of a correspondence, G^T G
// with G = [ -[q]_x | I ] (rows (0, qz, -qy, 1, 0, 0), (-qz, 0, qx, 0, 1, 0), (qy, -qx, 0, 0, 0,
// 1)).
FACET_HOST_DEVICE inline void AddInformation(const Vec3& q, IcpSums* sums) {
  const double g[3][6] = {{0.0, q.z, -q.y, 1.0, 0.0, 0.0},
                          {-q.z, 0.0, q.x, 0.0, 1.0, 0.0},
                          {q.y, -q.x, 0.0, 0.0, 0.0, 1.0}};
  int e = 0;
  for (int a = 0; a < 6; ++a) {
    for (int b = a; b < 6; ++b) {
      sums->info[e++] += g[0][a] * g[0][b] + g[1][a] * g[1][b] + g[2][a] * g[2][b];
    }
  }
}

// One point-to-point correspondence: transformed source point p, target point q. The robust
// weight is taken on the distance |p - q|.
FACET_HOST_DEVICE inline void AddPointToPoint(const Vec3& p, const Vec3& q, IcpKernel kernel,
                                              double k, IcpSums* sums) {
  const Vec3 r = p - q;
  const double d2 = Dot(r, r);
  const double w = IcpRobustWeight(kernel, k, std::sqrt(d2));
  // Rows of [-[p]_x | I]: -[p]_x = [[0, pz, -py], [-pz, 0, px], [py, -px, 0]].
  const double j0[6] = {0.0, p.z, -p.y, 1.0, 0.0, 0.0};
  const double j1[6] = {-p.z, 0.0, p.x, 0.0, 1.0, 0.0};
  const double j2[6] = {p.y, -p.x, 0.0, 0.0, 0.0, 1.0};
  AddRow(j0, r.x, w, sums);
  AddRow(j1, r.y, w, sums);
  AddRow(j2, r.z, w, sums);
  AddInformation(q, sums);
  sums->squared_distance_sum += d2;
  ++sums->inliers;
}

// One point-to-plane correspondence: transformed source point p, target point q with unit normal
// n. The robust weight is taken on the plane distance n . (p - q); fitness and RMSE use the
// point distance |p - q|, as Open3D's.
FACET_HOST_DEVICE inline void AddPointToPlane(const Vec3& p, const Vec3& q, const Vec3& n,
                                              IcpKernel kernel, double k, IcpSums* sums) {
  const Vec3 d = p - q;
  const double r = Dot(n, d);
  const double w = IcpRobustWeight(kernel, k, r);
  const Vec3 pxn = Cross(p, n);
  const double j[6] = {pxn.x, pxn.y, pxn.z, n.x, n.y, n.z};
  AddRow(j, r, w, sums);
  AddInformation(q, sums);
  sums->squared_distance_sum += Dot(d, d);
  ++sums->inliers;
}

}  // namespace facet::geometry::kernels
