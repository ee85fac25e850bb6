// Per-correspondence ICP math shared by the CPU path (geometry/icp.cpp) and CUDA kernels that
// want it: robust weights and the accumulation of the Gauss-Newton normal equations of
// point-to-point and point-to-plane ICP, and of Open3D's information matrix. Plain structs and
// FACET_HOST_DEVICE functions, no Eigen or CUDA types.
//
// The update is a twist xi = (omega, v) applied on the left, T <- exp(xi) T, linearised at
// xi = 0: a transformed source point p moves to p + omega x p + v, so
//   point-to-point  r = p - q          (3 rows),  J = [ -[p]_x | I ]
//   point-to-plane  r = n . (p - q)    (1 row),   J = [ (p x n)^T | n^T ]
//   colored         the point-to-plane row scaled by sqrt(lambda) and the photometric row of
//                   Park, Zhou & Koltun, "Colored Point Cloud Registration Revisited", ICCV 2017
//                   (eq. 13 ff.), scaled by sqrt(1 - lambda), as Open3D's ColoredICP.cpp.
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

// One colored-ICP correspondence (Park et al. 2017): transformed source point p with intensity
// i_p, target point q with unit normal n, intensity i_q and colour gradient g (in the tangent
// plane at q, intensity per scene unit; ColorGradientSolve). Two weighted rows, as Open3D's
// TransformationEstimationForColoredICP:
//   geometric    r_G = sqrt(lambda) n . (p - q),          J_G = sqrt(lambda) [ (p x n)^T | n^T ]
//   photometric  r_C = sqrt(1 - lambda) (i_p - C_q(p')), with p' = p - (n . (p - q)) n the
//                projection of p on the tangent plane and C_q(x) = i_q + g . (x - q) the
//                first-order colour model of the target around q; d r_C / d p = -(I - n n^T) g =:
//                h, J_C = sqrt(1 - lambda) [ (p x h)^T | h^T ].
// The robust weight is taken on each row's residual; fitness and RMSE use |p - q|.
FACET_HOST_DEVICE inline void AddColored(const Vec3& p, double i_p, const Vec3& q, const Vec3& n,
                                         double i_q, const Vec3& g, double sqrt_lambda_geometric,
                                         double sqrt_lambda_photometric, IcpKernel kernel, double k,
                                         IcpSums* sums) {
  const Vec3 d = p - q;
  const double plane = Dot(n, d);
  const double r_g = sqrt_lambda_geometric * plane;
  const Vec3 pxn = Cross(p, n);
  const double j_g[6] = {sqrt_lambda_geometric * pxn.x, sqrt_lambda_geometric * pxn.y,
                         sqrt_lambda_geometric * pxn.z, sqrt_lambda_geometric * n.x,
                         sqrt_lambda_geometric * n.y,   sqrt_lambda_geometric * n.z};
  AddRow(j_g, r_g, IcpRobustWeight(kernel, k, r_g), sums);

  const Vec3 projected = p - plane * n;
  const double i_model = Dot(g, projected - q) + i_q;
  const double r_c = sqrt_lambda_photometric * (i_p - i_model);
  const Vec3 h = Dot(g, n) * n - g;  // -(I - n n^T) g
  const Vec3 pxh = Cross(p, h);
  const double j_c[6] = {sqrt_lambda_photometric * pxh.x, sqrt_lambda_photometric * pxh.y,
                         sqrt_lambda_photometric * pxh.z, sqrt_lambda_photometric * h.x,
                         sqrt_lambda_photometric * h.y,   sqrt_lambda_photometric * h.z};
  AddRow(j_c, r_c, IcpRobustWeight(kernel, k, r_c), sums);
  AddInformation(q, sums);
  sums->squared_distance_sum += Dot(d, d);
  ++sums->inliers;
}

// The colour gradient of a target point v with unit normal n and intensity i (Park et al. 2017,
// sec. 3; Open3D's InitializePointCloudForColoredICP) is the least-squares solution g of
//   g . (u_j - v) = i_j - i   for each neighbour (u_j, i_j), u_j projected on the tangent plane:
//                             u_j <- u_j - ((u_j - v) . n) n,
//   (m - 1) n . g = 0         one row keeping g in the tangent plane (m neighbours incl. v),
// accumulated here as the normal equations A^T A (upper triangle xx xy xz yy yz zz) and A^T b.
struct ColorGradientSystem {
  double ata[6] = {};
  double atb[3] = {};
};

FACET_HOST_DEVICE inline void AddColorGradientNeighbour(const Vec3& v, const Vec3& n, double i,
                                                        const Vec3& u, double i_u,
                                                        ColorGradientSystem* system) {
  const Vec3 projected = u - Dot(u - v, n) * n;
  const Vec3 a = projected - v;
  const double b = i_u - i;
  system->ata[0] += a.x * a.x;
  system->ata[1] += a.x * a.y;
  system->ata[2] += a.x * a.z;
  system->ata[3] += a.y * a.y;
  system->ata[4] += a.y * a.z;
  system->ata[5] += a.z * a.z;
  system->atb[0] += a.x * b;
  system->atb[1] += a.y * b;
  system->atb[2] += a.z * b;
}

// The tangent-plane row for `neighbours` neighbours besides v itself (weight m - 1 = neighbours).
FACET_HOST_DEVICE inline void AddColorGradientPlaneRow(const Vec3& n, int neighbours,
                                                       ColorGradientSystem* system) {
  const Vec3 a = static_cast<double>(neighbours) * n;
  system->ata[0] += a.x * a.x;
  system->ata[1] += a.x * a.y;
  system->ata[2] += a.x * a.z;
  system->ata[3] += a.y * a.y;
  system->ata[4] += a.y * a.z;
  system->ata[5] += a.z * a.z;
}

// Solves the symmetric 3x3 system by LDL^T without pivoting; false (g untouched) when a pivot is
// not positive relative to the matrix's scale (degenerate neighbourhood).
FACET_HOST_DEVICE inline bool ColorGradientSolve(const ColorGradientSystem& s, Vec3* g) {
  const double scale = s.ata[0] + s.ata[3] + s.ata[5];
  const double eps = 1e-12 * scale;
  const double d0 = s.ata[0];
  if (!(d0 > eps)) return false;
  const double l10 = s.ata[1] / d0, l20 = s.ata[2] / d0;
  const double d1 = s.ata[3] - l10 * l10 * d0;
  if (!(d1 > eps)) return false;
  const double l21 = (s.ata[4] - l20 * l10 * d0) / d1;
  const double d2 = s.ata[5] - l20 * l20 * d0 - l21 * l21 * d1;
  if (!(d2 > eps)) return false;
  // Forward (L y = b), diagonal, backward (L^T x = z).
  const double y0 = s.atb[0];
  const double y1 = s.atb[1] - l10 * y0;
  const double y2 = s.atb[2] - l20 * y0 - l21 * y1;
  const double x2 = y2 / d2;
  const double x1 = y1 / d1 - l21 * x2;
  const double x0 = y0 / d0 - l10 * x1 - l20 * x2;
  *g = {x0, x1, x2};
  return true;
}

}  // namespace facet::geometry::kernels
