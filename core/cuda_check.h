// FACET_CUDA_CHECK(cudaMalloc(&p, bytes)) throws facet::Error with cudaGetErrorString when a CUDA
// runtime call fails. Include only from code compiled with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "core/error.h"

namespace facet::detail {

inline void CheckCuda(cudaError_t status, const char* expression, SourceLocation where) {
  if (status != cudaSuccess) [[unlikely]] {
    ThrowError(std::string("CUDA call ") + expression + " failed: " + cudaGetErrorString(status) +
                   " (" + std::to_string(static_cast<int>(status)) +
                   "). Check the driver and free GPU memory, or run with --device cpu",
               where);
  }
}

}  // namespace facet::detail

#define FACET_CUDA_CHECK(expr) \
  ::facet::detail::CheckCuda((expr), #expr, ::facet::SourceLocation{__FILE__, __LINE__})

// After a kernel launch: reports launch-configuration errors at the launch site.
#define FACET_CUDA_CHECK_LAUNCH() FACET_CUDA_CHECK(cudaGetLastError())
