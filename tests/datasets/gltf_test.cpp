#include "datasets/gltf.h"

#include <gtest/gtest.h>
#include <tiny_gltf.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "common/corruption.h"
#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/version.h"

namespace facet::datasets {
namespace {

using geometry::TriangleMesh;
using Tri = Eigen::Matrix<std::uint32_t, 3, 1>;

// A UV sphere (radius 1.5) with a vertex at each pole, outward unit normals and colours that
// encode the normal, so every attribute differs per vertex. No degenerate triangles.
TriangleMesh Sphere(int rings = 12, int segments = 24) {
  TriangleMesh mesh;
  const Eigen::Vector3d center(0.2, -0.1, 0.3);
  const double radius = 1.5;
  auto add = [&](const Eigen::Vector3d& n) {
    mesh.vertices.push_back(center + radius * n);
    mesh.vertex_normals.push_back(n);
    mesh.vertex_colors.push_back((0.5f * (n.cast<float>() + Eigen::Vector3f::Ones())).eval());
  };
  add(Eigen::Vector3d::UnitZ());
  for (int i = 1; i < rings; ++i) {
    const double theta = std::numbers::pi * i / rings;
    for (int j = 0; j < segments; ++j) {
      const double phi = 2.0 * std::numbers::pi * j / segments;
      add({std::sin(theta) * std::cos(phi), std::sin(theta) * std::sin(phi), std::cos(theta)});
    }
  }
  add(-Eigen::Vector3d::UnitZ());
  const auto ring = [&](int i, int j) {
    return std::uint32_t(1 + (i - 1) * segments + j % segments);
  };
  const auto bottom = std::uint32_t(mesh.vertices.size() - 1);
  for (int j = 0; j < segments; ++j) {
    mesh.triangles.emplace_back(0, ring(1, j), ring(1, j + 1));
    for (int i = 1; i + 1 < rings; ++i) {
      mesh.triangles.emplace_back(ring(i, j), ring(i + 1, j), ring(i + 1, j + 1));
      mesh.triangles.emplace_back(ring(i, j), ring(i + 1, j + 1), ring(i, j + 1));
    }
    mesh.triangles.emplace_back(bottom, ring(rings - 1, j + 1), ring(rings - 1, j));
  }
  return mesh;
}

// The unit cube, counter-clockwise from outside; positions only.
TriangleMesh Cube() {
  TriangleMesh mesh;
  for (int k = 0; k < 8; ++k) mesh.vertices.emplace_back(k & 1, (k >> 1) & 1, (k >> 2) & 1);
  mesh.triangles = {Tri(0, 2, 3), Tri(0, 3, 1), Tri(4, 5, 7), Tri(4, 7, 6),
                    Tri(0, 1, 5), Tri(0, 5, 4), Tri(2, 6, 7), Tri(2, 7, 3),
                    Tri(0, 4, 6), Tri(0, 6, 2), Tri(1, 3, 7), Tri(1, 7, 5)};
  return mesh;
}

// Signed volume (divergence theorem): positive when the triangles face outwards.
double SignedVolume(const TriangleMesh& mesh) {
  double volume = 0.0;
  for (const auto& t : mesh.triangles) {
    volume += mesh.vertices[t[0]].dot(mesh.vertices[t[1]].cross(mesh.vertices[t[2]])) / 6.0;
  }
  return volume;
}

tinygltf::Model LoadModel(const std::filesystem::path& path) {
  tinygltf::TinyGLTF loader;
  tinygltf::Model model;
  std::string err, warn;
  EXPECT_TRUE(loader.LoadBinaryFromFile(&model, &err, &warn, path.string())) << err;
  return model;
}

void WriteModel(const std::filesystem::path& path, const tinygltf::Model& model) {
  std::ostringstream stream;
  tinygltf::TinyGLTF writer;
  ASSERT_TRUE(writer.WriteGltfSceneToStream(&model, stream, false, true));
  WriteFileAtomically(path, std::string_view(stream.view()));
}

template <typename Fn>
void ExpectErrorMentions(Fn&& fn, const std::string& fragment) {
  try {
    fn();
    ADD_FAILURE() << "no facet::Error (expected one mentioning '" << fragment << "')";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Gltf, RoundTripKeepsVerticesNormalsColoursAndTriangles) {
  testing::TempDir dir;
  const TriangleMesh mesh = Sphere();
  ASSERT_GT(SignedVolume(mesh), 0.0);
  WriteGlb(dir / "sphere.glb", mesh);
  const TriangleMesh back = ReadGlb(dir / "sphere.glb");
  ASSERT_EQ(back.vertices.size(), mesh.vertices.size());
  ASSERT_EQ(back.vertex_normals.size(), mesh.vertices.size());
  ASSERT_EQ(back.vertex_colors.size(), mesh.vertices.size());
  EXPECT_EQ(back.triangles, mesh.triangles);
  // float32 storage: relative rounding 2⁻²⁴ per coordinate.
  const double eps = std::ldexp(1.0, -24);
  for (std::size_t i = 0; i < mesh.vertices.size(); ++i) {
    EXPECT_LE((back.vertices[i] - mesh.vertices[i]).cwiseAbs().maxCoeff(),
              eps * mesh.vertices[i].cwiseAbs().maxCoeff());
    EXPECT_LT((back.vertex_normals[i] - mesh.vertex_normals[i]).norm(), 4 * eps);
    EXPECT_EQ(back.vertex_colors[i], mesh.vertex_colors[i]);  // already float
  }
}

TEST(Gltf, MeshWithoutNormalsOrColoursHasOnlyPositionsAndNoMaterial) {
  testing::TempDir dir;
  WriteGlb(dir / "cube.glb", Cube());
  const TriangleMesh back = ReadGlb(dir / "cube.glb");
  EXPECT_EQ(back.vertices, Cube().vertices);
  EXPECT_EQ(back.triangles, Cube().triangles);
  EXPECT_FALSE(back.HasVertexNormals());
  EXPECT_FALSE(back.HasVertexColors());
  const tinygltf::Model model = LoadModel(dir / "cube.glb");
  EXPECT_TRUE(model.materials.empty());
  EXPECT_TRUE(model.extensionsUsed.empty());
  ASSERT_EQ(model.meshes.size(), 1u);
  EXPECT_EQ(model.meshes[0].primitives[0].attributes.size(), 1u);
  // Options can drop attributes a mesh has.
  WriteGlb(dir / "plain.glb", Sphere(), {.write_normals = false, .write_colors = false});
  EXPECT_EQ(LoadModel(dir / "plain.glb").meshes[0].primitives[0].attributes.size(), 1u);
}

TEST(Gltf, FileLayoutFollowsTheSpecification) {
  testing::TempDir dir;
  const TriangleMesh mesh = Sphere();
  WriteGlb(dir / "sphere.glb", mesh, {.name = "sphère"});
  const std::vector<std::uint8_t> bytes = ReadFile(dir / "sphere.glb");
  std::uint32_t length = 0;
  std::memcpy(&length, bytes.data() + 8, 4);
  EXPECT_EQ(length, bytes.size());
  EXPECT_EQ(bytes.size() % 4, 0u);

  const tinygltf::Model model = LoadModel(dir / "sphere.glb");
  EXPECT_EQ(model.asset.version, "2.0");
  EXPECT_EQ(model.asset.generator, "facet " + std::string(Version()));
  ASSERT_EQ(model.scenes.size(), 1u);
  ASSERT_EQ(model.nodes.size(), 1u);
  ASSERT_EQ(model.meshes.size(), 1u);
  EXPECT_EQ(model.nodes[0].name, "sphère");
  ASSERT_EQ(model.meshes[0].primitives.size(), 1u);
  const tinygltf::Primitive& primitive = model.meshes[0].primitives[0];
  EXPECT_EQ(primitive.mode, TINYGLTF_MODE_TRIANGLES);

  // Colours come with an unlit material, declared in extensionsUsed.
  ASSERT_EQ(model.extensionsUsed, std::vector<std::string>{"KHR_materials_unlit"});
  ASSERT_EQ(primitive.material, 0);
  EXPECT_EQ(model.materials[0].extensions.count("KHR_materials_unlit"), 1u);

  const tinygltf::Accessor& position =
      model.accessors[std::size_t(primitive.attributes.at("POSITION"))];
  EXPECT_EQ(position.componentType, TINYGLTF_COMPONENT_TYPE_FLOAT);
  EXPECT_EQ(position.type, TINYGLTF_TYPE_VEC3);
  ASSERT_EQ(position.minValues.size(), 3u);
  ASSERT_EQ(position.maxValues.size(), 3u);
  for (int c = 0; c < 3; ++c) {
    float lo = INFINITY, hi = -INFINITY;
    for (const auto& v : mesh.vertices) {
      lo = std::min(lo, float(v[c]));
      hi = std::max(hi, float(v[c]));
    }
    EXPECT_EQ(position.minValues[std::size_t(c)], double(lo));  // exactly the float32 bounds
    EXPECT_EQ(position.maxValues[std::size_t(c)], double(hi));
  }
  for (const char* name : {"NORMAL", "COLOR_0"}) {
    const auto& a = model.accessors[std::size_t(primitive.attributes.at(name))];
    EXPECT_EQ(a.componentType, TINYGLTF_COMPONENT_TYPE_FLOAT) << name;
    EXPECT_EQ(a.type, TINYGLTF_TYPE_VEC3) << name;
  }
  const tinygltf::Accessor& indices = model.accessors[std::size_t(primitive.indices)];
  EXPECT_EQ(indices.componentType, TINYGLTF_COMPONENT_TYPE_UNSIGNED_INT);
  EXPECT_EQ(indices.count, 3 * mesh.triangles.size());
  ASSERT_EQ(model.buffers.size(), 1u);
  for (const auto& view : model.bufferViews) {
    EXPECT_EQ(view.byteOffset % 4, 0u);
    EXPECT_EQ(view.byteStride, 0u);
  }
}

TEST(Gltf, WrittenFilesPassTheKhronosValidator) {
  if (testing::RunCommand("command -v node").exit_code != 0) GTEST_SKIP() << "node not found";
  testing::TempDir dir;
  WriteGlb(dir / "sphere.glb", Sphere());
  WriteGlb(dir / "cube.glb", Cube());
  for (const char* name : {"sphere.glb", "cube.glb"}) {
    const testing::CommandResult result = testing::RunCommand(
        "node " FACET_SOURCE_DIR "/tests/datasets/validate_gltf.js " + (dir / name).string());
    if (result.exit_code == 3) GTEST_SKIP() << "gltf-validator is not installed: " << result.output;
    EXPECT_EQ(result.exit_code, 0) << name << ":\n" << result.output;
    EXPECT_NE(result.output.find("\"numErrors\": 0"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("\"numWarnings\": 0"), std::string::npos) << result.output;
  }
}

TEST(Gltf, WriteRefusesMeshesGltfCannotHold) {
  testing::TempDir dir;
  const auto path = dir / "bad.glb";
  ExpectErrorMentions([&] { WriteGlb(path, TriangleMesh()); }, "at least one triangle");
  TriangleMesh mesh = Sphere();
  mesh.vertices[5].x() = std::nan("");
  ExpectErrorMentions([&] { WriteGlb(path, mesh); }, "vertex 5");
  mesh = Sphere();
  mesh.vertex_normals[7].setZero();
  ExpectErrorMentions([&] { WriteGlb(path, mesh); }, "normal 7");
  mesh = Sphere();
  mesh.triangles[0][1] = 100000;
  EXPECT_THROW(WriteGlb(path, mesh), Error);
  ExpectErrorMentions([&] { WriteGlb(path, Cube(), {.name = "bad \xC3"}); }, "UTF-8");
  EXPECT_FALSE(std::filesystem::exists(path));
}

// Test files written directly with tinygltf, with the encodings facet does not write.
class ModelBuilder {
 public:
  ModelBuilder() { model.buffers.resize(1); }

  template <typename T>
  int AddAccessor(const std::vector<T>& values, int component_type, int type, std::size_t count,
                  std::size_t stride = 0, bool normalized = false) {
    auto& data = model.buffers[0].data;
    data.resize((data.size() + 3) / 4 * 4);
    tinygltf::BufferView view;
    view.buffer = 0;
    view.byteOffset = data.size();
    view.byteLength = values.size() * sizeof(T);
    view.byteStride = stride;
    const auto* p = reinterpret_cast<const unsigned char*>(values.data());
    data.insert(data.end(), p, p + view.byteLength);
    model.bufferViews.push_back(view);
    tinygltf::Accessor accessor;
    accessor.bufferView = int(model.bufferViews.size()) - 1;
    accessor.componentType = component_type;
    accessor.type = type;
    accessor.count = count;
    accessor.normalized = normalized;
    model.accessors.push_back(accessor);
    return int(model.accessors.size()) - 1;
  }

  tinygltf::Model model;
};

// One mesh with two primitives: an indexed triangle (uint16 indices, unorm8 RGBA colours padded
// to a 4-byte stride) and a non-indexed one without colours.
tinygltf::Model TwoPrimitiveModel() {
  ModelBuilder b;
  tinygltf::Primitive first;
  first.mode = TINYGLTF_MODE_TRIANGLES;
  first.attributes["POSITION"] =
      b.AddAccessor(std::vector<float>{0, 0, 0, 1, 0, 0, 0, 1, 0}, TINYGLTF_COMPONENT_TYPE_FLOAT,
                    TINYGLTF_TYPE_VEC3, 3);
  first.attributes["COLOR_0"] =
      b.AddAccessor(std::vector<std::uint8_t>{255, 0, 0, 255, 0, 51, 0, 255, 0, 0, 255, 128},
                    TINYGLTF_COMPONENT_TYPE_UNSIGNED_BYTE, TINYGLTF_TYPE_VEC4, 3, 4, true);
  first.indices = b.AddAccessor(std::vector<std::uint16_t>{0, 1, 2, 0},  // padded to 4 bytes
                                TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT, TINYGLTF_TYPE_SCALAR, 3);
  tinygltf::Primitive second;
  second.mode = TINYGLTF_MODE_TRIANGLES;
  second.attributes["POSITION"] =
      b.AddAccessor(std::vector<float>{0, 0, 1, 1, 0, 1, 0, 1, 1}, TINYGLTF_COMPONENT_TYPE_FLOAT,
                    TINYGLTF_TYPE_VEC3, 3);
  tinygltf::Mesh mesh;
  mesh.primitives = {first, second};
  b.model.meshes.push_back(mesh);
  // Node 0 translates and holds node 1, which mirrors x and carries the mesh; node 2 carries the
  // mesh again through a matrix (a quarter turn about z, then a shift).
  tinygltf::Node root, mirrored, turned;
  root.translation = {1.0, 2.0, 3.0};
  root.children = {1};
  mirrored.scale = {-1.0, 1.0, 1.0};
  mirrored.mesh = 0;
  turned.matrix = {0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1, 0, 10, 0, 0, 1};  // column-major
  turned.mesh = 0;
  b.model.nodes = {root, mirrored, turned};
  tinygltf::Scene scene;
  scene.nodes = {0, 2};
  b.model.scenes.push_back(scene);
  b.model.defaultScene = 0;
  b.model.asset.version = "2.0";
  return b.model;
}

TEST(Gltf, ReadAppliesNodeTransformsAndAcceptsOtherEncodings) {
  testing::TempDir dir;
  WriteModel(dir / "two.glb", TwoPrimitiveModel());
  const TriangleMesh mesh = ReadGlb(dir / "two.glb");
  ASSERT_EQ(mesh.vertices.size(), 12u);  // 2 primitives x 3 vertices, instanced twice
  ASSERT_EQ(mesh.triangles.size(), 4u);
  EXPECT_FALSE(mesh.HasVertexNormals());
  ASSERT_TRUE(mesh.HasVertexColors());
  // Mirrored instance: x -> 1 - x, y -> y + 2, z -> z + 3, and the winding reversed so that the
  // triangle still faces the way its (mirrored) normal points.
  EXPECT_EQ(mesh.vertices[1], Eigen::Vector3d(0, 2, 3));
  EXPECT_EQ(mesh.vertices[2], Eigen::Vector3d(1, 3, 3));
  EXPECT_EQ(mesh.triangles[0], Tri(0, 2, 1));
  EXPECT_EQ(mesh.triangles[1], Tri(3, 5, 4));
  // Turned instance: (x, y, z) -> (10 - y, x, z), winding kept.
  EXPECT_EQ(mesh.vertices[7], Eigen::Vector3d(10, 1, 0));
  EXPECT_EQ(mesh.vertices[11], Eigen::Vector3d(9, 0, 1));
  EXPECT_EQ(mesh.triangles[2], Tri(6, 7, 8));
  // unorm8 colours scale by 1/255 (alpha dropped); the primitive without colours is white.
  EXPECT_EQ(mesh.vertex_colors[1], Eigen::Vector3f(0.0f, 0.2f, 0.0f));
  EXPECT_EQ(mesh.vertex_colors[4], Eigen::Vector3f::Ones());
}

// One triangle instanced by 60,000 nodes: the collected mesh must grow geometrically, not by one
// instance at a time (exact reserves copied everything per instance: ~90 GB here, 10 s).
TEST(Gltf, ManyInstancesReadInLinearTime) {
  testing::TempDir dir;
  ModelBuilder b;
  tinygltf::Primitive triangle;
  triangle.mode = TINYGLTF_MODE_TRIANGLES;
  triangle.attributes["POSITION"] =
      b.AddAccessor(std::vector<float>{0, 0, 0, 1, 0, 0, 0, 1, 0}, TINYGLTF_COMPONENT_TYPE_FLOAT,
                    TINYGLTF_TYPE_VEC3, 3);
  tinygltf::Mesh mesh;
  mesh.primitives = {triangle};
  b.model.meshes.push_back(mesh);
  constexpr int kInstances = 60000;
  tinygltf::Scene scene;
  for (int i = 0; i < kInstances; ++i) {
    tinygltf::Node node;
    node.mesh = 0;
    b.model.nodes.push_back(node);
    scene.nodes.push_back(i);
  }
  b.model.scenes.push_back(scene);
  b.model.defaultScene = 0;
  b.model.asset.version = "2.0";
  WriteModel(dir / "many.glb", b.model);
  const auto start = std::chrono::steady_clock::now();
  const TriangleMesh read = ReadGlb(dir / "many.glb");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(read.vertices.size(), 3u * kInstances);
  EXPECT_EQ(read.triangles.size(), std::size_t{kInstances});
  EXPECT_EQ(read.triangles.back(), Tri(3 * kInstances - 3, 3 * kInstances - 2, 3 * kInstances - 1));
  // Linear: tens of milliseconds (mostly tinygltf's JSON); quadratic: many seconds.
  EXPECT_LT(seconds, 2.0);
}

TEST(Gltf, ReadRefusesContentItCannotRepresent) {
  testing::TempDir dir;
  const auto path = dir / "odd.glb";
  auto expect_refused = [&](const tinygltf::Model& model, const std::string& fragment) {
    WriteModel(path, model);
    ExpectErrorMentions([&] { ReadGlb(path); }, fragment);
  };
  tinygltf::Model model = TwoPrimitiveModel();
  model.meshes[0].primitives[1].mode = TINYGLTF_MODE_POINTS;
  expect_refused(model, "mode 0");

  model = TwoPrimitiveModel();
  model.meshes[0].primitives[0].extensions["KHR_draco_mesh_compression"] =
      tinygltf::Value(tinygltf::Value::Object());
  expect_refused(model, "Draco");

  model = TwoPrimitiveModel();
  model.extensionsUsed = model.extensionsRequired = {"EXT_meshopt_compression"};
  expect_refused(model, "EXT_meshopt_compression");

  model = TwoPrimitiveModel();
  model.buffers[0].data[36 + 12 + 4] = 7;  // after positions and colours: index 2 -> 7
  expect_refused(model, "index 2 is 7");

  model = TwoPrimitiveModel();
  model.scenes[0].nodes = {0, 1};  // node 1 is also node 0's child
  expect_refused(model, "reached twice");

  model = TwoPrimitiveModel();
  model.nodes[2].children = {2};  // a cycle
  expect_refused(model, "reached twice");

  model = TwoPrimitiveModel();
  model.accessors[0].count = 1000;  // runs past its bufferView
  expect_refused(model, "overruns");

  model = TwoPrimitiveModel();
  model.accessors[2].count = 2;
  model.meshes[0].primitives[0].indices = -1;
  model.meshes[0].primitives[0].attributes["POSITION"] = 2;  // uint16 positions
  expect_refused(model, "component type");

  WriteFileAtomically(path, std::string_view("{\"asset\": {\"version\": \"2.0\"}}"));
  ExpectErrorMentions([&] { ReadGlb(path); }, ".gltf");
  WriteGlb(path, Sphere());
  std::vector<std::uint8_t> bytes = ReadFile(path);
  bytes.resize(bytes.size() / 2);
  WriteFileAtomically(path, bytes);
  ExpectErrorMentions([&] { ReadGlb(path); }, "truncated");
  ExpectErrorMentions([&] { ReadGlb(dir / "missing.glb"); }, "missing.glb");
}

TEST(Gltf, CorruptFilesAreRefusedCleanly) {
  // facet's own output, and a file with node transforms, strides and small integer types.
  testing::TempDir dir;
  WriteGlb(dir / "sphere.glb", Sphere(6, 8));
  WriteModel(dir / "two.glb", TwoPrimitiveModel());
  std::uint32_t seed = 1234;
  for (const char* name : {"sphere.glb", "two.glb"}) {
    const testing::CorruptionStats stats = testing::ExpectCorruptionIsHandled(
        ReadFile(dir / name), dir / "mutated.glb", 400, seed++,
        [](const std::filesystem::path& path) { (void)ReadGlb(path); });
    EXPECT_GT(stats.rejected, 100) << name;
  }
}

}  // namespace
}  // namespace facet::datasets
