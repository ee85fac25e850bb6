// SplatTileRasterizer, the compute path of the splats' colour image, where it goes beyond the
// CPU comparisons of splat_renderer_test.cpp: splats behind and in front of an opaque mesh, tile
// lists that overflow their capacity (reported, then grown), no splats, all splats culled.
#include "viewer/splat_tiles.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>
#include <vector>

#include "core/error.h"
#include "splat_test_util.h"
#include "splatting/gaussians.h"
#include "viewer/offscreen.h"
#include "viewer/scene_renderer.h"
#include "viewer/splat_view.h"
#include "vulkan_test_context.h"

namespace facet::viewer {
namespace {

using geometry::Camera;
using geometry::Rigid3;

// PSNR in dB of an 8-bit image against a float one (clamped to [0, 1]), and the largest
// difference in levels.
double Psnr(const ImageU8& gpu, const std::vector<float>& ref, int* max_diff) {
  double sum = 0.0;
  *max_diff = 0;
  for (std::size_t i = 0; i < gpu.size(); ++i) {
    const double diff = gpu.data()[i] / 255.0 - std::clamp(ref[i], 0.0f, 1.0f);
    sum += diff * diff;
    *max_diff = std::max(*max_diff, int(std::lround(std::abs(diff) * 255.0)));
  }
  const double mse = sum / double(gpu.size());
  return mse > 0.0 ? 10.0 * std::log10(1.0 / mse) : 99.0;
}

// The (splat, tile) entries of the CPU rasterizer's lists whose tile the splat reaches
// (kernels::SplatReachesTile): what the GPU's lists hold.
std::size_t ReachedEntries(const splatting::RasterResult<float>& cpu) {
  std::size_t count = 0;
  for (int t = 0; t + 1 < int(cpu.tile_offsets.size()); ++t) {
    for (std::int64_t k = cpu.tile_offsets[t]; k < cpu.tile_offsets[t + 1]; ++k) {
      const auto& splat = cpu.splats[std::size_t(cpu.tile_ids[std::size_t(k)])];
      if (splatting::kernels::SplatReachesTile(splat, t % cpu.TilesX(), t / cpu.TilesX())) ++count;
    }
  }
  return count;
}

// The GPU's entry count against ReachedEntries: equal but for a tile whose bound the float
// rounding of the shader and the CPU decide apart.
void ExpectEntries(std::uint64_t gpu, std::size_t expected) {
  EXPECT_NEAR(double(gpu), double(expected), 1.0 + 1e-3 * double(expected));
}

class SplatTilesTest : public test::VulkanTest {
 protected:
  static constexpr VkFormat kFormat = OffscreenTarget::kHdrColorFormat;

  // One frame drawn with `tiles` (the steps GpuScene records, without opaque layers).
  ImageU8 Render(SplatTileRasterizer& tiles, const GpuSplats& splats,
                 const SplatDrawOptions& options) {
    const SplatRenderer renderer(*context_, kFormat, OffscreenTarget::kDepthFormat);
    const SplatSort sort(*context_, splats.count());
    const OffscreenTarget target(*context_, camera_.width, camera_.height, kFormat);
    return target
        .Capture([&](VkCommandBuffer cmd) {
          RecordSplatPreprocessAndSort(cmd, renderer, sort, splats, camera_, pose_, options);
          tiles.RecordLists(cmd, splats, sort.order(), camera_);
          target.BeginRendering(cmd, background_);
          target.EndRendering(cmd);
          tiles.RecordBlend(cmd, splats, target, options.near_m, background_, false);
        })
        .rgb;
  }

  const Camera camera_ = test::TestCamera(160, 120);
  const Rigid3 pose_;
  // Exact in half floats, and away from a rounding tie in 8 bits.
  const Eigen::Vector3f background_{0.0625f, 0.125f, 0.1875f};
};

TEST_F(SplatTilesTest, MeshInFrontOfSomeSplatsHidesExactlyThoseBehindIt) {
  // An unlit green wall at z = 4 over the left half of the view, between the splats (z in
  // [2, 6]): left of its edge a pixel shows the splats nearer than 4 over the wall's colour.
  const splatting::Gaussians g = test::RandomGaussians(2000, 5);
  const float wall_z = 4.0f;
  const Eigen::Vector3f wall_color(0.25f, 0.625f, 0.375f);  // exact in half floats
  SceneData scene;
  scene.splats = splatting::ToSplats(g);
  geometry::TriangleMesh mesh;
  mesh.vertices = {
      {-3.0, -3.0, wall_z}, {0.0, -3.0, wall_z}, {0.0, 3.0, wall_z}, {-3.0, 3.0, wall_z}};
  mesh.triangles = {{0, 1, 2}, {0, 2, 3}};
  mesh.vertex_colors.assign(4, wall_color);
  scene.mesh = mesh;
  const GpuScene gpu(*context_, scene, kFormat);
  SceneDrawSettings settings;
  settings.layers.splats = settings.layers.mesh = true;
  settings.mesh.lit = false;
  settings.background = background_;
  const ImageU8 image = gpu.Render(camera_, pose_, settings);
  settings.layers.splats = false;
  const ImageU8 wall = gpu.Render(camera_, pose_, settings);  // where the wall is

  // The reference: the CPU image of all splats over the background where the wall is absent;
  // where it is, the CPU image of the splats in front of it over black plus T times its colour.
  splatting::Gaussians front = g;
  std::vector<char> keep(g.size());
  for (std::int64_t i = 0; i < g.size(); ++i) keep[i] = g.means[3 * i + 2] < wall_z;
  front.Compact(std::span(reinterpret_cast<const bool*>(keep.data()), keep.size()));
  ASSERT_GT(front.size(), 0);
  ASSERT_LT(front.size(), g.size());
  const SplatDrawOptions options;
  const auto all = test::RasterizeCpu(g, camera_, pose_, options, background_);
  const auto near = test::RasterizeCpu(front, camera_, pose_, options, Eigen::Vector3f::Zero());
  std::vector<float> expected(all.rgb);
  int wall_pixels = 0;
  for (int y = 0; y < camera_.height; ++y) {
    for (int x = 0; x < camera_.width; ++x) {
      bool on_wall = true;
      for (int c = 0; c < 3; ++c) {
        on_wall &= wall(x, y, c) == std::lround(wall_color[c] * 255.0f);
      }
      if (!on_wall) continue;
      ++wall_pixels;
      const std::size_t p = std::size_t(y) * camera_.width + x;
      for (int c = 0; c < 3; ++c) {
        expected[3 * p + c] = near.rgb[3 * p + c] + (1.0f - near.alpha[p]) * wall_color[c];
      }
    }
  }
  EXPECT_GT(wall_pixels, camera_.width * camera_.height / 3);
  int max_diff = 0;
  const double psnr = Psnr(image, expected, &max_diff);
  std::printf("mesh at z = %.0f over %d pixels: compute PSNR %.2f dB (max %d/255)\n", wall_z,
              wall_pixels, psnr, max_diff);
  EXPECT_GE(psnr, 50.0);
  EXPECT_LE(max_diff, 3);
  // The quads' depth test hides the same splats.
  settings.layers.splats = true;
  settings.splats.raster = SplatRaster::kQuads;
  int quad_diff = 0;
  const double quad_psnr = Psnr(gpu.Render(camera_, pose_, settings), expected, &quad_diff);
  std::printf("mesh at z = %.0f: quads PSNR %.2f dB (max %d/255)\n", wall_z, quad_psnr, quad_diff);
  EXPECT_GE(quad_psnr, 40.0);
}

TEST_F(SplatTilesTest, OverflowingListsAreReportedThenGrown) {
  const splatting::Gaussians g = test::RandomGaussians(2000, 17);
  const GpuSplats splats(*context_, splatting::ToSplats(g));
  const SplatDrawOptions options;
  const auto cpu = test::RasterizeCpu(g, camera_, pose_, options, background_);
  SplatTileRasterizer tiles(*context_, kFormat, splats.count(), /*initial_entries=*/500);
  EXPECT_EQ(tiles.capacity(), 500u);
  EXPECT_FALSE(tiles.stats().Overflowed());  // nothing recorded yet
  EXPECT_FALSE(tiles.GrowToLastFrame());

  const ImageU8 cut = Render(tiles, splats, options);
  const SplatTileStats overflowed = tiles.stats();
  // The GPU's lists hold the CPU rasterizer's (splat, tile) pairs that reach their tile: fewer.
  const std::size_t reached = ReachedEntries(cpu);
  ExpectEntries(overflowed.entries_needed, reached);
  EXPECT_LT(reached, cpu.tile_ids.size());
  EXPECT_EQ(overflowed.entries_kept, 500u);
  EXPECT_EQ(overflowed.entries_capacity, 500u);
  EXPECT_TRUE(overflowed.Overflowed());
  int max_diff = 0;
  const double cut_psnr = Psnr(cut, cpu.rgb, &max_diff);
  EXPECT_LT(cut_psnr, 30.0);  // the farther splats' entries are missing

  EXPECT_TRUE(tiles.GrowToLastFrame());
  EXPECT_GE(tiles.capacity(), overflowed.entries_needed * 5 / 4);
  const ImageU8 full = Render(tiles, splats, options);
  EXPECT_FALSE(tiles.stats().Overflowed());
  EXPECT_EQ(tiles.stats().entries_kept, overflowed.entries_needed);
  EXPECT_FALSE(tiles.GrowToLastFrame());
  const double psnr = Psnr(full, cpu.rgb, &max_diff);
  std::printf(
      "lists of 500 entries for %llu (CPU lists %zu): PSNR %.2f dB; grown to %llu: %.2f dB\n",
      static_cast<unsigned long long>(overflowed.entries_needed), cpu.tile_ids.size(), cut_psnr,
      static_cast<unsigned long long>(tiles.capacity()), psnr);
  EXPECT_GE(psnr, 55.0);
  EXPECT_LE(max_diff, 2);

  // RenderSplatsOffscreen re-renders a frame that overflowed (its lists start at 4 per splat,
  // fewer than these large splats need).
  const SplatRenderer renderer(*context_, kFormat, OffscreenTarget::kDepthFormat);
  const SplatImage image =
      RenderSplatsOffscreen(*context_, renderer, splats, camera_, pose_, options, background_);
  EXPECT_FALSE(image.tiles.Overflowed());
  ExpectEntries(image.tiles.entries_needed, reached);
  EXPECT_GE(Psnr(image.rgb, cpu.rgb, &max_diff), 55.0);
}

TEST_F(SplatTilesTest, NoSplatsAndAllCulledDrawTheBackground) {
  const SplatRenderer renderer(*context_, kFormat, OffscreenTarget::kDepthFormat);
  const auto expect_background = [&](const ImageU8& image) {
    for (int y = 0; y < image.height(); ++y) {
      for (int x = 0; x < image.width(); ++x) {
        for (int c = 0; c < 3; ++c) {
          ASSERT_EQ(image(x, y, c), std::lround(background_[c] * 255.0f)) << x << ", " << y;
        }
      }
    }
  };
  const GpuSplats none(*context_, datasets::GaussianSplats{});
  expect_background(
      RenderSplatsOffscreen(*context_, renderer, none, camera_, pose_, {}, background_).rgb);
  EXPECT_THROW(SplatTileRasterizer(*context_, kFormat, 0), Error);
  EXPECT_THROW(SplatTileRasterizer(*context_, VK_FORMAT_B8G8R8A8_SRGB, 10), Error);

  // The camera turned around: every splat is behind it.
  const GpuSplats splats(*context_, splatting::ToSplats(test::RandomGaussians(500, 3)));
  const Rigid3 behind(Eigen::Quaterniond(Eigen::AngleAxisd(M_PI, Eigen::Vector3d::UnitY())),
                      Eigen::Vector3d::Zero());
  const SplatImage image =
      RenderSplatsOffscreen(*context_, renderer, splats, camera_, behind, {}, background_);
  EXPECT_EQ(image.visible, 0u);
  EXPECT_EQ(image.tiles.entries_needed, 0u);
  expect_background(image.rgb);
  // The quads refuse the compute options (before recording anything), and draw the quads' ones.
  EXPECT_THROW(renderer.Draw(VK_NULL_HANDLE, splats, splats.records(), 1, camera_, {}), Error);
  SplatDrawOptions quads;
  quads.raster = SplatRaster::kQuads;
  EXPECT_EQ(RenderSplatsOffscreen(*context_, renderer, splats, camera_, behind, quads, background_)
                .visible,
            0u);
}

}  // namespace
}  // namespace facet::viewer
