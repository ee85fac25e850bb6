// nerf.bin: a snapshot reads back bit for bit, a checkpoint resumes training exactly where it
// stopped, and damaged files (wrong magic or version, truncated, trailing bytes, mismatched
// sizes, non-finite parameters) are refused with facet::Error.
#include "nerf/snapshot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "common/temp_dir.h"
#include "core/error.h"
#include "core/file_io.h"
#include "nerf/trainer.h"
#include "sphere_scene.h"

namespace facet::nerf {
namespace {

using facet::testing::TempDir;

struct Trained {
  datasets::TrainingData data = test::SphereData();
  Eigen::Vector3f aabb_min, aabb_max;
  std::unique_ptr<NerfTrainer> trainer;

  explicit Trained(int steps) {
    SceneBox(data, &aabb_min, &aabb_max);
    trainer = std::make_unique<NerfTrainer>(data, aabb_min, aabb_max, test::SmallField(),
                                            test::SmallTraining());
    for (int i = 0; i < steps; ++i) trainer->Step();
  }
};

TEST(NerfSnapshot, RoundTripsBitForBit) {
  TempDir dir;
  Trained t(20);
  const NerfSnapshot written = SnapshotOf(*t.trainer, t.data.background, false);
  EXPECT_EQ(written.grid.size(), HashGridParamCount(test::SmallField().grid));
  WriteNerfSnapshot(dir / "nerf.bin", written);
  const NerfSnapshot read = ReadNerfSnapshot(dir / "nerf.bin");
  EXPECT_FALSE(read.IsCheckpoint());
  EXPECT_EQ(read.step, 20);
  EXPECT_EQ(read.grid, written.grid);
  EXPECT_EQ(read.density, written.density);
  EXPECT_EQ(read.color, written.color);
  EXPECT_EQ(read.occupancy, written.occupancy);
  EXPECT_EQ(read.aabb_min, t.aabb_min);
  EXPECT_EQ(read.field.grid.levels, test::SmallField().grid.levels);
  // The field rebuilt from the file renders what the trainer's does.
  const NerfField field = FieldOf(read);
  const std::vector<float> x = {0.1f, -0.2f, 0.3f, 0.4f, 0.0f, -0.1f};
  std::vector<float> a(2), b(2);
  field.Density(x, 2, a);
  t.trainer->field().Density(x, 2, b);
  EXPECT_EQ(a, b);
}

TEST(NerfSnapshot, CheckpointResumesExactly) {
  TempDir dir;
  Trained t(20);
  WriteNerfSnapshot(dir / "ckpt", SnapshotOf(*t.trainer, t.data.background, true));
  Trained resumed(0);
  RestoreTrainer(ReadNerfSnapshot(dir / "ckpt"), resumed.trainer.get());
  EXPECT_EQ(resumed.trainer->step(), 20);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.trainer->Step().loss, resumed.trainer->Step().loss) << i;
  }
}

TEST(NerfSnapshot, DamagedFilesAreRefused) {
  TempDir dir;
  Trained t(2);
  WriteNerfSnapshot(dir / "good.bin", SnapshotOf(*t.trainer, t.data.background, true));
  const std::vector<std::uint8_t> good = ReadFile(dir / "good.bin");
  const auto expect_refused = [&](std::vector<std::uint8_t> bytes, const char* what) {
    WriteFileAtomically(dir / "bad.bin", bytes);
    EXPECT_THROW(ReadNerfSnapshot(dir / "bad.bin"), Error) << what;
  };
  std::vector<std::uint8_t> bytes = good;
  bytes[0] = 'X';
  expect_refused(bytes, "magic");
  bytes = good;
  bytes[8] = 2;
  expect_refused(bytes, "version");
  for (const std::size_t keep :
       {std::size_t{0}, std::size_t{10}, std::size_t{30}, good.size() / 2, good.size() - 4}) {
    expect_refused(std::vector<std::uint8_t>(good.begin(), good.begin() + std::ptrdiff_t(keep)),
                   "truncated");
  }
  bytes = good;
  bytes.push_back(0);
  expect_refused(bytes, "trailing byte");
  bytes = good;
  std::uint64_t huge = ~std::uint64_t{0};
  std::memcpy(bytes.data() + 12, &huge, sizeof(huge));
  expect_refused(bytes, "header length");
  bytes = good;
  bytes[20] = '}';  // inside the JSON header
  expect_refused(bytes, "header");

  // A diverged run (NaN in the parameters) and sizes that do not match the options.
  NerfSnapshot nan = SnapshotOf(*t.trainer, t.data.background, false);
  nan.density[3] = std::numeric_limits<float>::quiet_NaN();
  WriteNerfSnapshot(dir / "nan.bin", nan);
  EXPECT_THROW(ReadNerfSnapshot(dir / "nan.bin"), Error);
  NerfSnapshot small = SnapshotOf(*t.trainer, t.data.background, false);
  small.grid.pop_back();
  WriteNerfSnapshot(dir / "small.bin", small);
  EXPECT_THROW(ReadNerfSnapshot(dir / "small.bin"), Error);
  EXPECT_THROW(ReadNerfSnapshot(dir / "missing.bin"), Error);
}

}  // namespace
}  // namespace facet::nerf
