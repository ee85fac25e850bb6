// The small fully connected networks of instant-ngp (Müller et al., "Instant Neural Graphics
// Primitives", SIGGRAPH 2022, sec. 4): no biases, ReLU after every hidden layer, a linear output
// layer. Output activations (truncated exp for density, sigmoid for colour: kernels/activations.h)
// are the caller's. On the CPU (the reference path) rows are processed in fixed blocks in
// parallel with oneTBB, each block's layers as Eigen float matrix products; cuda/mlp_cuda.h is
// the CUDA path over the same parameter layout.
//
// Layout. Inputs, outputs and their gradients are n x dims row-major (one sample per row).
// params() holds the weight matrices of layers 0..hidden_layers one after the other, each
// row-major (out x in): layer 0 is hidden_dims x input_dims, the middle ones hidden_dims x
// hidden_dims, the last output_dims x hidden_dims (output_dims x input_dims when hidden_layers is
// 0, a linear map).
//
// Determinism. Forward and Backward split the rows into a partition that depends only on n; the
// weight gradient is accumulated per chunk of rows and the chunks' partials are summed in chunk
// order, so results are the same for any number of threads (not across different n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace facet::nerf {

inline constexpr int kMaxHiddenLayers = 16;

struct MlpOptions {
  int input_dims = 32;    // [1, 1024]
  int output_dims = 16;   // [1, 1024]
  int hidden_dims = 64;   // [1, 1024]; instant-ngp: 64
  int hidden_layers = 1;  // [0, 16]; instant-ngp: 1 (density net), 2 (colour net)

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

class Mlp {
 public:
  // Weights drawn from Xavier/Glorot uniform U(-s, s), s = sqrt(6 / (fan_in + fan_out)), as
  // tiny-cuda-nn initialises instant-ngp's networks, from a generator seeded with `seed` (the
  // same weights on every platform). Throws facet::Error for bad options.
  Mlp(const MlpOptions& options, std::uint32_t seed);

  const MlpOptions& options() const { return options_; }
  int layer_count() const { return options_.hidden_layers + 1; }
  std::size_t ParamCount() const { return params_.size(); }
  // All layers' weights (layout above); the optimiser steps them in place.
  std::span<float> params() { return params_; }
  std::span<const float> params() const { return params_; }

  // What Forward keeps for Backward. Reuse one Context across steps: its buffers only grow.
  struct Context {
    // The forward input, not copied: the caller keeps it alive and unchanged until Backward.
    std::span<const float> input;
    std::size_t n = 0;
    // Post-ReLU activations of the hidden layers: hidden_layers blocks of n x hidden_dims.
    std::vector<float> activations;
    // Backward's per-chunk weight-gradient partials (scratch).
    mutable std::vector<float> partials;
  };

  // input: n x input_dims; output: n x output_dims (overwritten; must not overlap input). `ctx`
  // may be null (inference); otherwise it is filled for Backward. Multi-threaded; concurrent
  // calls are safe with distinct contexts. Throws facet::Error for sizes that do not match.
  void Forward(std::span<const float> input, std::size_t n, std::span<float> output,
               Context* ctx) const;

  // Gradients of a loss given d_output = dL/d(output) (n x output_dims for the n of ctx):
  // d_params (ParamCount()) is accumulated (+=), d_input (n x input_dims) is overwritten when
  // not empty. `ctx` comes from the last Forward of this network with a Context, whose input
  // must still be alive. Not concurrently on one Context (it holds Backward's scratch). Throws
  // facet::Error for sizes that do not match.
  void Backward(const Context& ctx, std::span<const float> d_output, std::span<float> d_params,
                std::span<float> d_input = {}) const;

 private:
  MlpOptions options_;
  std::vector<float> params_;
};

// Which implementation evaluates the networks on the CUDA path (nerf/cuda/mlp_cuda.h): kAuto the
// fused kernels where they are compiled for the network's shape (instant-ngp's density and colour
// networks) and the arrays allow them, cuBLAS otherwise; kFused throws for other shapes. The CPU
// path ignores it. The value-initialised MlpCudaKernel{} is kAuto.
enum class MlpCudaKernel { kAuto, kCublas, kFused };
// "auto", "cublas", "fused"; ParseMlpCudaKernel throws facet::Error naming the choices.
const char* ToString(MlpCudaKernel kernel);
MlpCudaKernel ParseMlpCudaKernel(const std::string& name);

// The offset of layer `layer`'s weights in Mlp::params() and its (rows, cols) = (out, in); shared
// by the CPU and CUDA paths. `layer` in [0, hidden_layers].
struct MlpLayer {
  std::size_t offset = 0;
  int rows = 0;
  int cols = 0;
};
MlpLayer MlpLayerAt(const MlpOptions& options, int layer);
std::size_t MlpParamCount(const MlpOptions& options);

}  // namespace facet::nerf
