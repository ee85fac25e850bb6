// `facet mesh` as users run it: points (Poisson), a mesh with holes (re-meshed through its SDF),
// a synthetic RGB-D sequence (TSDF) and a 3DGS file (TSDF over rendered depth) each become a
// watertight mesh in .glb (checked by the Khronos validator when installed), .ply or .obj; bad
// input is refused with one line and nothing is written.
#include <Eigen/Geometry>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <string>

#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "core/progress.h"
#include "datasets/gaussian_splats.h"
#include "datasets/gltf.h"
#include "datasets/ply.h"
#include "datasets/synthetic/dataset_writer.h"
#include "geometry/mesh_checks.h"

namespace facet {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::TempDir;

CommandResult Mesh(const fs::path& input, const fs::path& output, const std::string& extra = "") {
  return testing::RunCommand(fmt::format("'{}' mesh '{}' -o '{}' --quiet {}", FACET_BINARY,
                                         input.string(), output.string(), extra));
}

nlohmann::json ReadJson(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  return nlohmann::json::parse(std::string(bytes.begin(), bytes.end()));
}

// Points on a sphere of radius 0.5 with outward normals (Fibonacci lattice).
geometry::PointCloud SpherePoints(int count, bool normals) {
  geometry::PointCloud cloud;
  const double golden = std::numbers::pi * (3.0 - std::sqrt(5.0));
  for (int i = 0; i < count; ++i) {
    const double z = 1.0 - 2.0 * (i + 0.5) / count, r = std::sqrt(1.0 - z * z);
    const Eigen::Vector3d n(r * std::cos(golden * i), r * std::sin(golden * i), z);
    cloud.points.push_back(0.5 * n);
    if (normals) cloud.normals.push_back(n);
  }
  return cloud;
}

void ExpectValidGlb(const fs::path& path) {
  if (testing::RunCommand("command -v node").exit_code != 0) return;
  const CommandResult result = testing::RunCommand(
      "node " FACET_SOURCE_DIR "/tests/datasets/validate_gltf.js '" + path.string() + "'");
  if (result.exit_code == 3) return;  // gltf-validator not installed
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("\"numErrors\": 0"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("\"numWarnings\": 0"), std::string::npos) << result.output;
}

void ExpectWatertightSummary(const fs::path& summary_path) {
  const nlohmann::json summary = ReadJson(summary_path);
  EXPECT_TRUE(summary["watertight"].get<bool>()) << summary.dump(2);
  EXPECT_EQ(summary["self_intersections"].get<int>(), 0);
  EXPECT_GT(summary["triangles"].get<int>(), 100);
}

TEST(MeshCli, PointsBecomeAWatertightValidGlb) {
  SetProgressQuiet(true);
  TempDir dir;
  datasets::WritePointCloudPly(dir / "sphere.ply", SpherePoints(3000, true));
  const CommandResult result = Mesh(dir / "sphere.ply", dir / "sphere.glb",
                                    "--depth 6 --summary '" + (dir / "s.json").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  ExpectWatertightSummary(dir / "s.json");
  EXPECT_EQ(ReadJson(dir / "s.json")["method"], "poisson");
  const geometry::TriangleMesh mesh = datasets::ReadGlb(dir / "sphere.glb");
  EXPECT_TRUE(geometry::CheckWatertight(mesh).watertight);
  ASSERT_TRUE(mesh.HasVertexNormals());
  for (const auto& v : mesh.vertices) EXPECT_NEAR(v.norm(), 0.5, 0.02);
  ExpectValidGlb(dir / "sphere.glb");

  // Without normals they are estimated and oriented; --faces decimates; .obj output.
  datasets::WritePointCloudPly(dir / "bare.ply", SpherePoints(3000, false));
  const CommandResult bare =
      Mesh(dir / "bare.ply", dir / "bare.obj",
           "--depth 6 --faces 500 --summary '" + (dir / "b.json").string() + "'");
  ASSERT_EQ(bare.exit_code, 0) << bare.output;
  ExpectWatertightSummary(dir / "b.json");
  EXPECT_LE(ReadJson(dir / "b.json")["triangles"].get<int>(), 500);
  EXPECT_TRUE(fs::exists(dir / "bare.obj"));
}

TEST(MeshCli, AMeshWithHolesIsClosedThroughItsSdf) {
  SetProgressQuiet(true);
  TempDir dir;
  // Poisson-free ground truth: a sphere mesh from the points above, then holes punched in it.
  datasets::WritePointCloudPly(dir / "p.ply", SpherePoints(2000, true));
  ASSERT_EQ(Mesh(dir / "p.ply", dir / "closed.ply", "--depth 6").exit_code, 0);
  geometry::TriangleMesh mesh = datasets::ReadMeshPly(dir / "closed.ply");
  std::erase_if(mesh.triangles, [&](const auto& t) {
    const Eigen::Vector3d c = (mesh.vertices[t[0]] + mesh.vertices[t[1]] + mesh.vertices[t[2]]) / 3;
    return c.z() > 0.45 || c.x() > 0.45;  // two caps cut away
  });
  ASSERT_FALSE(geometry::CheckWatertight(mesh).watertight);
  datasets::WriteMeshPly(dir / "holed.ply", mesh);
  const CommandResult result = Mesh(dir / "holed.ply", dir / "fixed.glb",
                                    "--voxel 0.02 --summary '" + (dir / "f.json").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  ExpectWatertightSummary(dir / "f.json");
  EXPECT_EQ(ReadJson(dir / "f.json")["method"], "sdf");
  ExpectValidGlb(dir / "fixed.glb");
}

TEST(MeshCli, SyntheticRgbdSequenceIsFused) {
  SetProgressQuiet(true);
  TempDir dir;
  datasets::synthetic::SynthOptions options;
  options.num_views = 16;
  options.width = 96;
  options.height = 72;
  options.supersampling = 1;
  options.rgbd = true;
  options.mesh_voxel_size = 0.03;
  datasets::synthetic::WriteSyntheticDataset(options, dir / "rgbd");
  const CommandResult result = Mesh(dir / "rgbd", dir / "room.glb",
                                    "--voxel 0.04 --crop -0.7 -0.6 -0.1 0.7 0.6 0.7 --summary '" +
                                        (dir / "r.json").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  ExpectWatertightSummary(dir / "r.json");
  const nlohmann::json summary = ReadJson(dir / "r.json");
  EXPECT_EQ(summary["method"], "tsdf");
  EXPECT_EQ(summary["input_kind"], "TUM RGB-D sequence");
  const geometry::TriangleMesh mesh = datasets::ReadGlb(dir / "room.glb");
  EXPECT_TRUE(mesh.HasVertexColors());
  ExpectValidGlb(dir / "room.glb");
}

TEST(MeshCli, SplatsAreMeshedFromOrbitViews) {
  SetProgressQuiet(true);
  TempDir dir;
  // A sphere tiled with flat, opaque Gaussians.
  datasets::GaussianSplats splats;
  const int count = 3000;
  const double spacing = std::sqrt(4.0 * std::numbers::pi * 0.25 / count);
  const geometry::PointCloud points = SpherePoints(count, true);
  for (int i = 0; i < count; ++i) {
    const Eigen::Vector3d& n = points.normals[std::size_t(i)];
    Eigen::Matrix3d frame;
    frame << n.unitOrthogonal(), n.cross(n.unitOrthogonal()), n;
    const Eigen::Quaterniond q(frame);
    splats.positions.push_back(points.points[std::size_t(i)].cast<float>());
    splats.log_scales.push_back(Eigen::Vector3f(float(std::log(0.7 * spacing)),
                                                float(std::log(0.7 * spacing)),
                                                float(std::log(0.02 * spacing))));
    splats.rotations.push_back(
        Eigen::Vector4f(float(q.w()), float(q.x()), float(q.y()), float(q.z())));
    splats.opacities.push_back(5.0f);
    splats.sh_dc.push_back(Eigen::Vector3f(1.0f, 0.0f, -0.5f));
  }
  datasets::WriteGaussianPly(dir / "splats.ply", splats);
  const CommandResult result = Mesh(dir / "splats.ply", dir / "splats_mesh.glb",
                                    "--orbit-views 24 --render-size 128 --voxel 0.03 --summary '" +
                                        (dir / "m.json").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  ExpectWatertightSummary(dir / "m.json");
  const geometry::TriangleMesh mesh = datasets::ReadGlb(dir / "splats_mesh.glb");
  for (const auto& v : mesh.vertices) EXPECT_NEAR(v.norm(), 0.5, 0.05);
}

TEST(MeshCli, BadInputIsRefusedWithOneLine) {
  SetProgressQuiet(true);
  TempDir dir;
  const CommandResult missing = Mesh(dir / "nothing.ply", dir / "out.glb");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("does not exist"), std::string::npos) << missing.output;

  datasets::WritePointCloudPly(dir / "p.ply", SpherePoints(500, true));
  const CommandResult bad_ext = Mesh(dir / "p.ply", dir / "out.stl");
  EXPECT_EQ(bad_ext.exit_code, 2) << bad_ext.output;
  const CommandResult bad_method = Mesh(dir / "p.ply", dir / "out.glb", "--method sdf");
  EXPECT_EQ(bad_method.exit_code, 2) << bad_method.output;
  EXPECT_NE(bad_method.output.find("does not apply"), std::string::npos) << bad_method.output;

  WriteFileAtomically(dir / "corrupt.ply", std::string_view("ply\nformat binary_little_endian "
                                                            "1.0\nelement vertex 1000\nproperty "
                                                            "float x\nend_header\n\x01\x02"));
  const CommandResult corrupt = Mesh(dir / "corrupt.ply", dir / "out.glb");
  EXPECT_EQ(corrupt.exit_code, 1) << corrupt.output;

  datasets::WritePointCloudPly(dir / "empty.ply", geometry::PointCloud());
  const CommandResult empty = Mesh(dir / "empty.ply", dir / "out.glb");
  EXPECT_EQ(empty.exit_code, 1) << empty.output;

  fs::create_directories(dir / "folder");
  const CommandResult folder = Mesh(dir / "folder", dir / "out.glb");
  EXPECT_EQ(folder.exit_code, 1) << folder.output;
  EXPECT_NE(folder.output.find("not a facet workspace"), std::string::npos) << folder.output;
  EXPECT_FALSE(fs::exists(dir / "out.glb"));
}

}  // namespace
}  // namespace facet
