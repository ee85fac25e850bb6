// ReadGlb (see gltf.h): the GLB container checked with byte offsets, the JSON parsed by tinygltf
// with file access switched off, then every accessor validated against its buffer before a
// single element is read.
#include <Eigen/Geometry>
#include <tiny_gltf.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/detail/reader_limits.h"
#include "datasets/gltf.h"

namespace facet::datasets {
namespace {

std::uint32_t ReadU32(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
  std::uint32_t v = 0;
  std::memcpy(&v, bytes.data() + offset, 4);  // GLB is little-endian, as every facet host
  return v;
}

// The GLB container (spec 4.4): header, JSON chunk, optional BIN chunk. tinygltf checks it too;
// this gives errors with byte offsets. Returns the length the header declares.
std::uint32_t CheckGlbLayout(const std::vector<std::uint8_t>& bytes, const std::string& file) {
  const std::size_t size = bytes.size();
  FACET_CHECK(size >= 12,
              "cannot read '{}': {} bytes is too short for a GLB file (the header alone is 12)",
              file, size);
  if (std::memcmp(bytes.data(), "glTF", 4) != 0) {
    const auto first = std::find_if(bytes.begin(), bytes.end(), [](std::uint8_t c) {
      return c != ' ' && c != '\n' && c != '\r' && c != '\t';
    });
    FACET_CHECK(first == bytes.end() || *first != '{',
                "cannot read '{}': it is a text .gltf file; facet reads binary .glb only (convert "
                "it, e.g. with Blender or gltf-pipeline)",
                file);
    FACET_THROW("cannot read '{}': not a GLB file (no 'glTF' magic at byte 0)", file);
  }
  const std::uint32_t version = ReadU32(bytes, 4), length = ReadU32(bytes, 8);
  FACET_CHECK(version == 2, "cannot read '{}': GLB version {} at byte 4 (facet reads glTF 2.0)",
              file, version);
  FACET_CHECK(
      length <= size,
      "cannot read '{}': the header (byte 8) declares {} bytes but the file has {} (truncated?)",
      file, length, size);
  FACET_CHECK(length >= 20,
              "cannot read '{}': the header (byte 8) declares {} bytes, too few for a JSON chunk",
              file, length);
  const std::uint32_t json_length = ReadU32(bytes, 12);
  FACET_CHECK(std::memcmp(bytes.data() + 16, "JSON", 4) == 0,
              "cannot read '{}': the first chunk (byte 16) is not JSON", file);
  FACET_CHECK(json_length <= length - 20,
              "cannot read '{}': the JSON chunk (byte 12) declares {} bytes but {} remain", file,
              json_length, length - 20);
  const std::uint64_t bin_start = 20ull + json_length;
  if (bin_start < length) {
    FACET_CHECK(bin_start + 8 <= length,
                "cannot read '{}': {} stray bytes after the JSON chunk at byte {}", file,
                length - bin_start, bin_start);
    const std::uint32_t bin_length = ReadU32(bytes, bin_start);
    FACET_CHECK(bin_length <= length - bin_start - 8,
                "cannot read '{}': the BIN chunk at byte {} declares {} bytes but {} remain", file,
                bin_start, bin_length, length - bin_start - 8);
  }
  return length;
}

// A validated window onto an accessor's elements: every element lies inside its buffer.
struct AccessorData {
  const std::uint8_t* base = nullptr;
  std::size_t stride = 0;
  std::size_t count = 0;
  int component_type = 0;
  int components = 0;

  // Component c of element i; normalised integer types map to [0, 1].
  double Get(std::size_t i, int c) const {
    const std::uint8_t* p = base + i * stride;
    switch (component_type) {
      case TINYGLTF_COMPONENT_TYPE_UNSIGNED_BYTE:
        return p[c] / 255.0;
      case TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT: {
        std::uint16_t v;
        std::memcpy(&v, p + 2 * c, 2);
        return v / 65535.0;
      }
      default: {
        float v;
        std::memcpy(&v, p + 4 * c, 4);
        return v;
      }
    }
  }
  std::uint32_t Index(std::size_t i) const {
    const std::uint8_t* p = base + i * stride;
    if (component_type == TINYGLTF_COMPONENT_TYPE_UNSIGNED_BYTE) return p[0];
    if (component_type == TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT) {
      std::uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
};

AccessorData ViewAccessor(const tinygltf::Model& model, int index, const std::string& file,
                          std::string_view role, std::initializer_list<int> component_types,
                          std::initializer_list<int> types) {
  FACET_CHECK(index >= 0 && std::size_t(index) < model.accessors.size(),
              "cannot read '{}': {} refers to accessor {}, but there are {}", file, role, index,
              model.accessors.size());
  const tinygltf::Accessor& a = model.accessors[std::size_t(index)];
  FACET_CHECK(!a.sparse.isSparse, "cannot read '{}': {} accessor {} is sparse (not supported)",
              file, role, index);
  FACET_CHECK(a.bufferView >= 0 && std::size_t(a.bufferView) < model.bufferViews.size(),
              "cannot read '{}': {} accessor {} has no valid bufferView (compressed data such as "
              "Draco or meshopt is not supported; decompress it, e.g. with gltf-transform)",
              file, role, index);
  FACET_CHECK(
      std::find(component_types.begin(), component_types.end(), a.componentType) !=
          component_types.end(),
      "cannot read '{}': {} accessor {} has component type {}, which facet does not accept there",
      file, role, index, a.componentType);
  FACET_CHECK(
      std::find(types.begin(), types.end(), a.type) != types.end(),
      "cannot read '{}': {} accessor {} has element type {}, which facet does not accept there",
      file, role, index, a.type);
  const tinygltf::BufferView& view = model.bufferViews[std::size_t(a.bufferView)];
  FACET_CHECK(view.buffer >= 0 && std::size_t(view.buffer) < model.buffers.size(),
              "cannot read '{}': bufferView {} refers to buffer {}, but there are {}", file,
              a.bufferView, view.buffer, model.buffers.size());
  const std::size_t buffer_size = model.buffers[std::size_t(view.buffer)].data.size();
  FACET_CHECK(view.byteLength <= buffer_size && view.byteOffset <= buffer_size - view.byteLength,
              "cannot read '{}': bufferView {} (bytes {} + {}) lies outside buffer {} of {} bytes",
              file, a.bufferView, view.byteOffset, view.byteLength, view.buffer, buffer_size);
  AccessorData data;
  data.component_type = a.componentType;
  data.components = tinygltf::GetNumComponentsInType(std::uint32_t(a.type));
  const std::size_t element =
      std::size_t(tinygltf::GetComponentSizeInBytes(std::uint32_t(a.componentType))) *
      std::size_t(data.components);
  data.stride = view.byteStride != 0 ? view.byteStride : element;
  data.count = a.count;
  FACET_CHECK(data.stride >= element,
              "cannot read '{}': bufferView {} has byteStride {}, less than the {}-byte elements "
              "of accessor {}",
              file, a.bufferView, view.byteStride, element, index);
  if (data.count > 0) {
    const std::size_t room = view.byteLength;
    const bool fits = a.byteOffset <= room && room - a.byteOffset >= element &&
                      (data.count - 1) <= (room - a.byteOffset - element) / data.stride;
    FACET_CHECK(fits,
                "cannot read '{}': accessor {} ({} elements of {} bytes, stride {}, at offset {}) "
                "overruns bufferView {} of {} bytes",
                file, index, data.count, element, data.stride, a.byteOffset, a.bufferView, room);
    data.base =
        model.buffers[std::size_t(view.buffer)].data.data() + view.byteOffset + a.byteOffset;
  }
  return data;
}

// The node's local transform: its matrix (column-major) or T * R * S.
Eigen::Matrix4d NodeTransform(const tinygltf::Node& node, int index, const std::string& file) {
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  auto finite = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
  };
  FACET_CHECK((node.matrix.empty() || node.matrix.size() == 16) &&
                  (node.translation.empty() || node.translation.size() == 3) &&
                  (node.rotation.empty() || node.rotation.size() == 4) &&
                  (node.scale.empty() || node.scale.size() == 3) && finite(node.matrix) &&
                  finite(node.translation) && finite(node.rotation) && finite(node.scale),
              "cannot read '{}': node {} has a malformed transform (matrix 16, translation 3, "
              "rotation 4, scale 3 finite numbers)",
              file, index);
  if (node.matrix.size() == 16) {
    return Eigen::Map<const Eigen::Matrix4d>(node.matrix.data());  // column-major, as glTF
  }
  if (node.scale.size() == 3) {
    m.topLeftCorner<3, 3>() =
        Eigen::Vector3d(node.scale[0], node.scale[1], node.scale[2]).asDiagonal();
  }
  if (node.rotation.size() == 4) {
    // glTF stores (x, y, z, w).
    Eigen::Quaterniond q(node.rotation[3], node.rotation[0], node.rotation[1], node.rotation[2]);
    FACET_CHECK(q.norm() > 0.0, "cannot read '{}': node {} has a zero rotation quaternion", file,
                index);
    m.topLeftCorner<3, 3>() = q.normalized().toRotationMatrix() * m.topLeftCorner<3, 3>();
  }
  if (node.translation.size() == 3) {
    m.topRightCorner<3, 1>() =
        Eigen::Vector3d(node.translation[0], node.translation[1], node.translation[2]);
  }
  return m;
}

// Collects the triangles of every primitive into one mesh.
class MeshCollector {
 public:
  MeshCollector(const tinygltf::Model& model, std::string file, std::uint64_t file_size)
      : model_(model),
        file_(std::move(file)),
        max_vertices_(kMaxInstancing * (file_size / 12 + 1)),
        max_triangles_(kMaxInstancing * (file_size / 3 + 1)) {}

  void AddMesh(int mesh_index, const Eigen::Matrix4d& world_from_mesh);
  geometry::TriangleMesh Finish();

 private:
  static constexpr std::uint64_t kMaxInstancing = 16;

  void AddPrimitive(const tinygltf::Primitive& primitive, int mesh_index, int primitive_index,
                    const Eigen::Matrix4d& world_from_mesh);

  const tinygltf::Model& model_;
  std::string file_;
  std::uint64_t max_vertices_;
  std::uint64_t max_triangles_;
  geometry::TriangleMesh mesh_;
  bool all_normals_ = true;
  bool any_colors_ = false;
};

void MeshCollector::AddMesh(int mesh_index, const Eigen::Matrix4d& world_from_mesh) {
  FACET_CHECK(mesh_index >= 0 && std::size_t(mesh_index) < model_.meshes.size(),
              "cannot read '{}': a node refers to mesh {}, but there are {}", file_, mesh_index,
              model_.meshes.size());
  const auto& primitives = model_.meshes[std::size_t(mesh_index)].primitives;
  for (std::size_t p = 0; p < primitives.size(); ++p) {
    AddPrimitive(primitives[p], mesh_index, int(p), world_from_mesh);
  }
}

void MeshCollector::AddPrimitive(const tinygltf::Primitive& primitive, int mesh_index,
                                 int primitive_index, const Eigen::Matrix4d& world_from_mesh) {
  const std::string where = fmt::format("mesh {} primitive {}", mesh_index, primitive_index);
  FACET_CHECK(!primitive.extensions.count("KHR_draco_mesh_compression"),
              "cannot read '{}': {} is Draco-compressed, which facet does not decode (decompress "
              "it, e.g. with gltf-transform)",
              file_, where);
  FACET_CHECK(primitive.mode == TINYGLTF_MODE_TRIANGLES,
              "cannot read '{}': {} has mode {}; facet reads triangle lists only (mode 4)", file_,
              where, primitive.mode);
  const auto position_it = primitive.attributes.find("POSITION");
  FACET_CHECK(position_it != primitive.attributes.end(), "cannot read '{}': {} has no POSITION",
              file_, where);
  const AccessorData positions =
      ViewAccessor(model_, position_it->second, file_, where + " POSITION",
                   {TINYGLTF_COMPONENT_TYPE_FLOAT}, {TINYGLTF_TYPE_VEC3});
  const std::size_t n = positions.count;
  auto optional_attribute = [&](const char* name, std::initializer_list<int> component_types,
                                std::initializer_list<int> types) -> std::optional<AccessorData> {
    const auto it = primitive.attributes.find(name);
    if (it == primitive.attributes.end()) return std::nullopt;
    AccessorData data =
        ViewAccessor(model_, it->second, file_, where + " " + name, component_types, types);
    FACET_CHECK(data.count == n, "cannot read '{}': {} has {} {} values for {} positions", file_,
                where, data.count, name, n);
    return data;
  };
  const auto normals =
      optional_attribute("NORMAL", {TINYGLTF_COMPONENT_TYPE_FLOAT}, {TINYGLTF_TYPE_VEC3});
  const auto colors =
      optional_attribute("COLOR_0",
                         {TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_COMPONENT_TYPE_UNSIGNED_BYTE,
                          TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT},
                         {TINYGLTF_TYPE_VEC3, TINYGLTF_TYPE_VEC4});
  std::optional<AccessorData> indices;
  if (primitive.indices >= 0) {
    indices =
        ViewAccessor(model_, primitive.indices, file_, where + " indices",
                     {TINYGLTF_COMPONENT_TYPE_UNSIGNED_BYTE, TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT,
                      TINYGLTF_COMPONENT_TYPE_UNSIGNED_INT},
                     {TINYGLTF_TYPE_SCALAR});
  }
  const std::size_t num_corners = indices ? indices->count : n;
  FACET_CHECK(num_corners % 3 == 0, "cannot read '{}': {} has {} {}, not a multiple of 3", file_,
              where, num_corners, indices ? "indices" : "vertices");
  FACET_CHECK(mesh_.vertices.size() + n <= max_vertices_ &&
                  mesh_.triangles.size() + num_corners / 3 <= max_triangles_ &&
                  mesh_.vertices.size() + n <= 0xFFFFFFFFull,
              "cannot read '{}': its nodes instantiate more geometry than {} times what the file "
              "stores (refusing to allocate that much)",
              file_, kMaxInstancing);

  const std::size_t base = mesh_.vertices.size();
  const Eigen::Matrix3d linear = world_from_mesh.topLeftCorner<3, 3>();
  const Eigen::Vector3d offset = world_from_mesh.topRightCorner<3, 1>();
  const double det = linear.determinant();
  // Normals transform by the inverse transpose, proportional to the cofactor matrix (defined even
  // for singular transforms); sign(det) keeps them pointing out.
  Eigen::Matrix3d cofactor;
  cofactor.col(0) = linear.col(1).cross(linear.col(2));
  cofactor.col(1) = linear.col(2).cross(linear.col(0));
  cofactor.col(2) = linear.col(0).cross(linear.col(1));
  const Eigen::Matrix3d normal_matrix = (det < 0.0 ? -1.0 : 1.0) * cofactor;
  detail::ReserveGrowing(mesh_.vertices, base + n);
  for (std::size_t i = 0; i < n; ++i) {
    const Eigen::Vector3d p(positions.Get(i, 0), positions.Get(i, 1), positions.Get(i, 2));
    FACET_CHECK(p.allFinite(), "cannot read '{}': {} POSITION {} is not finite", file_, where, i);
    mesh_.vertices.push_back(linear * p + offset);
  }
  if (normals) {
    mesh_.vertex_normals.resize(base);  // zero placeholders for earlier primitives without
    for (std::size_t i = 0; i < n; ++i) {
      Eigen::Vector3d v = normal_matrix * Eigen::Vector3d(normals->Get(i, 0), normals->Get(i, 1),
                                                          normals->Get(i, 2));
      const double norm = v.norm();
      mesh_.vertex_normals.push_back(norm > 0.0 && std::isfinite(norm) ? Eigen::Vector3d(v / norm)
                                                                       : Eigen::Vector3d::Zero());
    }
  } else {
    all_normals_ = false;
  }
  mesh_.vertex_colors.resize(base, Eigen::Vector3f::Ones());
  if (colors) any_colors_ = true;
  for (std::size_t i = 0; i < n; ++i) {
    mesh_.vertex_colors.push_back(colors ? Eigen::Vector3f(float(colors->Get(i, 0)),
                                                           float(colors->Get(i, 1)),
                                                           float(colors->Get(i, 2)))
                                         : Eigen::Vector3f::Ones());
  }

  detail::ReserveGrowing(mesh_.triangles, mesh_.triangles.size() + num_corners / 3);
  for (std::size_t t = 0; t < num_corners / 3; ++t) {
    std::uint32_t corner[3];
    for (std::size_t k = 0; k < 3; ++k) {
      const std::size_t c = 3 * t + k;
      const std::size_t v = indices ? indices->Index(c) : c;
      FACET_CHECK(v < n, "cannot read '{}': {} index {} is {}, but there are {} vertices", file_,
                  where, c, v, n);
      corner[k] = std::uint32_t(base + v);
    }
    // A mirroring transform turns counter-clockwise triangles clockwise (spec 3.7.4).
    if (det < 0.0) std::swap(corner[1], corner[2]);
    mesh_.triangles.emplace_back(corner[0], corner[1], corner[2]);
  }
}

geometry::TriangleMesh MeshCollector::Finish() {
  if (!all_normals_ || mesh_.vertices.empty()) mesh_.vertex_normals.clear();
  if (!any_colors_) mesh_.vertex_colors.clear();
  mesh_.Check();
  return std::move(mesh_);
}

// File access is switched off: buffers must be inside the GLB (or data URIs), and external
// images, which facet does not need, are skipped by tinygltf with a warning.
bool NoFileExists(const std::string&, void*) { return false; }
std::string SamePath(const std::string& path, void*) { return path; }
bool NoReadFile(std::vector<unsigned char>*, std::string* err, const std::string& path, void*) {
  if (err != nullptr) *err = "facet does not open files a .glb refers to (" + path + ")";
  return false;
}
bool NoWriteFile(std::string*, const std::string&, const std::vector<unsigned char>&, void*) {
  return false;
}
bool SkipImage(tinygltf::Image*, const int, std::string*, std::string*, int, int,
               const unsigned char*, int, void*) {
  return true;
}

}  // namespace

geometry::TriangleMesh ReadGlb(const std::filesystem::path& path) {
  const std::string file = path.string();
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  const std::uint32_t length = CheckGlbLayout(bytes, file);

  tinygltf::TinyGLTF loader;
  loader.SetImageLoader(&SkipImage, nullptr);
  loader.SetFsCallbacks({&NoFileExists, &SamePath, &NoReadFile, &NoWriteFile, nullptr});
  tinygltf::Model model;
  std::string err, warn;
  bool loaded = false;
  try {
    loaded = loader.LoadBinaryFromMemory(&model, &err, &warn, bytes.data(), length, "");
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {  // tinygltf and its JSON parser throw on some bad input
    err = e.what();
  }
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  FACET_CHECK(loaded, "cannot read '{}': {}", file, err.empty() ? "invalid glTF" : err);

  static constexpr std::string_view kHarmless[] = {"KHR_materials_", "KHR_texture_", "EXT_texture_",
                                                   "KHR_lights_punctual"};
  for (const std::string& extension : model.extensionsRequired) {
    const bool known = std::any_of(
        std::begin(kHarmless), std::end(kHarmless),
        [&](std::string_view prefix) { return std::string_view(extension).starts_with(prefix); });
    FACET_CHECK(known,
                "cannot read '{}': it requires the extension {}, which facet does not support (for "
                "compression, decompress it first, e.g. with gltf-transform)",
                file, extension);
  }

  MeshCollector collector(model, file, bytes.size());
  std::vector<int> roots;
  if (!model.scenes.empty()) {
    const int scene =
        model.defaultScene >= 0 && std::size_t(model.defaultScene) < model.scenes.size()
            ? model.defaultScene
            : 0;
    roots = model.scenes[std::size_t(scene)].nodes;
  } else if (!model.nodes.empty()) {
    std::vector<char> is_child(model.nodes.size(), 0);
    for (const auto& node : model.nodes) {
      for (int child : node.children) {
        if (child >= 0 && std::size_t(child) < is_child.size()) is_child[std::size_t(child)] = 1;
      }
    }
    for (std::size_t i = 0; i < model.nodes.size(); ++i) {
      if (is_child[i] == 0) roots.push_back(int(i));
    }
  } else {
    for (std::size_t m = 0; m < model.meshes.size(); ++m) {
      collector.AddMesh(int(m), Eigen::Matrix4d::Identity());
    }
  }

  // Depth-first without recursion (a hostile file can nest nodes deeply).
  std::vector<char> visited(model.nodes.size(), 0);
  std::vector<std::pair<int, Eigen::Matrix4d>> stack;
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) {
    stack.emplace_back(*it, Eigen::Matrix4d::Identity());
  }
  while (!stack.empty()) {
    const auto [index, parent] = stack.back();
    stack.pop_back();
    FACET_CHECK(index >= 0 && std::size_t(index) < model.nodes.size(),
                "cannot read '{}': reference to node {}, but there are {}", file, index,
                model.nodes.size());
    FACET_CHECK(visited[std::size_t(index)] == 0,
                "cannot read '{}': node {} is reached twice (glTF nodes must form a tree)", file,
                index);
    visited[std::size_t(index)] = 1;
    const tinygltf::Node& node = model.nodes[std::size_t(index)];
    const Eigen::Matrix4d world_from_node = parent * NodeTransform(node, index, file);
    if (node.mesh >= 0) collector.AddMesh(node.mesh, world_from_node);
    for (auto it = node.children.rbegin(); it != node.children.rend(); ++it) {
      stack.emplace_back(*it, world_from_node);
    }
  }
  return collector.Finish();
}

}  // namespace facet::datasets
