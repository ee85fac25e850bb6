// View-dependent colour from real spherical harmonics up to degree 3, as in the reference 3DGS
// code (Kerbl et al. 2023; graphdeco-inria/diff-gaussian-rasterization, forward.cu
// computeColorFromSH, whose constants and sign conventions these are), with its VJP.
//
// Coefficients are laid out [(degree + 1)^2, 3]: coefficient k of channel c is sh[3 * k + c].
// colour = max(sum_k b_k(d) * sh_k + 0.5, 0) with d = dir / |dir| the viewing direction (from
// the camera centre to the Gaussian mean, unnormalised on input).
#pragma once

#include <cmath>

#include "core/host_device.h"
#include "splatting/kernels/math.h"

namespace facet::splatting::kernels {

inline constexpr int kMaxShDegree = 3;
inline constexpr int kMaxShCoeffs = 16;

FACET_HOST_DEVICE constexpr int NumShCoeffs(int degree) { return (degree + 1) * (degree + 1); }

// Real SH normalisation constants (diff-gaussian-rasterization, auxiliary.h: SH_C0..SH_C3).
inline constexpr double kShC0 = 0.28209479177387814;
inline constexpr double kShC1 = 0.4886025119029199;
// Scalars rather than arrays: namespace-scope constexpr arrays are not readable in device code.
inline constexpr double kShC2_0 = 1.0925484305920792;
inline constexpr double kShC2_1 = -1.0925484305920792;
inline constexpr double kShC2_2 = 0.31539156525252005;
inline constexpr double kShC2_3 = -1.0925484305920792;
inline constexpr double kShC2_4 = 0.5462742152960396;
inline constexpr double kShC3_0 = -0.5900435899266435;
inline constexpr double kShC3_1 = 2.890611442640554;
inline constexpr double kShC3_2 = -0.4570457994644658;
inline constexpr double kShC3_3 = 0.3731763325901154;
inline constexpr double kShC3_4 = -0.4570457994644658;
inline constexpr double kShC3_5 = 1.445305721320277;
inline constexpr double kShC3_6 = -0.5900435899266435;

// The NumShCoeffs(degree) basis values b_k at the unit direction (x, y, z).
template <typename T>
FACET_HOST_DEVICE void ShBasis(int degree, T x, T y, T z, T* b /* [NumShCoeffs(degree)] */) {
  b[0] = T(kShC0);
  if (degree < 1) return;
  b[1] = -T(kShC1) * y;
  b[2] = T(kShC1) * z;
  b[3] = -T(kShC1) * x;
  if (degree < 2) return;
  const T xx = x * x, yy = y * y, zz = z * z;
  b[4] = T(kShC2_0) * x * y;
  b[5] = T(kShC2_1) * y * z;
  b[6] = T(kShC2_2) * (T(2) * zz - xx - yy);
  b[7] = T(kShC2_3) * x * z;
  b[8] = T(kShC2_4) * (xx - yy);
  if (degree < 3) return;
  b[9] = T(kShC3_0) * y * (T(3) * xx - yy);
  b[10] = T(kShC3_1) * x * y * z;
  b[11] = T(kShC3_2) * y * (T(4) * zz - xx - yy);
  b[12] = T(kShC3_3) * z * (T(2) * zz - T(3) * xx - T(3) * yy);
  b[13] = T(kShC3_4) * x * (T(4) * zz - xx - yy);
  b[14] = T(kShC3_5) * z * (xx - yy);
  b[15] = T(kShC3_6) * x * (xx - T(3) * yy);
}

// Gradient of sum_k v_b[k] * b_k(x, y, z) w.r.t. (x, y, z), the basis taken as polynomials in
// unconstrained x, y, z (the normalisation is differentiated by the caller).
template <typename T>
FACET_HOST_DEVICE Vec3<T> ShBasisVjp(int degree, T x, T y, T z, const T* v_b) {
  Vec3<T> g{T(0), T(0), T(0)};
  if (degree < 1) return g;
  g.y += -T(kShC1) * v_b[1];
  g.z += T(kShC1) * v_b[2];
  g.x += -T(kShC1) * v_b[3];
  if (degree < 2) return g;
  const T xx = x * x, yy = y * y, zz = z * z;
  T s = T(kShC2_0) * v_b[4];
  g.x += s * y, g.y += s * x;
  s = T(kShC2_1) * v_b[5];
  g.y += s * z, g.z += s * y;
  s = T(kShC2_2) * v_b[6];
  g.x += T(-2) * s * x, g.y += T(-2) * s * y, g.z += T(4) * s * z;
  s = T(kShC2_3) * v_b[7];
  g.x += s * z, g.z += s * x;
  s = T(kShC2_4) * v_b[8];
  g.x += T(2) * s * x, g.y += T(-2) * s * y;
  if (degree < 3) return g;
  s = T(kShC3_0) * v_b[9];
  g.x += s * T(6) * x * y, g.y += s * (T(3) * xx - T(3) * yy);
  s = T(kShC3_1) * v_b[10];
  g.x += s * y * z, g.y += s * x * z, g.z += s * x * y;
  s = T(kShC3_2) * v_b[11];
  g.x += s * T(-2) * x * y, g.y += s * (T(4) * zz - xx - T(3) * yy), g.z += s * T(8) * y * z;
  s = T(kShC3_3) * v_b[12];
  g.x += s * T(-6) * x * z, g.y += s * T(-6) * y * z,
      g.z += s * (T(6) * zz - T(3) * xx - T(3) * yy);
  s = T(kShC3_4) * v_b[13];
  g.x += s * (T(4) * zz - T(3) * xx - yy), g.y += s * T(-2) * x * y, g.z += s * T(8) * x * z;
  s = T(kShC3_5) * v_b[14];
  g.x += s * T(2) * x * z, g.y += s * T(-2) * y * z, g.z += s * (xx - yy);
  s = T(kShC3_6) * v_b[15];
  g.x += s * (T(3) * xx - T(3) * yy), g.y += s * T(-6) * x * y;
  return g;
}

// The RGB colour of one Gaussian seen along `dir` (camera centre to mean, any non-zero length).
// clamped[c] is set when channel c was clamped at 0; ShToColorVjp needs it.
template <typename T>
FACET_HOST_DEVICE Vec3<T> ShToColor(int degree, const T* sh /* [NumShCoeffs(degree), 3] */,
                                    const Vec3<T>& dir, bool* clamped /* [3] */) {
  using std::sqrt;
  const T norm = sqrt(Dot(dir, dir));
  const T inv = norm > T(0) ? T(1) / norm : T(0);  // a zero direction sees only the DC term
  T b[kMaxShCoeffs];
  ShBasis(degree, dir.x * inv, dir.y * inv, dir.z * inv, b);
  T rgb[3];
  for (int c = 0; c < 3; ++c) {
    T sum = T(0.5);  // the reference code's offset, so that zero coefficients give grey
    for (int k = 0; k < NumShCoeffs(degree); ++k) sum += b[k] * sh[3 * k + c];
    clamped[c] = sum < T(0);
    rgb[c] = clamped[c] ? T(0) : sum;
  }
  return {rgb[0], rgb[1], rgb[2]};
}

// VJP of ShToColor: from v_color = dL/dcolour to v_sh (overwritten, [NumShCoeffs(degree), 3])
// and v_dir = dL/ddir w.r.t. the unnormalised direction. Clamped channels pass no gradient.
template <typename T>
FACET_HOST_DEVICE void ShToColorVjp(int degree, const T* sh /* [NumShCoeffs(degree), 3] */,
                                    const Vec3<T>& dir, const bool* clamped /* [3] */,
                                    const Vec3<T>& v_color, T* v_sh /* [NumShCoeffs(degree), 3] */,
                                    Vec3<T>* v_dir) {
  using std::sqrt;
  const T norm = sqrt(Dot(dir, dir));
  const T inv = norm > T(0) ? T(1) / norm : T(0);
  const Vec3<T> d{dir.x * inv, dir.y * inv, dir.z * inv};
  const T v_rgb[3] = {clamped[0] ? T(0) : v_color.x, clamped[1] ? T(0) : v_color.y,
                      clamped[2] ? T(0) : v_color.z};
  T b[kMaxShCoeffs];
  ShBasis(degree, d.x, d.y, d.z, b);
  T v_b[kMaxShCoeffs];  // dL/db_k = sum_c v_rgb[c] * sh_k[c]
  for (int k = 0; k < NumShCoeffs(degree); ++k) {
    v_b[k] = T(0);
    for (int c = 0; c < 3; ++c) {
      v_sh[3 * k + c] = b[k] * v_rgb[c];
      v_b[k] += v_rgb[c] * sh[3 * k + c];
    }
  }
  const Vec3<T> v_d = ShBasisVjp(degree, d.x, d.y, d.z, v_b);
  // d = dir / |dir|: dd/ddir = (I - d d^T) / |dir|, symmetric.
  *v_dir = inv * (v_d - Dot(d, v_d) * d);
}

}  // namespace facet::splatting::kernels
