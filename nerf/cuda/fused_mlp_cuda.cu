// The fused MLP kernels (per-sample bodies in nerf/kernels/fused_mlp.h): each block copies the
// weights into shared memory once, then its threads walk the samples with a grid-stride loop, one
// sample per thread, all layers in registers. Compiled for instant-ngp's two network shapes
// (density 32 -> 64 -> 16, colour 32 -> 64 (x hidden layers) -> 3); mlp_cuda.cpp falls back to
// cuBLAS for any other.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>

#include "core/cuda_check.h"
#include "core/error.h"
#include "nerf/cuda/detail/launchers.h"
#include "nerf/kernels/fused_mlp.h"
#include "nerf/mlp.h"

namespace facet::nerf::detail {
namespace {

constexpr int kThreads = 128;
// Shared memory a block may use without opting in (cudaFuncSetAttribute) on every GPU.
constexpr std::int64_t kSharedBytes = 48 * 1024;

template <int kIn, int kHidden, int kOut>
__global__ void __launch_bounds__(kThreads)
    FusedForwardKernel(const float* __restrict__ params, int hidden_layers,
                       const float* __restrict__ input, std::int64_t n, float* __restrict__ output,
                       float* __restrict__ activations) {
  using Shape = kernels::FusedMlpShape<kIn, kHidden, kOut>;
  extern __shared__ float4 shared[];
  float* staged = reinterpret_cast<float*>(shared);
  Shape::StageForwardWeights(params, hidden_layers, staged, int(threadIdx.x), int(blockDim.x));
  __syncthreads();
  const std::int64_t stride = std::int64_t(blockDim.x) * gridDim.x;
  const std::int64_t act_stride = n * kHidden;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    Shape::Forward(staged, hidden_layers, input + i * kIn, output + i * kOut,
                   activations == nullptr ? nullptr : activations + i * kHidden, act_stride);
  }
}

template <int kIn, int kHidden, int kOut>
__global__ void __launch_bounds__(kThreads)
    FusedBackwardKernel(const float* __restrict__ params, int hidden_layers,
                        const float* __restrict__ activations, const float* __restrict__ d_output,
                        std::int64_t n, float* __restrict__ g, float* __restrict__ d_input) {
  using Shape = kernels::FusedMlpShape<kIn, kHidden, kOut>;
  extern __shared__ float4 shared[];
  float* weights = reinterpret_cast<float*>(shared);
  const std::int64_t count = Shape::BackwardWeightFloats(hidden_layers);
  for (std::int64_t s = threadIdx.x; s < count; s += blockDim.x) weights[s] = params[s];
  __syncthreads();
  const std::int64_t stride = std::int64_t(blockDim.x) * gridDim.x;
  const std::int64_t layer_stride = n * kHidden;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    Shape::Backward(weights, hidden_layers, activations + i * kHidden, layer_stride,
                    d_output + i * kOut, g + i * kHidden, layer_stride,
                    d_input == nullptr ? nullptr : d_input + i * kIn);
  }
}

// Blocks for n samples: enough to fill the device a few times over; each stages the weights once.
unsigned Blocks(std::int64_t n) {
  thread_local int device = -1, multiprocessors = 0;
  int current = 0;
  FACET_CUDA_CHECK(cudaGetDevice(&current));
  if (current != device) {
    FACET_CUDA_CHECK(
        cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, current));
    device = current;
  }
  const std::int64_t wanted = (n + kThreads - 1) / kThreads;
  return unsigned(std::max<std::int64_t>(1, std::min<std::int64_t>(wanted, 8 * multiprocessors)));
}

template <int kIn, int kHidden, int kOut>
void Forward(const MlpOptions& o, const float* params, const float* input, std::int64_t n,
             float* output, float* activations, CUstream_st* stream) {
  using Shape = kernels::FusedMlpShape<kIn, kHidden, kOut>;
  const auto bytes = std::size_t(Shape::ForwardWeightFloats(o.hidden_layers) * sizeof(float));
  FusedForwardKernel<kIn, kHidden, kOut><<<Blocks(n), kThreads, bytes, stream>>>(
      params, o.hidden_layers, input, n, output, activations);
  FACET_CUDA_CHECK_LAUNCH();
}

template <int kIn, int kHidden, int kOut>
void Backward(const MlpOptions& o, const float* params, const float* activations,
              const float* d_output, std::int64_t n, float* g, float* d_input,
              CUstream_st* stream) {
  using Shape = kernels::FusedMlpShape<kIn, kHidden, kOut>;
  const auto bytes = std::size_t(Shape::BackwardWeightFloats(o.hidden_layers) * sizeof(float));
  FusedBackwardKernel<kIn, kHidden, kOut><<<Blocks(n), kThreads, bytes, stream>>>(
      params, o.hidden_layers, activations, d_output, n, g, d_input);
  FACET_CUDA_CHECK_LAUNCH();
}

bool Is(const MlpOptions& o, int in, int hidden, int out) {
  return o.input_dims == in && o.hidden_dims == hidden && o.output_dims == out;
}

}  // namespace

bool FusedMlpCompiled(const MlpOptions& o) {
  if (o.hidden_layers < 1) return false;
  std::int64_t floats = 0;
  if (Is(o, 32, 64, 16)) {
    floats = kernels::FusedMlpShape<32, 64, 16>::ForwardWeightFloats(o.hidden_layers);
  } else if (Is(o, 32, 64, 3)) {
    floats = kernels::FusedMlpShape<32, 64, 3>::ForwardWeightFloats(o.hidden_layers);
  } else {
    return false;
  }
  return floats * std::int64_t(sizeof(float)) <= kSharedBytes;
}

void LaunchFusedMlpForward(const MlpOptions& o, const float* params, const float* input,
                           std::int64_t n, float* output, float* activations, CUstream_st* stream) {
  FACET_CHECK(FusedMlpCompiled(o), "the fused MLP is not compiled for this network shape");
  if (Is(o, 32, 64, 16)) {
    Forward<32, 64, 16>(o, params, input, n, output, activations, stream);
  } else {
    Forward<32, 64, 3>(o, params, input, n, output, activations, stream);
  }
}

void LaunchFusedMlpBackward(const MlpOptions& o, const float* params, const float* activations,
                            const float* d_output, std::int64_t n, float* g, float* d_input,
                            CUstream_st* stream) {
  FACET_CHECK(FusedMlpCompiled(o), "the fused MLP is not compiled for this network shape");
  if (Is(o, 32, 64, 16)) {
    Backward<32, 64, 16>(o, params, activations, d_output, n, g, d_input, stream);
  } else {
    Backward<32, 64, 3>(o, params, activations, d_output, n, g, d_input, stream);
  }
}

}  // namespace facet::nerf::detail
