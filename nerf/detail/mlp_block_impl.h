// The body of nerf/detail/mlp_block.h's kernels, included by mlp_block_generic.cpp and
// mlp_block_avx2.cpp with FACET_MLP_BLOCK_NAMESPACE naming the namespace of their copy. Include
// nothing before it in those files: the AVX2 one renames Eigen's namespace with a macro.
// One block is one task of Mlp's oneTBB loops: Eigen must not start threads of its own.
#ifndef EIGEN_DONT_PARALLELIZE
#define EIGEN_DONT_PARALLELIZE
#endif
#include <Eigen/Core>

#include <cstddef>
#include <span>

#include "nerf/detail/mlp_block.h"
#include "nerf/mlp.h"

namespace facet::nerf::detail::FACET_MLP_BLOCK_NAMESPACE {
namespace {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;  // column-major
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Samples = Eigen::Map<Matrix>;
using ConstSamples = Eigen::Map<const Matrix>;
using Weights = Eigen::Map<RowMatrix>;
using ConstWeights = Eigen::Map<const RowMatrix>;

void Forward(const MlpOptions& o, const float* params, const float* input, std::ptrdiff_t rows,
             std::span<float* const> hidden, float* output) {
  const float* previous = input;
  int previous_dims = o.input_dims;
  for (int l = 0; l <= o.hidden_layers; ++l) {
    const MlpLayer layer = MlpLayerAt(o, l);
    const bool last = l == o.hidden_layers;
    float* out = last ? output : hidden[l];
    Samples(out, layer.rows, rows).noalias() =
        ConstWeights(params + layer.offset, layer.rows, layer.cols) *
        ConstSamples(previous, previous_dims, rows);
    if (!last) {
      const std::ptrdiff_t count = std::ptrdiff_t(layer.rows) * rows;
      for (std::ptrdiff_t i = 0; i < count; ++i) out[i] = out[i] > 0.0f ? out[i] : 0.0f;
    }
    previous = out;
    previous_dims = layer.rows;
  }
}

void Backward(const MlpOptions& o, const float* params, const float* input,
              std::span<const float* const> hidden, const float* d_output, std::ptrdiff_t rows,
              float* d_params, float* d_input, float* scratch) {
  const std::ptrdiff_t hidden_count = std::ptrdiff_t(o.hidden_dims) * rows;
  const float* g = d_output;  // dL/d(pre-activation output of layer l)
  for (int l = o.hidden_layers; l >= 0; --l) {
    const MlpLayer layer = MlpLayerAt(o, l);
    const float* layer_input = l == 0 ? input : hidden[l - 1];
    ConstSamples g_map(g, layer.rows, rows);
    ConstWeights w(params + layer.offset, layer.rows, layer.cols);
    Weights(d_params + layer.offset, layer.rows, layer.cols).noalias() +=
        g_map * ConstSamples(layer_input, layer.cols, rows).transpose();
    if (l == 0) {
      if (d_input != nullptr) {
        Samples(d_input, layer.cols, rows).noalias() = w.transpose() * g_map;
      }
      break;
    }
    // Through W^T and the ReLU of hidden layer l - 1 (passing where its output is > 0).
    float* next = (g == scratch) ? scratch + hidden_count : scratch;
    Samples(next, layer.cols, rows).noalias() = w.transpose() * g_map;
    for (std::ptrdiff_t i = 0; i < hidden_count; ++i) {
      next[i] = layer_input[i] > 0.0f ? next[i] : 0.0f;
    }
    g = next;
  }
}

}  // namespace

extern const MlpBlockKernels kKernels;
const MlpBlockKernels kKernels{Forward, Backward, FACET_MLP_BLOCK_NAME};

}  // namespace facet::nerf::detail::FACET_MLP_BLOCK_NAMESPACE
