// CUDA nearest-neighbour search (see detail/matching_cuda.h). Shape checks live in the callers
// (matching.cpp); this file only moves data, multiplies and launches.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "core/cuda_check.h"
#include "core/error.h"
#include "sfm/detail/matching_cuda.h"

namespace facet::sfm::detail {
namespace {

constexpr int kDim = kNeighborDim;
// Similarity block: rows x n_b floats, at most 64 MiB.
constexpr std::int64_t kMaxSimilarityFloats = std::int64_t{1} << 24;
constexpr int kRowThreads = 256;
constexpr int kColumnThreadsX = 32;
constexpr int kColumnThreadsY = 8;

void CheckCublas(cublasStatus_t status, const char* what, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    facet::detail::ThrowError(
        std::string("cuBLAS ") + what + " failed: " + cublasGetStatusString(status) +
            ". Check the driver and free GPU memory, or run with --device cpu",
        SourceLocation{__FILE__, line});
  }
}
#define FACET_CUBLAS_CHECK(expr) CheckCublas((expr), #expr, __LINE__)

struct Top2 {
  float best;
  float second;
  int index;
};

// Merges two partial top-2 results; equal bests go to the lower index (as on the CPU).
__device__ Top2 Merge(const Top2& x, const Top2& y) {
  const bool x_first = x.best > y.best || (x.best == y.best && x.index < y.index);
  const Top2& hi = x_first ? x : y;
  const Top2& lo = x_first ? y : x;
  return {hi.best, fmaxf(hi.second, lo.best), hi.index};
}

__device__ Top2 ShuffleDown(const Top2& t, int offset) {
  return {__shfl_down_sync(0xffffffffu, t.best, offset),
          __shfl_down_sync(0xffffffffu, t.second, offset),
          __shfl_down_sync(0xffffffffu, t.index, offset)};
}

// One block per row of the similarity block s (rows x cols, row-major): the row's best and
// second-best values and the best column.
__global__ void RowTop2Kernel(const float* s, int cols, float* best, float* second, int* index) {
  const float* row = s + static_cast<std::size_t>(blockIdx.x) * cols;
  Top2 t{-INFINITY, -INFINITY, -1};
  for (int j = threadIdx.x; j < cols; j += blockDim.x) {
    const float v = row[j];
    if (v > t.best) {
      t.second = t.best;
      t.best = v;
      t.index = j;
    } else if (v > t.second) {
      t.second = v;
    }
  }
  for (int offset = 16; offset > 0; offset /= 2) t = Merge(t, ShuffleDown(t, offset));
  __shared__ Top2 warps[kRowThreads / 32];
  const int warp = threadIdx.x / 32;
  if (threadIdx.x % 32 == 0) warps[warp] = t;
  __syncthreads();
  if (warp != 0) return;
  t = threadIdx.x < kRowThreads / 32 ? warps[threadIdx.x] : Top2{-INFINITY, -INFINITY, -1};
  for (int offset = 16; offset > 0; offset /= 2) t = Merge(t, ShuffleDown(t, offset));
  if (threadIdx.x == 0) {
    best[blockIdx.x] = t.best;
    second[blockIdx.x] = t.second;
    index[blockIdx.x] = t.index;
  }
}

// Per column of the block s (rows x cols) whose first row is `row0` of the whole set: the best
// row, folded into col_best / col_row (earlier blocks hold lower rows, so ties keep theirs).
__global__ void ColumnBestKernel(const float* s, int rows, int cols, int row0, float* col_best,
                                 int* col_row) {
  const int j = blockIdx.x * kColumnThreadsX + threadIdx.x;
  float best = -INFINITY;
  int arg = -1;
  if (j < cols) {
    for (int i = threadIdx.y; i < rows; i += kColumnThreadsY) {
      const float v = s[static_cast<std::size_t>(i) * cols + j];
      if (v > best) {
        best = v;
        arg = i;
      }
    }
  }
  __shared__ float shared_best[kColumnThreadsY][kColumnThreadsX];
  __shared__ int shared_arg[kColumnThreadsY][kColumnThreadsX];
  shared_best[threadIdx.y][threadIdx.x] = best;
  shared_arg[threadIdx.y][threadIdx.x] = arg;
  __syncthreads();
  if (threadIdx.y != 0 || j >= cols) return;
  for (int y = 1; y < kColumnThreadsY; ++y) {
    const float v = shared_best[y][threadIdx.x];
    const int i = shared_arg[y][threadIdx.x];
    if (v > best || (v == best && i >= 0 && (arg < 0 || i < arg))) {
      best = v;
      arg = i;
    }
  }
  if (arg >= 0 && best > col_best[j]) {
    col_best[j] = best;
    col_row[j] = row0 + arg;
  }
}

template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  ~DeviceArray() { cudaFree(data_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  // Grows (never shrinks) to hold n elements; contents are not kept.
  void Reserve(std::int64_t n) {
    if (n <= capacity_) return;
    cudaFree(data_);
    data_ = nullptr;
    capacity_ = 0;
    FACET_CUDA_CHECK(cudaMalloc(&data_, sizeof(T) * static_cast<std::size_t>(n)));
    capacity_ = n;
  }
  T* data() const { return data_; }

 private:
  T* data_ = nullptr;
  std::int64_t capacity_ = 0;
};

__global__ void FillKernel(float* values, int* indices, int n, float value) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    values[i] = value;
    indices[i] = -1;
  }
}

}  // namespace

struct CudaNeighborSearch::Impl {
  struct Set {
    float* rows = nullptr;
    std::int64_t num_rows = 0;
  };
  cublasHandle_t handle = nullptr;
  cudaStream_t stream = nullptr;
  std::vector<Set> sets;
  DeviceArray<float> similarity;
  DeviceArray<float> best;
  DeviceArray<float> second;
  DeviceArray<int> index;
  DeviceArray<float> col_best;
  DeviceArray<int> col_row;

  const Set& Get(int id) const {
    FACET_CHECK(id >= 0 && id < static_cast<int>(sets.size()) && sets[id].rows != nullptr,
                "CudaNeighborSearch: unknown or released descriptor set " + std::to_string(id));
    return sets[id];
  }
};

CudaNeighborSearch::CudaNeighborSearch() : impl_(std::make_unique<Impl>()) {
  FACET_CUDA_CHECK(cudaStreamCreateWithFlags(&impl_->stream, cudaStreamNonBlocking));
  FACET_CUBLAS_CHECK(cublasCreate(&impl_->handle));
  FACET_CUBLAS_CHECK(cublasSetStream(impl_->handle, impl_->stream));
  // Plain float32 products (no TF32), so that matches agree with the CPU path.
  FACET_CUBLAS_CHECK(cublasSetMathMode(impl_->handle, CUBLAS_DEFAULT_MATH));
}

CudaNeighborSearch::~CudaNeighborSearch() {
  for (const Impl::Set& set : impl_->sets) cudaFree(set.rows);
  if (impl_->handle != nullptr) cublasDestroy(impl_->handle);
  if (impl_->stream != nullptr) cudaStreamDestroy(impl_->stream);
}

int CudaNeighborSearch::Upload(const float* rows, std::int64_t num_rows) {
  Impl::Set set;
  set.num_rows = num_rows;
  const std::size_t bytes = sizeof(float) * kDim * static_cast<std::size_t>(num_rows);
  if (bytes > 0) {
    FACET_CUDA_CHECK(cudaMalloc(&set.rows, bytes));
    // On the matcher's own (non-blocking) stream, so later searches are ordered after the copy;
    // synchronised because the caller may free `rows` as soon as this returns.
    cudaError_t copied =
        cudaMemcpyAsync(set.rows, rows, bytes, cudaMemcpyHostToDevice, impl_->stream);
    if (copied == cudaSuccess) copied = cudaStreamSynchronize(impl_->stream);
    if (copied != cudaSuccess) cudaFree(set.rows);
    FACET_CUDA_CHECK(copied);
  }
  impl_->sets.push_back(set);
  return static_cast<int>(impl_->sets.size()) - 1;
}

void CudaNeighborSearch::Release(int id) {
  if (id < 0 || id >= static_cast<int>(impl_->sets.size())) return;
  cudaFree(impl_->sets[id].rows);
  impl_->sets[id] = {};
}

NeighborTable CudaNeighborSearch::Search(int a_id, int b_id, bool with_columns) {
  const Impl::Set& a = impl_->Get(a_id);
  const Impl::Set& b = impl_->Get(b_id);
  const std::int64_t n_a = a.num_rows;
  const std::int64_t n_b = b.num_rows;
  NeighborTable table;
  table.best_similarity.assign(n_a, -std::numeric_limits<float>::infinity());
  table.second_similarity.assign(n_a, -std::numeric_limits<float>::infinity());
  table.best_index.assign(n_a, -1);
  if (with_columns) table.column_best_index.assign(n_b, -1);
  if (n_a == 0 || n_b == 0) return table;
  FACET_CHECK(n_a < (std::int64_t{1} << 31) && n_b < (std::int64_t{1} << 31),
              "CudaNeighborSearch: descriptor sets must have fewer than 2^31 rows");

  const std::int64_t block_rows = std::clamp<std::int64_t>(kMaxSimilarityFloats / n_b, 1, n_a);
  impl_->similarity.Reserve(block_rows * n_b);
  impl_->best.Reserve(n_a);
  impl_->second.Reserve(n_a);
  impl_->index.Reserve(n_a);
  impl_->col_best.Reserve(n_b);
  impl_->col_row.Reserve(n_b);
  cudaStream_t stream = impl_->stream;
  const int cols = static_cast<int>(n_b);
  if (with_columns) {
    FillKernel<<<(cols + 255) / 256, 256, 0, stream>>>(impl_->col_best.data(),
                                                       impl_->col_row.data(), cols, -INFINITY);
    FACET_CUDA_CHECK_LAUNCH();
  }
  const float one = 1.0f;
  const float zero = 0.0f;
  for (std::int64_t row0 = 0; row0 < n_a; row0 += block_rows) {
    const int rows = static_cast<int>(std::min(block_rows, n_a - row0));
    // Column-major view: S_blockᵀ (n_b x rows) = Bᵀ-stored-as-(128 x n_b)ᵀ · A-block (128 x rows),
    // i.e. the row-major rows x n_b block S = A_block · Bᵀ.
    FACET_CUBLAS_CHECK(cublasSgemm(impl_->handle, CUBLAS_OP_T, CUBLAS_OP_N, cols, rows, kDim, &one,
                                   b.rows, kDim, a.rows + row0 * kDim, kDim, &zero,
                                   impl_->similarity.data(), cols));
    RowTop2Kernel<<<rows, kRowThreads, 0, stream>>>(
        impl_->similarity.data(), cols, impl_->best.data() + row0, impl_->second.data() + row0,
        impl_->index.data() + row0);
    FACET_CUDA_CHECK_LAUNCH();
    if (with_columns) {
      const dim3 threads(kColumnThreadsX, kColumnThreadsY);
      ColumnBestKernel<<<(cols + kColumnThreadsX - 1) / kColumnThreadsX, threads, 0, stream>>>(
          impl_->similarity.data(), rows, cols, static_cast<int>(row0), impl_->col_best.data(),
          impl_->col_row.data());
      FACET_CUDA_CHECK_LAUNCH();
    }
  }
  const auto download = [stream](void* host, const void* device, std::size_t bytes) {
    FACET_CUDA_CHECK(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream));
  };
  download(table.best_similarity.data(), impl_->best.data(), sizeof(float) * n_a);
  download(table.second_similarity.data(), impl_->second.data(), sizeof(float) * n_a);
  download(table.best_index.data(), impl_->index.data(), sizeof(int) * n_a);
  if (with_columns) {
    download(table.column_best_index.data(), impl_->col_row.data(), sizeof(int) * n_b);
  }
  FACET_CUDA_CHECK(cudaStreamSynchronize(stream));
  return table;
}

}  // namespace facet::sfm::detail
