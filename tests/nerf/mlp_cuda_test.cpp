// The CUDA MLP (fused and cuBLAS kernels) and Adam (nerf/cuda/) against the CPU reference on
// random data: forward outputs, weight and input gradients of the density and colour network
// shapes, and the dense and sparse Adam steps. Built with CUDA, run with `ctest -L gpu`; skips
// without a device.
#include "nerf/cuda/mlp_cuda.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/cuda_check.h"
#include "mlp_test_util.h"
#include "nerf/adam.h"
#include "nerf/cuda/adam_cuda.h"
#include "nerf/mlp.h"

namespace facet::nerf {
namespace {

#define SKIP_WITHOUT_DEVICE()                                     \
  do {                                                            \
    if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device"; \
  } while (false)

// A device copy of a float array.
class DeviceFloats {
 public:
  explicit DeviceFloats(std::size_t size) : size_(size) {
    FACET_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_),
                                std::max<std::size_t>(size, 1) * sizeof(float)));
  }
  explicit DeviceFloats(std::span<const float> host) : DeviceFloats(host.size()) {
    FACET_CUDA_CHECK(
        cudaMemcpy(data_, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
  }
  ~DeviceFloats() { cudaFree(data_); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  float* get() const { return data_; }
  std::vector<float> Download() const {
    std::vector<float> host(size_);
    FACET_CUDA_CHECK(cudaMemcpy(host.data(), data_, size_ * sizeof(float), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  float* data_ = nullptr;
  std::size_t size_ = 0;
};

using test::ExpectClose;
using test::Random;

class MlpCuda : public ::testing::TestWithParam<MlpOptions> {};

TEST_P(MlpCuda, MatchesTheCpuForwardAndBackward) {
  SKIP_WITHOUT_DEVICE();
  const MlpOptions o = GetParam();
  const Mlp mlp(o, 21);
  const std::size_t n = 5003;
  const std::vector<float> input = Random(n * o.input_dims, 1);
  const std::vector<float> d_output = Random(n * o.output_dims, 2);
  std::vector<float> output(n * o.output_dims), d_input(input.size());
  std::vector<float> d_params(mlp.ParamCount(), 0.5f);  // accumulated into
  Mlp::Context ctx;
  mlp.Forward(input, n, output, &ctx);
  mlp.Backward(ctx, d_output, d_params, d_input);

  std::vector<MlpCudaKernel> kernels = {MlpCudaKernel::kCublas};
  if (FusedMlpCudaSupports(o)) kernels.push_back(MlpCudaKernel::kFused);
  // The two instant-ngp networks have fused kernels; the third shape has none.
  EXPECT_EQ(FusedMlpCudaSupports(o), o.hidden_layers > 0);
  for (const MlpCudaKernel kernel : kernels) {
    SCOPED_TRACE(ToString(kernel));
    const std::vector<float> params(mlp.params().begin(), mlp.params().end());
    DeviceFloats d_params_in(params), d_in(input), d_dout(d_output);
    DeviceFloats d_out(output.size()), d_din(input.size());
    DeviceFloats d_grads(std::vector<float>(params.size(), 0.5f));
    DeviceFloats activations(std::size_t(MlpCudaActivationFloats(o, std::int64_t(n))));
    DeviceFloats scratch(std::size_t(MlpCudaBackwardScratchFloats(o, std::int64_t(n))));
    MlpForwardCuda(o, d_params_in.get(), d_in.get(), std::int64_t(n), d_out.get(),
                   activations.get(), nullptr, kernel);
    MlpBackwardCuda(o, d_params_in.get(), d_in.get(), activations.get(), d_dout.get(),
                    std::int64_t(n), d_grads.get(), d_din.get(), scratch.get(), nullptr, kernel);
    FACET_CUDA_CHECK(cudaDeviceSynchronize());
    ExpectClose(d_out.Download(), output, 1e-5, "output");
    ExpectClose(activations.Download(), ctx.activations, 1e-5, "activations");
    ExpectClose(d_grads.Download(), d_params, 1e-4, "d_params");
    ExpectClose(d_din.Download(), d_input, 1e-5, "d_input");
    // Without an input gradient the weight gradients are the same.
    DeviceFloats d_grads2(std::vector<float>(params.size(), 0.5f));
    MlpBackwardCuda(o, d_params_in.get(), d_in.get(), activations.get(), d_dout.get(),
                    std::int64_t(n), d_grads2.get(), nullptr, scratch.get(), nullptr, kernel);
    EXPECT_EQ(d_grads2.Download(), d_grads.Download());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MlpCuda,
    ::testing::Values(
        MlpOptions{.input_dims = 32, .output_dims = 16, .hidden_dims = 64, .hidden_layers = 1},
        MlpOptions{.input_dims = 32, .output_dims = 3, .hidden_dims = 64, .hidden_layers = 2},
        MlpOptions{.input_dims = 5, .output_dims = 2, .hidden_dims = 7, .hidden_layers = 0}),
    [](const ::testing::TestParamInfo<MlpOptions>& param_info) {
      const MlpOptions& o = param_info.param;
      return "In" + std::to_string(o.input_dims) + "Out" + std::to_string(o.output_dims) +
             "Hidden" + std::to_string(o.hidden_dims) + "x" + std::to_string(o.hidden_layers);
    });

TEST(MlpCudaKernels, FusedNeedsItsShapesAndAlignedArraysAutoFallsBack) {
  SKIP_WITHOUT_DEVICE();
  const MlpOptions small{.input_dims = 5, .output_dims = 2, .hidden_dims = 7, .hidden_layers = 1};
  DeviceFloats buffer(4096);
  float* p = buffer.get();
  EXPECT_THROW(MlpForwardCuda(small, p, p, 8, p, p, nullptr, MlpCudaKernel::kFused), Error);
  // A density-network call on an input that is not 16-byte aligned: kFused refuses, kAuto takes
  // cuBLAS and gives the CPU's result.
  const MlpOptions o{.input_dims = 32, .output_dims = 16, .hidden_dims = 64, .hidden_layers = 1};
  const Mlp mlp(o, 5);
  const std::size_t n = 37;
  const std::vector<float> input = Random(n * o.input_dims + 1, 9);
  std::vector<float> output(n * o.output_dims);
  mlp.Forward(std::span<const float>(input).subspan(1), n, output, nullptr);
  const std::vector<float> params(mlp.params().begin(), mlp.params().end());
  DeviceFloats d_params(params), d_in(input), d_out(output.size());
  DeviceFloats activations(std::size_t(MlpCudaActivationFloats(o, std::int64_t(n))));
  EXPECT_THROW(MlpForwardCuda(o, d_params.get(), d_in.get() + 1, std::int64_t(n), d_out.get(),
                              activations.get(), nullptr, MlpCudaKernel::kFused),
               Error);
  MlpForwardCuda(o, d_params.get(), d_in.get() + 1, std::int64_t(n), d_out.get(),
                 activations.get());
  FACET_CUDA_CHECK(cudaDeviceSynchronize());
  ExpectClose(d_out.Download(), output, 1e-5, "output");
}

TEST(NerfAdamCuda, MatchesTheCpuStepDenseAndSparse) {
  SKIP_WITHOUT_DEVICE();
  for (const bool sparse : {false, true}) {
    const AdamOptions options{.learning_rate = 1e-2f, .l2 = 1e-6f, .sparse = sparse};
    const std::size_t count = 100003;
    std::vector<float> params = Random(count, 3);
    Adam adam(count, options);
    DeviceFloats d_params(params), d_m(std::vector<float>(count, 0.0f)),
        d_v(std::vector<float>(count, 0.0f)), d_grads(count);
    for (int step = 1; step <= 3; ++step) {
      std::vector<float> grads = Random(count, 10 + step);
      for (std::size_t i = 0; i < count; i += 3) grads[i] = 0.0f;  // untouched entries
      FACET_CUDA_CHECK(
          cudaMemcpy(d_grads.get(), grads.data(), count * sizeof(float), cudaMemcpyHostToDevice));
      adam.Step(params, grads, 0.5f);
      AdamStepCuda(options, step, 0.5f, d_params.get(), d_grads.get(), d_m.get(), d_v.get(),
                   std::int64_t(count));
    }
    const std::vector<float> gpu = d_params.Download(), m = d_m.Download(), v = d_v.Download();
    for (std::size_t i = 0; i < count; ++i) {
      ASSERT_NEAR(gpu[i], params[i], 1e-6f * (1.0f + std::abs(params[i]))) << i;
      ASSERT_NEAR(m[i], adam.first_moment()[i], 1e-6f) << i;
      ASSERT_NEAR(v[i], adam.second_moment()[i], 1e-6f) << i;
    }
    if (sparse) {
      EXPECT_EQ(m[0], 0.0f);  // never touched
    }
  }
  EXPECT_THROW(AdamStepCuda({}, 0, 1.0f, nullptr, nullptr, nullptr, nullptr, 0), Error);
  EXPECT_THROW(AdamStepCuda({}, 1, 1.0f, nullptr, nullptr, nullptr, nullptr, 5), Error);
}

}  // namespace
}  // namespace facet::nerf
