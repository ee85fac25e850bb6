// ParallelForCuda throughput on a memory-bound body (the same as BM_ParallelFor's, so the two
// compare); reported as items per second. Skips without a CUDA device.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/backend.h"
#include "core/parallel_for.h"

namespace {

void BM_ParallelForCuda(benchmark::State& state) {
  if (facet::CudaDeviceCount() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const std::int64_t n = state.range(0);
  float* data = nullptr;
  if (cudaMalloc(&data, n * sizeof(float)) != cudaSuccess) {
    state.SkipWithError("cudaMalloc failed");
    return;
  }
  for (auto _ : state) {
    facet::ParallelForCuda(
        n, [data] __device__(std::int64_t i) { data[i] = sqrtf(static_cast<float>(i)); });
    cudaDeviceSynchronize();
  }
  cudaFree(data);
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * static_cast<std::int64_t>(sizeof(float)));
}

BENCHMARK(BM_ParallelForCuda)->Arg(1 << 20)->Arg(1 << 26)->UseRealTime();

}  // namespace
