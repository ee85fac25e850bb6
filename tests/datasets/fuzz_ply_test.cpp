// Randomised corruption of PLY files (binary little- and big-endian meshes, an ASCII mesh with a
// polygon, a 3DGS scene): every mutated file must read or throw facet::Error, quickly and within
// the memory cap. Run under the asan preset for memory errors.
#include <gtest/gtest.h>

#include <iostream>

#include "common/corruption.h"
#include "common/temp_dir.h"
#include "datasets/gaussian_splats.h"
#include "datasets/ply.h"
#include "format_test_util.h"

namespace facet::datasets {
namespace {

constexpr int kMutations = 10000;

void Report(const char* what, const testing::CorruptionStats& stats) {
  std::cout << what << ": " << stats.accepted << " mutations read, " << stats.rejected
            << " refused\n";
  EXPECT_GT(stats.rejected, 0);
}

// A small mesh with normals and colours: a subdivided octahedron (18 vertices, 32 triangles).
geometry::TriangleMesh FuzzMesh() {
  geometry::TriangleMesh mesh = testing::SampleMesh();
  const std::size_t triangles = mesh.triangles.size();
  for (std::size_t t = 0; t < triangles; ++t) {
    const auto tri = mesh.triangles[t];
    const auto centre = static_cast<std::uint32_t>(mesh.vertices.size());
    mesh.vertices.push_back(
        (mesh.vertices[tri[0]] + mesh.vertices[tri[1]] + mesh.vertices[tri[2]]).normalized());
    mesh.vertex_normals.push_back(mesh.vertices.back());
    mesh.vertex_colors.push_back(mesh.vertex_colors[tri[0]]);
    mesh.triangles[t] = {tri[0], tri[1], centre};
    mesh.triangles.emplace_back(tri[1], tri[2], centre);
    mesh.triangles.emplace_back(tri[2], tri[0], centre);
  }
  return mesh;
}

TEST(PlyFuzz, BinaryMeshCorruptionIsHandled) {
  testing::CapAddressSpace();
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  const std::filesystem::path scratch = dir / "mutated.ply";
  WriteMeshPly(dir / "mesh.ply", FuzzMesh(), PlyFormat::kBinaryLittleEndian);
  const auto stats = testing::ExpectCorruptionIsHandled(
      facet::ReadFile(dir / "mesh.ply"), scratch, kMutations, 1,
      [](const std::filesystem::path& path) {
        const geometry::TriangleMesh mesh = ReadMeshPly(path);
        EXPECT_NO_THROW(mesh.Check());  // what reads must be consistent
      });
  Report("binary mesh PLY", stats);
}

TEST(PlyFuzz, BigEndianMeshCorruptionIsHandled) {
  testing::CapAddressSpace();
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  const std::filesystem::path scratch = dir / "mutated.ply";
  WriteMeshPly(dir / "mesh.ply", FuzzMesh(), PlyFormat::kBinaryBigEndian);
  ASSERT_EQ(ReadPlyHeader(dir / "mesh.ply").format, PlyFormat::kBinaryBigEndian);
  const auto stats = testing::ExpectCorruptionIsHandled(
      facet::ReadFile(dir / "mesh.ply"), scratch, kMutations, 4,
      [](const std::filesystem::path& path) {
        const geometry::TriangleMesh mesh = ReadMeshPly(path);
        EXPECT_NO_THROW(mesh.Check());
        const geometry::PointCloud cloud = ReadPointCloudPly(path);
        EXPECT_NO_THROW(cloud.Check());
      });
  Report("big-endian mesh PLY", stats);
}

TEST(PlyFuzz, AsciiMeshCorruptionIsHandled) {
  testing::CapAddressSpace();
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  const std::filesystem::path scratch = dir / "mutated.ply";
  WriteMeshPly(dir / "mesh.ply", FuzzMesh(), PlyFormat::kAscii);
  std::vector<std::uint8_t> bytes = facet::ReadFile(dir / "mesh.ply");
  const std::string quad = "4 0 1 2 3\n";  // one more face: a quad, fan-triangulated
  const std::string text(bytes.begin(), bytes.end());
  std::string patched = text;
  const std::size_t at = patched.find("element face ");
  const std::size_t end = patched.find('\n', at);
  const int faces = std::stoi(patched.substr(at + 13, end - at - 13));
  patched.replace(at, end - at, "element face " + std::to_string(faces + 1));
  patched += quad;
  bytes.assign(patched.begin(), patched.end());
  const auto stats = testing::ExpectCorruptionIsHandled(
      bytes, scratch, kMutations, 2, [](const std::filesystem::path& path) {
        const geometry::TriangleMesh mesh = ReadMeshPly(path);
        EXPECT_NO_THROW(mesh.Check());
        const geometry::PointCloud cloud = ReadPointCloudPly(path);
        EXPECT_NO_THROW(cloud.Check());
      });
  Report("ASCII mesh PLY", stats);
}

TEST(PlyFuzz, GaussianPlyCorruptionIsHandled) {
  testing::CapAddressSpace();
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  const std::filesystem::path scratch = dir / "mutated.ply";
  WriteGaussianPly(dir / "splats.ply", testing::SampleSplats(12, 3, false));
  const auto stats =
      testing::ExpectCorruptionIsHandled(facet::ReadFile(dir / "splats.ply"), scratch, kMutations,
                                         3, [](const std::filesystem::path& path) {
                                           const GaussianSplats splats = ReadGaussianPly(path);
                                           EXPECT_NO_THROW(splats.Check());
                                         });
  Report("3DGS PLY", stats);
}

}  // namespace
}  // namespace facet::datasets
