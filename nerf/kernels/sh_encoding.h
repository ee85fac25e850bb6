// The spherical-harmonics direction encoding of instant-ngp (Müller et al. 2022, sec. 5.4): the
// 16 real SH basis functions of degrees 0..3 ("degree 4" in tiny-cuda-nn's count of bands)
// evaluated at a unit view direction. Same functions, order and signs as tiny-cuda-nn's
// SphericalHarmonics encoding (Condon-Shortley phase, index l * (l + 1) + m), so the colour
// network sees the inputs it sees there; each function is orthonormal over the unit sphere,
// integral Y_i Y_j dω = δ_ij.
//
// Unlike tiny-cuda-nn, which maps its input from [0, 1]^3 to [-1, 1]^3 first, this takes the
// unit direction itself. No gradient with respect to the direction is provided (instant-ngp
// does not optimise camera rays through the encoding).
#pragma once

#include "core/host_device.h"

namespace facet::nerf::kernels {

inline constexpr int kShBands = 4;                    // degrees 0..3
inline constexpr int kShCount = kShBands * kShBands;  // 16 values

// out[0..15] = Y_i(x, y, z) for a unit vector (x, y, z). Template for float (CPU and CUDA) and
// double (tests); the constants are double and rounded to T once.
template <typename T>
FACET_HOST_DEVICE inline void ShEncode(T x, T y, T z, T* out) {
  const T xy = x * y, xz = x * z, yz = y * z, x2 = x * x, y2 = y * y, z2 = z * z;
  out[0] = T(0.28209479177387814);                                // 1/(2 sqrt(pi))
  out[1] = T(-0.48860251190291987) * y;                           // -sqrt(3) y/(2 sqrt(pi))
  out[2] = T(0.48860251190291987) * z;                            // sqrt(3) z/(2 sqrt(pi))
  out[3] = T(-0.48860251190291987) * x;                           // -sqrt(3) x/(2 sqrt(pi))
  out[4] = T(1.0925484305920792) * xy;                            // sqrt(15) xy/(2 sqrt(pi))
  out[5] = T(-1.0925484305920792) * yz;                           // -sqrt(15) yz/(2 sqrt(pi))
  out[6] = T(0.94617469575755997) * z2 - T(0.31539156525251999);  // sqrt(5)(3z²-1)/(4 sqrt(pi))
  out[7] = T(-1.0925484305920792) * xz;                           // -sqrt(15) xz/(2 sqrt(pi))
  out[8] = T(0.54627421529603959) * (x2 - y2);                    // sqrt(15)(x²-y²)/(4 sqrt(pi))
  out[9] = T(0.59004358992664352) * y * (T(-3) * x2 + y2);    // sqrt(70) y(y²-3x²)/(8 sqrt(pi))
  out[10] = T(2.8906114426405538) * xy * z;                   // sqrt(105) xyz/(2 sqrt(pi))
  out[11] = T(0.45704579946446572) * y * (T(1) - T(5) * z2);  // sqrt(42) y(1-5z²)/(8 sqrt(pi))
  out[12] = T(0.3731763325901154) * z * (T(5) * z2 - T(3));   // sqrt(7) z(5z²-3)/(4 sqrt(pi))
  out[13] = T(0.45704579946446572) * x * (T(1) - T(5) * z2);  // sqrt(42) x(1-5z²)/(8 sqrt(pi))
  out[14] = T(1.4453057213202769) * z * (x2 - y2);            // sqrt(105) z(x²-y²)/(4 sqrt(pi))
  out[15] = T(0.59004358992664352) * x * (-x2 + T(3) * y2);   // sqrt(70) x(3y²-x²)/(8 sqrt(pi))
}

}  // namespace facet::nerf::kernels
