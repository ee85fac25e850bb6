// HashGridForwardCuda and HashGridBackwardCuda (table gradient only) at instant-ngp's default
// grid on 2^20 and 2^22 random positions; items/s is samples per second. Skips without a device.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/backend.h"
#include "core/cuda_check.h"
#include "nerf/cuda/hash_encoding_cuda.h"
#include "nerf/hash_encoding.h"

namespace facet::nerf {
namespace {

struct DeviceArrays {
  float* params = nullptr;
  float* grads = nullptr;
  float* positions = nullptr;
  float* features = nullptr;  // also the feature gradient
  std::int64_t n = 0;
  kernels::HashGridLayout layout;

  DeviceArrays(const HashGrid& grid, std::int64_t count) : n(count), layout(grid.layout()) {
    const std::size_t dims = std::size_t(grid.options().OutputDims());
    FACET_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&params), 4 * grid.ParamCount()));
    FACET_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&grads), 4 * grid.ParamCount()));
    FACET_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&positions), 4 * 3 * std::size_t(n)));
    FACET_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&features), 4 * dims * std::size_t(n)));
    FACET_CUDA_CHECK(
        cudaMemcpy(params, grid.params().data(), 4 * grid.ParamCount(), cudaMemcpyHostToDevice));
    FACET_CUDA_CHECK(cudaMemset(grads, 0, 4 * grid.ParamCount()));
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> host(3 * std::size_t(n));
    for (float& x : host) x = uniform(rng);
    FACET_CUDA_CHECK(cudaMemcpy(positions, host.data(), 4 * host.size(), cudaMemcpyHostToDevice));
    host.assign(dims * std::size_t(n), 1e-3f);
    FACET_CUDA_CHECK(cudaMemcpy(features, host.data(), 4 * host.size(), cudaMemcpyHostToDevice));
  }
  ~DeviceArrays() {
    cudaFree(params);
    cudaFree(grads);
    cudaFree(positions);
    cudaFree(features);
  }
  DeviceArrays(const DeviceArrays&) = delete;
  DeviceArrays& operator=(const DeviceArrays&) = delete;
};

void BM_HashGridForwardCuda(benchmark::State& state) {
  if (CudaDeviceCount() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const HashGrid grid(HashGridOptions{}, 1);
  DeviceArrays d(grid, state.range(0));
  for (auto _ : state) {
    HashGridForwardCuda(d.layout, d.params, d.positions, d.n, d.features);
    FACET_CUDA_CHECK(cudaDeviceSynchronize());
  }
  state.SetItemsProcessed(state.iterations() * d.n);
}
BENCHMARK(BM_HashGridForwardCuda)
    ->Arg(1 << 20)
    ->Arg(1 << 22)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_HashGridBackwardCuda(benchmark::State& state) {
  if (CudaDeviceCount() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const HashGrid grid(HashGridOptions{}, 1);
  DeviceArrays d(grid, state.range(0));
  for (auto _ : state) {
    HashGridBackwardCuda(d.layout, d.params, d.positions, d.n, d.features, d.grads, nullptr);
    FACET_CUDA_CHECK(cudaDeviceSynchronize());
  }
  state.SetItemsProcessed(state.iterations() * d.n);
}
BENCHMARK(BM_HashGridBackwardCuda)
    ->Arg(1 << 20)
    ->Arg(1 << 22)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace facet::nerf
