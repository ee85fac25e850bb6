// The viewer's inspection tools (SplatDrawOptions' render modes, splat scale, opacity threshold and
// crop box) against the CPU rasterizer (splatting/rasterizer.h) and against rendering the filtered
// splats themselves (datasets::CropSplats, which the viewer's export writes).
#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/gaussian_splats.h"
#include "splat_test_util.h"
#include "splatting/gaussians.h"
#include "splatting/rasterizer.h"
#include "viewer/offscreen.h"
#include "viewer/splat_renderer.h"
#include "viewer/splat_view.h"
#include "vulkan_test_context.h"

namespace facet::viewer {
namespace {

using geometry::Camera;
using geometry::Rigid3;
using test::RandomGaussians;
using test::RasterizeCpu;
using test::TestCamera;

// The turned view of the random scene in splat_renderer_test.cpp.
Rigid3 TurnedView() {
  return Rigid3(
      Eigen::Quaterniond(Eigen::AngleAxisd(0.15, Eigen::Vector3d(0.2, 1.0, 0.1).normalized())),
      Eigen::Vector3d(0.1, -0.05, 0.2));
}

// PSNR in dB of every channel of the GPU's image against a grey CPU image in [0, 1].
double PsnrGrey(const ImageU8& gpu, const std::vector<float>& ref) {
  double sum = 0.0;
  for (int y = 0; y < gpu.height(); ++y) {
    for (int x = 0; x < gpu.width(); ++x) {
      const double r = std::clamp(ref[std::size_t(y) * gpu.width() + x], 0.0f, 1.0f);
      for (int c = 0; c < 3; ++c) sum += std::pow(gpu(x, y, c) / 255.0 - r, 2);
    }
  }
  const double mse = sum / (3.0 * gpu.width() * gpu.height());
  return mse > 0.0 ? 10.0 * std::log10(1.0 / mse) : 99.0;
}

// PSNR in dB of the GPU's image against the CPU's RGB image (clamped to [0, 1]).
double PsnrRgb(const ImageU8& gpu, const std::vector<float>& rgb) {
  double sum = 0.0;
  for (int y = 0; y < gpu.height(); ++y) {
    for (int x = 0; x < gpu.width(); ++x) {
      for (int c = 0; c < 3; ++c) {
        const double r = std::clamp(rgb[(std::size_t(y) * gpu.width() + x) * 3 + c], 0.0f, 1.0f);
        sum += std::pow(gpu(x, y, c) / 255.0 - r, 2);
      }
    }
  }
  const double mse = sum / (3.0 * gpu.width() * gpu.height());
  return mse > 0.0 ? 10.0 * std::log10(1.0 / mse) : 99.0;
}

// Pixels (of all channels) that differ between two images.
int DifferingPixels(const ImageU8& a, const ImageU8& b) {
  int count = 0;
  for (int y = 0; y < a.height(); ++y) {
    for (int x = 0; x < a.width(); ++x) {
      count += a(x, y, 0) != b(x, y, 0) || a(x, y, 1) != b(x, y, 1) || a(x, y, 2) != b(x, y, 2);
    }
  }
  return count;
}

const VkFormat kFormats[] = {OffscreenTarget::kColorFormat, OffscreenTarget::kHdrColorFormat};
const char* FormatName(VkFormat format) {
  return format == OffscreenTarget::kColorFormat ? "RGBA8" : "RGBA16F";
}

class SplatModesTest : public test::VulkanTest {
 protected:
  void SetUp() override {
    VulkanTest::SetUp();
    if (context_ == nullptr) return;
    for (const VkFormat format : kFormats) {
      renderers_.push_back(
          std::make_unique<SplatRenderer>(*context_, format, OffscreenTarget::kDepthFormat));
    }
  }
  void TearDown() override {
    renderers_.clear();
    VulkanTest::TearDown();
  }

  SplatImage Render(const GpuSplats& splats, const Camera& camera, const Rigid3& cam_from_world,
                    const SplatDrawOptions& options, const Eigen::Vector3f& background,
                    VkFormat format = OffscreenTarget::kHdrColorFormat) {
    const SplatRenderer& renderer = *renderers_[format == OffscreenTarget::kColorFormat ? 0 : 1];
    return RenderSplatsOffscreen(*context_, renderer, splats, camera, cam_from_world, options,
                                 background);
  }

  // Renders `all` with `options` and `subset` (the splats those options keep) with the defaults,
  // in both targets: the images must be identical (same per-splat math, same order) and so must
  // the visible counts. Returns the visible count.
  std::uint32_t ExpectSameAsSubset(const char* label, const GpuSplats& all, const GpuSplats& subset,
                                   const SplatDrawOptions& options) {
    const Camera camera = TestCamera();
    const Eigen::Vector3f background(0.05f, 0.1f, 0.15f);
    std::uint32_t visible = 0;
    for (const VkFormat format : kFormats) {
      const SplatImage filtered = Render(all, camera, TurnedView(), options, background, format);
      const SplatImage expected = Render(subset, camera, TurnedView(), {}, background, format);
      std::printf("%s, %s: %u visible (the subset alone: %u); %d pixels differ\n", label,
                  FormatName(format), filtered.visible, expected.visible,
                  DifferingPixels(filtered.rgb, expected.rgb));
      EXPECT_EQ(filtered.visible, expected.visible) << label;
      EXPECT_EQ(DifferingPixels(filtered.rgb, expected.rgb), 0) << label;
      visible = filtered.visible;
    }
    return visible;
  }

  std::vector<std::unique_ptr<SplatRenderer>> renderers_;
};

TEST_F(SplatModesTest, AlphaModeIsTheCpuAccumulatedOpacity) {
  const splatting::Gaussians g = RandomGaussians(2000, 17);
  const GpuSplats splats(*context_, splatting::ToSplats(g));
  const Camera camera = TestCamera();
  SplatDrawOptions options;
  options.mode = SplatRenderMode::kAlpha;
  const splatting::RasterResult<float> cpu =
      RasterizeCpu(g, camera, TurnedView(), options, Eigen::Vector3f::Zero());
  const double mean_alpha =
      std::accumulate(cpu.alpha.begin(), cpu.alpha.end(), 0.0) / double(cpu.alpha.size());
  EXPECT_GT(mean_alpha, 0.2);  // a scene with coverage, and uncovered pixels
  EXPECT_LT(mean_alpha, 0.99);
  for (const VkFormat format : kFormats) {
    // Black background: the image is the accumulated opacity alone.
    const SplatImage gpu =
        Render(splats, camera, TurnedView(), options, Eigen::Vector3f::Zero(), format);
    const double psnr = PsnrGrey(gpu.rgb, cpu.alpha);
    std::printf("alpha mode, 2000 random, %s target: PSNR %.2f dB against the CPU alpha\n",
                FormatName(format), psnr);
    RecordProperty(std::string("alpha psnr_db_") + FormatName(format), std::to_string(psnr));
    EXPECT_GE(psnr, 35.0);
  }
  // Over a background b the pixel is alpha + (1 - alpha) b.
  const Eigen::Vector3f background(0.2f, 0.4f, 0.6f);
  const SplatImage over = Render(splats, camera, TurnedView(), options, background);
  std::vector<float> rgb(cpu.alpha.size() * 3);
  for (std::size_t i = 0; i < cpu.alpha.size(); ++i) {
    for (int c = 0; c < 3; ++c)
      rgb[3 * i + c] = cpu.alpha[i] + (1.0f - cpu.alpha[i]) * background[c];
  }
  EXPECT_GE(PsnrRgb(over.rgb, rgb), 35.0);
}

TEST_F(SplatModesTest, DepthModeIsTheCpuExpectedDepthTimesAlpha) {
  const splatting::Gaussians g = RandomGaussians(2000, 17);
  const GpuSplats splats(*context_, splatting::ToSplats(g));
  const Camera camera = TestCamera();
  SplatDrawOptions options;
  options.mode = SplatRenderMode::kDepth;
  options.depth_range = {1.0f, 8.0f};
  const float near = options.depth_range.x(), far = options.depth_range.y();
  const splatting::RasterResult<float> cpu =
      RasterizeCpu(g, camera, TurnedView(), options, Eigen::Vector3f::Zero());
  // Every drawn depth inside the range, so no splat's grey clamps and the blend of the splats'
  // greys is alpha x the normalised expected depth.
  float min_z = 1e9f, max_z = 0.0f;
  for (std::int64_t i = 0; i < g.size(); ++i) {
    if (!cpu.visible[i]) continue;
    min_z = std::min(min_z, cpu.splats[i].depth);
    max_z = std::max(max_z, cpu.splats[i].depth);
  }
  ASSERT_GT(min_z, near);
  ASSERT_LT(max_z, far);
  std::vector<float> ref(cpu.alpha.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    ref[i] = cpu.alpha[i] > 0.0f ? cpu.alpha[i] * (cpu.depth[i] - near) / (far - near) : 0.0f;
  }
  for (const VkFormat format : kFormats) {
    const SplatImage gpu =
        Render(splats, camera, TurnedView(), options, Eigen::Vector3f::Zero(), format);
    const double psnr = PsnrGrey(gpu.rgb, ref);
    std::printf(
        "depth mode, 2000 random (z %.2f-%.2f, range %.0f-%.0f), %s target: PSNR %.2f dB against "
        "the CPU alpha x normalised depth\n",
        min_z, max_z, near, far, FormatName(format), psnr);
    RecordProperty(std::string("depth psnr_db_") + FormatName(format), std::to_string(psnr));
    EXPECT_GE(psnr, 35.0);
  }
  // The grey follows the depth: the far half of the range alone is darker everywhere.
  SplatDrawOptions far_half = options;
  far_half.depth_range = {4.0f, 8.0f};
  const SplatImage a = Render(splats, camera, TurnedView(), options, Eigen::Vector3f::Zero());
  const SplatImage b = Render(splats, camera, TurnedView(), far_half, Eigen::Vector3f::Zero());
  long sum_a = 0, sum_b = 0;
  for (int y = 0; y < camera.height; ++y) {
    for (int x = 0; x < camera.width; ++x) sum_a += a.rgb(x, y, 0), sum_b += b.rgb(x, y, 0);
  }
  EXPECT_LT(sum_b, sum_a);
}

TEST_F(SplatModesTest, ScaleRendersLikeTheCpuWithLargerLogScales) {
  const splatting::Gaussians g = RandomGaussians(2000, 17);
  const GpuSplats splats(*context_, splatting::ToSplats(g));
  const Camera camera = TestCamera();
  const Eigen::Vector3f background(0.05f, 0.1f, 0.15f);
  const std::vector<float> unscaled = RasterizeCpu(g, camera, TurnedView(), {}, background).rgb;
  for (const float scale : {0.5f, 1.6f}) {
    splatting::Gaussians scaled = g;
    for (float& s : scaled.log_scales) s += std::log(scale);
    SplatDrawOptions options;
    options.scale = scale;
    const splatting::RasterResult<float> cpu =
        RasterizeCpu(scaled, camera, TurnedView(), options, background);
    {
      // The scale changes the image by far more than the tolerance.
      double sum = 0.0;
      for (std::size_t i = 0; i < cpu.rgb.size(); ++i) {
        sum += std::pow(cpu.rgb[i] - unscaled[i], 2);
      }
      EXPECT_LT(10.0 * std::log10(cpu.rgb.size() / sum), 30.0);
    }
    for (const VkFormat format : kFormats) {
      const SplatImage gpu = Render(splats, camera, TurnedView(), options, background, format);
      const double psnr = PsnrRgb(gpu.rgb, cpu.rgb);
      std::printf("scale %.1f, 2000 random, %s target: %u visible, PSNR %.2f dB\n", scale,
                  FormatName(format), gpu.visible, psnr);
      RecordProperty("scale " + std::to_string(scale) + " psnr_db_" + FormatName(format),
                     std::to_string(psnr));
      EXPECT_GE(psnr, 35.0);
    }
  }
}

TEST_F(SplatModesTest, OpacityThresholdAndCropBoxCullLikeRenderingTheKeptSplats) {
  const splatting::Gaussians g = RandomGaussians(2000, 17);
  const datasets::GaussianSplats file = splatting::ToSplats(g);
  const GpuSplats all(*context_, file);
  const std::uint32_t visible_all =
      Render(all, TestCamera(), TurnedView(), {}, Eigen::Vector3f::Zero()).visible;
  const Eigen::Vector3f everywhere = Eigen::Vector3f::Constant(1e30f);

  SplatDrawOptions threshold;
  threshold.opacity_threshold = 0.5f;
  const GpuSplats opaque(*context_, datasets::CropSplats(file, -everywhere, everywhere, 0.5f));
  const std::uint32_t visible_opaque = ExpectSameAsSubset("opacity >= 0.5", all, opaque, threshold);
  // The CPU's visible splats of opacity >= 0.5.
  const splatting::RasterResult<float> cpu =
      RasterizeCpu(g, TestCamera(), TurnedView(), {}, Eigen::Vector3f::Zero());
  std::uint32_t expected = 0, cpu_visible = 0;
  for (std::int64_t i = 0; i < g.size(); ++i) {
    cpu_visible += cpu.visible[i];
    expected += cpu.visible[i] && cpu.splats[i].opacity >= 0.5f;
  }
  EXPECT_EQ(visible_all, cpu_visible);
  EXPECT_EQ(visible_opaque, expected);
  EXPECT_LT(visible_opaque, visible_all * 3 / 4);
  EXPECT_GT(visible_opaque, visible_all / 4);

  // A box holding part of the scene, alone and with the threshold.
  SplatDrawOptions crop;
  crop.crop = true;
  crop.crop_min = {-0.8f, -1.0f, 2.5f};
  crop.crop_max = {1.2f, 0.6f, 4.5f};
  const GpuSplats boxed(*context_, datasets::CropSplats(file, crop.crop_min, crop.crop_max));
  const std::uint32_t visible_boxed = ExpectSameAsSubset("crop box", all, boxed, crop);
  EXPECT_LT(visible_boxed, visible_all / 2);
  EXPECT_GT(visible_boxed, 50u);
  crop.opacity_threshold = 0.3f;
  const GpuSplats both(*context_, datasets::CropSplats(file, crop.crop_min, crop.crop_max, 0.3f));
  EXPECT_LT(ExpectSameAsSubset("crop box, opacity >= 0.3", all, both, crop), visible_boxed);
  // A box holding nothing draws the background.
  crop.crop_min = crop.crop_max = {100.0f, 100.0f, 100.0f};
  EXPECT_EQ(Render(all, TestCamera(), TurnedView(), crop, Eigen::Vector3f::Zero()).visible, 0u);
}

// Four overlapping Gaussians at different depths in front of the identity camera (the back one
// the largest, one elongated and turned), the nearest too faint (opacity 0.047) for kEllipsoids.
splatting::Gaussians HandPlacedGaussians() {
  splatting::Gaussians g(4, /*max_sh_degree=*/0);
  const float means[4][3] = {
      {0.0f, 0.0f, 4.0f}, {0.3f, 0.1f, 3.0f}, {-0.2f, -0.15f, 2.0f}, {-0.15f, -0.11f, 1.5f}};
  const float log_scales[4][3] = {
      {-0.7f, -0.7f, -0.7f}, {-1.0f, -2.5f, -1.0f}, {-2.3f, -2.0f, -2.0f}, {-2.5f, -2.5f, -2.5f}};
  const float colors[4][3] = {
      {0.9f, 0.1f, 0.1f}, {0.1f, 0.9f, 0.1f}, {0.1f, 0.2f, 0.9f}, {0.9f, 0.9f, 0.2f}};
  const float opacity_logits[4] = {0.0f, 1.0f, 5.0f, -3.0f};
  const Eigen::Quaternionf turned(Eigen::AngleAxisf(0.6f, Eigen::Vector3f::UnitZ()));
  for (int i = 0; i < 4; ++i) {
    for (int k = 0; k < 3; ++k) {
      g.means[3 * i + k] = means[i][k];
      g.log_scales[3 * i + k] = log_scales[i][k];
      g.sh_dc[3 * i + k] = (colors[i][k] - 0.5f) / float(splatting::kernels::kShC0);
    }
    const Eigen::Quaternionf q = i == 1 ? turned : Eigen::Quaternionf::Identity();
    g.quats[4 * i] = q.w(), g.quats[4 * i + 1] = q.x(), g.quats[4 * i + 2] = q.y();
    g.quats[4 * i + 3] = q.z();
    g.opacities[i] = opacity_logits[i];
  }
  return g;
}

// Checks an opaque-shape image (kCentres, kEllipsoids) against the CPU's 2D splats: each pixel
// shows the colour of the nearest drawn splat whose shape holds the pixel centre, or the
// background. `shape(splat, d)` is the squared distance of the offset d = mean - pixel centre in
// units of the shape (inside <= 1). A pixel may disagree only where some splat's boundary passes
// within 1e-3 of its centre (the two sides' float math differs by ulps).
struct ShapeCheck {
  int drawn = 0;     // pixels the reference colours
  int boundary = 0;  // disagreements at a boundary
  int wrong = 0;     // other disagreements
};
template <typename Shape>
ShapeCheck CheckShapes(const ImageU8& gpu, const splatting::RasterResult<float>& cpu,
                       const std::vector<int>& drawn, const Eigen::Vector3f& background,
                       const Shape& shape) {
  std::vector<int> order = drawn;  // front to back
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return cpu.splats[a].depth < cpu.splats[b].depth; });
  ShapeCheck check;
  for (int y = 0; y < gpu.height(); ++y) {
    for (int x = 0; x < gpu.width(); ++x) {
      const Eigen::Vector2f centre(x + 0.5f, y + 0.5f);
      const auto offset = [&](int i) -> Eigen::Vector2f {
        return Eigen::Vector2f(cpu.splats[i].mean2d.x, cpu.splats[i].mean2d.y) - centre;
      };
      Eigen::Vector3f expected = background;
      for (const int i : order) {
        if (shape(cpu.splats[i], offset(i)) <= 1.0f) {
          const auto& c = cpu.splats[i].color;
          expected = Eigen::Vector3f(c.x, c.y, c.z).cwiseMin(1.0f);
          ++check.drawn;
          break;
        }
      }
      bool same = true;
      for (int c = 0; c < 3; ++c) {
        same = same && std::abs(gpu(x, y, c) - std::lround(expected[c] * 255.0f)) <= 1;
      }
      if (same) continue;
      bool at_boundary = false;
      for (const int i : order) {
        at_boundary = at_boundary || std::abs(shape(cpu.splats[i], offset(i)) - 1.0f) < 1e-3f;
      }
      ++(at_boundary ? check.boundary : check.wrong);
    }
  }
  return check;
}

TEST_F(SplatModesTest, CentresAndEllipsoidsAreOpaqueShapesNearestOnTop) {
  const Eigen::Vector3f background(0.2f, 0.3f, 0.4f);
  struct Scene {
    const char* name;
    splatting::Gaussians g;
    Rigid3 cam_from_world;
  };
  splatting::Gaussians single(1, 0);
  {
    // One elongated, turned Gaussian on its own.
    splatting::Gaussians h = HandPlacedGaussians();
    for (int k = 0; k < 3; ++k) {
      single.means[k] = h.means[3 + k];
      single.log_scales[k] = h.log_scales[3 + k];
      single.sh_dc[k] = h.sh_dc[3 + k];
    }
    for (int k = 0; k < 4; ++k) single.quats[k] = h.quats[4 + k];
    single.opacities[0] = h.opacities[1];
  }
  const Scene scenes[] = {{"single", single, Rigid3()},
                          {"hand-placed", HandPlacedGaussians(), Rigid3()},
                          {"2000 random", RandomGaussians(2000, 17), TurnedView()}};
  const Camera camera = TestCamera();
  for (const Scene& scene : scenes) {
    SplatDrawOptions options;
    options.sh_degree = scene.g.max_sh_degree;
    const GpuSplats splats(*context_, splatting::ToSplats(scene.g));
    const splatting::RasterResult<float> cpu =
        RasterizeCpu(scene.g, camera, scene.cam_from_world, options, background);
    std::vector<int> visible, opaque_enough;
    for (int i = 0; i < int(scene.g.size()); ++i) {
      if (!cpu.visible[i]) continue;
      visible.push_back(i);
      if (cpu.splats[i].opacity >= options.ellipsoid_min_opacity) opaque_enough.push_back(i);
    }
    for (const SplatRenderMode mode : {SplatRenderMode::kCentres, SplatRenderMode::kEllipsoids}) {
      options.mode = mode;
      const bool centres = mode == SplatRenderMode::kCentres;
      const SplatImage gpu = Render(splats, camera, scene.cam_from_world, options, background);
      const float r2 = options.centre_radius_px * options.centre_radius_px;
      const ShapeCheck check = centres ? CheckShapes(gpu.rgb, cpu, visible, background,
                                                     [&](const auto&, const Eigen::Vector2f& d) {
                                                       return d.squaredNorm() / r2;
                                                     })
                                       : CheckShapes(gpu.rgb, cpu, opaque_enough, background,
                                                     [](const auto& s, const Eigen::Vector2f& d) {
                                                       return s.conic.a * d.x() * d.x() +
                                                              2.0f * s.conic.b * d.x() * d.y() +
                                                              s.conic.c * d.y() * d.y();
                                                     });
      std::printf("%s, %s: %u visible, %d pixels drawn, %d differ at a boundary, %d elsewhere\n",
                  scene.name, centres ? "centres" : "ellipsoids", gpu.visible, check.drawn,
                  check.boundary, check.wrong);
      EXPECT_EQ(gpu.visible, visible.size());
      EXPECT_EQ(check.wrong, 0) << scene.name;
      EXPECT_LE(check.boundary, std::max(2, check.drawn / 200)) << scene.name;
      EXPECT_GT(check.drawn, centres ? 5 * int(visible.size()) / 2 : 20) << scene.name;
    }
  }
  // The hand-placed scene by hand: the faint nearest splat sits in front of the blue one's centre.
  // Its dot covers the blue dot; with ellipsoids it is skipped and the blue one, the nearest of
  // the others, shows (over the red one behind it).
  const splatting::Gaussians g = HandPlacedGaussians();
  const GpuSplats splats(*context_, splatting::ToSplats(g));
  SplatDrawOptions options;
  options.sh_degree = 0;
  const splatting::RasterResult<float> cpu = RasterizeCpu(g, camera, Rigid3(), options, background);
  const int x = int(cpu.splats[3].mean2d.x), y = int(cpu.splats[3].mean2d.y);
  options.mode = SplatRenderMode::kCentres;
  const ImageU8 dots = Render(splats, camera, Rigid3(), options, background).rgb;
  EXPECT_NEAR(dots(x, y, 0), std::lround(0.9f * 255.0f), 1);
  EXPECT_NEAR(dots(x, y, 2), std::lround(0.2f * 255.0f), 1);
  options.mode = SplatRenderMode::kEllipsoids;
  const ImageU8 ellipses = Render(splats, camera, Rigid3(), options, background).rgb;
  EXPECT_NEAR(ellipses(x, y, 0), std::lround(0.1f * 255.0f), 1);
  EXPECT_NEAR(ellipses(x, y, 2), std::lround(0.9f * 255.0f), 1);
}

TEST_F(SplatModesTest, BadOptionsThrow) {
  EXPECT_NO_THROW(SplatDrawOptions{}.Check());
  const auto throws = [](auto change) {
    SplatDrawOptions options;
    change(options);
    EXPECT_THROW(options.Check(), Error);
  };
  throws([](SplatDrawOptions& o) { o.scale = 0.0f; });
  throws([](SplatDrawOptions& o) { o.scale = std::nanf(""); });
  throws([](SplatDrawOptions& o) { o.opacity_threshold = 1.0f; });
  throws([](SplatDrawOptions& o) { o.opacity_threshold = -0.1f; });
  throws([](SplatDrawOptions& o) {
    o.crop = true;
    o.crop_min = {0.0f, 2.0f, 0.0f};
    o.crop_max = {1.0f, 1.0f, 1.0f};
  });
  throws([](SplatDrawOptions& o) {
    o.crop = true;
    o.crop_max = Eigen::Vector3f::Constant(INFINITY);
  });
  throws([](SplatDrawOptions& o) { o.depth_range = {2.0f, 2.0f}; });
  throws([](SplatDrawOptions& o) { o.centre_radius_px = 0.0f; });
  throws([](SplatDrawOptions& o) { o.ellipsoid_min_opacity = 1.5f; });
  throws([](SplatDrawOptions& o) { o.mode = SplatRenderMode(7); });
  // An empty crop box (min = max) is valid.
  SplatDrawOptions point;
  point.crop = true;
  EXPECT_NO_THROW(point.Check());
}

}  // namespace
}  // namespace facet::viewer
