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
#include "core/progress.h"
#include "datasets/colmap_model.h"
#include "datasets/synthetic/dataset_writer.h"

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
  // TUM's default 525, 525, 319.5, 239.5 is OpenCV's pixel convention (the centre of a 640x480
  // image is at 319.5, 239.5 when pixel centres are integers); in facet's it is 320, 240.
  EXPECT_EQ(seq.camera.params, (std::vector<double>{525.0, 525.0, 320.0, 240.0}));
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
  // TUM's published numbers, with the principal point moved from OpenCV's pixel convention to
  // facet's (+0.5 px); focal lengths and distortion are unchanged.
  const RgbdSequence fr3 = ReadTumSequence(folder / "");
  EXPECT_EQ(fr3.camera.params, (std::vector<double>{535.4, 539.2, 320.1 + 0.5, 247.6 + 0.5}));
  const fs::path fr1_folder = dir / "rgbd_dataset_freiburg1_xyz";
  WriteTumFolder(fr1_folder);
  const RgbdSequence fr1 = ReadTumSequence(fr1_folder);
  EXPECT_EQ(fr1.camera.model, CameraModelId::kFullOpenCV);
  EXPECT_EQ(fr1.camera.params, (std::vector<double>{517.3, 516.5, 318.6 + 0.5, 255.3 + 0.5, 0.2624,
                                                    -0.9531, -0.0054, 0.0026, 1.1633, 0, 0, 0}));
  // Explicit intrinsics win, and must match the images.
  const Camera small = Camera::Create(CameraModelId::kPinhole, 100.0, 320, 240);
  EXPECT_THROW(ReadTumSequence(folder, {.camera = small}), Error);
}

TEST(TumSequence, CameraPrecedenceIsOptionsThenCamerasTxtThenFolderName) {
  TempDir dir;
  const fs::path folder = dir / "rgbd_dataset_freiburg3_with_camera";
  WriteTumFolder(folder);
  Camera file_camera = Camera::Create(CameraModelId::kSimpleRadial, 600.0, 640, 480);
  file_camera.params[3] = -0.01;
  WriteSequenceCameraFile(folder / "cameras.txt", file_camera);
  const RgbdSequence from_file = ReadTumSequence(folder);
  EXPECT_EQ(from_file.camera.model, file_camera.model);
  EXPECT_EQ(from_file.camera.params, file_camera.params);  // beats the freiburg3 name
  const Camera explicit_camera = Camera::Create(CameraModelId::kPinhole, 700.0, 640, 480);
  EXPECT_EQ(ReadTumSequence(folder, {.camera = explicit_camera}).camera.params,
            explicit_camera.params);  // beats cameras.txt
  // A cameras.txt that does not fit the images is an error, not silently replaced.
  WriteSequenceCameraFile(folder / "cameras.txt",
                          Camera::Create(CameraModelId::kPinhole, 300.0, 320, 240));
  ExpectErrorMentions([&] { ReadTumSequence(folder); }, {"320x240", "1.000.png"});
}

TEST(SequenceCameraFile, RoundTripIsExactAndColmapCompatible) {
  TempDir dir;
  Camera camera = Camera::Create(CameraModelId::kFullOpenCV, 517.3, 640, 480);
  camera.params = {517.3,   516.5,  318.6 + 0.5, 255.3 + 0.5, 0.2624, -0.9531,
                   -0.0054, 0.0026, 1.1633,      1e-17,       0,      0};
  WriteSequenceCameraFile(dir / "cameras.txt", camera);
  const Camera back = ReadSequenceCameraFile(dir / "cameras.txt");
  EXPECT_EQ(back.model, camera.model);
  EXPECT_EQ(back.width, 640);
  EXPECT_EQ(back.height, 480);
  EXPECT_EQ(back.params, camera.params);  // 17 significant digits: bit-exact
  // COLMAP's own cameras.txt with one camera (as facet's COLMAP writer makes it) reads the same.
  Scene scene;
  scene.cameras[CameraId(7)] = camera;
  WriteColmapModelText(dir / "colmap", scene);
  EXPECT_EQ(ReadSequenceCameraFile(dir / "colmap/cameras.txt").params, camera.params);
  // And the other way round: COLMAP's reader takes facet's file.
  fs::copy_file(dir / "cameras.txt", dir / "colmap/cameras.txt",
                fs::copy_options::overwrite_existing);
  EXPECT_EQ(ReadColmapModelText(dir / "colmap").cameras.at(CameraId(1)).params, camera.params);
}

TEST(SequenceCameraFile, MalformedFilesNameFileAndLine) {
  TempDir dir;
  const fs::path path = dir / "cameras.txt";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"# none\n", {"holds 0 camera lines"}},
      {"1 PINHOLE 64 48 50 50 32 24\n2 PINHOLE 64 48 50 50 32 24\n", {"holds 2 camera lines"}},
      {"# c\n1 PINHOLE 64\n", {"line 2", "found 3 fields"}},
      {"1 FOV 64 48 50 50 32 24 0.1\n", {"line 1", "\"FOV\""}},
      {"1 PINHOLE 64 48 50 50 32\n", {"line 1", "PINHOLE camera has 4 parameters", "found 3"}},
      {"1 PINHOLE 64 4x8 50 50 32 24\n", {"line 1", "4x8"}},
      {"1 PINHOLE 64 48 50 nan 32 24\n", {"line 1", "nan"}},
      {"1 PINHOLE 64 -48 50 50 32 24\n", {"line 1", "invalid size"}},
      {"1 PINHOLE 64 48 0 50 32 24\n", {"line 1", "focal"}},
  };
  for (const auto& [text, parts] : cases) {
    WriteText(path, text);
    std::vector<std::string> with_file = parts;
    with_file.push_back("cameras.txt");
    ExpectErrorMentions([&] { ReadSequenceCameraFile(path); }, with_file);
  }
  EXPECT_THROW(ReadSequenceCameraFile(dir / "missing.txt"), Error);
}

// `facet synth --rgbd` writes a folder that reads back as a TUM sequence with the true camera,
// poses and depths.
TEST(TumSequence, SyntheticRgbdFolderReadsBackExactly) {
  TempDir dir;
  synthetic::SynthOptions options;
  options.num_views = 5;
  options.width = 96;
  options.height = 72;
  options.rgbd = true;
  options.mesh_voxel_size = 0.012;
  SetProgressQuiet(true);
  const synthetic::SyntheticScene written = synthetic::WriteSyntheticDataset(options, dir.path());
  SetProgressQuiet(false);
  const RgbdSequence seq = ReadTumSequence(dir.path());

  // The camera is the synthetic one (f = 0.9 * 96 px, centred: cx = W/2), not TUM's 525 px.
  const Camera& truth = written.scene.cameras.at(CameraId(1));
  EXPECT_EQ(seq.camera.model, truth.model);
  EXPECT_EQ(seq.camera.width, 96);
  EXPECT_EQ(seq.camera.height, 72);
  EXPECT_EQ(seq.camera.params, truth.params);  // 17 significant digits: exact
  EXPECT_DOUBLE_EQ(seq.camera.FocalX(), 0.9 * 96);
  EXPECT_EQ(seq.camera.PrincipalPoint(), Eigen::Vector2d(48.0, 36.0));
  EXPECT_EQ(seq.depth_scale, 5000.0);

  ASSERT_EQ(seq.frames.size(), 5u);  // colour and depth share timestamps: every frame pairs
  const synthetic::Renderer renderer = synthetic::MakeRenderer(written);
  for (int i = 0; i < 5; ++i) {
    const RgbdFrame& frame = seq.frames[static_cast<std::size_t>(i)];
    const Image& image = written.scene.images.at(written.image_order[static_cast<std::size_t>(i)]);
    EXPECT_EQ(frame.color_path, dir.path() / "images" / image.name);
    EXPECT_EQ(frame.depth_path, dir.path() / "depth" / image.name);
    EXPECT_EQ(frame.timestamp, frame.depth_timestamp);

    // groundtruth.txt prints positions and quaternion components to 9 decimals (errors <= 5e-10
    // each): the rotation is off by at most ~2 |dq| <= 2e-9 rad, and the camera-frame translation
    // -R^T c by |dc| + |c| * 2e-9 (camera centres lie within ~3 m of the origin).
    const std::optional<Rigid3> cam_from_world = frame.CamFromWorld();
    ASSERT_TRUE(cam_from_world.has_value()) << "frame " << i;
    EXPECT_LT(cam_from_world->rotation.angularDistance(image.cam_from_world->rotation), 3e-9);
    EXPECT_LT((cam_from_world->translation - image.cam_from_world->translation).norm(), 1e-8);

    // Depth: rounded to 1/5000 m units (error <= 1e-4 m), plus float round-off of metres (< 1e-6).
    const synthetic::RenderedView rendered = synthetic::RenderSyntheticView(written, renderer, i);
    const ImageF32 depth = LoadDepthMeters(frame.depth_path, seq.depth_scale);
    ASSERT_EQ(depth.width(), 96);
    ASSERT_EQ(depth.height(), 72);
    int valid = 0;
    for (int y = 0; y < 72; ++y) {
      for (int x = 0; x < 96; ++x) {
        const float expected = rendered.depth(x, y);
        if (expected * 5000.0 >= 65534.5) {  // beyond 16 bits: written as "no measurement"
          EXPECT_EQ(depth(x, y), 0.0f);
          continue;
        }
        ++valid;
        ASSERT_NEAR(depth(x, y), expected, 0.5 / 5000.0 + 1e-6)
            << "frame " << i << " " << x << "," << y;
      }
    }
    EXPECT_EQ(valid, 96 * 72);  // the room is small: every pixel holds a depth
  }
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
  // The README's (and Open3D's PrimeSenseDefault) intrinsics 525, 525, 319.5, 239.5 are OpenCV's
  // pixel convention (Open3D unprojects integer pixel indices): facet's principal point is
  // (320, 240), the image centre.
  const Camera camera = geometry::CameraFromOpenCvIntrinsics(525.0, 525.0, 319.5, 239.5, 640, 480);
  EXPECT_EQ(camera.params, (std::vector<double>{525.0, 525.0, 320.0, 240.0}));
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
