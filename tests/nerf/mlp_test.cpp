// The CPU MLP (nerf/mlp.h) against a double-precision reference: outputs, weight and input
// gradients by central differences, accumulation, determinism across thread counts, a small
// regression learned with Adam, and argument checks.
#include "nerf/mlp.h"

#include <gtest/gtest.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "nerf/adam.h"
#include "nerf/detail/mlp_block.h"

namespace facet::nerf {
namespace {

// The network of one sample in double, from float weights (the layout of Mlp::params()).
std::vector<double> ReferenceForward(const MlpOptions& o, const std::vector<double>& params,
                                     const double* x) {
  std::vector<double> a(x, x + o.input_dims);
  for (int l = 0; l <= o.hidden_layers; ++l) {
    const MlpLayer layer = MlpLayerAt(o, l);
    std::vector<double> z(layer.rows, 0.0);
    for (int r = 0; r < layer.rows; ++r) {
      for (int c = 0; c < layer.cols; ++c) {
        z[r] += params[layer.offset + std::size_t(r) * layer.cols + c] * a[c];
      }
      if (l < o.hidden_layers) z[r] = std::max(z[r], 0.0);
    }
    a = z;
  }
  return a;
}

std::vector<float> Random(std::size_t size, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(size);
  for (float& x : v) x = u(rng);
  return v;
}

class MlpGradients : public ::testing::TestWithParam<int> {};

// L = sum c .* output for random c: Backward with d_output = c against central differences of the
// double reference (step 1e-6 in double: truncation and rounding errors ~1e-10, far below the
// float rounding of the network, ~1e-6 relative).
TEST_P(MlpGradients, MatchCentralDifferencesInDouble) {
  const MlpOptions o{
      .input_dims = 5, .output_dims = 3, .hidden_dims = 7, .hidden_layers = GetParam()};
  const Mlp mlp(o, 11);
  const std::size_t n = 600;  // three row blocks, the last one partial
  const std::vector<float> input = Random(n * o.input_dims, 1);
  const std::vector<float> c = Random(n * o.output_dims, 2);
  std::vector<float> output(n * o.output_dims), d_params(mlp.ParamCount(), 0.0f);
  std::vector<float> d_input(input.size());
  Mlp::Context ctx;
  mlp.Forward(input, n, output, &ctx);
  mlp.Backward(ctx, c, d_params, d_input);

  std::vector<double> params(mlp.params().begin(), mlp.params().end());
  const std::vector<double> x(input.begin(), input.end());
  const auto loss_of_sample = [&](std::size_t i, const std::vector<double>& p, const double* xi) {
    const std::vector<double> y = ReferenceForward(o, p, xi);
    double loss = 0.0;
    for (int k = 0; k < o.output_dims; ++k) loss += double(c[i * o.output_dims + k]) * y[k];
    return loss;
  };
  // Outputs.
  for (std::size_t i = 0; i < n; ++i) {
    const std::vector<double> y = ReferenceForward(o, params, &x[i * o.input_dims]);
    for (int k = 0; k < o.output_dims; ++k) {
      ASSERT_NEAR(output[i * o.output_dims + k], y[k], 1e-5 * (1.0 + std::abs(y[k])));
    }
  }
  // Weight gradients.
  const double h = 1e-6;
  for (std::size_t j = 0; j < params.size(); ++j) {
    double plus = 0.0, minus = 0.0;
    const double saved = params[j];
    params[j] = saved + h;
    for (std::size_t i = 0; i < n; ++i) plus += loss_of_sample(i, params, &x[i * o.input_dims]);
    params[j] = saved - h;
    for (std::size_t i = 0; i < n; ++i) minus += loss_of_sample(i, params, &x[i * o.input_dims]);
    params[j] = saved;
    const double fd = (plus - minus) / (2.0 * h);
    EXPECT_NEAR(d_params[j], fd, 1e-4 * (1.0 + std::abs(fd))) << "weight " << j;
  }
  // Input gradients (each sample's input moves only its own output).
  for (std::size_t i = 0; i < n; i += 7) {
    for (int j = 0; j < o.input_dims; ++j) {
      std::vector<double> xi(&x[i * o.input_dims], &x[(i + 1) * o.input_dims]);
      xi[j] += h;
      const double plus = loss_of_sample(i, params, xi.data());
      xi[j] -= 2.0 * h;
      const double minus = loss_of_sample(i, params, xi.data());
      const double fd = (plus - minus) / (2.0 * h);
      EXPECT_NEAR(d_input[i * o.input_dims + j], fd, 1e-5 * (1.0 + std::abs(fd)))
          << "sample " << i << " input " << j;
    }
  }
  // d_params accumulates.
  std::vector<float> twice = d_params;
  mlp.Backward(ctx, c, twice);
  for (std::size_t j = 0; j < twice.size(); ++j) EXPECT_FLOAT_EQ(twice[j], 2.0f * d_params[j]);
}

INSTANTIATE_TEST_SUITE_P(HiddenLayers, MlpGradients, ::testing::Values(0, 1, 2));

TEST(NerfMlp, ParameterLayoutAndInit) {
  const MlpOptions o{.input_dims = 32, .output_dims = 3, .hidden_dims = 64, .hidden_layers = 2};
  const Mlp mlp(o, 5);
  EXPECT_EQ(mlp.ParamCount(), 32u * 64 + 64u * 64 + 64u * 3);
  EXPECT_EQ(MlpLayerAt(o, 2).offset, 32u * 64 + 64u * 64);
  EXPECT_EQ(MlpLayerAt(o, 2).rows, 3);
  // Xavier uniform: every weight of layer l in [-s, s], with a spread close to s / sqrt(3).
  for (int l = 0; l <= 2; ++l) {
    const MlpLayer layer = MlpLayerAt(o, l);
    const float s = std::sqrt(6.0f / float(layer.rows + layer.cols));
    double sum_sq = 0.0;
    const std::size_t count = std::size_t(layer.rows) * layer.cols;
    for (std::size_t i = 0; i < count; ++i) {
      const float w = mlp.params()[layer.offset + i];
      ASSERT_LE(std::abs(w), s);
      sum_sq += double(w) * w;
    }
    EXPECT_NEAR(std::sqrt(sum_sq / double(count)), s / std::sqrt(3.0), 0.1 * s) << l;
  }
  // Same seed, same weights; another seed, others.
  const Mlp same(o, 5), other(o, 6);
  EXPECT_TRUE(std::equal(mlp.params().begin(), mlp.params().end(), same.params().begin()));
  EXPECT_FALSE(std::equal(mlp.params().begin(), mlp.params().end(), other.params().begin()));
}

// Bit-identical outputs and gradients with 1 and 3 threads (70000 rows: 274 blocks, 55 chunks).
TEST(NerfMlp, DeterministicAcrossThreadCounts) {
  const MlpOptions o{.input_dims = 32, .output_dims = 16, .hidden_dims = 64, .hidden_layers = 1};
  const Mlp mlp(o, 3);
  const std::size_t n = 70000;
  const std::vector<float> input = Random(n * o.input_dims, 4);
  const std::vector<float> d_output = Random(n * o.output_dims, 5);
  struct Result {
    std::vector<float> output, d_params, d_input;
  };
  const auto run = [&](int threads) {
    Result r{std::vector<float>(n * o.output_dims), std::vector<float>(mlp.ParamCount(), 0.0f),
             std::vector<float>(input.size())};
    oneapi::tbb::task_arena arena(threads);
    arena.execute([&] {
      Mlp::Context ctx;
      mlp.Forward(input, n, r.output, &ctx);
      mlp.Backward(ctx, d_output, r.d_params, r.d_input);
    });
    return r;
  };
  const Result one = run(1), three = run(3);
  EXPECT_EQ(one.output, three.output);
  EXPECT_EQ(one.d_params, three.d_params);
  EXPECT_EQ(one.d_input, three.d_input);
  // Inference without a context gives the same outputs.
  std::vector<float> output(n * o.output_dims);
  mlp.Forward(input, n, output, nullptr);
  EXPECT_EQ(output, one.output);
}

// A student 4 -> 32 -> 32 -> 2 learns a teacher 4 -> 16 -> 2 network (inputs (x, y, z, 1): the
// constant stands in for the biases these networks do not have) with Adam on the mean squared
// error: the loss falls by more than three orders of magnitude.
TEST(NerfMlp, LearnsATeacherNetworkWithAdam) {
  const MlpOptions teacher_options{
      .input_dims = 4, .output_dims = 2, .hidden_dims = 16, .hidden_layers = 1};
  const MlpOptions student_options{
      .input_dims = 4, .output_dims = 2, .hidden_dims = 32, .hidden_layers = 2};
  const Mlp teacher(teacher_options, 100);
  Mlp student(student_options, 200);
  const std::size_t n = 512;
  std::vector<float> input = Random(n * 4, 8);
  for (std::size_t i = 0; i < n; ++i) input[i * 4 + 3] = 1.0f;
  std::vector<float> target(n * 2), output(n * 2), d_output(n * 2);
  teacher.Forward(input, n, target, nullptr);
  Adam adam(student.ParamCount(), {.learning_rate = 1e-2f});
  std::vector<float> grads(student.ParamCount());
  Mlp::Context ctx;
  double first_loss = 0.0, loss = 0.0;
  for (int step = 0; step < 1500; ++step) {
    student.Forward(input, n, output, &ctx);
    loss = 0.0;
    for (std::size_t k = 0; k < output.size(); ++k) {
      const float r = output[k] - target[k];
      loss += double(r) * r / double(output.size());
      d_output[k] = 2.0f * r / float(output.size());
    }
    if (step == 0) first_loss = loss;
    std::fill(grads.begin(), grads.end(), 0.0f);
    student.Backward(ctx, d_output, grads);
    adam.Step(student.params(), grads);
  }
  EXPECT_LT(loss, 1e-3 * first_loss) << "from " << first_loss << " to " << loss;
}

// Every vector build of the block kernels this CPU runs (AVX2 + FMA, AVX-512) against the
// baseline build on one block of the colour network: the same sums, rounded differently (fused
// multiply-adds, other vector widths), so agreement to a few float ulps of the magnitudes summed.
TEST(NerfMlp, VectorKernelsMatchTheGenericOnes) {
  const std::vector<const detail::MlpBlockKernels*> runnable = detail::RunnableMlpBlockKernels();
  ASSERT_FALSE(runnable.empty());
  EXPECT_EQ(runnable.front(), &detail::GenericMlpBlockKernels());
  EXPECT_EQ(runnable.back(), &detail::SelectMlpBlockKernels());
  if (runnable.size() == 1) GTEST_SKIP() << "no vector kernels on this build or CPU";
  const MlpOptions o{.input_dims = 32, .output_dims = 3, .hidden_dims = 64, .hidden_layers = 2};
  const Mlp mlp(o, 9);
  const std::ptrdiff_t rows = 200;
  const std::vector<float> input = Random(std::size_t(rows) * o.input_dims, 1);
  const std::vector<float> d_output = Random(std::size_t(rows) * o.output_dims, 2);
  struct Result {
    std::vector<float> h0, h1, output, d_params, d_input;
  };
  const auto run = [&](const detail::MlpBlockKernels& kernels) {
    const std::size_t hidden = std::size_t(rows) * o.hidden_dims;
    Result r{std::vector<float>(hidden), std::vector<float>(hidden),
             std::vector<float>(std::size_t(rows) * o.output_dims),
             std::vector<float>(mlp.ParamCount(), 0.0f), std::vector<float>(input.size())};
    std::vector<float> scratch(2 * hidden);
    const std::array<float*, 2> h = {r.h0.data(), r.h1.data()};
    const std::array<const float*, 2> ch = {r.h0.data(), r.h1.data()};
    kernels.forward(o, mlp.params().data(), input.data(), rows, h, r.output.data());
    kernels.backward(o, mlp.params().data(), input.data(), ch, d_output.data(), rows,
                     r.d_params.data(), r.d_input.data(), scratch.data());
    return r;
  };
  const auto expect_close = [](const std::vector<float>& x, const std::vector<float>& y,
                               const std::string& what) {
    float scale = 0.0f, worst = 0.0f;
    for (std::size_t i = 0; i < x.size(); ++i) {
      scale = std::max(scale, std::abs(y[i]));
      worst = std::max(worst, std::abs(x[i] - y[i]));
    }
    EXPECT_LE(worst, 1e-5f * scale) << what;
  };
  const Result reference = run(*runnable.front());
  for (std::size_t k = 1; k < runnable.size(); ++k) {
    const Result r = run(*runnable[k]);
    const std::string name = runnable[k]->name;
    expect_close(r.h1, reference.h1, name + " hidden activations");
    expect_close(r.output, reference.output, name + " output");
    expect_close(r.d_params, reference.d_params, name + " weight gradients");
    expect_close(r.d_input, reference.d_input, name + " input gradients");
  }
}

TEST(NerfMlp, RejectsBadOptionsAndSizes) {
  EXPECT_THROW(Mlp({.input_dims = 0}, 1), Error);
  EXPECT_THROW(Mlp({.output_dims = 2000}, 1), Error);
  EXPECT_THROW(Mlp({.hidden_dims = -1}, 1), Error);
  EXPECT_THROW(Mlp({.hidden_layers = 17}, 1), Error);
  const Mlp mlp({.input_dims = 3, .output_dims = 2, .hidden_dims = 4, .hidden_layers = 1}, 1);
  std::vector<float> input(30), output(20), d_params(mlp.ParamCount());
  Mlp::Context ctx;
  EXPECT_THROW(mlp.Forward(input, 11, output, &ctx), Error);
  EXPECT_THROW(mlp.Forward(std::span<const float>(input).first(27), 10, output, &ctx), Error);
  EXPECT_THROW(mlp.Backward(ctx, output, d_params), Error);  // no forward yet
  mlp.Forward(input, 10, output, &ctx);
  EXPECT_THROW(mlp.Backward(ctx, std::span<const float>(output).first(18), d_params), Error);
  EXPECT_THROW(mlp.Backward(ctx, output, std::span<float>(d_params).first(5)), Error);
  std::vector<float> d_input(29);
  EXPECT_THROW(mlp.Backward(ctx, output, d_params, d_input), Error);
  const Mlp other({.input_dims = 3, .output_dims = 2, .hidden_dims = 8, .hidden_layers = 1}, 1);
  std::vector<float> other_grads(other.ParamCount());
  EXPECT_THROW(other.Backward(ctx, output, other_grads), Error);  // context of another network
  EXPECT_THROW(MlpLayerAt(mlp.options(), 2), Error);
}

}  // namespace
}  // namespace facet::nerf
