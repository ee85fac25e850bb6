// Forward + backward throughput of the instant-ngp networks on the CPU (nerf/mlp.h): the density
// net 32 -> 64 -> 16 and the colour net 32 -> 64 -> 64 -> 3, for a batch of samples as one
// training step pushes through them. Reports items_per_second = samples per second of wall time;
// the CPU column is the whole process's CPU time (all threads), for busy machines.
//
//   ./build/release/bench/nerf_bench --benchmark_filter=Mlp
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "nerf/detail/mlp_block.h"
#include "nerf/mlp.h"

namespace facet::nerf {
namespace {

void RunMlp(benchmark::State& state, const MlpOptions& options, bool backward) {
  const auto n = std::size_t(state.range(0));
  const Mlp mlp(options, 1);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> input(n * options.input_dims), output(n * options.output_dims);
  std::vector<float> d_output(output.size()), d_input(input.size());
  std::vector<float> d_params(mlp.ParamCount());
  for (float& x : input) x = uniform(rng);
  for (float& x : d_output) x = uniform(rng);
  Mlp::Context ctx;
  for (auto _ : state) {
    mlp.Forward(input, n, output, backward ? &ctx : nullptr);
    if (backward) mlp.Backward(ctx, d_output, d_params, d_input);
    benchmark::DoNotOptimize(output.data());
    benchmark::DoNotOptimize(d_params.data());
  }
  state.SetLabel(detail::SelectMlpBlockKernels().name);  // "avx2+fma" or "generic"
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
}

void BM_MlpDensityForwardBackward(benchmark::State& state) {
  RunMlp(state, {.input_dims = 32, .output_dims = 16, .hidden_dims = 64, .hidden_layers = 1}, true);
}
void BM_MlpColourForwardBackward(benchmark::State& state) {
  RunMlp(state, {.input_dims = 32, .output_dims = 3, .hidden_dims = 64, .hidden_layers = 2}, true);
}
void BM_MlpDensityForward(benchmark::State& state) {
  RunMlp(state, {.input_dims = 32, .output_dims = 16, .hidden_dims = 64, .hidden_layers = 1},
         false);
}
void BM_MlpColourForward(benchmark::State& state) {
  RunMlp(state, {.input_dims = 32, .output_dims = 3, .hidden_dims = 64, .hidden_layers = 2}, false);
}

BENCHMARK(BM_MlpDensityForwardBackward)
    ->Arg(1 << 18)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_MlpColourForwardBackward)
    ->Arg(1 << 18)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_MlpDensityForward)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_MlpColourForward)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace
}  // namespace facet::nerf
