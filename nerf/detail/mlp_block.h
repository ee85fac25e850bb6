// The per-block layer loops of Mlp (nerf/mlp.cpp schedules the blocks and reduces the weight
// gradients): one block of `rows` samples through every layer as Eigen float matrix products,
// samples as the columns of column-major dims x rows matrices (the row-major n x dims arrays of
// the API). Internal to facet::nerf.
//
// The same source (mlp_block_impl.h) is compiled up to three times: for the baseline target,
// and, on x86-64, with AVX2 + FMA (mlp_block_avx2.cpp) and with AVX-512 (mlp_block_avx512.cpp),
// which run a block about 2.3 and 3 times as fast as the SSE2 build (one core, in cache;
// measured 2026-11); Mlp picks the widest the CPU runs, at run time. Those translation units rename
// Eigen's namespace so that the differently compiled copies of Eigen's templates never meet at link
// time. Their results differ by float rounding (fused multiply-adds, vector widths), so a network's
// outputs depend on the CPU's instruction set, never on the thread count.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace facet::nerf {
struct MlpOptions;
}

namespace facet::nerf::detail {

struct MlpBlockKernels {
  // hidden[l] (hidden_dims x rows) receives hidden layer l's post-ReLU activations; output is
  // output_dims x rows. input is input_dims x rows.
  void (*forward)(const MlpOptions& options, const float* params, const float* input,
                  std::ptrdiff_t rows, std::span<float* const> hidden, float* output);
  // d_params += this block's weight gradients; d_input (input_dims x rows) is overwritten unless
  // null; scratch holds 2 hidden_dims x rows floats.
  void (*backward)(const MlpOptions& options, const float* params, const float* input,
                   std::span<const float* const> hidden, const float* d_output, std::ptrdiff_t rows,
                   float* d_params, float* d_input, float* scratch);
  const char* name;
};

const MlpBlockKernels& GenericMlpBlockKernels();
// The kernels built into this binary that this CPU runs, from the baseline to the widest.
std::vector<const MlpBlockKernels*> RunnableMlpBlockKernels();
// The widest runnable kernels (the last of RunnableMlpBlockKernels), chosen once per process.
const MlpBlockKernels& SelectMlpBlockKernels();

}  // namespace facet::nerf::detail
