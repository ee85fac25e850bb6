#include "nerf/cuda/mlp_cuda.h"

#include <climits>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "core/cuda_check.h"
#include "core/error.h"
#include "nerf/cuda/detail/launchers.h"
#include "nerf/mlp.h"

namespace facet::nerf {
namespace {

void CheckCublas(cublasStatus_t status, const char* what) {
  FACET_CHECK(status == CUBLAS_STATUS_SUCCESS, "cuBLAS {} failed: {} ({})", what,
              cublasGetStatusString(status), int(status));
}

// One handle per host thread (cuBLAS handles are not meant to be shared between threads),
// created on first use and destroyed at thread exit.
class CublasHandle {
 public:
  CublasHandle() {
    CheckCublas(cublasCreate(&handle_), "cublasCreate");
    // Full single precision: the CPU reference is float, and TF32 would lose 13 mantissa bits.
    CheckCublas(cublasSetMathMode(handle_, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
  }
  ~CublasHandle() { cublasDestroy(handle_); }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

cublasHandle_t Handle(CUstream_st* stream) {
  thread_local CublasHandle handle;
  CheckCublas(cublasSetStream(handle.get(), stream), "cublasSetStream");
  return handle.get();
}

// C = op(A) op(B) (+ C when accumulate), column-major.
void Gemm(cublasHandle_t handle, cublasOperation_t op_a, cublasOperation_t op_b, int m, int n,
          int k, const float* a, int lda, const float* b, int ldb, bool accumulate, float* c,
          int ldc) {
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  CheckCublas(cublasSgemm(handle, op_a, op_b, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc),
              "cublasSgemm");
}

void CheckSamples(const MlpOptions& options, std::int64_t n, const char* op) {
  options.Check();
  FACET_CHECK(n >= 0 && n * std::int64_t(std::max(
                                {options.input_dims, options.output_dims, options.hidden_dims})) <=
                            INT_MAX,
              "{}: {} samples out of range", op, n);
}

bool Aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// Whether this call runs the fused kernels: the shape is compiled and every array the kernels read
// or write with vector accesses is 16-byte aligned (an offset into a buffer may not be).
bool UseFused(const MlpOptions& options, MlpCudaKernel kernel,
              std::initializer_list<const void*> rows, std::initializer_list<const void*> outputs,
              const char* op) {
  if (kernel == MlpCudaKernel::kCublas) return false;
  const bool compiled = detail::FusedMlpCompiled(options);
  bool aligned = std::all_of(rows.begin(), rows.end(), Aligned);
  if (options.output_dims % 4 == 0)
    aligned = aligned && std::all_of(outputs.begin(), outputs.end(), Aligned);
  if (kernel == MlpCudaKernel::kFused) {
    FACET_CHECK(compiled,
                "{}: the fused MLP is built for 32 -> 64 -> 16 and 32 -> 64 -> 3 networks, not {} "
                "-> {} x {} -> {}; use the cublas kernel",
                op, options.input_dims, options.hidden_dims, options.hidden_layers,
                options.output_dims);
    FACET_CHECK(aligned, "{}: the fused MLP needs 16-byte aligned arrays", op);
  }
  return compiled && aligned;
}

}  // namespace

bool FusedMlpCudaSupports(const MlpOptions& options) { return detail::FusedMlpCompiled(options); }

std::int64_t MlpCudaActivationFloats(const MlpOptions& options, std::int64_t n) {
  return std::int64_t(options.hidden_layers) * options.hidden_dims * n;
}

std::int64_t MlpCudaBackwardScratchFloats(const MlpOptions& options, std::int64_t n) {
  return options.hidden_layers > 0
             ? std::max(2, options.hidden_layers) * std::int64_t(options.hidden_dims) * n
             : 0;
}

void MlpForwardCuda(const MlpOptions& options, const float* params, const float* input,
                    std::int64_t n, float* output, float* activations, CUstream_st* stream,
                    MlpCudaKernel kernel) {
  CheckSamples(options, n, "MlpForwardCuda");
  if (n == 0) return;
  FACET_CHECK(params != nullptr && input != nullptr && output != nullptr &&
                  (activations != nullptr || options.hidden_layers == 0),
              "MlpForwardCuda: null device array");
  if (UseFused(options, kernel, {input, activations}, {output}, "MlpForwardCuda")) {
    detail::LaunchFusedMlpForward(options, params, input, n, output, activations, stream);
    return;
  }
  cublasHandle_t handle = Handle(stream);
  const std::int64_t hidden_size = std::int64_t(options.hidden_dims) * n;
  const float* previous = input;
  for (int l = 0; l <= options.hidden_layers; ++l) {
    const MlpLayer layer = MlpLayerAt(options, l);
    const bool last = l == options.hidden_layers;
    float* out = last ? output : activations + l * hidden_size;
    // out (rows x n) = W (rows x cols, row-major = cols x rows column-major) * previous.
    Gemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, layer.rows, int(n), layer.cols, params + layer.offset,
         layer.cols, previous, layer.cols, false, out, layer.rows);
    if (!last) detail::LaunchRelu(out, hidden_size, stream);
    previous = out;
  }
}

void MlpBackwardCuda(const MlpOptions& options, const float* params, const float* input,
                     const float* activations, const float* d_output, std::int64_t n,
                     float* d_params, float* d_input, float* scratch, CUstream_st* stream,
                     MlpCudaKernel kernel) {
  CheckSamples(options, n, "MlpBackwardCuda");
  if (n == 0) return;
  FACET_CHECK(params != nullptr && input != nullptr && d_output != nullptr && d_params != nullptr &&
                  ((activations != nullptr && scratch != nullptr) || options.hidden_layers == 0),
              "MlpBackwardCuda: null device array");
  cublasHandle_t handle = Handle(stream);
  const std::int64_t hidden_size = std::int64_t(options.hidden_dims) * n;
  if (UseFused(options, kernel, {activations, scratch, d_input}, {d_output}, "MlpBackwardCuda")) {
    // scratch block l = dL/d(pre-activation of hidden layer l); then dW_l += g_l x (layer l's
    // input)^T, as in the loop below.
    detail::LaunchFusedMlpBackward(options, params, activations, d_output, n, scratch, d_input,
                                   stream);
    for (int l = 0; l <= options.hidden_layers; ++l) {
      const MlpLayer layer = MlpLayerAt(options, l);
      const float* layer_input = l == 0 ? input : activations + (l - 1) * hidden_size;
      const float* g = l == options.hidden_layers ? d_output : scratch + l * hidden_size;
      Gemm(handle, CUBLAS_OP_N, CUBLAS_OP_T, layer.cols, layer.rows, int(n), layer_input,
           layer.cols, g, layer.rows, true, d_params + layer.offset, layer.cols);
    }
    return;
  }
  const float* g = d_output;  // dL/d(pre-activation output of layer l)
  for (int l = options.hidden_layers; l >= 0; --l) {
    const MlpLayer layer = MlpLayerAt(options, l);
    const float* layer_input = l == 0 ? input : activations + (l - 1) * hidden_size;
    // dW (row-major rows x cols = column-major cols x rows) += layer_input * g^T.
    Gemm(handle, CUBLAS_OP_N, CUBLAS_OP_T, layer.cols, layer.rows, int(n), layer_input, layer.cols,
         g, layer.rows, true, d_params + layer.offset, layer.cols);
    float* d_layer_input;
    if (l == 0) {
      if (d_input == nullptr) break;
      d_layer_input = d_input;
    } else {
      d_layer_input = (g == scratch) ? scratch + hidden_size : scratch;
    }
    // d(layer input) (cols x n) = W^T g.
    Gemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, layer.cols, int(n), layer.rows, params + layer.offset,
         layer.cols, g, layer.rows, false, d_layer_input, layer.cols);
    if (l > 0) detail::LaunchReluBackward(d_layer_input, layer_input, hidden_size, stream);
    g = d_layer_input;
  }
}

}  // namespace facet::nerf
