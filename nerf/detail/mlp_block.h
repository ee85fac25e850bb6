// The per-block layer loops of Mlp (nerf/mlp.cpp schedules the blocks and reduces the weight
// gradients): one block of `rows` samples through every layer as Eigen float matrix products,
// samples as the columns of column-major dims x rows matrices (the row-major n x dims arrays of
// the API). Internal to facet::nerf.
//
// The same source (mlp_block_impl.h) is compiled twice: for the baseline x86-64 (or any other)
// target, and, on x86-64, with AVX2 and FMA (mlp_block_avx2.cpp), which runs these products about
// twice as fast; Mlp picks the AVX2 kernels at run time when the CPU has both. The AVX2
// translation unit renames Eigen's namespace so that the two builds of Eigen's templates never
// meet at link time. Results of the two differ by float rounding (fused multiply-adds), so a
// network's outputs depend on the CPU's instruction set, never on the thread count.
#pragma once

#include <cstddef>
#include <span>

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
// Null when this build has no AVX2 kernels (not x86-64).
const MlpBlockKernels* Avx2MlpBlockKernels();
// The AVX2 kernels when built and the CPU has AVX2 and FMA, else the generic ones.
const MlpBlockKernels& SelectMlpBlockKernels();

}  // namespace facet::nerf::detail
