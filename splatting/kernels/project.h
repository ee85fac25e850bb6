// Per-Gaussian geometry of 3D Gaussian Splatting (Kerbl et al. 2023, "3D Gaussian Splatting for
// Real-Time Radiance Field Rendering"): the 3D covariance from rotation and scale (eq. 6) and
// its EWA projection into a pinhole camera (eq. 5; Zwicker et al. 2002), each with its VJP.
// The steps follow graphdeco-inria/diff-gaussian-rasterization (forward.cu computeCov3D,
// computeCov2D, preprocessCUDA) except where noted: pixels follow COLMAP (principal point in
// pixels, centre of the first pixel at (0.5, 0.5)) and the near plane is gsplat's 0.01.
//
// Gradients are named v_x = dL/dx. Covariance gradients are symmetric matrices G such that
// dL = sum_ij G_ij dSigma_ij for symmetric perturbations dSigma.
#pragma once

#include <cmath>

#include "core/host_device.h"
#include "splatting/kernels/math.h"

namespace facet::splatting::kernels {

// Rotation matrix of the normalised quaternion q / |q| (q != 0).
template <typename T>
FACET_HOST_DEVICE Mat3<T> QuatToRotation(const Quat<T>& q) {
  using std::sqrt;
  const T inv = T(1) / sqrt(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
  const T w = q.w * inv, x = q.x * inv, y = q.y * inv, z = q.z * inv;
  return {{T(1) - T(2) * (y * y + z * z), T(2) * (x * y - w * z), T(2) * (x * z + w * y),
           T(2) * (x * y + w * z), T(1) - T(2) * (x * x + z * z), T(2) * (y * z - w * x),
           T(2) * (x * z - w * y), T(2) * (y * z + w * x), T(1) - T(2) * (x * x + y * y)}};
}

// VJP of QuatToRotation: v_R (3x3, any) -> dL/dq for the unnormalised q.
template <typename T>
FACET_HOST_DEVICE Quat<T> QuatToRotationVjp(const Quat<T>& q, const Mat3<T>& g) {
  using std::sqrt;
  const T inv = T(1) / sqrt(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
  const T w = q.w * inv, x = q.x * inv, y = q.y * inv, z = q.z * inv;
  // Derivatives of the nine entries above w.r.t. the unit quaternion (w, x, y, z).
  const T vw = T(2) * (x * (g(2, 1) - g(1, 2)) + y * (g(0, 2) - g(2, 0)) + z * (g(1, 0) - g(0, 1)));
  const T vx = T(2) * (y * (g(0, 1) + g(1, 0)) + z * (g(0, 2) + g(2, 0)) + w * (g(2, 1) - g(1, 2)) -
                       T(2) * x * (g(1, 1) + g(2, 2)));
  const T vy = T(2) * (x * (g(0, 1) + g(1, 0)) + z * (g(1, 2) + g(2, 1)) + w * (g(0, 2) - g(2, 0)) -
                       T(2) * y * (g(0, 0) + g(2, 2)));
  const T vz = T(2) * (x * (g(0, 2) + g(2, 0)) + y * (g(1, 2) + g(2, 1)) + w * (g(1, 0) - g(0, 1)) -
                       T(2) * z * (g(0, 0) + g(1, 1)));
  // Through n = q / |q|: dn/dq = (I - n n^T) / |q|.
  const T dot = w * vw + x * vx + y * vy + z * vz;
  return {inv * (vw - dot * w), inv * (vx - dot * x), inv * (vy - dot * y), inv * (vz - dot * z)};
}

// Kerbl et al. 2023, eq. 6: Sigma = R S S^T R^T with R from the quaternion and
// S = diag(exp(log_scale)).
template <typename T>
FACET_HOST_DEVICE Mat3<T> QuatScaleToCovariance(const Quat<T>& q, const Vec3<T>& log_scale) {
  using std::exp;
  Mat3<T> m = QuatToRotation(q);  // M = R S: scale the columns
  const T s[3] = {exp(log_scale.x), exp(log_scale.y), exp(log_scale.z)};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) m(i, j) *= s[j];
  }
  return m * Transpose(m);
}

// VJP of QuatScaleToCovariance: v_covar (symmetric) -> v_quat (unnormalised q), v_log_scale.
template <typename T>
FACET_HOST_DEVICE void QuatScaleToCovarianceVjp(const Quat<T>& q, const Vec3<T>& log_scale,
                                                const Mat3<T>& v_covar, Quat<T>* v_quat,
                                                Vec3<T>* v_log_scale) {
  using std::exp;
  const Mat3<T> r = QuatToRotation(q);
  const T s[3] = {exp(log_scale.x), exp(log_scale.y), exp(log_scale.z)};
  Mat3<T> m = r;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) m(i, j) *= s[j];
  }
  // Sigma = M M^T: v_M = (G + G^T) M.
  const Mat3<T> v_m = (v_covar + Transpose(v_covar)) * m;
  // M = R S: v_R = v_M S, v_s_j = sum_i v_M_ij R_ij; d s / d log_s = s.
  Mat3<T> v_r = v_m;
  T v_s[3] = {T(0), T(0), T(0)};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      v_r(i, j) *= s[j];
      v_s[j] += v_m(i, j) * r(i, j);
    }
  }
  *v_log_scale = {v_s[0] * s[0], v_s[1] * s[1], v_s[2] * s[2]};
  *v_quat = QuatToRotationVjp(q, v_r);
}

// A pinhole view: x_in_cam = cam_from_world_rotation * x_in_world + cam_from_world_translation,
// pixel = (fx * x / z + cx, fy * y / z + cy) in COLMAP's convention; width/height in pixels
// bound the tangent clamp of the Jacobian.
template <typename T>
struct PinholeView {
  Mat3<T> cam_from_world_rotation;
  Vec3<T> cam_from_world_translation;
  T fx, fy, cx, cy;
  T width, height;
};

// Tunables of the projection, with the reference implementation's values.
template <typename T>
struct ProjectParams {
  T near_plane = T(0.01);   // camera-space z below which a Gaussian is culled (gsplat's default)
  T low_pass = T(0.3);      // px^2 added to the 2D covariance diagonal (anti-aliasing filter)
  T clamp_factor = T(1.3);  // tangent clamp as a multiple of the half field of view
};

template <typename T>
struct Projection {
  bool visible;      // false: behind the near plane or a singular 2D covariance
  Vec3<T> mean_cam;  // mean in the camera frame
  Vec2<T> mean2d;    // pixels, COLMAP convention
  Sym2<T> covar2d;   // px^2, low-pass included
  Sym2<T> conic;     // inverse of covar2d
};

namespace detail {

// The clamped normalised coordinates u = x/z, v = y/z used by the Jacobian (forward.cu
// computeCov2D clamps t.x/t.z to +-1.3 tan_fovx). The limits are per side, 1.3 times the
// tangent from the principal point to each image edge; for cx = width / 2 they are the
// reference's symmetric limits.
template <typename T>
FACET_HOST_DEVICE void ClampedTangent(const Vec3<T>& p, const PinholeView<T>& view,
                                      const ProjectParams<T>& params, T* u, T* v, bool* u_free,
                                      bool* v_free) {
  const T lim_u_pos = params.clamp_factor * (view.width - view.cx) / view.fx;
  const T lim_u_neg = params.clamp_factor * view.cx / view.fx;
  const T lim_v_pos = params.clamp_factor * (view.height - view.cy) / view.fy;
  const T lim_v_neg = params.clamp_factor * view.cy / view.fy;
  const T u0 = p.x / p.z, v0 = p.y / p.z;
  *u = u0 > lim_u_pos ? lim_u_pos : (u0 < -lim_u_neg ? -lim_u_neg : u0);
  *v = v0 > lim_v_pos ? lim_v_pos : (v0 < -lim_v_neg ? -lim_v_neg : v0);
  *u_free = u0 <= lim_u_pos && u0 >= -lim_u_neg;
  *v_free = v0 <= lim_v_pos && v0 >= -lim_v_neg;
}

// The perspective map linearised at a camera-space point (Zwicker et al. 2002, eq. 29), at the
// clamped tangent: J = [[fx/z, 0, -fx u/z], [0, fy/z, -fy v/z]]; shared by ProjectGaussian and
// its VJP so the two cannot drift.
template <typename T>
struct PerspectiveJacobian {
  T u, v;               // clamped tangents
  bool u_free, v_free;  // false where the clamp is active (no gradient through u or v)
  T iz;                 // 1 / z
  Vec3<T> j0, j1;       // rows of J
};

template <typename T>
FACET_HOST_DEVICE PerspectiveJacobian<T> LinearizeProjection(const Vec3<T>& p,
                                                             const PinholeView<T>& view,
                                                             const ProjectParams<T>& params) {
  PerspectiveJacobian<T> jac;
  ClampedTangent(p, view, params, &jac.u, &jac.v, &jac.u_free, &jac.v_free);
  jac.iz = T(1) / p.z;
  jac.j0 = {view.fx * jac.iz, T(0), -view.fx * jac.u * jac.iz};
  jac.j1 = {T(0), view.fy * jac.iz, -view.fy * jac.v * jac.iz};
  return jac;
}

// 2D covariance J W Sigma W^T J^T + low_pass * I, with J the 2x3 Jacobian rows (j0, j1).
template <typename T>
FACET_HOST_DEVICE Sym2<T> ProjectCovariance(const Mat3<T>& covar_cam, const Vec3<T>& j0,
                                            const Vec3<T>& j1, T low_pass) {
  const Vec3<T> sj0 = covar_cam * j0, sj1 = covar_cam * j1;
  return {Dot(j0, sj0) + low_pass, Dot(j0, sj1), Dot(j1, sj1) + low_pass};
}

}  // namespace detail

// Projects a Gaussian (world mean, world covariance) into the view.
template <typename T>
FACET_HOST_DEVICE Projection<T> ProjectGaussian(const Vec3<T>& mean, const Mat3<T>& covar,
                                                const PinholeView<T>& view,
                                                const ProjectParams<T>& params = {}) {
  Projection<T> out{};
  // Camera-space mean t = W mu + t_cw.
  const Mat3<T>& w = view.cam_from_world_rotation;
  const Vec3<T> p = w * mean + view.cam_from_world_translation;
  out.mean_cam = p;
  if (!(p.z >= params.near_plane)) return out;  // near-plane cull (also rejects NaN)
  // Jacobian of the perspective map at the clamped tangent.
  const detail::PerspectiveJacobian<T> jac = detail::LinearizeProjection(p, view, params);
  const T iz = jac.iz;
  // Kerbl et al. 2023, eq. 5: Sigma' = J W Sigma W^T J^T, plus the low-pass filter.
  const Mat3<T> covar_cam = w * covar * Transpose(w);
  out.covar2d = detail::ProjectCovariance(covar_cam, jac.j0, jac.j1, params.low_pass);
  // Conic = Sigma'^-1; a non-positive determinant means a degenerate footprint.
  const Sym2<T>& c = out.covar2d;
  const T det = c.a * c.c - c.b * c.b;
  if (!(det > T(0))) return out;
  const T idet = T(1) / det;
  out.conic = {c.c * idet, -c.b * idet, c.a * idet};
  // Perspective projection of the mean into pixels (unclamped).
  out.mean2d = {view.fx * p.x * iz + view.cx, view.fy * p.y * iz + view.cy};
  out.visible = true;
  return out;
}

// VJP of ProjectGaussian for a visible Gaussian: (v_mean2d, v_conic, v_covar2d) -> v_mean
// (world) and v_covar (world, symmetric). v_covar2d is the gradient w.r.t. the 2D covariance
// itself (low-pass included), for losses that read it besides the conic (Mip-Splatting's opacity
// compensation). Invisible Gaussians get zero gradients.
template <typename T>
FACET_HOST_DEVICE void ProjectGaussianVjp(const Vec3<T>& mean, const Mat3<T>& covar,
                                          const PinholeView<T>& view, const Vec2<T>& v_mean2d,
                                          const Sym2<T>& v_conic, const Sym2<T>& v_covar2d,
                                          Vec3<T>* v_mean, Mat3<T>* v_covar,
                                          const ProjectParams<T>& params = {}) {
  *v_mean = {T(0), T(0), T(0)};
  *v_covar = Zero3<T>();
  const Mat3<T>& w = view.cam_from_world_rotation;
  const Vec3<T> p = w * mean + view.cam_from_world_translation;
  if (!(p.z >= params.near_plane)) return;
  const detail::PerspectiveJacobian<T> jac = detail::LinearizeProjection(p, view, params);
  const T u = jac.u, v = jac.v, iz = jac.iz;
  const bool u_free = jac.u_free, v_free = jac.v_free;
  const Vec3<T>& j0 = jac.j0;
  const Vec3<T>& j1 = jac.j1;
  const Mat3<T> covar_cam = w * covar * Transpose(w);
  const Sym2<T> c = detail::ProjectCovariance(covar_cam, j0, j1, params.low_pass);
  const T det = c.a * c.c - c.b * c.b;
  if (!(det > T(0))) return;
  const T idet2 = T(1) / (det * det);

  // Conic (A, B, C) = (c, -b, a) / det, differentiated w.r.t. the covariance (a, b, c).
  const T v_a = (-c.c * c.c * v_conic.a + c.b * c.c * v_conic.b - c.b * c.b * v_conic.c) * idet2 +
                v_covar2d.a;
  const T v_b = (T(2) * c.b * c.c * v_conic.a - (c.a * c.c + c.b * c.b) * v_conic.b +
                 T(2) * c.a * c.b * v_conic.c) *
                    idet2 +
                v_covar2d.b;
  const T v_c = (-c.b * c.b * v_conic.a + c.a * c.b * v_conic.b - c.a * c.a * v_conic.c) * idet2 +
                v_covar2d.c;
  // As a symmetric 2x2 gradient G = [[v_a, v_b/2], [v_b/2, v_c]] of Sigma' = J Sigma_c J^T:
  // v_Sigma_c = J^T G J and v_J = 2 G J Sigma_c.
  const T g00 = v_a, g01 = T(0.5) * v_b, g11 = v_c;
  const Vec3<T> gj0 = g00 * j0 + g01 * j1;  // row 0 of G J
  const Vec3<T> gj1 = g01 * j0 + g11 * j1;  // row 1 of G J
  Mat3<T> v_covar_cam;
  const T j0a[3] = {j0.x, j0.y, j0.z}, j1a[3] = {j1.x, j1.y, j1.z};
  const T gj0a[3] = {gj0.x, gj0.y, gj0.z}, gj1a[3] = {gj1.x, gj1.y, gj1.z};
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 3; ++k) v_covar_cam(i, k) = j0a[i] * gj0a[k] + j1a[i] * gj1a[k];
  }
  const Vec3<T> v_j0 = T(2) * (covar_cam * gj0);  // Sigma_c symmetric
  const Vec3<T> v_j1 = T(2) * (covar_cam * gj1);
  // Sigma_c = W Sigma W^T: v_Sigma = W^T v_Sigma_c W.
  *v_covar = Transpose(w) * v_covar_cam * w;

  // J entries: J00 = fx/z, J02 = -fx u/z, J11 = fy/z, J12 = -fy v/z.
  Vec3<T> v_p{T(0), T(0), T(0)};
  v_p.z += -view.fx * iz * iz * v_j0.x - view.fy * iz * iz * v_j1.y;
  v_p.z += view.fx * u * iz * iz * v_j0.z + view.fy * v * iz * iz * v_j1.z;
  const T v_u = -view.fx * iz * v_j0.z;
  const T v_v = -view.fy * iz * v_j1.z;
  // u = x / z where not clamped; a clamped tangent is constant.
  if (u_free) v_p.x += v_u * iz, v_p.z += -v_u * p.x * iz * iz;
  if (v_free) v_p.y += v_v * iz, v_p.z += -v_v * p.y * iz * iz;
  // mean2d = (fx x/z + cx, fy y/z + cy).
  v_p.x += view.fx * iz * v_mean2d.x;
  v_p.y += view.fy * iz * v_mean2d.y;
  v_p.z += -(view.fx * p.x * v_mean2d.x + view.fy * p.y * v_mean2d.y) * iz * iz;
  // p = W mean + t: v_mean = W^T v_p.
  *v_mean = Transpose(w) * v_p;
}

// ProjectGaussianVjp without a gradient on the 2D covariance.
template <typename T>
FACET_HOST_DEVICE void ProjectGaussianVjp(const Vec3<T>& mean, const Mat3<T>& covar,
                                          const PinholeView<T>& view, const Vec2<T>& v_mean2d,
                                          const Sym2<T>& v_conic, Vec3<T>* v_mean, Mat3<T>* v_covar,
                                          const ProjectParams<T>& params = {}) {
  ProjectGaussianVjp(mean, covar, view, v_mean2d, v_conic, Sym2<T>{T(0), T(0), T(0)}, v_mean,
                     v_covar, params);
}

}  // namespace facet::splatting::kernels
