// HashGrid::Forward and ::Backward (CPU) at instant-ngp's default grid (L 16, F 2, T 19,
// N 16..2048, 12.2M parameters) on 2^18 uniformly random positions; items/s is samples per second.
// The "threads" argument sizes the task arena (0: all hardware threads); with 1 the CPU time is the
// work.
#include <benchmark/benchmark.h>
#include <oneapi/tbb/task_arena.h>

#include <cstdint>
#include <random>
#include <vector>

#include "nerf/hash_encoding.h"
#include "nerf/huge_page_allocator.h"

namespace facet::nerf {
namespace {

std::vector<float> RandomVector(std::size_t size, std::uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(lo, hi);
  std::vector<float> v(size);
  for (float& x : v) x = uniform(rng);
  return v;
}

const HashGrid& DefaultGrid() {
  static const HashGrid grid(HashGridOptions{}, 1);
  return grid;
}

int Threads(const benchmark::State& state, int index) {
  const auto t = int(state.range(index));
  return t > 0 ? t : oneapi::tbb::this_task_arena::max_concurrency();
}

void BM_HashGridForward(benchmark::State& state) {
  oneapi::tbb::task_arena arena(Threads(state, 1));
  const HashGrid& grid = DefaultGrid();
  const auto n = std::size_t(state.range(0));
  const std::vector<float> positions = RandomVector(3 * n, 2, 0.0f, 1.0f);
  std::vector<float> features(n * std::size_t(grid.options().OutputDims()));
  for (auto _ : state) {
    arena.execute([&] { grid.Forward(positions, n, features); });
    benchmark::DoNotOptimize(features.data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(n));
}
BENCHMARK(BM_HashGridForward)
    ->ArgNames({"n", "threads"})
    ->Args({1 << 18, 1})
    ->Args({1 << 18, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// "d_pos" 1: also the position gradient.
void BM_HashGridBackward(benchmark::State& state) {
  oneapi::tbb::task_arena arena(Threads(state, 2));
  const HashGrid& grid = DefaultGrid();
  const auto n = std::size_t(state.range(0));
  const std::vector<float> positions = RandomVector(3 * n, 2, 0.0f, 1.0f);
  const std::vector<float> d_features =
      RandomVector(n * std::size_t(grid.options().OutputDims()), 3, -1.0f, 1.0f);
  std::vector<float, HugePageAllocator<float>> d_params(grid.ParamCount(), 0.0f);
  std::vector<float> d_positions(state.range(1) != 0 ? 3 * n : 0);
  for (auto _ : state) {
    arena.execute([&] { grid.Backward(positions, n, d_features, d_params, d_positions); });
    benchmark::DoNotOptimize(d_params.data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(n));
}
BENCHMARK(BM_HashGridBackward)
    ->ArgNames({"n", "d_pos", "threads"})
    ->Args({1 << 18, 0, 1})
    ->Args({1 << 18, 0, 0})
    ->Args({1 << 18, 1, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace facet::nerf

BENCHMARK_MAIN();
