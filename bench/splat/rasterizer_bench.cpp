// Micro-benchmarks of the CPU training kernels at OpenSplat's comparison size (640x481): the
// rasterizer forward and backward over random Gaussians in front of the camera, and the
// photometric loss (L1 + SSIM) with its gradient.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "core/image.h"
#include "splatting/gaussians.h"
#include "splatting/loss.h"
#include "splatting/rasterizer.h"

namespace {

using namespace facet;
using namespace facet::splatting;

constexpr int kWidth = 640, kHeight = 481;

// `n` Gaussians spread over the view of a camera at the origin looking down +z, with sizes that
// give screen footprints of a few to tens of pixels (as a trained scene at this resolution).
Gaussians RandomScene(std::int64_t n) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Gaussians g(n, 3);
  for (std::int64_t i = 0; i < n; ++i) {
    const float z = 2.0f + 6.0f * u(rng);
    g.means[3 * i] = (u(rng) - 0.5f) * z;
    g.means[3 * i + 1] = (u(rng) - 0.5f) * 0.75f * z;
    g.means[3 * i + 2] = z;
    for (int k = 0; k < 3; ++k) g.log_scales[3 * i + k] = std::log(0.01f + 0.05f * u(rng));
    for (int k = 0; k < 4; ++k) g.quats[4 * i + k] = u(rng) - 0.5f;
    g.opacities[i] = 4.0f * u(rng) - 2.0f;
    for (int k = 0; k < 3; ++k) g.sh_dc[3 * i + k] = u(rng) - 0.5f;
    for (int k = 0; k < g.ShRestStride(); ++k)
      g.sh_rest[i * g.ShRestStride() + k] = 0.1f * (u(rng) - 0.5f);
  }
  return g;
}

RasterCamera<float> Camera() {
  RasterCamera<float> cam;
  for (int i = 0; i < 9; ++i) cam.view.cam_from_world_rotation.m[i] = (i % 4 == 0) ? 1.0f : 0.0f;
  cam.view.cam_from_world_translation = {0.0f, 0.0f, 0.0f};
  cam.view.fx = cam.view.fy = 600.0f;
  cam.view.cx = kWidth / 2.0f;
  cam.view.cy = kHeight / 2.0f;
  cam.view.width = kWidth;
  cam.view.height = kHeight;
  cam.center = {0.0f, 0.0f, 0.0f};
  cam.width = kWidth;
  cam.height = kHeight;
  return cam;
}

void BM_RasterizeForward(benchmark::State& state) {
  const Gaussians g = RandomScene(state.range(0));
  const RasterCamera<float> cam = Camera();
  RasterResult<float> result;
  for (auto _ : state) {
    RasterizeForward(g.View(), cam, RasterOptions{}, &result);
    benchmark::DoNotOptimize(result.rgb.data());
  }
  state.counters["intersections"] = double(result.tile_ids.size());
}
BENCHMARK(BM_RasterizeForward)->Arg(2937)->Arg(30000)->Unit(benchmark::kMillisecond);

void BM_RasterizeBackward(benchmark::State& state) {
  Gaussians g = RandomScene(state.range(0));
  const RasterCamera<float> cam = Camera();
  RasterResult<float> result;
  RasterizeForward(g.View(), cam, RasterOptions{}, &result);
  std::vector<float> v_rgb(result.rgb.size(), 1e-6f);
  Gaussians grads(g.size(), 3);
  RasterGradients2D<float> g2;
  for (auto _ : state) {
    RasterizeBackward(g.View(), cam, RasterOptions{}, result, v_rgb.data(),
                      static_cast<const float*>(nullptr), grads.MutableView(), &g2);
    benchmark::DoNotOptimize(grads.means.data());
  }
}
BENCHMARK(BM_RasterizeBackward)->Arg(2937)->Arg(30000)->Unit(benchmark::kMillisecond);

void BM_PhotometricLoss(benchmark::State& state) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  ImageF32 a(kWidth, kHeight, 3), b(kWidth, kHeight, 3), d(kWidth, kHeight, 3);
  for (std::size_t i = 0; i < std::size_t(kWidth) * kHeight * 3; ++i) {
    a.data()[i] = u(rng);
    b.data()[i] = u(rng);
  }
  for (auto _ : state) {
    ImageView<float> dv = d.view();
    benchmark::DoNotOptimize(PhotometricLoss(a.view(), b.view(), &dv));
  }
}
BENCHMARK(BM_PhotometricLoss)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
