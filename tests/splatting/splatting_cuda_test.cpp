// The CUDA splatting ops (splatting/cuda/) against the CPU reference on random scenes and images:
// the rasterizer's forward outputs, saved state and backward gradients, the photometric loss and
// its gradient, and the Adam step. Built with CUDA, run with `ctest -L gpu`; skips without a
// device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/error.h"
#include "core/image.h"
#include "splatting/adam.h"
#include "splatting/cuda/adam_cuda.h"
#include "splatting/cuda/device_buffer.h"
#include "splatting/cuda/loss_cuda.h"
#include "splatting/cuda/rasterizer_cuda.h"
#include "splatting/loss.h"
#include "splatting/rasterizer.h"

namespace facet::splatting {
namespace {

#define SKIP_WITHOUT_DEVICE()                                     \
  do {                                                            \
    if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device"; \
  } while (false)

float Uniform(std::mt19937& rng, float lo, float hi) {
  return std::uniform_real_distribution<float>(lo, hi)(rng);
}

// Host Gaussians (layout: splatting/gaussians.h) and their device copy.
struct HostScene {
  int stride = 3 * 15;  // SH degree 3
  std::vector<float> means, log_scales, quats, opacities, sh_dc, sh_rest;
  std::int64_t Count() const { return std::int64_t(opacities.size()); }
  GaussiansView<float> View() const {
    return {means.data(), log_scales.data(), quats.data(), opacities.data(),
            sh_dc.data(), sh_rest.data(),    Count(),      stride};
  }
};

struct DeviceScene {
  DeviceBuffer<float> means, log_scales, quats, opacities, sh_dc, sh_rest;
  std::int64_t count = 0;
  int stride = 0;
  explicit DeviceScene(const HostScene& h)
      : means(std::span<const float>(h.means)),
        log_scales(std::span<const float>(h.log_scales)),
        quats(std::span<const float>(h.quats)),
        opacities(std::span<const float>(h.opacities)),
        sh_dc(std::span<const float>(h.sh_dc)),
        sh_rest(std::span<const float>(h.sh_rest)),
        count(h.Count()),
        stride(h.stride) {}
  GaussiansView<float> View() const {
    return {means.data(), log_scales.data(), quats.data(), opacities.data(),
            sh_dc.data(), sh_rest.data(),    count,        stride};
  }
  GaussiansMutableView<float> MutableView() {
    return {means.data(), log_scales.data(), quats.data(), opacities.data(),
            sh_dc.data(), sh_rest.data(),    count,        stride};
  }
  // The six groups in Gaussians::Group order, downloaded.
  std::vector<std::vector<float>> Groups() const {
    return {means.ToHost(),     log_scales.ToHost(), quats.ToHost(),
            opacities.ToHost(), sh_dc.ToHost(),      sh_rest.ToHost()};
  }
};

// A camera rotated by 0.15 rad about y, moved off the origin, principal point off-centre, so that
// every term of the projection and its VJP is exercised.
RasterCamera<float> TestCamera(int width, int height) {
  RasterCamera<float> cam;
  const double a = 0.15, c = std::cos(a), s = std::sin(a);
  const double r[9] = {c, 0.0, -s, 0.0, 1.0, 0.0, s, 0.0, c};
  const double t[3] = {0.2, -0.1, 0.3};
  for (int i = 0; i < 9; ++i) cam.view.cam_from_world_rotation.m[i] = float(r[i]);
  cam.view.cam_from_world_translation = {float(t[0]), float(t[1]), float(t[2])};
  // centre = -R^T t
  cam.center = {float(-(r[0] * t[0] + r[3] * t[1] + r[6] * t[2])),
                float(-(r[1] * t[0] + r[4] * t[1] + r[7] * t[2])),
                float(-(r[2] * t[0] + r[5] * t[1] + r[8] * t[2]))};
  cam.view.fx = 0.9f * float(width);
  cam.view.fy = 0.9f * float(width) + 3.0f;
  cam.view.cx = 0.52f * float(width);
  cam.view.cy = 0.47f * float(height);
  cam.view.width = float(width);
  cam.view.height = float(height);
  cam.width = width;
  cam.height = height;
  return cam;
}

// `n` Gaussians in and around the view of TestCamera (2% behind it, some outside the image), from
// a pixel to tens of pixels wide (log-uniform scales), dense enough that tile lists need several
// shared-memory batches and many pixels saturate.
HostScene RandomScene(std::mt19937& rng, int n) {
  HostScene s;
  for (int i = 0; i < n; ++i) {
    const float z = i % 50 == 0 ? Uniform(rng, -2.0f, 0.0f) : Uniform(rng, 1.5f, 8.0f);
    const float spread = 0.5f * std::abs(z) + 0.1f;
    s.means.insert(s.means.end(),
                   {Uniform(rng, -spread, spread), Uniform(rng, -spread, spread), z});
    for (int k = 0; k < 3; ++k)
      s.log_scales.push_back(Uniform(rng, std::log(0.01f), std::log(0.3f)));
    for (int k = 0; k < 4; ++k) s.quats.push_back(Uniform(rng, -1.0f, 1.0f));
    s.opacities.push_back(Uniform(rng, -4.0f, 1.5f));
    for (int k = 0; k < 3; ++k) s.sh_dc.push_back(Uniform(rng, -1.0f, 1.5f));
    for (int k = 0; k < s.stride; ++k) s.sh_rest.push_back(Uniform(rng, -0.2f, 0.2f));
  }
  return s;
}

double Norm(const std::vector<float>& v) {
  double s = 0.0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s);
}

struct RasterCase {
  std::string name;
  int width, height, count;
  RasterOptions options;
};

std::vector<RasterCase> RasterCases() {
  RasterOptions plain;
  RasterOptions aa;
  aa.antialiased = true;
  aa.background = {0.2f, 0.5f, 0.9f};
  aa.sh_degree = 2;
  RasterOptions dc;
  dc.sh_degree = 0;
  dc.background = {1.0f, 1.0f, 1.0f};
  return {{"plain_deg3", 250, 190, 10000, plain},
          {"antialiased_deg2_bg", 203, 161, 3000, aa},
          {"deg0_white_small", 37, 21, 300, dc}};
}

// Forward: same visibility, radii, tile lists and images as the CPU. Tolerances: the two paths
// run the same float operations except for FMA contraction and the device exp/log (a few ulp),
// so a pixel's colour, alpha and transmittance agree to ~1e-6 and 1e-4 leaves a wide margin
// (depth: 1e-4 relative, it is ~z); a pixel may still blend one splat more or less where alpha
// or transmittance lies within rounding of 1/255 or 1e-4, and a list may swap two Gaussians whose
// float depths tie on one side only: both must stay rare (below 0.1%).
TEST(CudaRasterizer, ForwardMatchesTheCpu) {
  SKIP_WITHOUT_DEVICE();
  std::mt19937 rng(7);
  CudaRasterizer gpu;
  for (const RasterCase& c : RasterCases()) {
    SCOPED_TRACE(c.name);
    const HostScene scene = RandomScene(rng, c.count);
    const RasterCamera<float> cam = TestCamera(c.width, c.height);
    RasterResult<float> cpu;
    RasterizeForward(scene.View(), cam, c.options, &cpu);
    const DeviceScene device(scene);
    gpu.Forward(device.View(), cam, c.options);
    const CudaRasterState& st = gpu.State();
    ASSERT_EQ(st.width, c.width);
    ASSERT_EQ(st.NumTiles(), cpu.TilesX() * cpu.TilesY());

    const std::vector<std::int32_t> radii = CopyToHost(st.radii, st.count);
    int radius_mismatch = 0, drawn = 0;
    for (std::int64_t i = 0; i < scene.Count(); ++i) {
      radius_mismatch += radii[i] != cpu.Radius(i);
      drawn += cpu.visible[i];
    }
    EXPECT_LE(radius_mismatch, 1 + drawn / 1000);
    EXPECT_GT(drawn, c.count / 2);

    // A radius that rounds the other way may move a tile boundary: compare the lists of the tiles
    // whose lengths agree, position by position.
    const std::vector<std::int64_t> offsets = CopyToHost(st.tile_offsets, st.NumTiles() + 1);
    const std::vector<std::int32_t> ids = CopyToHost(st.sorted_ids, st.num_keys);
    const auto cpu_keys = std::int64_t(cpu.tile_ids.size());
    EXPECT_NEAR(double(st.num_keys), double(cpu_keys), 2.0 + cpu_keys / 10000.0);
    ASSERT_EQ(offsets.front(), 0);
    ASSERT_EQ(offsets.back(), st.num_keys);
    std::int64_t longest = 0, compared = 0, same_id = 0, same_tiles = 0;
    for (int t = 0; t < st.NumTiles(); ++t) {
      const std::int64_t b = cpu.tile_offsets[t], len = cpu.tile_offsets[t + 1] - b;
      longest = std::max(longest, len);
      if (offsets[t + 1] - offsets[t] != len) continue;
      ++same_tiles;
      compared += len;
      for (std::int64_t k = 0; k < len; ++k) same_id += ids[offsets[t] + k] == cpu.tile_ids[b + k];
    }
    EXPECT_GE(same_tiles, st.NumTiles() - st.NumTiles() / 50);
    EXPECT_GE(same_id, compared - compared / 1000);
    if (c.count >= 10000) {
      EXPECT_GT(longest, 2 * 256) << "the scene must need several batches";
    }

    const std::int64_t pixels = st.NumPixels();
    const std::vector<float> rgb = CopyToHost(st.rgb, 3 * pixels);
    const std::vector<float> alpha = CopyToHost(st.alpha, pixels);
    const std::vector<float> depth = CopyToHost(st.depth, pixels);
    const std::vector<float> final_t = CopyToHost(st.final_transmittance, pixels);
    const std::vector<std::int32_t> n_contrib = CopyToHost(st.n_contrib, pixels);
    const std::vector<std::int32_t> last = CopyToHost(st.last_contrib, pixels);
    std::int64_t differ = 0, saturated = 0, same_last = 0, bad_last = 0;
    double worst = 0.0, worst_depth = 0.0;
    for (std::int64_t p = 0; p < pixels; ++p) {
      saturated += cpu.final_transmittance[p] < 1e-3f;
      same_last += last[p] == cpu.last_contrib[p];
      bad_last += last[p] < n_contrib[p];  // the last contributor counts every blended splat
      // Positions in the list (last_contrib) may shift where a tile list differs; the count of
      // blended splats only where a threshold decision flipped.
      if (n_contrib[p] != cpu.n_contrib[p]) {
        ++differ;
        continue;
      }
      for (int k = 0; k < 3; ++k) {
        worst = std::max(worst, double(std::abs(rgb[3 * p + k] - cpu.rgb[3 * p + k])));
      }
      worst = std::max(worst, double(std::abs(alpha[p] - cpu.alpha[p])));
      worst = std::max(worst, double(std::abs(final_t[p] - cpu.final_transmittance[p])));
      worst_depth = std::max(worst_depth, std::abs(double(depth[p]) - cpu.depth[p]) /
                                              std::max(1.0, std::abs(double(cpu.depth[p]))));
    }
    EXPECT_LT(worst, 1e-4);
    EXPECT_LT(worst_depth, 1e-4);
    EXPECT_LE(differ, pixels / 1000);
    EXPECT_GE(same_last, pixels - pixels / 100);
    EXPECT_EQ(bad_last, 0);
    if (c.count >= 1000) {
      EXPECT_GT(saturated, 0) << "the scene must saturate some pixels";
    }
  }
}

// Backward: the gradients of L = <w_rgb, rgb> + <w_alpha, alpha> (random weights) against the
// CPU's, per parameter group in relative norm. Each per-Gaussian 2D gradient is a float sum over
// up to thousands of pixel terms taken in another order (tile-sequential on the CPU, warp trees
// and atomics on the GPU), with rounding ~ sqrt(terms) * 6e-8 of the terms' magnitude, and the
// transmittance recovered by division back to front carries a few ulp per splat; the rare
// threshold flips of the forward change a term by alpha ~ 1/255 or T ~ 1e-4. 1e-3 leaves a wide
// margin over all of these while catching any missing or misplaced term (errors of order 1).
TEST(CudaRasterizer, BackwardMatchesTheCpu) {
  SKIP_WITHOUT_DEVICE();
  std::mt19937 rng(11);
  CudaRasterizer gpu;
  for (const RasterCase& c : RasterCases()) {
    SCOPED_TRACE(c.name);
    HostScene scene = RandomScene(rng, c.count);
    const RasterCamera<float> cam = TestCamera(c.width, c.height);
    const std::int64_t pixels = std::int64_t(c.width) * c.height;
    std::vector<float> v_rgb(3 * pixels), v_alpha(pixels);
    for (float& v : v_rgb) v = Uniform(rng, -1.0f, 1.0f);
    for (float& v : v_alpha) v = Uniform(rng, -1.0f, 1.0f);
    const bool with_alpha = c.name != "plain_deg3";  // also the v_alpha == nullptr path

    RasterResult<float> fwd;
    RasterizeForward(scene.View(), cam, c.options, &fwd);
    HostScene cpu_grads = scene;  // same shapes
    GaussiansMutableView<float> cpu_view{cpu_grads.means.data(), cpu_grads.log_scales.data(),
                                         cpu_grads.quats.data(), cpu_grads.opacities.data(),
                                         cpu_grads.sh_dc.data(), cpu_grads.sh_rest.data(),
                                         scene.Count(),          scene.stride};
    RasterGradients2D<float> cpu2d;
    RasterizeBackward(scene.View(), cam, c.options, fwd, v_rgb.data(),
                      with_alpha ? v_alpha.data() : nullptr, cpu_view, &cpu2d);

    const DeviceScene device(scene);
    DeviceScene grads(scene);
    DeviceBuffer<float> d_v_rgb{std::span<const float>(v_rgb)};
    DeviceBuffer<float> d_v_alpha{std::span<const float>(v_alpha)};
    DeviceBuffer<float> v_mean2d(2 * scene.Count()), v_mean2d_abs(2 * scene.Count());
    gpu.Forward(device.View(), cam, c.options);
    gpu.Backward(d_v_rgb.data(), with_alpha ? d_v_alpha.data() : nullptr, grads.MutableView(),
                 v_mean2d.data(), v_mean2d_abs.data());

    const std::vector<std::vector<float>> got = grads.Groups();
    const std::vector<std::vector<float>> want = {cpu_grads.means, cpu_grads.log_scales,
                                                  cpu_grads.quats, cpu_grads.opacities,
                                                  cpu_grads.sh_dc, cpu_grads.sh_rest};
    const char* names[] = {"means", "log_scales", "quats", "opacities", "sh_dc", "sh_rest"};
    const auto expect_close = [](const std::vector<float>& a, const std::vector<float>& b,
                                 const char* what) {
      ASSERT_EQ(a.size(), b.size()) << what;
      std::vector<float> diff(a.size());
      for (std::size_t i = 0; i < a.size(); ++i) diff[i] = a[i] - b[i];
      EXPECT_GT(Norm(b), 0.0) << what;
      EXPECT_LT(Norm(diff), 1e-3 * Norm(b)) << what;
    };
    for (int g = 0; g < 6; ++g) {
      if (g == 5 && c.options.sh_degree == 0) continue;  // all zero: checked below
      expect_close(got[g], want[g], names[g]);
    }
    if (c.options.sh_degree == 0) {
      for (float v : got[5]) ASSERT_EQ(v, 0.0f);
    }
    expect_close(v_mean2d.ToHost(), cpu2d.v_mean2d, "v_mean2d");
    expect_close(v_mean2d_abs.ToHost(), cpu2d.v_mean2d_abs, "v_mean2d_abs");
    // Gaussians that are not drawn get exactly zero.
    const std::vector<std::int32_t> radii = CopyToHost(gpu.Radii(), scene.Count());
    for (std::int64_t i = 0; i < scene.Count(); ++i) {
      if (radii[i] == 0) {
        ASSERT_EQ(got[0][3 * i], 0.0f);
        ASSERT_EQ(got[3][i], 0.0f);
      }
    }
  }
}

TEST(CudaRasterizer, EmptyScenesRenderTheBackground) {
  SKIP_WITHOUT_DEVICE();
  std::mt19937 rng(3);
  RasterOptions options;
  options.background = {0.25f, 0.5f, 0.75f};
  const RasterCamera<float> cam = TestCamera(40, 30);
  CudaRasterizer gpu;
  HostScene behind = RandomScene(rng, 20);
  for (std::size_t i = 2; i < behind.means.size(); i += 3) behind.means[i] = -3.0f;
  for (const HostScene& scene : {HostScene{}, behind}) {
    const DeviceScene device(scene);
    gpu.Forward(device.View(), cam, options);
    const CudaRasterState& st = gpu.State();
    EXPECT_EQ(st.num_keys, 0);
    const std::vector<float> rgb = CopyToHost(st.rgb, 3 * st.NumPixels());
    for (std::int64_t p = 0; p < st.NumPixels(); ++p) {
      for (int k = 0; k < 3; ++k) ASSERT_EQ(rgb[3 * p + k], options.background[k]);
    }
    EXPECT_EQ(CopyToHost(st.alpha, st.NumPixels()), std::vector<float>(st.NumPixels(), 0.0f));
    DeviceScene grads(scene);
    DeviceBuffer<float> v_rgb(3 * st.NumPixels());
    v_rgb.SetZero();
    gpu.Backward(v_rgb.data(), nullptr, grads.MutableView());
    for (const std::vector<float>& g : grads.Groups()) {
      for (float v : g) ASSERT_EQ(v, 0.0f);
    }
  }
}

TEST(CudaRasterizer, RejectsBadInputs) {
  SKIP_WITHOUT_DEVICE();
  std::mt19937 rng(5);
  const HostScene scene = RandomScene(rng, 10);
  const DeviceScene device(scene);
  CudaRasterizer gpu;
  EXPECT_THROW(gpu.Backward(nullptr, nullptr, GaussiansMutableView<float>{}), Error);
  RasterOptions bad;
  bad.sh_degree = 4;
  EXPECT_THROW(gpu.Forward(device.View(), TestCamera(16, 16), bad), Error);
  GaussiansView<float> low = device.View();
  low.sh_rest_stride = 3 * 3;  // degree 1 stored, degree 3 asked
  EXPECT_THROW(gpu.Forward(low, TestCamera(16, 16), RasterOptions{}), Error);
  EXPECT_THROW(gpu.Forward(device.View(), TestCamera(0, 16), RasterOptions{}), Error);
  gpu.Forward(device.View(), TestCamera(16, 16), RasterOptions{});
  DeviceBuffer<float> v_rgb(3 * 16 * 16);
  GaussiansMutableView<float> wrong{};
  wrong.count = scene.Count() + 1;
  EXPECT_THROW(gpu.Backward(v_rgb.data(), nullptr, wrong), Error);
}

// Random images with structure at the SSIM window's scale (a smooth field plus noise).
std::vector<float> RandomImage(std::mt19937& rng, int w, int h, int nc, float noise) {
  std::vector<float> img(std::size_t(w) * h * nc);
  const float fx = Uniform(rng, 0.05f, 0.3f), fy = Uniform(rng, 0.05f, 0.3f);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < nc; ++c) {
        const float v = 0.5f + 0.3f * std::sin(fx * x + c) * std::cos(fy * y) +
                        noise * Uniform(rng, -1.0f, 1.0f);
        img[(std::size_t(y) * w + x) * nc + c] = std::clamp(v, 0.0f, 1.0f);
      }
    }
  }
  return img;
}

// Loss and gradient against splatting/loss.cpp. Both paths compute in double and round the
// gradient to float at the end, so the loss agrees to double rounding of sums over ~10^4 terms
// (1e-12) and each gradient entry to float rounding (a few 1e-8 relative) plus double rounding
// of cancelling terms (1e-12 of the largest entry).
TEST(CudaLoss, PhotometricLossMatchesTheCpu) {
  SKIP_WITHOUT_DEVICE();
  std::mt19937 rng(13);
  CudaLossWorkspace workspace;
  struct Case {
    int w, h, nc;
    double lambda;
  };
  for (const Case& c :
       {Case{67, 53, 3, 0.2}, Case{40, 45, 1, 1.0}, Case{9, 7, 4, 0.0}, Case{128, 96, 3, 0.2}}) {
    SCOPED_TRACE(std::to_string(c.w) + "x" + std::to_string(c.h) + "x" + std::to_string(c.nc));
    std::vector<float> render = RandomImage(rng, c.w, c.h, c.nc, 0.1f);
    const std::vector<float> target = RandomImage(rng, c.w, c.h, c.nc, 0.05f);
    render[5] = target[5];  // an exact tie: the L1 gradient is 0 there
    std::vector<float> cpu_grad(render.size());
    ImageView<float> cpu_view(cpu_grad.data(), c.w, c.h, c.nc);
    const double cpu =
        PhotometricLoss(ImageView<const float>(render.data(), c.w, c.h, c.nc),
                        ImageView<const float>(target.data(), c.w, c.h, c.nc), &cpu_view, c.lambda);
    const DeviceBuffer<float> d_render{std::span<const float>(render)};
    const DeviceBuffer<float> d_target{std::span<const float>(target)};
    DeviceBuffer<float> d_grad(std::int64_t(render.size()));
    const double gpu = PhotometricLossCuda(d_render.data(), d_target.data(), c.w, c.h, c.nc,
                                           d_grad.data(), c.lambda, workspace);
    EXPECT_NEAR(gpu, cpu, 1e-12);
    const double value_only = PhotometricLossCuda(d_render.data(), d_target.data(), c.w, c.h, c.nc,
                                                  nullptr, c.lambda, workspace);
    EXPECT_EQ(value_only, gpu);
    const std::vector<float> grad = d_grad.ToHost();
    float largest = 0.0f;
    for (float g : cpu_grad) largest = std::max(largest, std::abs(g));
    ASSERT_GT(largest, 0.0f);
    for (std::size_t i = 0; i < grad.size(); ++i) {
      ASSERT_NEAR(grad[i], cpu_grad[i], 1e-6 * std::abs(cpu_grad[i]) + 1e-12 * largest) << i;
    }
  }
  EXPECT_THROW(PhotometricLossCuda(nullptr, nullptr, 4, 4, 3, nullptr, 0.2, workspace), Error);
  DeviceBuffer<float> img(4 * 4 * 3);
  EXPECT_THROW(PhotometricLossCuda(img.data(), img.data(), 4, 4, 5, nullptr, 0.2, workspace),
               Error);
  EXPECT_THROW(PhotometricLossCuda(img.data(), img.data(), 4, 4, 3, nullptr, 1.5, workspace),
               Error);
}

// The CPU step of Adam::Step (splatting/adam.h), element by element.
void AdamReference(std::vector<float>& p, const std::vector<float>& g, std::vector<float>& m,
                   std::vector<float>& v, float lr, std::int64_t step, const AdamOptions& o) {
  const double t = double(step);
  const double bias1 = 1.0 - std::pow(double(o.beta1), t);
  const auto bias2_sqrt = float(std::sqrt(1.0 - std::pow(double(o.beta2), t)));
  const auto step_size = float(lr / bias1);
  for (std::size_t i = 0; i < p.size(); ++i) {
    m[i] = o.beta1 * m[i] + (1.0f - o.beta1) * g[i];
    v[i] = o.beta2 * v[i] + (1.0f - o.beta2) * g[i] * g[i];
    p[i] -= step_size * m[i] / (std::sqrt(v[i]) / bias2_sqrt + o.epsilon);
  }
}

// Every operation is rounded separately on both sides (no FMA), so the bits agree.
TEST(CudaAdam, StepsMatchTheCpuUpdateBitForBit) {
  SKIP_WITHOUT_DEVICE();
  std::mt19937 rng(17);
  const std::int64_t n = 100003;
  std::vector<float> p(n), m(n, 0.0f), v(n, 0.0f);
  for (float& x : p) x = Uniform(rng, -2.0f, 2.0f);
  DeviceBuffer<float> dp{std::span<const float>(p)}, dm{std::span<const float>(m)},
      dv{std::span<const float>(v)}, dg(n);
  AdamOptions options;
  for (std::int64_t step = 1; step <= 4; ++step) {
    std::vector<float> g(n);
    for (std::int64_t i = 0; i < n; ++i) {
      g[i] = i % 97 == 0 ? 0.0f : Uniform(rng, -1.0f, 1.0f) * std::pow(10.0f, Uniform(rng, -6, 1));
    }
    dg.Upload(g);
    const float lr = 1.6e-4f * float(step);
    AdamReference(p, g, m, v, lr, step, options);
    AdamStepCuda(dp.data(), dg.data(), dm.data(), dv.data(), n, lr, step, options);
    const std::vector<float> gp = dp.ToHost(), gm = dm.ToHost(), gv = dv.ToHost();
    std::int64_t differ = 0, first = -1;
    for (std::int64_t i = 0; i < n; ++i) {
      if (gp[i] != p[i] || gm[i] != m[i] || gv[i] != v[i]) {
        if (differ++ == 0) first = i;
      }
    }
    ASSERT_EQ(differ, 0) << "step " << step << ", first at " << first << ": p " << gp[first]
                         << " vs " << p[first] << ", m " << gm[first] << " vs " << m[first]
                         << ", v " << gv[first] << " vs " << v[first];
  }
  EXPECT_THROW(AdamStepCuda(dp.data(), dg.data(), dm.data(), dv.data(), n, -1.0f, 1, options),
               Error);
  EXPECT_THROW(AdamStepCuda(dp.data(), dg.data(), dm.data(), dv.data(), n, 1.0f, 0, options),
               Error);
}

}  // namespace
}  // namespace facet::splatting
