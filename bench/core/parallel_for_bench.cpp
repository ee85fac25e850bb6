// Scheduling overhead of ParallelFor against a plain serial loop, for the grain sizes kernels use.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/parallel_for.h"

namespace {

void BM_SerialLoop(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  std::vector<float> out(n);
  for (auto _ : state) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = std::sqrt(static_cast<float>(i));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_ParallelFor(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const std::int64_t grain = state.range(1);
  std::vector<float> out(n);
  float* data = out.data();
  for (auto _ : state) {
    facet::ParallelFor(
        n, [data](std::int64_t i) { data[i] = std::sqrt(static_cast<float>(i)); }, grain);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

BENCHMARK(BM_SerialLoop)->Arg(1 << 20);
BENCHMARK(BM_ParallelFor)->Args({1 << 20, 1})->Args({1 << 20, 1024})->Args({1 << 20, 16384});

}  // namespace

// One main for the CPU and (when built) CUDA benchmarks of this binary.
BENCHMARK_MAIN();
