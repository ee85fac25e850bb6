// The vectorised CPU integration loop against the plain kernels::IntegrateBlockVoxel loop (the
// CUDA path's arithmetic): the same voxels to the bit, over frames that exercise every branch of
// the kernel (voxels behind the camera, outside the image, in missing pixels, hidden behind the
// surface, in the band and in front of it, the weight cap) with colour.
#include "geometry/tsdf_integrate_cpu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "geometry/kernels/tsdf.h"
#include "geometry/voxel_block_grid.h"

namespace facet::geometry {
namespace {

struct TestFrame {
  std::vector<float> depth;
  std::vector<std::uint8_t> rgb;
  std::vector<std::uint32_t> packed;
  std::vector<float> srgb_to_linear;
  kernels::TsdfFrame frame;
};

// A wavy surface about 0.5 m in front of a camera turned by `angle`, with missing pixels.
TestFrame MakeFrame(int index, std::mt19937* rng) {
  constexpr int kWidth = 61, kHeight = 47;  // odd sizes: rows of the image are not aligned
  TestFrame t;
  kernels::TsdfFrame& f = t.frame;
  const double angle = 0.1 * index;
  const double c = std::cos(angle), s = std::sin(angle);
  const double m[12] = {c, 0, s, 0.01 * index, 0, 1, 0, -0.02, -s, 0, c, 0.03 * index};
  for (int k = 0; k < 12; ++k) f.cam_from_world[k] = float(m[k]);
  f.fx = 50.0f;
  f.fy = 52.0f;
  f.cx = 30.3f;
  f.cy = 23.6f;
  f.width = kWidth;
  f.height = kHeight;
  f.voxel_size = 0.01f;
  f.truncation = 0.03f;
  f.depth_min = 0.1f;
  f.depth_max = 2.0f;
  f.max_weight = 3.0f;  // reached within the frames
  std::uniform_real_distribution<float> noise(-0.01f, 0.01f);
  std::uniform_int_distribution<int> byte(0, 255);
  t.depth.resize(kWidth * kHeight);
  t.rgb.resize(3 * kWidth * kHeight);
  t.packed.resize(kWidth * kHeight);
  for (int j = 0; j < kHeight; ++j) {
    for (int i = 0; i < kWidth; ++i) {
      const int p = j * kWidth + i;
      float d = 0.5f + 0.1f * std::sin(0.2f * i + float(index)) * std::cos(0.15f * j) + noise(*rng);
      if ((i * 7 + j * 13 + index) % 17 == 0) d = 0.0f;                    // missing
      if ((i + j) % 29 == 0) d = std::numeric_limits<float>::quiet_NaN();  // invalid
      if (i == 5 && j > 10) d = 3.0f;                                      // beyond depth_max
      t.depth[p] = kernels::SanitizeDepth(f, d);
      for (int k = 0; k < 3; ++k) t.rgb[3 * p + k] = std::uint8_t(byte(*rng));
      t.packed[p] = std::uint32_t(t.rgb[3 * p]) | std::uint32_t(t.rgb[3 * p + 1]) << 8 |
                    std::uint32_t(t.rgb[3 * p + 2]) << 16;
    }
  }
  t.srgb_to_linear.resize(256);
  for (int k = 0; k < 256; ++k) t.srgb_to_linear[k] = std::pow(k / 255.0f, 2.2f);
  f.depth = t.depth.data();
  f.depth_stride = kWidth;
  f.color = t.rgb.data();
  f.color_stride = 3 * kWidth;
  f.color_channels = 3;
  f.srgb_to_linear = t.srgb_to_linear.data();
  return t;
}

TEST(TsdfIntegrateCpu, VectorLoopEqualsTheKernelBitForBit) {
  if (!detail::CpuKernelIsVectorised()) GTEST_SKIP() << "no AVX2: only the scalar loop runs";
  // Blocks from behind the camera to beyond the surface, wider than the field of view.
  VoxelBlockGrid vector_grid(0.01, /*with_color=*/true), scalar_grid(0.01, true);
  std::vector<std::int32_t> blocks;
  for (int z = -2; z < 9; ++z) {
    for (int y = -5; y < 4; ++y) {
      for (int x = -6; x < 6; ++x) {
        blocks.push_back(vector_grid.Insert({x, y, z}));
        scalar_grid.Insert({x, y, z});
      }
    }
  }
  std::mt19937 rng(7);
  for (int index = 0; index < 5; ++index) {
    const TestFrame t = MakeFrame(index, &rng);
    detail::IntegrateBlocksCpu(t.frame, t.packed.data(), blocks, &vector_grid);
    detail::IntegrateBlocksCpu(t.frame, t.packed.data(), blocks, &scalar_grid,
                               detail::CpuKernel::kScalar);
    // Depth only, into the same grids: the loop without colour.
    kernels::TsdfFrame depth_only = t.frame;
    depth_only.color = nullptr;
    detail::IntegrateBlocksCpu(depth_only, nullptr, blocks, &vector_grid);
    detail::IntegrateBlocksCpu(depth_only, nullptr, blocks, &scalar_grid,
                               detail::CpuKernel::kScalar);
  }
  ASSERT_EQ(vector_grid.sdf_data(), scalar_grid.sdf_data());
  ASSERT_EQ(vector_grid.weight_data(), scalar_grid.weight_data());
  ASSERT_EQ(vector_grid.color_data(), scalar_grid.color_data());
  // Every case occurred: fused voxels at the cap, in the band and truncated in front, and
  // voxels never fused.
  int capped = 0, band = 0, front = 0, unseen = 0;
  for (std::size_t k = 0; k < scalar_grid.weight_data().size(); ++k) {
    const float w = scalar_grid.weight_data()[k], sdf = scalar_grid.sdf_data()[k];
    capped += w == 3.0f;
    unseen += w == 0.0f;
    band += w > 0.0f && std::abs(sdf) < 0.02f;
    front += w > 0.0f && sdf == 0.03f;
  }
  EXPECT_GT(capped, 1000);
  EXPECT_GT(band, 1000);
  EXPECT_GT(front, 1000);
  EXPECT_GT(unseen, 1000);
}

}  // namespace
}  // namespace facet::geometry
