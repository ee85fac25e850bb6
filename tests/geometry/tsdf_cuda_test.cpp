// The CUDA backend of TsdfVolume against the CPU one: the same frames, the same blocks (allocation
// is shared), and voxels equal to the bit, since both evaluate kernels/tsdf.h and the .cu is built
// without fused multiply-adds. Skipped without a CUDA device.
#include <gtest/gtest.h>

#include <cmath>

#include "core/backend.h"
#include "geometry/tsdf_volume.h"

namespace facet::geometry {
namespace {

// A wavy surface in front of the camera, with colour and some missing pixels.
void MakeFrame(int index, ImageF32* depth, ImageU8* rgb) {
  const int width = 96, height = 72;
  depth->Reset(width, height, 1);
  rgb->Reset(width, height, 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      (*depth)(x, y) = float(1.0 + 0.1 * std::sin(0.13 * x + index) * std::cos(0.11 * y));
      if ((x * 7 + y * 13 + index) % 31 == 0) (*depth)(x, y) = 0.0f;
      for (int c = 0; c < 3; ++c) (*rgb)(x, y, c) = std::uint8_t((x * 3 + y * 5 + 40 * c) % 256);
    }
  }
}

TEST(TsdfVolumeCuda, MatchesTheCpuBitForBit) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  const Camera camera = Camera::Create(CameraModelId::kPinhole, 80.0, 96, 72);
  TsdfVolume::Options options;
  options.voxel_size = 0.01;
  options.with_color = true;
  options.max_weight = 3.0;  // the cap is reached within the five frames
  TsdfVolume cpu(options);
  options.backend = Backend::kCuda;
  TsdfVolume cuda(options);
  for (int frame = 0; frame < 5; ++frame) {
    ImageF32 depth;
    ImageU8 rgb;
    MakeFrame(frame, &depth, &rgb);
    const Rigid3 pose(Eigen::Quaterniond(Eigen::AngleAxisd(0.05 * frame, Eigen::Vector3d::UnitY())),
                      Eigen::Vector3d(0.02 * frame, 0.0, 0.0));
    cpu.Integrate(depth.view(), rgb.view(), camera, pose);
    cuda.Integrate(depth.view(), rgb.view(), camera, pose);
  }
  const VoxelBlockGrid& a = cpu.grid();
  const VoxelBlockGrid& b = cuda.grid();
  ASSERT_EQ(a.block_count(), b.block_count());
  ASSERT_GT(a.block_count(), 0);
  for (std::int32_t block = 0; block < std::int32_t(a.block_count()); ++block) {
    ASSERT_EQ(a.key(block), b.key(block));
  }
  ASSERT_EQ(a.sdf_data(), b.sdf_data());
  ASSERT_EQ(a.weight_data(), b.weight_data());
  ASSERT_EQ(a.color_data(), b.color_data());
  double observed = 0;
  for (float w : a.weight_data()) observed += w > 0.0f;
  EXPECT_GT(observed, 10000);
}

TEST(TsdfVolumeCuda, RefusesWithoutADevice) {
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "a CUDA device is present";
  TsdfVolume::Options options;
  options.backend = Backend::kCuda;
  EXPECT_THROW(TsdfVolume{options}, Error);
}

}  // namespace
}  // namespace facet::geometry
