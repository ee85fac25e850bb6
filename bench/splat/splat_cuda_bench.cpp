// The CUDA 3DGS ops at the reference trainer's typical view size (800x800, Blender scenes) with
// 100k and 1M random Gaussians (SH degree 3): rasterizer forward alone and forward + backward,
// the photometric loss with its gradient, and one Adam step over every parameter. Reported per
// iteration (one view); every benchmark skips itself without a CUDA device.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <vector>

#include "core/backend.h"
#include "core/error.h"
#include "splatting/adam.h"
#include "splatting/cuda/adam_cuda.h"
#include "splatting/cuda/device_buffer.h"
#include "splatting/cuda/loss_cuda.h"
#include "splatting/cuda/rasterizer_cuda.h"

namespace facet::splatting {
namespace {

constexpr int kSize = 800;
constexpr int kShRestStride = 3 * 15;
constexpr int kFloatsPerGaussian = 3 + 3 + 4 + 1 + 3 + kShRestStride;  // 59

// All parameters of `n` Gaussians in one device array, group after group (gaussians.h layout):
// positions in the camera's frustum at depths 2-10, screen sizes of about 1-30 px, random
// opacities, colours and SH.
struct DeviceGaussians {
  std::int64_t n = 0;
  DeviceBuffer<float> params;  // [n * kFloatsPerGaussian]
  DeviceBuffer<float> grads;   // same layout

  GaussiansView<float> View() const {
    const float* p = params.data();
    return {p, p + 3 * n, p + 6 * n, p + 10 * n, p + 11 * n, p + 14 * n, n, kShRestStride};
  }
  GaussiansMutableView<float> Grads() {
    float* g = grads.data();
    return {g, g + 3 * n, g + 6 * n, g + 10 * n, g + 11 * n, g + 14 * n, n, kShRestStride};
  }
};

DeviceGaussians& Scene(std::int64_t n) {
  static std::map<std::int64_t, DeviceGaussians> cache;
  auto [it, inserted] = cache.try_emplace(n);
  if (inserted) {
    std::mt19937 rng(1);
    auto uniform = [&rng](float lo, float hi) {
      return std::uniform_real_distribution<float>(lo, hi)(rng);
    };
    std::vector<float> h(std::size_t(n) * kFloatsPerGaussian);
    float* means = h.data();
    float* log_scales = means + 3 * n;
    float* quats = means + 6 * n;
    float* opacities = means + 10 * n;
    float* sh_dc = means + 11 * n;
    float* sh_rest = means + 14 * n;
    for (std::int64_t i = 0; i < n; ++i) {
      const float z = uniform(2.0f, 10.0f);
      means[3 * i] = uniform(-0.55f, 0.55f) * z;
      means[3 * i + 1] = uniform(-0.55f, 0.55f) * z;
      means[3 * i + 2] = z;
      for (int k = 0; k < 3; ++k) log_scales[3 * i + k] = std::log(uniform(0.003f, 0.04f));
      for (int k = 0; k < 4; ++k) quats[4 * i + k] = uniform(-1.0f, 1.0f);
      opacities[i] = uniform(-2.0f, 4.0f);
      for (int k = 0; k < 3; ++k) sh_dc[3 * i + k] = uniform(-1.0f, 1.5f);
      for (int k = 0; k < kShRestStride; ++k) sh_rest[kShRestStride * i + k] = uniform(-0.1f, 0.1f);
    }
    DeviceGaussians& d = it->second;
    d.n = n;
    d.params.Upload(h);
    d.grads.Resize(std::int64_t(h.size()));
  }
  return it->second;
}

RasterCamera<float> Camera() {
  RasterCamera<float> cam;
  for (int i = 0; i < 9; ++i) cam.view.cam_from_world_rotation.m[i] = i % 4 == 0 ? 1.0f : 0.0f;
  cam.view.cam_from_world_translation = {0.0f, 0.0f, 0.0f};
  cam.view.fx = cam.view.fy = 0.9f * kSize;  // about 58 degrees field of view
  cam.view.cx = cam.view.cy = 0.5f * kSize;
  cam.view.width = cam.view.height = float(kSize);
  cam.width = cam.height = kSize;
  return cam;
}

bool SkipWithoutDevice(benchmark::State& state) {
  if (CudaDeviceCount() > 0) return false;
  state.SkipWithError("no CUDA device");
  return true;
}

void BM_RasterizeCuda(benchmark::State& state, bool backward) {
  if (SkipWithoutDevice(state)) return;
  try {
    DeviceGaussians& g = Scene(state.range(0));
    CudaRasterizer rasterizer;
    const RasterCamera<float> camera = Camera();
    const RasterOptions options;
    DeviceBuffer<float> v_rgb(3 * std::int64_t(kSize) * kSize);
    std::vector<float> ones(std::size_t(v_rgb.size()), 1e-6f);
    v_rgb.Upload(ones);
    DeviceBuffer<float> v_mean2d(2 * g.n), v_mean2d_abs(2 * g.n);
    for (auto _ : state) {
      rasterizer.Forward(g.View(), camera, options);
      if (backward) {
        rasterizer.Backward(v_rgb.data(), nullptr, g.Grads(), v_mean2d.data(), v_mean2d_abs.data());
      }
      rasterizer.Synchronize();
    }
    state.counters["keys"] = double(rasterizer.State().num_keys);
    state.SetItemsProcessed(state.iterations() * g.n);
  } catch (const Error& e) {
    state.SkipWithError(e.what());
  }
}

void BM_ForwardCuda(benchmark::State& state) { BM_RasterizeCuda(state, false); }
void BM_ForwardBackwardCuda(benchmark::State& state) { BM_RasterizeCuda(state, true); }

void BM_PhotometricLossCuda(benchmark::State& state) {
  if (SkipWithoutDevice(state)) return;
  try {
    const std::int64_t count = 3 * std::int64_t(kSize) * kSize;
    std::mt19937 rng(2);
    std::vector<float> render(count), target(count);
    for (float& v : render) v = std::uniform_real_distribution<float>(0.0f, 1.0f)(rng);
    for (float& v : target) v = std::uniform_real_distribution<float>(0.0f, 1.0f)(rng);
    DeviceBuffer<float> d_render{std::span<const float>(render)};
    DeviceBuffer<float> d_target{std::span<const float>(target)};
    DeviceBuffer<float> d_grad(count);
    CudaLossWorkspace workspace;
    for (auto _ : state) {
      benchmark::DoNotOptimize(PhotometricLossCuda(d_render.data(), d_target.data(), kSize, kSize,
                                                   3, d_grad.data(), 0.2, workspace));
    }
  } catch (const Error& e) {
    state.SkipWithError(e.what());
  }
}

void BM_AdamStepCuda(benchmark::State& state) {
  if (SkipWithoutDevice(state)) return;
  try {
    DeviceGaussians& g = Scene(state.range(0));
    const std::int64_t count = g.params.size();
    DeviceBuffer<float> m(count), v(count);
    m.SetZero();
    v.SetZero();
    g.grads.SetZero();
    std::int64_t step = 0;
    for (auto _ : state) {
      AdamStepCuda(g.params.data(), g.grads.data(), m.data(), v.data(), count, 1e-4f, ++step,
                   AdamOptions{});
      FACET_CUDA_CHECK(cudaDeviceSynchronize());
    }
    state.SetBytesProcessed(state.iterations() * count * 5 * std::int64_t(sizeof(float)));
  } catch (const Error& e) {
    state.SkipWithError(e.what());
  }
}

BENCHMARK(BM_ForwardCuda)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ForwardBackwardCuda)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_PhotometricLossCuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AdamStepCuda)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace facet::splatting

BENCHMARK_MAIN();
