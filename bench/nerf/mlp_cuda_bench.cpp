// Forward + backward throughput of the CUDA MLP (nerf/cuda/mlp_cuda.h; cuBLAS and fused kernels)
// for the instant-ngp density net 32 -> 64 -> 16 and colour net 32 -> 64 -> 64 -> 3 at 2^20 samples
// (one training batch), and the device Adam step over a 2^24-entry hash table. items_per_second =
// samples (or parameters) per second of wall time, synchronised each iteration. Skips without a
// device.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <exception>
#include <vector>

#include "core/backend.h"
#include "core/cuda_check.h"
#include "nerf/adam.h"
#include "nerf/cuda/adam_cuda.h"
#include "nerf/cuda/mlp_cuda.h"
#include "nerf/mlp.h"

namespace facet::nerf {
namespace {

// A device array of `size` floats set to `value`.
class DeviceFloats {
 public:
  DeviceFloats(std::size_t size, float value) {
    FACET_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), (size + 1) * sizeof(float)));
    const std::vector<float> host(size, value);
    FACET_CUDA_CHECK(cudaMemcpy(data_, host.data(), size * sizeof(float), cudaMemcpyHostToDevice));
  }
  ~DeviceFloats() { cudaFree(data_); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  float* get() const { return data_; }

 private:
  float* data_ = nullptr;
};

void RunMlpCuda(benchmark::State& state, const MlpOptions& o, MlpCudaKernel kernel) {
  if (CudaDeviceCount() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  try {
    const std::int64_t n = state.range(0);
    const Mlp mlp(o, 1);
    const std::vector<float> params(mlp.params().begin(), mlp.params().end());
    DeviceFloats d_params(params.size(), 0.0f), grads(params.size(), 0.0f);
    FACET_CUDA_CHECK(cudaMemcpy(d_params.get(), params.data(), params.size() * sizeof(float),
                                cudaMemcpyHostToDevice));
    DeviceFloats input(std::size_t(n) * o.input_dims, 0.5f);
    DeviceFloats output(std::size_t(n) * o.output_dims, 0.0f);
    DeviceFloats d_output(std::size_t(n) * o.output_dims, 1e-3f);
    DeviceFloats d_input(std::size_t(n) * o.input_dims, 0.0f);
    DeviceFloats activations(std::size_t(MlpCudaActivationFloats(o, n)), 0.0f);
    DeviceFloats scratch(std::size_t(MlpCudaBackwardScratchFloats(o, n)), 0.0f);
    for (auto _ : state) {
      MlpForwardCuda(o, d_params.get(), input.get(), n, output.get(), activations.get(), nullptr,
                     kernel);
      MlpBackwardCuda(o, d_params.get(), input.get(), activations.get(), d_output.get(), n,
                      grads.get(), d_input.get(), scratch.get(), nullptr, kernel);
      FACET_CUDA_CHECK(cudaDeviceSynchronize());
    }
    state.SetItemsProcessed(std::int64_t(state.iterations()) * n);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

constexpr MlpOptions kDensity{
    .input_dims = 32, .output_dims = 16, .hidden_dims = 64, .hidden_layers = 1};
constexpr MlpOptions kColour{
    .input_dims = 32, .output_dims = 3, .hidden_dims = 64, .hidden_layers = 2};

void BM_MlpCudaDensityForwardBackward(benchmark::State& state) {
  RunMlpCuda(state, kDensity, MlpCudaKernel::kCublas);
}
void BM_MlpCudaColourForwardBackward(benchmark::State& state) {
  RunMlpCuda(state, kColour, MlpCudaKernel::kCublas);
}
void BM_MlpCudaFusedDensityForwardBackward(benchmark::State& state) {
  RunMlpCuda(state, kDensity, MlpCudaKernel::kFused);
}
void BM_MlpCudaFusedColourForwardBackward(benchmark::State& state) {
  RunMlpCuda(state, kColour, MlpCudaKernel::kFused);
}

void BM_AdamCudaStep(benchmark::State& state) {
  if (CudaDeviceCount() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  try {
    const auto count = std::size_t(state.range(0));
    DeviceFloats params(count, 0.1f), grads(count, 1e-3f), m(count, 0.0f), v(count, 0.0f);
    const AdamOptions options{.sparse = true};
    std::int64_t step = 0;
    for (auto _ : state) {
      AdamStepCuda(options, ++step, 1.0f, params.get(), grads.get(), m.get(), v.get(),
                   std::int64_t(count));
      FACET_CUDA_CHECK(cudaDeviceSynchronize());
    }
    state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(count));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

BENCHMARK(BM_MlpCudaDensityForwardBackward)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_MlpCudaColourForwardBackward)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_MlpCudaFusedDensityForwardBackward)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_MlpCudaFusedColourForwardBackward)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_AdamCudaStep)->Arg(1 << 24)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace facet::nerf

BENCHMARK_MAIN();
