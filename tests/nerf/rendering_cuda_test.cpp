// The CUDA compositing and ray marching (nerf/cuda/) against the CPU paths on the sphere scene
// of toy_scene.h and random sample batches. Built with CUDA, run with `ctest -L gpu`; skips
// without a device.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "core/backend.h"
#include "core/cuda_check.h"
#include "nerf/cuda/ray_marching_cuda.h"
#include "nerf/cuda/volume_rendering_cuda.h"
#include "nerf/occupancy_grid.h"
#include "nerf/ray_marching.h"
#include "nerf/volume_rendering.h"
#include "toy_scene.h"

namespace facet::nerf {
namespace {

#define SKIP_WITHOUT_DEVICE()                                     \
  do {                                                            \
    if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device"; \
  } while (false)

// A minimal owning device array for the test's uploads.
template <typename T>
class Device {
 public:
  explicit Device(std::size_t n) : n_(n) {
    FACET_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), sizeof(T) * (n > 0 ? n : 1)));
  }
  explicit Device(std::span<const T> host) : Device(host.size()) {
    if (n_ > 0)
      FACET_CUDA_CHECK(cudaMemcpy(p_, host.data(), sizeof(T) * n_, cudaMemcpyHostToDevice));
  }
  ~Device() { cudaFree(p_); }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  T* get() { return p_; }
  std::vector<T> Host() const {
    std::vector<T> h(n_);
    if (n_ > 0) FACET_CUDA_CHECK(cudaMemcpy(h.data(), p_, sizeof(T) * n_, cudaMemcpyDeviceToHost));
    return h;
  }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

template <typename T>
Device<T> Upload(const std::vector<T>& v) {
  return Device<T>(std::span<const T>(v));
}

OccupancyGrid SphereGrid() {
  OccupancyGridOptions options;
  options.resolution = 32;
  options.cascades = 2;
  OccupancyGrid grid(Eigen::Vector3f::Zero(), Eigen::Vector3f::Ones(), options);
  for (int step = 0; step < 3; ++step) grid.Update(testing::SphereDensityBatch, step, 50 + step);
  return grid;
}

// The device march of `rays` (their device copies) through `grid` with device occupancy bits.
MarchRaysCudaInputs MarchInputs(const testing::Rays& rays, const float* origins,
                                const float* directions, const OccupancyGrid& grid,
                                const std::uint8_t* occupancy, const RayMarchingOptions& options,
                                std::uint32_t seed) {
  MarchRaysCudaInputs in;
  in.n_rays = std::int64_t(rays.count);
  in.origins = origins;
  in.directions = directions;
  in.grid = grid.View();
  in.grid.occupancy = occupancy;
  in.params = ResolveMarchParams(grid, options);
  in.jitter_seed = seed;
  return in;
}

TEST(NerfCuda, RayMarchingMatchesTheCpu) {
  SKIP_WITHOUT_DEVICE();
  const OccupancyGrid grid = SphereGrid();
  const testing::Rays rays = testing::RandomRays(4000, 8);
  for (const float cone : {0.0f, 1.0f / 256.0f}) {
    RayMarchingOptions options;
    options.cone_angle = cone;
    const RaySamples cpu = MarchRays(rays.origins, rays.directions, rays.count, grid, options, 5);
    const std::vector<std::uint8_t> occupancy(grid.occupancy().begin(), grid.occupancy().end());
    auto d_occ = Upload(occupancy);
    auto d_o = Upload(rays.origins);
    auto d_d = Upload(rays.directions);
    const MarchRaysCudaInputs in =
        MarchInputs(rays, d_o.get(), d_d.get(), grid, d_occ.get(), options, 5);
    Device<std::uint32_t> offsets(rays.count + 1);
    const std::uint32_t total = CountRaySamplesCuda(in, offsets.get());
    Device<float> t(total), dt(total), pos(3 * std::size_t(total)), dir(3 * std::size_t(total));
    FillRaySamplesCuda(in, offsets.get(), t.get(), dt.get(), pos.get(), dir.get());
    FACET_CUDA_CHECK(cudaDeviceSynchronize());
    // Float contraction on the device can move a sample across a cell boundary: allow a few
    // rays (< 1%) to differ by a sample, and compare the rest sample by sample.
    const std::vector<std::uint32_t> gpu_offsets = offsets.Host();
    const std::vector<float> gpu_t = t.Host(), gpu_dt = dt.Host();
    EXPECT_NEAR(double(total), double(cpu.size()), 0.01 * double(cpu.size()));
    std::size_t differing = 0;
    for (std::size_t r = 0; r < rays.count; ++r) {
      const std::uint32_t n_cpu = cpu.ray_offsets[r + 1] - cpu.ray_offsets[r];
      const std::uint32_t n_gpu = gpu_offsets[r + 1] - gpu_offsets[r];
      if (n_cpu != n_gpu) {
        ++differing;
        continue;
      }
      for (std::uint32_t i = 0; i < n_cpu; ++i) {
        EXPECT_NEAR(gpu_t[gpu_offsets[r] + i], cpu.t[cpu.ray_offsets[r] + i], 1e-4f);
        EXPECT_NEAR(gpu_dt[gpu_offsets[r] + i], cpu.dt[cpu.ray_offsets[r] + i], 1e-5f);
      }
    }
    EXPECT_LT(differing, rays.count / 100) << "cone " << cone;
  }
}

// The fill writes every slot the count left room for: with offsets counted on a fully occupied
// grid and a fill on the sphere's grid (fewer kept samples, as a rounding difference between the
// two kernels could give), each ray's samples are the sphere's, then zero-width padding at its
// last sample, and nothing is left uninitialised.
TEST(NerfCuda, FillPadsAShortfallWithZeroWidthSamples) {
  SKIP_WITHOUT_DEVICE();
  const OccupancyGrid sphere = SphereGrid();
  const testing::Rays rays = testing::RandomRays(1000, 4);
  RayMarchingOptions options;
  options.max_samples_per_ray = 1u << 16;  // no ray stops early on the full grid
  const RaySamples cpu = MarchRays(rays.origins, rays.directions, rays.count, sphere, options, 7);
  const std::vector<std::uint8_t> occupied(sphere.occupancy().size(), 1);
  const std::vector<std::uint8_t> sparse(sphere.occupancy().begin(), sphere.occupancy().end());
  auto d_full = Upload(occupied);
  auto d_sparse = Upload(sparse);
  auto d_o = Upload(rays.origins);
  auto d_d = Upload(rays.directions);
  MarchRaysCudaInputs in =
      MarchInputs(rays, d_o.get(), d_d.get(), sphere, d_full.get(), options, 7);
  Device<std::uint32_t> offsets(rays.count + 1);
  RayMarchScratchCuda scratch;
  const std::uint32_t total = CountRaySamplesCuda(in, offsets.get(), &scratch);
  ASSERT_GT(total, std::uint32_t(cpu.size()));
  // NaN everywhere first, so that a slot the fill skips shows.
  const std::vector<float> nan(4 * std::size_t(total), NAN);
  Device<float> t(std::span<const float>(nan.data(), total));
  Device<float> dt(std::span<const float>(nan.data(), total));
  Device<float> pos(std::span<const float>(nan.data(), 3 * std::size_t(total)));
  Device<float> dir(std::span<const float>(nan.data(), 3 * std::size_t(total)));
  in.grid.occupancy = d_sparse.get();
  FillRaySamplesCuda(in, offsets.get(), t.get(), dt.get(), pos.get(), dir.get());
  FACET_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<std::uint32_t> off = offsets.Host();
  const std::vector<float> gpu_t = t.Host(), gpu_dt = dt.Host(), gpu_pos = pos.Host();
  for (const float x : pos.Host()) ASSERT_TRUE(std::isfinite(x));
  for (const float x : dir.Host()) ASSERT_TRUE(std::isfinite(x));
  std::size_t padded_rays = 0, differing = 0;
  for (std::size_t r = 0; r < rays.count; ++r) {
    const std::uint32_t kept = cpu.ray_offsets[r + 1] - cpu.ray_offsets[r];
    const std::uint32_t slots = off[r + 1] - off[r];
    ASSERT_GE(slots, kept) << "ray " << r;  // a fully occupied grid keeps a superset
    std::uint32_t real = 0;                 // the fill's kept samples: dt > 0
    while (real < slots && gpu_dt[off[r] + real] > 0.0f) ++real;
    if (real != kept) ++differing;  // rounding on the device, as RayMarchingMatchesTheCpu
    padded_rays += slots > real ? 1 : 0;
    for (std::uint32_t i = real; i < slots; ++i) {
      const std::size_t j = off[r] + i;
      EXPECT_EQ(gpu_dt[j], 0.0f);
      EXPECT_EQ(gpu_t[j], real > 0 ? gpu_t[off[r] + real - 1] : 0.0f);
      for (int k = 0; k < 3; ++k) {
        const float expected = real > 0 ? gpu_pos[3 * (off[r] + real - 1) + k] : in.grid.centre[k];
        EXPECT_EQ(gpu_pos[3 * j + k], expected);
      }
    }
  }
  EXPECT_GT(padded_rays, rays.count / 10);
  EXPECT_LT(differing, rays.count / 100);
}

TEST(NerfCuda, CompositingMatchesTheCpu) {
  SKIP_WITHOUT_DEVICE();
  const OccupancyGrid grid = SphereGrid();
  const testing::Rays rays = testing::RandomRays(3000, 2);
  const RaySamples s = MarchRays(rays.origins, rays.directions, rays.count, grid, {}, 9);
  const std::size_t n = s.size(), n_rays = rays.count;
  std::vector<float> sigma(n), rgb(3 * n), background(3 * n_rays);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (std::size_t i = 0; i < n; ++i) sigma[i] = 60.0f * u(rng);
  for (float& c : rgb) c = u(rng);
  for (float& c : background) c = u(rng);
  std::vector<float> colour(3 * n_rays), opacity(n_rays), depth(n_rays);
  std::vector<std::uint32_t> used(n_rays);
  const CompositeSamples host{s.ray_offsets, s.t, s.dt, sigma, rgb};
  RenderRays(host, background, {}, {colour, opacity, depth, used});
  std::vector<float> d_colour(3 * n_rays), d_opacity(n_rays), d_depth(n_rays);
  for (float& g : d_colour) g = u(rng) - 0.5f;
  for (float& g : d_opacity) g = u(rng) - 0.5f;
  for (float& g : d_depth) g = u(rng) - 0.5f;
  std::vector<float> d_sigma(n), d_rgb(3 * n);
  RenderRaysBackward(host, background, used, d_colour, d_opacity, d_depth, d_sigma, d_rgb);

  auto g_off = Upload(s.ray_offsets);
  auto g_t = Upload(s.t), g_dt = Upload(s.dt), g_sigma = Upload(sigma), g_rgb = Upload(rgb),
       g_bg = Upload(background);
  CompositeSamplesCuda dev{std::int64_t(n_rays), g_off.get(), g_t.get(),  g_dt.get(),
                           g_sigma.get(),        g_rgb.get(), g_bg.get(), true};
  Device<float> g_colour(3 * n_rays), g_opacity(n_rays), g_depth(n_rays);
  Device<std::uint32_t> g_used(n_rays);
  RenderRaysCuda(dev, 1e-4f, g_colour.get(), g_opacity.get(), g_depth.get(), g_used.get());
  auto g_dc = Upload(d_colour), g_do = Upload(d_opacity), g_dd = Upload(d_depth);
  Device<float> g_dsigma(n), g_drgb(3 * n);
  // The backward pass takes the CPU's samples_used so that both differentiate the same sums.
  auto g_used_cpu = Upload(used);
  RenderRaysBackwardCuda(dev, g_used_cpu.get(), g_dc.get(), g_do.get(), g_dd.get(), g_dsigma.get(),
                         g_drgb.get());
  FACET_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<float> gc = g_colour.Host(), go = g_opacity.Host(), gd = g_depth.Host();
  const std::vector<std::uint32_t> gu = g_used.Host();
  std::size_t used_differs = 0;
  for (std::size_t r = 0; r < n_rays; ++r) {
    used_differs += gu[r] != used[r] ? 1 : 0;
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(gc[3 * r + k], colour[3 * r + k], 1e-4f);
    EXPECT_NEAR(go[r], opacity[r], 1e-4f);
    EXPECT_NEAR(gd[r], depth[r], 1e-4f);
  }
  EXPECT_LE(used_differs, n_rays / 100);  // only where T crosses 1e-4 within rounding
  const std::vector<float> gs = g_dsigma.Host(), gr = g_drgb.Host();
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_NEAR(gs[i], d_sigma[i], 1e-4f * (1.0f + std::fabs(d_sigma[i])));
  }
  for (std::size_t i = 0; i < 3 * n; ++i) EXPECT_NEAR(gr[i], d_rgb[i], 1e-5f);
}

}  // namespace
}  // namespace facet::nerf
