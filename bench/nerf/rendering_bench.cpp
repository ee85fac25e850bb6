// The CPU NeRF rendering kernels on a batch of 2^15 rays (~80 kept samples each) from a sphere
// around the unit box towards points inside it, through a 128^3 occupancy
// grid of an analytic sphere (density 50, radius 0.3), constant steps sqrt(3)/1024. Counters:
// samples per second (kept samples for MarchRays, composited samples for RenderRays).
#include <Eigen/Core>
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "nerf/occupancy_grid.h"
#include "nerf/ray_marching.h"
#include "nerf/volume_rendering.h"

namespace {

using namespace facet::nerf;

constexpr std::size_t kRays = std::size_t(1) << 15;

void Sphere(std::span<const float> x, std::size_t n, std::span<float> density) {
  for (std::size_t i = 0; i < n; ++i) {
    const float dx = x[3 * i] - 0.5f, dy = x[3 * i + 1] - 0.5f, dz = x[3 * i + 2] - 0.5f;
    density[i] = dx * dx + dy * dy + dz * dz <= 0.09f ? 50.0f : 0.0f;
  }
}

struct Scene {
  OccupancyGrid grid{Eigen::Vector3f::Zero(), Eigen::Vector3f::Ones(), OccupancyGridOptions{}};
  std::vector<float> origins, directions;
  Scene() {
    grid.Update(Sphere, 0, 1);
    std::mt19937 rng(3);
    std::normal_distribution<float> normal;
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (std::size_t r = 0; r < kRays; ++r) {
      Eigen::Vector3f o(normal(rng), normal(rng), normal(rng));
      o = Eigen::Vector3f::Constant(0.5f) + 1.5f * o.normalized();
      const Eigen::Vector3f d = (Eigen::Vector3f(u(rng), u(rng), u(rng)) - o).normalized();
      for (int k = 0; k < 3; ++k) {
        origins.push_back(o[k]);
        directions.push_back(d[k]);
      }
    }
  }
};

const Scene& GetScene() {
  static const Scene scene;
  return scene;
}

void BM_MarchRays(benchmark::State& state) {
  const Scene& s = GetScene();
  std::size_t samples = 0;
  for (auto _ : state) {
    const RaySamples out = MarchRays(s.origins, s.directions, kRays, s.grid, {}, 7);
    samples += out.size();
    benchmark::DoNotOptimize(out.t.data());
  }
  state.counters["samples/s"] = benchmark::Counter(double(samples), benchmark::Counter::kIsRate);
  state.counters["samples/ray"] = double(samples) / double(state.iterations() * kRays);
}
BENCHMARK(BM_MarchRays)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RenderRays(benchmark::State& state) {
  const Scene& s = GetScene();
  const RaySamples samples = MarchRays(s.origins, s.directions, kRays, s.grid, {}, 7);
  std::vector<float> sigma(samples.size());
  Sphere(samples.positions, samples.size(), sigma);
  const CompositeSamples in{samples.ray_offsets, samples.t, samples.dt, sigma, samples.positions};
  std::vector<float> colour(3 * kRays), opacity(kRays), depth(kRays), bg{1.0f, 1.0f, 1.0f};
  std::vector<std::uint32_t> used(kRays);
  const bool backward = state.range(0) != 0;
  std::vector<float> d_colour(3 * kRays, 0.1f), d_sigma(samples.size()), d_rgb(3 * samples.size());
  for (auto _ : state) {
    RenderRays(in, bg, {}, {colour, opacity, depth, used});
    if (backward) RenderRaysBackward(in, bg, used, d_colour, {}, {}, d_sigma, d_rgb);
    benchmark::DoNotOptimize(colour.data());
  }
  state.counters["samples/s"] = benchmark::Counter(
      double(samples.size()) * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RenderRays)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("backward")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
