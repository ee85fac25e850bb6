// Raw views of per-Gaussian parameter arrays (layout: splatting/gaussians.h), host or device
// memory, so that the per-Gaussian kernels compile under nvcc without the model's std::vectors.
#pragma once

#include <cstdint>

namespace facet::splatting {

// Raw pointers to per-Gaussian arrays in the layout above, host or device memory; what the
// rasterizer kernels read. T is float in training and double in gradient tests.
template <typename T>
struct GaussiansView {
  const T* means = nullptr;       // [count, 3]
  const T* log_scales = nullptr;  // [count, 3]
  const T* quats = nullptr;       // [count, 4]
  const T* opacities = nullptr;   // [count]
  const T* sh_dc = nullptr;       // [count, 3]
  const T* sh_rest = nullptr;     // [count, sh_rest_stride]
  std::int64_t count = 0;
  int sh_rest_stride = 0;  // floats of sh_rest per Gaussian: 3 * (NumShCoeffs(max degree) - 1)
};

// Mutable twin of GaussiansView (gradients).
template <typename T>
struct GaussiansMutableView {
  T* means = nullptr;
  T* log_scales = nullptr;
  T* quats = nullptr;
  T* opacities = nullptr;
  T* sh_dc = nullptr;
  T* sh_rest = nullptr;
  std::int64_t count = 0;
  int sh_rest_stride = 0;
};

}  // namespace facet::splatting
