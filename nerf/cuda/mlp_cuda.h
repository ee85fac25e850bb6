// The CUDA path of Mlp (nerf/mlp.h): the same networks and parameter layout on device arrays,
// each layer one cuBLAS single-precision GEMM (full FP32, no TF32) plus an elementwise ReLU
// kernel. Row-major n x dims sample arrays are the dims x n column-major matrices cuBLAS works
// on, so no transposition copies are needed. For instant-ngp's two network shapes there is also
// a fused path (fused_mlp_cuda.cu, kernels/fused_mlp.h: one thread per sample through every
// layer, weights in shared memory, full float precision); its backward pass still reduces the
// weight gradients with cuBLAS GEMMs. MlpCudaKernel chooses.
//
// A plain header (no CUDA types); only built with the CUDA fast path (FACET_WITH_CUDA). All
// pointers are device pointers; the calls queue work on `stream` (nullptr: the legacy default
// stream) and return without synchronising. Each host thread uses its own cuBLAS handle.
// Errors (sizes, null arrays, CUDA or cuBLAS failures) throw facet::Error.
#pragma once

#include <cstdint>

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace facet::nerf {

struct MlpOptions;
enum class MlpCudaKernel;

// Whether the fused kernels are compiled for this network's shape.
bool FusedMlpCudaSupports(const MlpOptions& options);

// Device floats of the `activations` array of MlpForwardCuda for n samples: the post-ReLU
// hidden activations, hidden_layers blocks of n x hidden_dims (as Mlp::Context::activations).
std::int64_t MlpCudaActivationFloats(const MlpOptions& options, std::int64_t n);
// Device floats of the `scratch` array of MlpBackwardCuda for n samples (max(2, hidden_layers)
// n hidden_dims; 0 without hidden layers).
std::int64_t MlpCudaBackwardScratchFloats(const MlpOptions& options, std::int64_t n);

// output[n x output_dims] = the network at input[n x input_dims] with weights params
// [MlpParamCount(options)]; activations [MlpCudaActivationFloats] receives the hidden
// activations for MlpBackwardCuda (needed for inference too, as the layers' buffer).
void MlpForwardCuda(const MlpOptions& options, const float* params, const float* input,
                    std::int64_t n, float* output, float* activations,
                    CUstream_st* stream = nullptr, MlpCudaKernel kernel = MlpCudaKernel{});

// Given d_output = dL/d(output) [n x output_dims] and the input and activations of the forward
// pass: d_params [MlpParamCount] += dL/d(params); d_input [n x input_dims] = dL/d(input) unless
// null. scratch: MlpCudaBackwardScratchFloats(options, n) floats. Forward and backward must use
// the same kind of kernel (the activations are the same either way; only the path differs).
void MlpBackwardCuda(const MlpOptions& options, const float* params, const float* input,
                     const float* activations, const float* d_output, std::int64_t n,
                     float* d_params, float* d_input, float* scratch, CUstream_st* stream = nullptr,
                     MlpCudaKernel kernel = MlpCudaKernel{});

}  // namespace facet::nerf
