#include "datasets/obj.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "common/temp_dir.h"
#include "core/error.h"

namespace facet::datasets {
namespace {

using geometry::TriangleMesh;

TriangleMesh Tetrahedron() {
  TriangleMesh mesh;
  mesh.vertices = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  mesh.triangles = {{0, 2, 1}, {0, 1, 3}, {0, 3, 2}, {1, 2, 3}};
  return mesh;
}

std::string Read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Obj, WritesVerticesColoursNormalsAndOneBasedFaces) {
  testing::TempDir dir;
  TriangleMesh mesh = Tetrahedron();
  mesh.vertex_colors = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {2, -1, 0.5f}};
  WriteObj(dir / "plain.obj", Tetrahedron());
  const std::string plain = Read(dir / "plain.obj");
  EXPECT_NE(plain.find("\nv 1 0 0\n"), std::string::npos) << plain;
  EXPECT_NE(plain.find("\nf 1 3 2\n"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("vn "), std::string::npos);

  mesh.ComputeVertexNormals();
  WriteObj(dir / "full.obj", mesh);
  const std::string full = Read(dir / "full.obj");
  EXPECT_NE(full.find("\nv 0 0 1 1 0 0.5\n"), std::string::npos) << full;  // colour clamped
  EXPECT_NE(full.find("\nf 2//2 3//3 4//4\n"), std::string::npos) << full;
  std::size_t vn = 0;
  for (std::size_t p = full.find("\nvn "); p != std::string::npos; p = full.find("\nvn ", p + 1)) {
    ++vn;
  }
  EXPECT_EQ(vn, 4u);
  EXPECT_FALSE(std::filesystem::exists(dir / "full.obj.tmp"));
}

TEST(Obj, RefusesInvalidMeshes) {
  testing::TempDir dir;
  EXPECT_THROW(WriteObj(dir / "a.obj", TriangleMesh()), Error);
  TriangleMesh mesh = Tetrahedron();
  mesh.vertices[2].y() = std::nan("");
  EXPECT_THROW(WriteObj(dir / "a.obj", mesh), Error);
  mesh = Tetrahedron();
  mesh.triangles[1][2] = 9;
  EXPECT_THROW(WriteObj(dir / "a.obj", mesh), Error);
  EXPECT_FALSE(std::filesystem::exists(dir / "a.obj"));
}

}  // namespace
}  // namespace facet::datasets
