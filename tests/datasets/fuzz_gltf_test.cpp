// Randomised corruption of .glb files: every mutated file must read or throw facet::Error,
// quickly and within the memory cap (tinygltf's own parser included).
#include <gtest/gtest.h>

#include <iostream>

#include "common/corruption.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "datasets/gltf.h"

namespace facet::datasets {
namespace {

// An octahedron with normals and colours: every accessor kind the writer produces.
geometry::TriangleMesh Octahedron() {
  geometry::TriangleMesh mesh;
  mesh.vertices = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
  const int faces[8][3] = {{0, 2, 4}, {2, 1, 4}, {1, 3, 4}, {3, 0, 4},
                           {2, 0, 5}, {1, 2, 5}, {3, 1, 5}, {0, 3, 5}};
  for (const auto& f : faces) mesh.triangles.emplace_back(f[0], f[1], f[2]);
  mesh.ComputeVertexNormals();
  for (const auto& v : mesh.vertices)
    mesh.vertex_colors.push_back((0.5 * (v + Eigen::Vector3d::Ones())).cast<float>());
  return mesh;
}

TEST(GltfFuzz, GlbCorruptionIsHandled) {
  testing::CapAddressSpace();
  testing::TempDir dir(testing::TempDir::kPreferMemory);
  WriteGlb(dir / "mesh.glb", Octahedron());
  const auto stats = testing::ExpectCorruptionIsHandled(
      ReadFile(dir / "mesh.glb"), dir / "mutated.glb", 5000, 11,
      [](const std::filesystem::path& path) { ReadGlb(path).Check(); });
  std::cout << ".glb: " << stats.accepted << " mutations read, " << stats.rejected << " refused\n";
  EXPECT_GT(stats.rejected, 1000);  // most byte damage breaks the JSON chunk or the buffer sizes
}

}  // namespace
}  // namespace facet::datasets
