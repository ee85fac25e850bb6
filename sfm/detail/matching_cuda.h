// The CUDA nearest-neighbour search behind MatchDescriptors' Backend::kCuda: cuBLAS SGEMM of
// row blocks (S = A Bᵀ, float32, no TF32) and two reduction kernels, per row (best and second-best
// similarity and the best column) and per column (the best row). The same NeighborTable as the
// CPU search, up to floating-point rounding of the products.
//
// A plain header (no CUDA types), so .cpp files include it without nvcc; the implementation is
// matching_cuda.cu, compiled only when facet is built with CUDA (FACET_WITH_CUDA).
#pragma once

#include <cstdint>
#include <memory>

#include "sfm/detail/nearest_neighbors.h"

namespace facet::sfm::detail {

// Owns a cuBLAS handle, a stream, a similarity buffer and descriptor sets uploaded to the device,
// so that matching many pairs uploads each image's descriptors once. Not thread-safe: use one per
// thread. Throws facet::Error when CUDA or cuBLAS fails (no device, out of memory).
class CudaNeighborSearch {
 public:
  CudaNeighborSearch();
  ~CudaNeighborSearch();
  CudaNeighborSearch(const CudaNeighborSearch&) = delete;
  CudaNeighborSearch& operator=(const CudaNeighborSearch&) = delete;

  // Copies `num_rows` rows of 128 floats (row-major, host memory) to the device; returns the id
  // that Search and Release take.
  int Upload(const float* rows /* num_rows x 128 */, std::int64_t num_rows);
  // Frees an uploaded set's device memory.
  void Release(int id);

  // Neighbours of set `a`'s rows among set `b`'s (see NeighborTable); with_columns also fills
  // column_best_index.
  NeighborTable Search(int a, int b, bool with_columns);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::sfm::detail
