// The fused MLP's per-sample bodies (nerf/kernels/fused_mlp.h), run on the CPU exactly as each
// CUDA thread runs them (weights staged by several emulated threads), against the CPU reference
// Mlp: outputs, activations, per-layer gradients reduced into weight gradients, input gradients.
#include "nerf/kernels/fused_mlp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "mlp_test_util.h"
#include "nerf/mlp.h"

namespace facet::nerf {
namespace {

using test::Random;

// test::ExpectClose on arrays that are not all zero.
void ExpectClose(const std::vector<float>& a, const std::vector<float>& b, double tolerance,
                 const std::string& what) {
  EXPECT_TRUE(std::any_of(b.begin(), b.end(), [](float x) { return x != 0.0f; })) << what;
  test::ExpectClose(a, b, tolerance, what);
}

template <int kIn, int kHidden, int kOut>
void CheckAgainstMlp(int hidden_layers) {
  using Shape = kernels::FusedMlpShape<kIn, kHidden, kOut>;
  const MlpOptions o{.input_dims = kIn,
                     .output_dims = kOut,
                     .hidden_dims = kHidden,
                     .hidden_layers = hidden_layers};
  const std::string name = std::to_string(kIn) + "->" + std::to_string(kHidden) + "x" +
                           std::to_string(hidden_layers) + "->" + std::to_string(kOut);
  const Mlp mlp(o, 7);
  const std::size_t n = 301;
  const std::vector<float> input = Random(n * kIn, 1), d_output = Random(n * kOut, 2);
  std::vector<float> output(n * kOut), d_input(n * kIn), d_params(mlp.ParamCount(), 0.0f);
  Mlp::Context ctx;
  mlp.Forward(input, n, output, &ctx);
  mlp.Backward(ctx, d_output, d_params, d_input);

  // The forward weights staged by 3 "threads" with interleaved indices, as a block stages them.
  ASSERT_EQ(std::size_t(Shape::BackwardWeightFloats(hidden_layers)), mlp.ParamCount());
  std::vector<float> staged(std::size_t(Shape::ForwardWeightFloats(hidden_layers)), NAN);
  for (int t = 0; t < 3; ++t)
    Shape::StageForwardWeights(mlp.params().data(), hidden_layers, staged.data(), t, 3);
  for (float w : staged) ASSERT_FALSE(std::isnan(w)) << name << ": a staged weight is unset";

  const std::int64_t layer_stride = std::int64_t(n) * kHidden;
  std::vector<float> fused_output(n * kOut), activations(hidden_layers * layer_stride);
  std::vector<float> no_act_output(n * kOut);
  for (std::size_t i = 0; i < n; ++i) {
    Shape::Forward(staged.data(), hidden_layers, input.data() + i * kIn,
                   fused_output.data() + i * kOut, activations.data() + i * kHidden, layer_stride);
    Shape::Forward(staged.data(), hidden_layers, input.data() + i * kIn,
                   no_act_output.data() + i * kOut, nullptr, layer_stride);
  }
  ExpectClose(fused_output, output, 1e-5, name + " output");
  ExpectClose(activations, ctx.activations, 1e-5, name + " activations");
  EXPECT_EQ(no_act_output, fused_output) << name;

  std::vector<float> g(hidden_layers * layer_stride), fused_d_input(n * kIn);
  for (std::size_t i = 0; i < n; ++i) {
    Shape::Backward(mlp.params().data(), hidden_layers, activations.data() + i * kHidden,
                    layer_stride, d_output.data() + i * kOut, g.data() + i * kHidden, layer_stride,
                    fused_d_input.data() + i * kIn);
  }
  ExpectClose(fused_d_input, d_input, 1e-5, name + " d_input");
  // The caller's reduction (the GEMMs of mlp_cuda.cpp): dW_l[r][c] = sum_i g_l[i][r] in_l[i][c].
  std::vector<float> fused_d_params(mlp.ParamCount(), 0.0f);
  for (int l = 0; l <= hidden_layers; ++l) {
    const MlpLayer layer = MlpLayerAt(o, l);
    const float* in = l == 0 ? input.data() : activations.data() + (l - 1) * layer_stride;
    const float* grad = l == hidden_layers ? d_output.data() : g.data() + l * layer_stride;
    for (std::size_t i = 0; i < n; ++i) {
      for (int r = 0; r < layer.rows; ++r) {
        for (int c = 0; c < layer.cols; ++c) {
          fused_d_params[layer.offset + std::size_t(r) * layer.cols + c] +=
              grad[i * layer.rows + r] * in[i * layer.cols + c];
        }
      }
    }
  }
  ExpectClose(fused_d_params, d_params, 1e-4, name + " d_params");
  // Zero gradient wherever the ReLU was off.
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (!(activations[i] > 0.0f)) {
      ASSERT_EQ(g[i], 0.0f) << name << " at " << i;
    }
  }
}

TEST(FusedMlp, DensityNetworkMatchesTheCpuMlp) { CheckAgainstMlp<32, 64, 16>(1); }

TEST(FusedMlp, ColourNetworkMatchesTheCpuMlp) { CheckAgainstMlp<32, 64, 3>(2); }

TEST(FusedMlp, OtherShapesAndDepthsMatchTheCpuMlp) {
  CheckAgainstMlp<8, 12, 5>(3);
  CheckAgainstMlp<4, 8, 8>(1);
}

TEST(FusedMlp, LastLayerPaddingIsZero) {
  using Shape = kernels::FusedMlpShape<4, 8, 3>;
  const MlpOptions o{.input_dims = 4, .output_dims = 3, .hidden_dims = 8, .hidden_layers = 1};
  const Mlp mlp(o, 3);
  std::vector<float> staged(std::size_t(Shape::ForwardWeightFloats(1)), NAN);
  Shape::StageForwardWeights(mlp.params().data(), 1, staged.data(), 0, 1);
  const std::size_t last = 4 * 8;
  for (int k = 0; k < 8; ++k) {
    for (int out = 0; out < 3; ++out) {
      EXPECT_EQ(staged[last + k * 4 + out], mlp.params()[last + out * 8 + k]);
    }
    EXPECT_EQ(staged[last + k * 4 + 3], 0.0f);
  }
}

TEST(MlpCudaKernel, NamesRoundTrip) {
  for (const MlpCudaKernel k :
       {MlpCudaKernel::kAuto, MlpCudaKernel::kCublas, MlpCudaKernel::kFused})
    EXPECT_EQ(ParseMlpCudaKernel(ToString(k)), k);
  EXPECT_EQ(MlpCudaKernel{}, MlpCudaKernel::kAuto);
  EXPECT_THROW(ParseMlpCudaKernel("tensor"), Error);
}

}  // namespace
}  // namespace facet::nerf
