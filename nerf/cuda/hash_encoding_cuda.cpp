// HashGridForwardCuda / HashGridBackwardCuda (hash_encoding_cuda.h): argument checks, then the
// launches (hash_encoding_cuda.cu). Plain C++, compiled only with the CUDA fast path.
#include "nerf/cuda/hash_encoding_cuda.h"

#include "core/error.h"

namespace facet::nerf {
namespace {

void CheckLayout(const kernels::HashGridLayout& layout, std::int64_t n, const char* what) {
  FACET_CHECK(layout.levels >= 1 && layout.levels <= kernels::kHashGridMaxLevels,
              "{}: layout levels must be in [1, {}] (got {})", what, kernels::kHashGridMaxLevels,
              layout.levels);
  FACET_CHECK(
      layout.features == 1 || layout.features == 2 || layout.features == 4 || layout.features == 8,
      "{}: layout features must be 1, 2, 4 or 8 (got {})", what, layout.features);
  FACET_CHECK(n >= 0, "{}: negative point count {}", what, n);
}

}  // namespace

void HashGridForwardCuda(const kernels::HashGridLayout& layout, const float* params,
                         const float* positions, std::int64_t n, float* features,
                         CUstream_st* stream) {
  CheckLayout(layout, n, "HashGridForwardCuda");
  if (n == 0) return;
  FACET_CHECK(params != nullptr && positions != nullptr && features != nullptr,
              "HashGridForwardCuda: a parameter, position or feature array is null");
  detail::LaunchHashGridForward(layout, params, positions, n, features, stream);
}

void HashGridBackwardCuda(const kernels::HashGridLayout& layout, const float* params,
                          const float* positions, std::int64_t n, const float* d_features,
                          float* d_params, float* d_positions, CUstream_st* stream) {
  CheckLayout(layout, n, "HashGridBackwardCuda");
  if (n == 0) return;
  FACET_CHECK(
      params != nullptr && positions != nullptr && d_features != nullptr && d_params != nullptr,
      "HashGridBackwardCuda: a parameter, position or gradient array is null");
  detail::LaunchHashGridBackward(layout, params, positions, n, d_features, d_params, d_positions,
                                 stream);
}

}  // namespace facet::nerf
