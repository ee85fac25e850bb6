// WriteGlb (see gltf.h). ReadGlb is in gltf_read.cpp.
#include "datasets/gltf.h"

#include <Eigen/Geometry>
#include <tiny_gltf.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <sstream>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"
#include "core/version.h"

namespace facet::datasets {
namespace {

constexpr std::string_view kUnlit = "KHR_materials_unlit";
// The GLB header's length field is 32-bit; keep room for the JSON chunk.
constexpr std::uint64_t kMaxBinBytes = 0xFFFFFFFFull - (std::uint64_t{1} << 20);

// Well-formed UTF-8 (Unicode 15, table 3-7): no overlong forms, surrogates or code points past
// U+10FFFF. JSON serialisation throws on anything else.
bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    unsigned char low = 0x80, high = 0xBF;  // range of the second byte
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      extra = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      extra = 2;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      extra = 3;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (c < (k == 1 ? low : 0x80) || c > (k == 1 ? high : 0xBF)) return false;
    }
    i += extra + 1;
  }
  return true;
}

// Appends `bytes` to the buffer as a new bufferView (4-byte aligned) and returns its index.
int AddBufferView(tinygltf::Model& model, std::span<const std::uint8_t> bytes, int target) {
  std::vector<unsigned char>& data = model.buffers[0].data;
  data.resize((data.size() + 3) / 4 * 4, 0);
  tinygltf::BufferView view;
  view.buffer = 0;
  view.byteOffset = data.size();
  view.byteLength = bytes.size();
  view.target = target;
  data.insert(data.end(), bytes.begin(), bytes.end());
  model.bufferViews.push_back(view);
  return int(model.bufferViews.size()) - 1;
}

int AddVec3Accessor(tinygltf::Model& model, const std::vector<float>& xyz, bool with_bounds) {
  tinygltf::Accessor accessor;
  accessor.bufferView = AddBufferView(
      model, {reinterpret_cast<const std::uint8_t*>(xyz.data()), xyz.size() * sizeof(float)},
      TINYGLTF_TARGET_ARRAY_BUFFER);
  accessor.componentType = TINYGLTF_COMPONENT_TYPE_FLOAT;
  accessor.type = TINYGLTF_TYPE_VEC3;
  accessor.count = xyz.size() / 3;
  if (with_bounds) {
    accessor.minValues.assign(3, std::numeric_limits<double>::infinity());
    accessor.maxValues.assign(3, -std::numeric_limits<double>::infinity());
    for (std::size_t i = 0; i < xyz.size(); ++i) {
      // The bounds of the float32 values themselves: the validator compares them exactly.
      accessor.minValues[i % 3] = std::min(accessor.minValues[i % 3], double(xyz[i]));
      accessor.maxValues[i % 3] = std::max(accessor.maxValues[i % 3], double(xyz[i]));
    }
  }
  model.accessors.push_back(accessor);
  return int(model.accessors.size()) - 1;
}

}  // namespace

void GlbOptions::Check() const {
  FACET_CHECK(IsValidUtf8(name), "GlbOptions.name must be valid UTF-8 (glTF is JSON)");
}

void WriteGlb(const std::filesystem::path& path, const geometry::TriangleMesh& mesh,
              const GlbOptions& options) {
  options.Check();
  mesh.Check();
  const std::string file = path.string();
  const std::size_t n = mesh.vertices.size();
  FACET_CHECK(n > 0 && !mesh.triangles.empty(),
              "cannot write '{}': the mesh has {} vertices and {} triangles (glTF needs at least "
              "one triangle)",
              file, n, mesh.triangles.size());
  // Index 0xFFFFFFFF is the primitive-restart value that glTF forbids in index data.
  FACET_CHECK(n <= 0xFFFFFFFFull,
              "cannot write '{}': {} vertices need 32-bit index 0xFFFFFFFF, which glTF reserves "
              "(split the mesh)",
              file, n);
  const bool with_normals = options.write_normals && mesh.HasVertexNormals();
  const bool with_colors = options.write_colors && mesh.HasVertexColors();
  const std::uint64_t bin_bytes =
      std::uint64_t(n) * 12 * (1 + int(with_normals) + int(with_colors)) +
      std::uint64_t(mesh.triangles.size()) * 12;
  FACET_CHECK(bin_bytes <= kMaxBinBytes,
              "cannot write '{}': {} vertices and {} triangles need {} bytes, over the 4 GiB a GLB "
              "file can hold (simplify or split the mesh)",
              file, n, mesh.triangles.size(), bin_bytes);

  tinygltf::Model model;
  model.asset.version = "2.0";
  model.asset.generator = "facet " + std::string(Version());
  model.buffers.resize(1);
  model.buffers[0].data.reserve(bin_bytes + 16);

  std::vector<float> xyz(3 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const Eigen::Vector3f p = mesh.vertices[i].cast<float>();
    FACET_CHECK(p.allFinite(),
                "cannot write '{}': vertex {} = ({}, {}, {}) is not finite in float32", file, i,
                mesh.vertices[i].x(), mesh.vertices[i].y(), mesh.vertices[i].z());
    std::copy(p.data(), p.data() + 3, xyz.begin() + std::ptrdiff_t(3 * i));
  }
  tinygltf::Primitive primitive;
  primitive.mode = TINYGLTF_MODE_TRIANGLES;
  primitive.attributes["POSITION"] = AddVec3Accessor(model, xyz, true);

  if (with_normals) {
    for (std::size_t i = 0; i < n; ++i) {
      const Eigen::Vector3d& normal = mesh.vertex_normals[i];
      const double norm = normal.norm();
      FACET_CHECK(norm > 0.0 && std::isfinite(norm),
                  "cannot write '{}': vertex normal {} is zero or not finite (recompute normals "
                  "with TriangleMesh::ComputeVertexNormals, or write without normals)",
                  file, i);
      Eigen::Vector3f unit = (normal / norm).cast<float>();
      unit /= unit.norm();  // unit length in float32, within the validator's tolerance
      std::copy(unit.data(), unit.data() + 3, xyz.begin() + std::ptrdiff_t(3 * i));
    }
    primitive.attributes["NORMAL"] = AddVec3Accessor(model, xyz, false);
  }

  if (with_colors) {
    for (std::size_t i = 0; i < n; ++i) {
      const Eigen::Vector3f& color = mesh.vertex_colors[i];
      FACET_CHECK(color.allFinite(), "cannot write '{}': vertex colour {} is not finite", file, i);
      for (int c = 0; c < 3; ++c) xyz[3 * i + std::size_t(c)] = std::clamp(color[c], 0.0f, 1.0f);
    }
    primitive.attributes["COLOR_0"] = AddVec3Accessor(model, xyz, false);

    tinygltf::Material material;
    material.name = options.name;
    material.pbrMetallicRoughness.metallicFactor = 0.0;
    material.extensions[std::string(kUnlit)] = tinygltf::Value(tinygltf::Value::Object());
    model.materials.push_back(material);
    model.extensionsUsed.emplace_back(kUnlit);
    primitive.material = 0;
  }
  xyz = {};

  {
    std::vector<std::uint32_t> indices;
    indices.reserve(3 * mesh.triangles.size());
    for (const auto& t : mesh.triangles) indices.insert(indices.end(), {t[0], t[1], t[2]});
    tinygltf::Accessor accessor;
    accessor.bufferView = AddBufferView(model,
                                        {reinterpret_cast<const std::uint8_t*>(indices.data()),
                                         indices.size() * sizeof(std::uint32_t)},
                                        TINYGLTF_TARGET_ELEMENT_ARRAY_BUFFER);
    accessor.componentType = TINYGLTF_COMPONENT_TYPE_UNSIGNED_INT;
    accessor.type = TINYGLTF_TYPE_SCALAR;
    accessor.count = indices.size();
    model.accessors.push_back(accessor);
    primitive.indices = int(model.accessors.size()) - 1;
  }

  tinygltf::Mesh gltf_mesh;
  gltf_mesh.name = options.name;
  gltf_mesh.primitives.push_back(primitive);
  model.meshes.push_back(gltf_mesh);
  tinygltf::Node node;
  node.name = options.name;
  node.mesh = 0;
  model.nodes.push_back(node);
  tinygltf::Scene scene;
  scene.nodes = {0};
  model.scenes.push_back(scene);
  model.defaultScene = 0;

  std::ostringstream stream;
  tinygltf::TinyGLTF writer;
  FACET_CHECK(writer.WriteGltfSceneToStream(&model, stream, false, true) && stream.good(),
              "cannot write '{}': serialising the glTF failed", file);
  model = {};
  WriteFileAtomically(path, std::string_view(stream.view()));
}

}  // namespace facet::datasets
