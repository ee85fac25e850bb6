#include "datasets/rgbd.h"

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "common/corruption.h"
#include "common/temp_dir.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"

namespace facet::datasets {
namespace {

namespace fs = std::filesystem;
using facet::testing::TempDir;
using geometry::Camera;
using geometry::CameraModelId;
using geometry::Rigid3;

void WriteText(const fs::path& path, const std::string& text) {
  WriteFileAtomically(path, std::string_view(text));
}

// Expects `call` to throw facet::Error whose message contains every one of `parts`.
template <typename Call>
void ExpectErrorMentions(Call&& call, const std::vector<std::string>& parts) {
  try {
    call();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
}

// A TUM folder with four colour and four depth images at jittered times, and ground truth.
void WriteTumFolder(const fs::path& dir) {
  fs::create_directories(dir / "rgb");
  fs::create_directories(dir / "depth");
  WriteImage(dir / "rgb/1.000.png", ImageU8(640, 480, 3));
  WriteText(dir / "rgb.txt",
            "# color images\n# timestamp filename\n"
            "1.000 rgb/1.000.png\n1.033 rgb/1.033.png\n1.066 rgb/1.066.png\n"
            "1.100 rgb/1.100.png\n2.000 rgb/2.000.png\n2.015 rgb/2.015.png\n");
  WriteText(dir / "depth.txt",
            "# depth maps\n1.005 depth/1.005.png\n1.030 depth/1.030.png\n"
            "1.070 depth/1.070.png\n1.300 depth/1.300.png\n2.010 depth/2.010.png\n");
  // Poses at 0.99 and 1.01 (interpolated at 1.000), 1.03 alone (nearest for 1.033), 1.5.
  WriteText(dir / "groundtruth.txt",
            "# ground truth trajectory\n"
            "0.99 0 0 0 0 0 0 1\n"
            "1.01 2 0 0 0 0 0.7071067811865476 0.7071067811865476\n"
            "1.03 5 5 5 0 0 0 1\n"
            "1.5 9 9 9 0 0 0 1\n");
}

TEST(TumSequence, AssociatesNearestDepthWithinTolerance) {
  TempDir dir;
  WriteTumFolder(dir.path());
  const RgbdSequence seq = ReadTumSequence(dir.path());
  EXPECT_EQ(seq.depth_scale, 5000.0);
  EXPECT_EQ(seq.camera.model, CameraModelId::kPinhole);  // no freiburg in the name: defaults
  EXPECT_EQ(seq.camera.params, (std::vector<double>{525.0, 525.0, 319.5, 239.5}));
  // 1.100 has no depth within 0.02 s; 2.000 and 2.015 compete for 2.010, the closer one wins.
  ASSERT_EQ(seq.frames.size(), 4u);
  const double colors[] = {1.000, 1.033, 1.066, 2.015};
  const double depths[] = {1.005, 1.030, 1.070, 2.010};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(seq.frames[i].timestamp, colors[i]);
    EXPECT_EQ(seq.frames[i].depth_timestamp, depths[i]);
  }
  EXPECT_EQ(seq.frames[1].color_path, dir / "rgb/1.033.png");
  EXPECT_EQ(seq.frames[1].depth_path, dir / "depth/1.030.png");
}

TEST(TumSequence, GroundTruthIsInterpolatedOrNearest) {
  TempDir dir;
  WriteTumFolder(dir.path());
  const RgbdSequence seq = ReadTumSequence(dir.path());
  // t = 1.000 is midway between 0.99 (identity) and 1.01 (90° about z, at x = 2): half of each.
  ASSERT_TRUE(seq.frames[0].world_from_cam.has_value());
  const Rigid3& mid = *seq.frames[0].world_from_cam;
  EXPECT_LT((mid.translation - Eigen::Vector3d(1, 0, 0)).norm(), 1e-12);
  const Eigen::Quaterniond half(Eigen::AngleAxisd(M_PI / 4, Eigen::Vector3d::UnitZ()));
  EXPECT_LT(mid.rotation.angularDistance(half), 1e-12);
  EXPECT_LT((seq.frames[0].CamFromWorld()->translation + half.inverse() * mid.translation).norm(),
            1e-12);
  // 1.033: 1.03 and 1.5 are 0.47 s apart (> 0.1 s), so the nearest (0.003 s away) is taken.
  ASSERT_TRUE(seq.frames[1].world_from_cam.has_value());
  EXPECT_EQ(seq.frames[1].world_from_cam->translation, Eigen::Vector3d(5, 5, 5));
  // 1.066 and 2.015: nothing within 0.02 s and no close bracket.
  EXPECT_FALSE(seq.frames[2].world_from_cam.has_value());
  EXPECT_FALSE(seq.frames[3].world_from_cam.has_value());
}

TEST(TumSequence, FreiburgFolderNamesSelectTumCalibration) {
  TempDir dir;
  const fs::path folder = dir / "rgbd_dataset_freiburg3_long_office_household";
  WriteTumFolder(folder);
  const RgbdSequence fr3 = ReadTumSequence(folder / "");
  EXPECT_EQ(fr3.camera.params, (std::vector<double>{535.4, 539.2, 320.1, 247.6}));
  const fs::path fr1_folder = dir / "rgbd_dataset_freiburg1_xyz";
  WriteTumFolder(fr1_folder);
  const RgbdSequence fr1 = ReadTumSequence(fr1_folder);
  EXPECT_EQ(fr1.camera.model, CameraModelId::kFullOpenCV);
  EXPECT_EQ(fr1.camera.params[8], 1.1633);  // k3
  // Explicit intrinsics win, and must match the images.
  const Camera small = Camera::Create(CameraModelId::kPinhole, 100.0, 320, 240);
  EXPECT_THROW(ReadTumSequence(folder, {.camera = small}), Error);
}

TEST(TumSequence, MalformedListsNameFileAndLine) {
  TempDir dir;
  WriteTumFolder(dir.path());
  WriteText(dir / "rgb.txt", "# header\n1.0 rgb/a.png\n1.1 rgb/b.png extra\n");
  ExpectErrorMentions([&] { ReadTumSequence(dir.path()); }, {"rgb.txt", "line 3"});
  WriteText(dir / "rgb.txt", "1.0x rgb/a.png\n");
  ExpectErrorMentions([&] { ReadTumSequence(dir.path()); }, {"rgb.txt", "line 1", "1.0x"});
  WriteTumFolder(dir.path());
  WriteText(dir / "groundtruth.txt", "1.0 0 0 0 0 0 0 2\n");
  ExpectErrorMentions([&] { ReadTumSequence(dir.path()); }, {"groundtruth.txt", "line 1", "norm"});
  fs::remove(dir / "depth.txt");
  ExpectErrorMentions([&] { ReadTumSequence(dir.path()); }, {"depth.txt"});
  WriteText(dir / "depth.txt", "5.0 depth/far.png\n");
  ExpectErrorMentions([&] { ReadTumSequence(dir.path()); }, {"no colour image has a depth"});
  EXPECT_THROW(ReadTumSequence(dir.path(), {.max_association_dt_s = 0.0}), Error);
}

TEST(RgbdDepth, SixteenBitPngIsScaledToMetres) {
  TempDir dir;
  ImageU16 raw(3, 2, 1);
  raw(0, 0) = 0;
  raw(1, 0) = 5000;
  raw(2, 0) = 65535;
  raw(0, 1) = 1234;
  WriteImage(dir / "d.png", raw);
  const ImageF32 tum = LoadDepthMeters(dir / "d.png", 5000.0);
  ASSERT_EQ(tum.width(), 3);
  ASSERT_EQ(tum.height(), 2);
  EXPECT_EQ(tum(0, 0), 0.0f);  // no measurement stays 0
  EXPECT_EQ(tum(1, 0), 1.0f);
  EXPECT_EQ(tum(2, 0), static_cast<float>(65535 / 5000.0));
  EXPECT_EQ(LoadDepthMeters(dir / "d.png", 1000.0)(0, 1), 1.234f);
  WriteImage(dir / "gray8.png", ImageU8(3, 2, 1));
  ExpectErrorMentions([&] { LoadDepthMeters(dir / "gray8.png", 1000.0); }, {"gray8.png", "16-bit"});
  WriteImage(dir / "rgb16.png", ImageU16(3, 2, 3));
  EXPECT_THROW(LoadDepthMeters(dir / "rgb16.png", 1000.0), Error);
  EXPECT_THROW(LoadDepthMeters(dir / "d.png", 0.0), Error);
}

std::vector<TrajectoryEntry> RandomTrajectory(int n) {
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  std::vector<TrajectoryEntry> entries;
  for (int i = 0; i < n; ++i) {
    TrajectoryEntry e;
    e.metadata = {i, i, i + 1};
    const Eigen::Quaterniond q =
        Eigen::Quaterniond(normal(rng), normal(rng), normal(rng), normal(rng)).normalized();
    e.world_from_cam.topLeftCorner<3, 3>() = q.toRotationMatrix();
    e.world_from_cam.topRightCorner<3, 1>() =
        Eigen::Vector3d(normal(rng), normal(rng), normal(rng));
    entries.push_back(e);
  }
  return entries;
}

TEST(TrajectoryLog, RoundTripKeepsEightDecimals) {
  TempDir dir;
  const std::vector<TrajectoryEntry> entries = RandomTrajectory(20);
  WriteTrajectoryLog(dir / "t.log", entries);
  const std::vector<TrajectoryEntry> back = ReadTrajectoryLog(dir / "t.log");
  ASSERT_EQ(back.size(), entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(back[i].metadata, entries[i].metadata);
    // Written with 8 decimals: each entry is off by at most half a unit in the 8th place.
    EXPECT_LE((back[i].world_from_cam - entries[i].world_from_cam).cwiseAbs().maxCoeff(), 5e-9);
  }
}

TEST(TrajectoryLog, MalformedFilesNameTheLine) {
  TempDir dir;
  WriteText(dir / "t.log", "0 0 1\n1 0 0 0\n0 1 0 0\n0 0 1 0\n");
  ExpectErrorMentions([&] { ReadTrajectoryLog(dir / "t.log"); }, {"t.log", "line 1", "truncated"});
  WriteText(dir / "t.log", "0 0 1\n2 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n");
  ExpectErrorMentions([&] { ReadTrajectoryLog(dir / "t.log"); }, {"lines 2-5", "rigid"});
  WriteText(dir / "t.log", "0 0 1.5\n1 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n");
  ExpectErrorMentions([&] { ReadTrajectoryLog(dir / "t.log"); }, {"line 1", "1.5"});
  WriteText(dir / "t.log", "0 0 1\n1 0 0 0\n0 1 0\n0 0 1 0\n0 0 0 1\n");
  ExpectErrorMentions([&] { ReadTrajectoryLog(dir / "t.log"); }, {"line 3"});
}

TEST(TrajectoryLog, CorruptFilesAreRejectedCleanly) {
  TempDir dir;
  WriteTrajectoryLog(dir / "t.log", RandomTrajectory(5));
  const auto stats = facet::testing::ExpectCorruptionIsHandled(
      ReadFile(dir / "t.log"), dir / "mutated.log", 150, 11,
      [](const fs::path& p) { ReadTrajectoryLog(p); });
  EXPECT_GT(stats.rejected, 0);
}

TEST(RedwoodSequence, PairsByIndexAndAttachesTheTrajectory) {
  TempDir dir;
  fs::create_directories(dir / "seq/image");
  fs::create_directories(dir / "seq/depth");
  for (int i = 0; i < 3; ++i) {
    WriteImage(dir / ("seq/image/0000" + std::to_string(i) + ".jpg"), ImageU8(64, 48, 3));
    WriteImage(dir / ("seq/depth/0000" + std::to_string(i) + ".png"), ImageU16(64, 48, 1, 1500));
  }
  std::vector<TrajectoryEntry> trajectory = RandomTrajectory(3);
  std::swap(trajectory[0], trajectory[2]);  // entries are matched by frame index, not order
  WriteTrajectoryLog(dir / "seq/traj.log", trajectory);
  const Camera camera = Camera::Create(CameraModelId::kPinhole, 50.0, 64, 48);
  const RgbdSequence seq = ReadRedwoodSequence(dir / "seq", camera, {.trajectory_log = "traj.log"});
  ASSERT_EQ(seq.frames.size(), 3u);
  EXPECT_EQ(seq.depth_scale, 1000.0);
  for (int i = 0; i < 3; ++i) {
    const RgbdFrame& frame = seq.frames[i];
    EXPECT_EQ(frame.color_path.filename(), "0000" + std::to_string(i) + ".jpg");
    EXPECT_EQ(frame.depth_path.filename(), "0000" + std::to_string(i) + ".png");
    ASSERT_TRUE(frame.world_from_cam.has_value());
    const TrajectoryEntry& entry = trajectory[static_cast<std::size_t>(2 - i)];
    ASSERT_EQ(entry.metadata[0], i);
    EXPECT_LE((frame.world_from_cam->ToMatrix() - entry.world_from_cam.topRows<3>())
                  .cwiseAbs()
                  .maxCoeff(),
              1e-8);  // 8-decimal file, re-orthonormalised through a quaternion
  }
  EXPECT_FLOAT_EQ(LoadDepthMeters(seq.frames[0].depth_path, seq.depth_scale)(5, 5), 1.5f);

  WriteTrajectoryLog(dir / "seq/bad.log", RandomTrajectory(4));  // names frame 3 of 0-2
  ExpectErrorMentions(
      [&] { ReadRedwoodSequence(dir / "seq", camera, {.trajectory_log = "bad.log"}); },
      {"bad.log", "frame 3"});
  fs::remove(dir / "seq/depth/00002.png");
  ExpectErrorMentions([&] { ReadRedwoodSequence(dir / "seq", camera); }, {"3 colour and 2 depth"});
  EXPECT_THROW(ReadRedwoodSequence(dir / "nothing", camera), Error);
}

TEST(RedwoodSequence, LivingRoomWithOpen3dTrajectory) {
  const fs::path folder = FACET_SOURCE_DIR "/../shared/data/rgbd-livingroom";
  if (!fs::exists(folder)) GTEST_SKIP() << "shared data not found: " << folder;
  Camera camera = Camera::Create(CameraModelId::kPinhole, 525.0, 640, 480);
  camera.params = {525.0, 525.0, 319.5, 239.5};
  const RgbdSequence seq =
      ReadRedwoodSequence(folder, camera, {.trajectory_log = "open3d_trajectory.log"});
  ASSERT_EQ(seq.frames.size(), 211u);
  for (const RgbdFrame& frame : seq.frames) ASSERT_TRUE(frame.world_from_cam.has_value());
  EXPECT_LT(seq.frames[0].world_from_cam->translation.norm(), 1e-8);  // Open3D starts at identity
  const std::vector<TrajectoryEntry> log = ReadTrajectoryLog(folder / "open3d_trajectory.log");
  ASSERT_EQ(log.size(), 211u);
  for (int i = 0; i < 211; ++i) EXPECT_EQ(log[i].metadata, (std::array<int, 3>{i, i, i + 1}));

  const ImageF32 depth = LoadDepthMeters(seq.frames[0].depth_path, seq.depth_scale);
  ASSERT_EQ(depth.width(), 640);
  ASSERT_EQ(depth.height(), 480);
  // An indoor room: valid depths lie between the sensor's near limit and a few metres.
  int valid = 0;
  for (int y = 0; y < 480; ++y) {
    for (int x = 0; x < 640; ++x) {
      if (depth(x, y) == 0.0f) continue;
      ++valid;
      ASSERT_GT(depth(x, y), 0.1f);
      ASSERT_LT(depth(x, y), 10.0f);
    }
  }
  EXPECT_GT(valid, 640 * 480 / 2);
}

}  // namespace
}  // namespace facet::datasets
