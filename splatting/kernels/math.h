// Tiny fixed-size vectors and matrices for the splatting kernels: plain aggregates over the
// scalar type T with FACET_HOST_DEVICE helpers, so that the same per-Gaussian math compiles
// under g++ and nvcc without Eigen or CUDA vector types. Matrices are row-major: m[3 * r + c].
#pragma once

#include "core/host_device.h"

namespace facet::splatting::kernels {

template <typename T>
struct Vec2 {
  T x, y;
};

template <typename T>
struct Vec3 {
  T x, y, z;
};

// Quaternion (w, x, y, z); the kernels accept it unnormalised and normalise internally.
template <typename T>
struct Quat {
  T w, x, y, z;
};

// A symmetric 2x2 matrix [[a, b], [b, c]]; b is one scalar (a gradient w.r.t. b counts both
// off-diagonal entries).
template <typename T>
struct Sym2 {
  T a, b, c;
};

template <typename T>
struct Mat3 {
  T m[9];
  FACET_HOST_DEVICE T& operator()(int r, int c) { return m[3 * r + c]; }
  FACET_HOST_DEVICE const T& operator()(int r, int c) const { return m[3 * r + c]; }
};

template <typename T>
FACET_HOST_DEVICE Vec3<T> operator+(const Vec3<T>& a, const Vec3<T>& b) {
  return {a.x + b.x, a.y + b.y, a.z + b.z};
}
template <typename T>
FACET_HOST_DEVICE Vec3<T> operator-(const Vec3<T>& a, const Vec3<T>& b) {
  return {a.x - b.x, a.y - b.y, a.z - b.z};
}
template <typename T>
FACET_HOST_DEVICE Vec3<T> operator*(const T& s, const Vec3<T>& a) {
  return {s * a.x, s * a.y, s * a.z};
}
template <typename T>
FACET_HOST_DEVICE T Dot(const Vec3<T>& a, const Vec3<T>& b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}

template <typename T>
FACET_HOST_DEVICE Mat3<T> Zero3() {
  return {{T(0), T(0), T(0), T(0), T(0), T(0), T(0), T(0), T(0)}};
}

template <typename T>
FACET_HOST_DEVICE Mat3<T> Transpose(const Mat3<T>& a) {
  Mat3<T> r;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) r(i, j) = a(j, i);
  }
  return r;
}

template <typename T>
FACET_HOST_DEVICE Mat3<T> operator*(const Mat3<T>& a, const Mat3<T>& b) {
  Mat3<T> r;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      r(i, j) = a(i, 0) * b(0, j) + a(i, 1) * b(1, j) + a(i, 2) * b(2, j);
    }
  }
  return r;
}

template <typename T>
FACET_HOST_DEVICE Mat3<T> operator+(const Mat3<T>& a, const Mat3<T>& b) {
  Mat3<T> r;
  for (int i = 0; i < 9; ++i) r.m[i] = a.m[i] + b.m[i];
  return r;
}

template <typename T>
FACET_HOST_DEVICE Vec3<T> operator*(const Mat3<T>& a, const Vec3<T>& v) {
  return {a(0, 0) * v.x + a(0, 1) * v.y + a(0, 2) * v.z,
          a(1, 0) * v.x + a(1, 1) * v.y + a(1, 2) * v.z,
          a(2, 0) * v.x + a(2, 1) * v.y + a(2, 2) * v.z};
}

}  // namespace facet::splatting::kernels
