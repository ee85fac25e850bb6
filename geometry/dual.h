// Dual<N>: forward-mode automatic differentiation with N partial derivatives, for the Jacobians of
// the camera models (and any other small function written as a template over its scalar type).
// FACET_HOST_DEVICE so the same templated math also runs in CUDA kernels.
#pragma once

#include <cmath>

#include "core/host_device.h"

namespace facet::geometry {

template <int N>
struct Dual {
  double a = 0.0;    // value
  double v[N] = {};  // partial derivatives

  FACET_HOST_DEVICE Dual() {}
  FACET_HOST_DEVICE Dual(double value) : a(value) {}  // NOLINT(google-explicit-constructor)
  // The k-th input variable: value `value`, derivative 1 in direction k.
  FACET_HOST_DEVICE static Dual Variable(double value, int k) {
    Dual d(value);
    d.v[k] = 1.0;
    return d;
  }
};

template <int N>
FACET_HOST_DEVICE inline Dual<N> operator+(const Dual<N>& x, const Dual<N>& y) {
  Dual<N> r(x.a + y.a);
  for (int i = 0; i < N; ++i) r.v[i] = x.v[i] + y.v[i];
  return r;
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator-(const Dual<N>& x, const Dual<N>& y) {
  Dual<N> r(x.a - y.a);
  for (int i = 0; i < N; ++i) r.v[i] = x.v[i] - y.v[i];
  return r;
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator-(const Dual<N>& x) {
  Dual<N> r(-x.a);
  for (int i = 0; i < N; ++i) r.v[i] = -x.v[i];
  return r;
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator*(const Dual<N>& x, const Dual<N>& y) {
  Dual<N> r(x.a * y.a);
  for (int i = 0; i < N; ++i) r.v[i] = x.a * y.v[i] + x.v[i] * y.a;
  return r;
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator/(const Dual<N>& x, const Dual<N>& y) {
  const double inv = 1.0 / y.a;
  Dual<N> r(x.a * inv);
  for (int i = 0; i < N; ++i) r.v[i] = (x.v[i] - r.a * y.v[i]) * inv;
  return r;
}
// Mixed scalar forms.
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator+(const Dual<N>& x, double y) {
  return x + Dual<N>(y);
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator+(double x, const Dual<N>& y) {
  return Dual<N>(x) + y;
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator-(const Dual<N>& x, double y) {
  return x - Dual<N>(y);
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator-(double x, const Dual<N>& y) {
  return Dual<N>(x) - y;
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator*(const Dual<N>& x, double y) {
  return x * Dual<N>(y);
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator*(double x, const Dual<N>& y) {
  return Dual<N>(x) * y;
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator/(const Dual<N>& x, double y) {
  return x * (1.0 / y);
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> operator/(double x, const Dual<N>& y) {
  return Dual<N>(x) / y;
}

template <int N>
FACET_HOST_DEVICE inline bool operator<(const Dual<N>& x, const Dual<N>& y) {
  return x.a < y.a;
}
template <int N>
FACET_HOST_DEVICE inline bool operator>(const Dual<N>& x, const Dual<N>& y) {
  return x.a > y.a;
}
template <int N>
FACET_HOST_DEVICE inline bool operator<(const Dual<N>& x, double y) {
  return x.a < y;
}
template <int N>
FACET_HOST_DEVICE inline bool operator>(const Dual<N>& x, double y) {
  return x.a > y;
}

template <int N>
FACET_HOST_DEVICE inline Dual<N> sqrt(const Dual<N>& x) {  // NOLINT(readability-identifier-naming)
  const double s = std::sqrt(x.a);
  Dual<N> r(s);
  const double d = 0.5 / s;
  for (int i = 0; i < N; ++i) r.v[i] = d * x.v[i];
  return r;
}
template <int N>
FACET_HOST_DEVICE inline Dual<N> atan(const Dual<N>& x) {  // NOLINT(readability-identifier-naming)
  Dual<N> r(std::atan(x.a));
  const double d = 1.0 / (1.0 + x.a * x.a);
  for (int i = 0; i < N; ++i) r.v[i] = d * x.v[i];
  return r;
}

// Value of a scalar or a dual, for branches that must not depend on derivatives.
FACET_HOST_DEVICE inline double ValueOf(double x) { return x; }
FACET_HOST_DEVICE inline float ValueOf(float x) { return x; }
template <int N>
FACET_HOST_DEVICE inline double ValueOf(const Dual<N>& x) {
  return x.a;
}

}  // namespace facet::geometry
