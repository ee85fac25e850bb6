// The camera models' math, shared by the CPU path, CUDA kernels and automatic differentiation:
// templates over the scalar type T (float, double, Dual<N>) of FACET_HOST_DEVICE functions, with
// no Eigen or CUDA types. Models, ids and parameter order are COLMAP's
// (src/colmap/sensor/models.h), so that cameras.txt/bin round-trip with COLMAP unchanged:
//
//   id model            params
//   0  SIMPLE_PINHOLE   f, cx, cy
//   1  PINHOLE          fx, fy, cx, cy
//   2  SIMPLE_RADIAL    f, cx, cy, k
//   3  RADIAL           f, cx, cy, k1, k2
//   4  OPENCV           fx, fy, cx, cy, k1, k2, p1, p2
//   5  OPENCV_FISHEYE   fx, fy, cx, cy, k1, k2, k3, k4
//   6  FULL_OPENCV      fx, fy, cx, cy, k1, k2, p1, p2, k3, k4, k5, k6
//
// Pixel coordinates follow COLMAP: the top-left corner of the image is (0, 0), so the centre of
// the first pixel is (0.5, 0.5). Normalised coordinates are (u, v) = (x / z, y / z).
#pragma once

#include <cmath>

#include "core/host_device.h"

namespace facet::geometry::impl {

enum ModelId : int {
  kSimplePinholeId = 0,
  kPinholeId = 1,
  kSimpleRadialId = 2,
  kRadialId = 3,
  kOpenCVId = 4,
  kOpenCVFisheyeId = 5,
  kFullOpenCVId = 6,
};
inline constexpr int kNumModels = 7;
inline constexpr int kMaxParams = 12;

FACET_HOST_DEVICE constexpr int NumParams(int model) {
  constexpr int kCounts[kNumModels] = {3, 4, 4, 5, 8, 8, 12};
  return model >= 0 && model < kNumModels ? kCounts[model] : -1;
}
// Models whose first parameter is one focal length shared by both axes.
FACET_HOST_DEVICE constexpr bool HasSingleFocal(int model) {
  return model == kSimplePinholeId || model == kSimpleRadialId || model == kRadialId;
}
// Index of cx in the parameter vector (cy follows it).
FACET_HOST_DEVICE constexpr int PrincipalPointIndex(int model) {
  return HasSingleFocal(model) ? 1 : 2;
}
// Index of the first distortion parameter (== NumParams when the model has none).
FACET_HOST_DEVICE constexpr int ExtraParamsIndex(int model) {
  return HasSingleFocal(model) ? 3 : 4;
}

// Distorts normalised coordinates (u, v) into (ud, vd) with the model's distortion parameters
// `k` (params + ExtraParamsIndex). Models without distortion copy.
template <typename T>
FACET_HOST_DEVICE void Distort(int model, const T* k, const T& u, const T& v, T* ud, T* vd) {
  using std::atan;
  using std::sqrt;
  const T u2 = u * u, v2 = v * v, uv = u * v, r2 = u2 + v2;
  switch (model) {
    case kSimpleRadialId: {
      const T s = 1.0 + k[0] * r2;
      *ud = u * s;
      *vd = v * s;
      return;
    }
    case kRadialId: {
      const T s = 1.0 + k[0] * r2 + k[1] * r2 * r2;
      *ud = u * s;
      *vd = v * s;
      return;
    }
    case kOpenCVId: {  // k1, k2, p1, p2
      const T s = 1.0 + k[0] * r2 + k[1] * r2 * r2;
      *ud = u * s + 2.0 * k[2] * uv + k[3] * (r2 + 2.0 * u2);
      *vd = v * s + 2.0 * k[3] * uv + k[2] * (r2 + 2.0 * v2);
      return;
    }
    case kFullOpenCVId: {  // k1, k2, p1, p2, k3, k4, k5, k6
      const T r4 = r2 * r2, r6 = r4 * r2;
      const T s =
          (1.0 + k[0] * r2 + k[1] * r4 + k[4] * r6) / (1.0 + k[5] * r2 + k[6] * r4 + k[7] * r6);
      *ud = u * s + 2.0 * k[2] * uv + k[3] * (r2 + 2.0 * u2);
      *vd = v * s + 2.0 * k[3] * uv + k[2] * (r2 + 2.0 * v2);
      return;
    }
    case kOpenCVFisheyeId: {  // equidistant: theta_d = theta (1 + k1 θ² + k2 θ⁴ + k3 θ⁶ + k4 θ⁸)
      // Below this radius theta_d / r -> 1; the ratio's derivative is well defined there too.
      if (r2 < 1e-16) {
        *ud = u;
        *vd = v;
        return;
      }
      const T r = sqrt(r2);
      const T theta = atan(r);
      const T t2 = theta * theta, t4 = t2 * t2, t6 = t4 * t2, t8 = t4 * t4;
      const T s = theta * (1.0 + k[0] * t2 + k[1] * t4 + k[2] * t6 + k[3] * t8) / r;
      *ud = u * s;
      *vd = v * s;
      return;
    }
    default:
      *ud = u;
      *vd = v;
      return;
  }
}

// Pixel of a point in the camera frame (z > 0 is in front; callers check it).
template <typename T>
FACET_HOST_DEVICE void ImgFromCam(int model, const T* params, const T& x, const T& y, const T& z,
                                  T* px, T* py) {
  const T u = x / z, v = y / z;
  T ud, vd;
  Distort(model, params + ExtraParamsIndex(model), u, v, &ud, &vd);
  const int c = PrincipalPointIndex(model);
  const T& fx = params[0];
  const T& fy = HasSingleFocal(model) ? params[0] : params[1];
  *px = fx * ud + params[c];
  *py = fy * vd + params[c + 1];
}

// Normalised coordinates (u, v) of a pixel, inverting the distortion by Newton's method on the
// 2x2 system Distort(u, v) = (ud, vd) (distortion Jacobian by central differences, as COLMAP's
// IterativeUndistortion). Returns false when it does not converge to `tolerance` (in normalised
// units) within `max_iterations`, or converges to a point on the opposite side of the centre,
// i.e. outside the region where the distortion is invertible.
template <typename T>
FACET_HOST_DEVICE bool CamFromImg(int model, const T* params, T px, T py, T* u, T* v,
                                  int max_iterations = 100, double tolerance = 1e-12) {
  const int c = PrincipalPointIndex(model);
  const T fx = params[0];
  const T fy = HasSingleFocal(model) ? params[0] : params[1];
  const T ud = (px - params[c]) / fx;
  const T vd = (py - params[c + 1]) / fy;
  *u = ud;
  *v = vd;
  if (model == kSimplePinholeId || model == kPinholeId) return true;
  const T* k = params + ExtraParamsIndex(model);
  for (int it = 0; it < max_iterations; ++it) {
    T fu, fv;
    Distort(model, k, *u, *v, &fu, &fv);
    const T ru = fu - ud, rv = fv - vd;
    if (ru * ru + rv * rv < T(tolerance * tolerance)) {
      // Past the fold of a barrel distortion a cubic can still be solved by a point on the far
      // side of the centre; that is not the ray through this pixel.
      return !(*u * ud + *v * vd < T(0));
    }
    const T h = T(1e-7) * (T(1.0) + (*u < T(0) ? -*u : *u) + (*v < T(0) ? -*v : *v));
    T a0, a1, b0, b1;
    Distort(model, k, *u + h, *v, &a0, &a1);
    Distort(model, k, *u - h, *v, &b0, &b1);
    const T j00 = (a0 - b0) / (2.0 * h), j10 = (a1 - b1) / (2.0 * h);
    Distort(model, k, *u, *v + h, &a0, &a1);
    Distort(model, k, *u, *v - h, &b0, &b1);
    const T j01 = (a0 - b0) / (2.0 * h), j11 = (a1 - b1) / (2.0 * h);
    const T det = j00 * j11 - j01 * j10;
    if (!(det > T(1e-12) || det < T(-1e-12))) return false;  // singular (or NaN)
    *u = *u - (j11 * ru - j01 * rv) / det;
    *v = *v - (-j10 * ru + j00 * rv) / det;
    if (!(*u == *u) || !(*v == *v)) return false;  // NaN
  }
  return false;
}

}  // namespace facet::geometry::impl
