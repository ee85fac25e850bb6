// `facet icp` and `facet slam` as users run them: scans in an arbitrary relative pose are aligned
// without an initial guess; a synthetic RGB-D sequence gives a trajectory close to the truth and a
// watertight mesh; out-of-order timestamps and missing depth frames are handled; bad input fails
// with one line and writes nothing.
#include <Eigen/Geometry>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "datasets/ply.h"
#include "datasets/rgbd.h"
#include "datasets/synthetic/dataset_writer.h"
#include "datasets/synthetic/world.h"
#include "geometry/pose_metrics.h"

namespace facet {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::TempDir;

nlohmann::json ReadJson(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  return nlohmann::json::parse(std::string(bytes.begin(), bytes.end()));
}

CommandResult Facet(const std::string& args) {
  return testing::RunCommand(fmt::format("'{}' {} --quiet", FACET_BINARY, args));
}

// The synthetic object's vertices: a shape without symmetries, 1.2 m across.
geometry::PointCloud ObjectPoints() {
  const geometry::TriangleMesh mesh = datasets::synthetic::MakeObjectMesh(0.03);
  geometry::PointCloud cloud;
  cloud.points = mesh.vertices;
  return cloud;
}

geometry::Rigid3 ReadMatrix(const nlohmann::json& summary) {
  const std::vector<double> m = summary["target_from_source_column_major"];
  Eigen::Matrix4d t = Eigen::Map<const Eigen::Matrix4d>(m.data());
  return geometry::Rigid3::FromMatrix(t.topRows<3>());
}

TEST(IcpCli, AlignsScansInAnArbitraryPoseWithoutAGuess) {
  TempDir dir;
  const geometry::PointCloud target = ObjectPoints();
  // The source: the target moved by a large rotation (150 degrees) and translation, so that
  // ICP from identity cannot find it and the global registration must.
  const geometry::Rigid3 source_from_target(
      Eigen::Quaterniond(Eigen::AngleAxisd(2.6, Eigen::Vector3d(0.3, -0.5, 0.8).normalized())),
      Eigen::Vector3d(0.4, -0.9, 0.3));
  geometry::PointCloud source = target;
  for (Eigen::Vector3d& p : source.points) p = source_from_target * p;
  datasets::WritePointCloudPly(dir / "source.ply", source);
  datasets::WritePointCloudPly(dir / "target.ply", target);
  const CommandResult result = Facet(fmt::format(
      "icp '{}' '{}' -o '{}' --summary '{}'", (dir / "source.ply").string(),
      (dir / "target.ply").string(), (dir / "aligned.ply").string(), (dir / "s.json").string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("fitness"), std::string::npos);
  const nlohmann::json summary = ReadJson(dir / "s.json");
  EXPECT_GT(summary["fitness"].get<double>(), 0.99);
  const geometry::Rigid3 estimated = ReadMatrix(summary);
  const geometry::Rigid3 truth = source_from_target.Inverse();
  EXPECT_LT(geometry::RotationAngleDeg(estimated.rotation, truth.rotation), 0.1);
  EXPECT_LT((estimated.translation - truth.translation).norm(), 1e-3);
  const geometry::PointCloud aligned = datasets::ReadPointCloudPly(dir / "aligned.ply");
  ASSERT_EQ(aligned.size(), target.size());
  for (std::size_t i = 0; i < aligned.size(); i += 97) {
    EXPECT_LT((aligned.points[i] - target.points[i]).norm(), 2e-3);
  }
}

TEST(IcpCli, InitialGuessAndBadInput) {
  TempDir dir;
  const geometry::PointCloud target = ObjectPoints();
  geometry::PointCloud source = target;
  const geometry::Rigid3 source_from_target(
      Eigen::Quaterniond(Eigen::AngleAxisd(0.1, Eigen::Vector3d::UnitZ())),
      Eigen::Vector3d(0.02, 0.0, 0.01));
  for (Eigen::Vector3d& p : source.points) p = source_from_target * p;
  datasets::WritePointCloudPly(dir / "source.ply", source);
  datasets::WritePointCloudPly(dir / "target.ply", target);
  const std::string pair =
      fmt::format("'{}' '{}'", (dir / "source.ply").string(), (dir / "target.ply").string());
  std::ofstream(dir / "init.txt") << "1 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n";
  const CommandResult guided =
      Facet(fmt::format("icp {} -o '{}' --init '{}' --method point", pair, (dir / "a.pcd").string(),
                        (dir / "init.txt").string()));
  ASSERT_EQ(guided.exit_code, 0) << guided.output;
  EXPECT_TRUE(fs::exists(dir / "a.pcd"));

  // A malformed or non-rigid matrix, a missing file, an empty cloud: one line, non-zero, no output.
  std::ofstream(dir / "bad.txt") << "1 0 0 0\n0 2 0 0\n0 0 1 0\n0 0 0 1\n";
  std::ofstream(dir / "short.txt") << "1 0 0\n";
  datasets::WritePointCloudPly(dir / "empty.ply", geometry::PointCloud{});
  geometry::PointCloud single;
  single.points.push_back(Eigen::Vector3d::Zero());
  datasets::WritePointCloudPly(dir / "single.ply", single);
  for (const std::string& args :
       {fmt::format("icp {} -o '{}' --init '{}'", pair, (dir / "x.ply").string(),
                    (dir / "bad.txt").string()),
        fmt::format("icp {} -o '{}' --init '{}'", pair, (dir / "x.ply").string(),
                    (dir / "short.txt").string()),
        fmt::format("icp '{}' '{}' -o '{}'", (dir / "missing.ply").string(),
                    (dir / "target.ply").string(), (dir / "x.ply").string()),
        fmt::format("icp '{}' '{}' -o '{}'", (dir / "empty.ply").string(),
                    (dir / "target.ply").string(), (dir / "x.ply").string()),
        fmt::format("icp '{}' '{}' -o '{}'", (dir / "single.ply").string(),
                    (dir / "target.ply").string(), (dir / "x.ply").string())}) {
    const CommandResult result = Facet(args);
    EXPECT_NE(result.exit_code, 0) << args;
    EXPECT_NE(result.output.find("error"), std::string::npos) << result.output;
    EXPECT_FALSE(fs::exists(dir / "x.ply")) << args;
  }
}

TEST(IcpCli, NoOverlapIsAFailureNotASuccess) {
  TempDir dir;
  // Two unrelated random blobs 10 m apart: no transform makes them overlap.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  geometry::PointCloud a, b;
  for (int i = 0; i < 2000; ++i) a.points.emplace_back(u(rng), u(rng), u(rng));
  for (int i = 0; i < 2000; ++i) b.points.emplace_back(10 + u(rng), 0.1 * u(rng), u(rng));
  datasets::WritePointCloudPly(dir / "a.ply", a);
  datasets::WritePointCloudPly(dir / "b.ply", b);
  const CommandResult result =
      Facet(fmt::format("icp '{}' '{}' -o '{}' --init identity", (dir / "a.ply").string(),
                        (dir / "b.ply").string(), (dir / "x.ply").string()));
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("no alignment found"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(dir / "x.ply"));
}

// A synthetic hand-held RGB-D sequence written by `facet synth --rgbd` (TUM layout, exact depth).
fs::path WriteSequence(const fs::path& dir, int views) {
  datasets::synthetic::SynthOptions options;
  options.num_views = views;
  options.width = 160;
  options.height = 120;
  options.supersampling = 1;
  options.rgbd = true;
  options.mesh_voxel_size = 0.03;
  datasets::synthetic::WriteSyntheticDataset(options, dir / "seq");
  return dir / "seq";
}

std::vector<std::string> Lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  return lines;
}

TEST(SlamCli, SyntheticSequenceGivesTrajectoryAndWatertightMesh) {
  TempDir dir;
  const fs::path seq = WriteSequence(dir.path(), 60);
  const CommandResult result =
      Facet(fmt::format("slam '{}' -o '{}' --voxel 0.02", seq.string(), (dir / "out").string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(Lines(dir / "out" / "trajectory.txt").size(), 60u);
  EXPECT_EQ(datasets::ReadTrajectoryLog(dir / "out" / "trajectory.log").size(), 60u);
  const nlohmann::json summary = ReadJson(dir / "out" / "summary.json");
  EXPECT_LT(summary["reference"]["ate_rmse_m"].get<double>(), 0.01) << summary.dump(2);
  EXPECT_TRUE(summary["mesh"]["watertight"].get<bool>());
  EXPECT_TRUE(fs::exists(dir / "out" / "mesh.glb"));

  // Timestamps out of order in rgb.txt: the frames are taken in time order all the same.
  std::vector<std::string> rgb = Lines(seq / "rgb.txt");
  std::reverse(rgb.begin(), rgb.end());
  {
    std::ofstream out(seq / "rgb.txt");
    for (const std::string& line : rgb) out << line << "\n";
  }
  // A depth frame missing: reported, skipped, the rest tracked.
  const std::vector<std::string> depth = Lines(seq / "depth.txt");
  fs::remove(seq / depth[30].substr(depth[30].find(' ') + 1));
  const CommandResult again = Facet(fmt::format("slam '{}' -o '{}' --voxel 0.02 --no-mesh",
                                                seq.string(), (dir / "again").string()));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  const nlohmann::json second = ReadJson(dir / "again" / "summary.json");
  EXPECT_EQ(second["missing_frames"].get<int>(), 1);
  EXPECT_EQ(second["lost_frames"].get<int>(), 0);
  EXPECT_LT(second["reference"]["ate_rmse_m"].get<double>(), 0.01) << second.dump(2);
  EXPECT_EQ(Lines(dir / "again" / "trajectory.txt").size(), 59u);
}

TEST(SlamCli, NotAnRgbdFolderIsRefused) {
  TempDir dir;
  fs::create_directories(dir / "photos");
  datasets::WritePointCloudPly(dir / "cloud.ply", ObjectPoints());
  for (const fs::path& input : {dir / "photos", dir / "cloud.ply", dir / "missing"}) {
    const CommandResult result =
        Facet(fmt::format("slam '{}' -o '{}'", input.string(), (dir / "out").string()));
    EXPECT_NE(result.exit_code, 0) << input;
    EXPECT_NE(result.output.find("error"), std::string::npos) << result.output;
    EXPECT_FALSE(fs::exists(dir / "out" / "trajectory.txt"));
  }
}

}  // namespace
}  // namespace facet
