#include "datasets/ply.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <system_error>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/detail/ply_parser.h"
#include "datasets/detail/reader_limits.h"
#include "datasets/detail/srgb.h"

namespace facet::datasets {
namespace fs = std::filesystem;
namespace {

// Where the vertex element keeps the attributes PointCloud and TriangleMesh hold; -1 = absent.
struct VertexColumns {
  int x = -1, y = -1, z = -1;
  int nx = -1, ny = -1, nz = -1;
  int red = -1, green = -1, blue = -1;
  double color_scale[3] = {1.0, 1.0, 1.0};  // file value x scale = display value in [0, 1]
};

int FindScalar(const PlyElement& element, std::string_view name, const std::string& file) {
  const int index = element.FindProperty(name);
  FACET_CHECK(index < 0 || !element.properties[index].is_list,
              "cannot read PLY '{}': property '{}' of element '{}' is a list, expected a scalar",
              file, name, element.name);
  return index;
}

VertexColumns FindVertexColumns(const PlyHeader& header, const std::string& file) {
  const PlyElement* vertex = header.FindElement("vertex");
  FACET_CHECK(vertex != nullptr, "cannot read PLY '{}': it has no 'vertex' element", file);
  VertexColumns c;
  c.x = FindScalar(*vertex, "x", file);
  c.y = FindScalar(*vertex, "y", file);
  c.z = FindScalar(*vertex, "z", file);
  FACET_CHECK(c.x >= 0 && c.y >= 0 && c.z >= 0,
              "cannot read PLY '{}': its vertex element lacks x, y or z", file);
  c.nx = FindScalar(*vertex, "nx", file);
  c.ny = FindScalar(*vertex, "ny", file);
  c.nz = FindScalar(*vertex, "nz", file);
  const int normal_count = (c.nx >= 0) + (c.ny >= 0) + (c.nz >= 0);
  FACET_CHECK(normal_count == 0 || normal_count == 3,
              "cannot read PLY '{}': its vertex element has only some of nx, ny, nz", file);

  static constexpr const char* kColorNames[2][3] = {
      {"red", "green", "blue"}, {"diffuse_red", "diffuse_green", "diffuse_blue"}};
  for (const auto& names : kColorNames) {
    int* channels[3] = {&c.red, &c.green, &c.blue};
    int found = 0;
    for (int k = 0; k < 3; ++k) {
      *channels[k] = FindScalar(*vertex, names[k], file);
      found += *channels[k] >= 0;
    }
    FACET_CHECK(found == 0 || found == 3,
                "cannot read PLY '{}': its vertex element has only some of {}, {}, {}", file,
                names[0], names[1], names[2]);
    if (found == 0) continue;
    for (int k = 0; k < 3; ++k) {
      const PlyType type = vertex->properties[*channels[k]].type;
      if (type == PlyType::kUint8) {
        c.color_scale[k] = 1.0 / 255.0;
      } else if (type == PlyType::kUint16) {
        c.color_scale[k] = 1.0 / 65535.0;
      } else {
        FACET_CHECK(!PlyTypeIsInteger(type),
                    "cannot read PLY '{}': colour '{}' has type {}; expected uchar, ushort, float "
                    "or double",
                    file, names[k], PlyTypeName(type));
      }
    }
    break;
  }
  return c;
}

// Reads the vertex attributes into the given vectors (normals/colours only when present).
detail::PlyRowHandler VertexHandler(const VertexColumns& c, std::vector<Eigen::Vector3d>& points,
                                    std::vector<Eigen::Vector3d>& normals,
                                    std::vector<Eigen::Vector3f>& colors) {
  return [&c, &points, &normals, &colors](const detail::PlyRow& row) {
    points.emplace_back(row.Scalar(c.x), row.Scalar(c.y), row.Scalar(c.z));
    if (c.nx >= 0) normals.emplace_back(row.Scalar(c.nx), row.Scalar(c.ny), row.Scalar(c.nz));
    if (c.red >= 0) {
      const int channels[3] = {c.red, c.green, c.blue};
      Eigen::Vector3f color;
      for (int k = 0; k < 3; ++k) {
        color[k] =
            detail::SrgbToLinear(static_cast<float>(row.Scalar(channels[k]) * c.color_scale[k]));
      }
      colors.push_back(color);
    }
  };
}

std::size_t ElementIndex(const PlyHeader& header, const PlyElement* element) {
  return static_cast<std::size_t>(element - header.elements.data());
}

// The vertex element of a point cloud or mesh, for the writers.
PlyElement VertexElement(std::size_t count, bool normals, bool colors, bool double_positions) {
  PlyElement vertex{.name = "vertex", .count = count, .properties = {}};
  const PlyType position_type = double_positions ? PlyType::kFloat64 : PlyType::kFloat32;
  for (const char* name : {"x", "y", "z"}) {
    vertex.properties.push_back({.name = name, .type = position_type});
  }
  if (normals) {
    for (const char* name : {"nx", "ny", "nz"}) vertex.properties.push_back({.name = name});
  }
  if (colors) {
    for (const char* name : {"red", "green", "blue"}) {
      vertex.properties.push_back({.name = name, .type = PlyType::kUint8});
    }
  }
  return vertex;
}

void PutVertex(detail::PlyEncoder& encoder, PlyType position_type, const Eigen::Vector3d& point,
               const Eigen::Vector3d* normal, const Eigen::Vector3f* color) {
  for (int k = 0; k < 3; ++k) encoder.Put(position_type, point[k]);
  if (normal != nullptr) {
    for (int k = 0; k < 3; ++k) encoder.Put(PlyType::kFloat32, (*normal)[k]);
  }
  if (color != nullptr) {
    for (int k = 0; k < 3; ++k) encoder.Put(PlyType::kUint8, detail::LinearToSrgb8((*color)[k]));
  }
}

}  // namespace

void PlyWriteOptions::Check() const {
  FACET_CHECK(
      format == PlyFormat::kAscii || format == PlyFormat::kBinaryLittleEndian ||
          format == PlyFormat::kBinaryBigEndian,
      "PlyWriteOptions::format must be kAscii, kBinaryLittleEndian or kBinaryBigEndian (got {})",
      static_cast<int>(format));
}

PlyHeader ReadPlyHeader(const fs::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  FACET_CHECK(fs::is_regular_file(path, ec),
              "cannot read '{}': no such file, or not a regular file (check the path)", file);
  const std::uint64_t file_size = fs::file_size(path, ec);
  FACET_CHECK(!ec, "cannot read '{}': {}", file, ec.message());
  std::ifstream in(path, std::ios::binary);
  FACET_CHECK(in.is_open(), "cannot open '{}' (check that it exists and is readable)", file);
  // Headers are a few hundred bytes: read 64 KiB, and twice as much each time the header goes on.
  std::vector<std::uint8_t> prefix;
  std::size_t want = std::size_t{1} << 16;
  while (true) {
    const std::size_t old_size = prefix.size();
    const std::size_t target = static_cast<std::size_t>(std::min<std::uint64_t>(want, file_size));
    prefix.resize(target);
    in.read(reinterpret_cast<char*>(prefix.data() + old_size),
            static_cast<std::streamsize>(target - old_size));
    FACET_CHECK(static_cast<std::size_t>(in.gcount()) == target - old_size,
                "cannot read '{}': got {} of {} bytes (was it modified while reading?)", file,
                old_size + static_cast<std::size_t>(in.gcount()), target);
    if (auto header = detail::ParsePlyHeaderPrefix(prefix, file_size, file)) return *header;
    want *= 2;
  }
}

geometry::PointCloud ReadPointCloudPly(const fs::path& path) {
  const std::string file = path.string();
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  const PlyHeader header = detail::ParsePlyHeader(bytes, file);
  const VertexColumns columns = FindVertexColumns(header, file);
  const PlyElement* vertex = header.FindElement("vertex");

  geometry::PointCloud cloud;
  // The count fits the file (checked by the parser), but a point in memory may be 20x its row.
  detail::ReserveBounded(cloud.points, vertex->count, bytes.size());
  if (columns.nx >= 0) detail::ReserveBounded(cloud.normals, vertex->count, bytes.size());
  if (columns.red >= 0) detail::ReserveBounded(cloud.colors, vertex->count, bytes.size());
  std::vector<detail::PlyRowHandler> handlers(header.elements.size());
  handlers[ElementIndex(header, vertex)] =
      VertexHandler(columns, cloud.points, cloud.normals, cloud.colors);
  detail::ReadPlyData(bytes, header, file, handlers);
  return cloud;
}

geometry::TriangleMesh ReadMeshPly(const fs::path& path) {
  const std::string file = path.string();
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  const PlyHeader header = detail::ParsePlyHeader(bytes, file);
  const VertexColumns columns = FindVertexColumns(header, file);
  const PlyElement* vertex = header.FindElement("vertex");
  const PlyElement* face = header.FindElement("face");
  FACET_CHECK(
      face != nullptr,
      "cannot read PLY mesh '{}': it has no 'face' element (read it as a point cloud instead)",
      file);
  int indices = face->FindProperty("vertex_indices");
  if (indices < 0) indices = face->FindProperty("vertex_index");
  FACET_CHECK(indices >= 0 && face->properties[indices].is_list &&
                  PlyTypeIsInteger(face->properties[indices].type),
              "cannot read PLY mesh '{}': its face element has no integer list 'vertex_indices' "
              "(or 'vertex_index')",
              file);
  const std::uint64_t vertex_count = vertex->count;
  FACET_CHECK(vertex_count <= std::numeric_limits<std::uint32_t>::max(),
              "cannot read PLY mesh '{}': {} vertices are more than 32-bit indices address", file,
              vertex_count);

  geometry::TriangleMesh mesh;
  detail::ReserveBounded(mesh.vertices, vertex_count, bytes.size());
  if (columns.nx >= 0) detail::ReserveBounded(mesh.vertex_normals, vertex_count, bytes.size());
  if (columns.red >= 0) detail::ReserveBounded(mesh.vertex_colors, vertex_count, bytes.size());
  // A valid face has at least 3 corners: a count and 3 indices (binary), or 4 tokens (ASCII).
  const PlyProperty& list_property = face->properties[indices];
  const std::size_t min_face_bytes =
      header.format == PlyFormat::kAscii
          ? 8
          : PlyTypeSize(list_property.count_type) + 3 * PlyTypeSize(list_property.type);
  detail::ReserveBounded(mesh.triangles,
                         std::min<std::uint64_t>(face->count, bytes.size() / min_face_bytes),
                         bytes.size());
  std::vector<detail::PlyRowHandler> handlers(header.elements.size());
  handlers[ElementIndex(header, vertex)] =
      VertexHandler(columns, mesh.vertices, mesh.vertex_normals, mesh.vertex_colors);
  const auto list = static_cast<std::size_t>(indices);
  std::vector<std::uint32_t> polygon;
  handlers[ElementIndex(header, face)] = [&](const detail::PlyRow& row) {
    const std::uint64_t corners = row.ListSize(list);
    FACET_CHECK(corners >= 3,
                "cannot read PLY mesh '{}': face {} ({}) has {} corners; a face needs at least 3",
                file, row.Index(), row.Where(), corners);
    polygon.clear();
    for (std::uint64_t k = 0; k < corners; ++k) {
      const double index = row.ListItem(list, k);
      FACET_CHECK(
          index >= 0.0 && index < static_cast<double>(vertex_count),
          "cannot read PLY mesh '{}': face {} ({}) refers to vertex {}, but there are {} vertices",
          file, row.Index(), row.Where(), index, vertex_count);
      polygon.push_back(static_cast<std::uint32_t>(index));
    }
    for (std::size_t k = 1; k + 1 < polygon.size(); ++k) {  // fan, keeping the winding
      mesh.triangles.emplace_back(polygon[0], polygon[k], polygon[k + 1]);
    }
  };
  detail::ReadPlyData(bytes, header, file, handlers);
  return mesh;
}

void WritePointCloudPly(const fs::path& path, const geometry::PointCloud& cloud, PlyFormat format) {
  WritePointCloudPly(path, cloud, PlyWriteOptions{.format = format});
}

void WritePointCloudPly(const fs::path& path, const geometry::PointCloud& cloud,
                        const PlyWriteOptions& options) {
  options.Check();
  cloud.Check();
  PlyHeader header{.format = options.format};
  header.comments.push_back("written by facet");
  header.elements.push_back(
      VertexElement(cloud.size(), cloud.HasNormals(), cloud.HasColors(), options.double_positions));
  detail::PlyEncoder encoder(options.format, detail::FormatPlyHeader(header));
  const PlyType position_type = options.double_positions ? PlyType::kFloat64 : PlyType::kFloat32;
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    PutVertex(encoder, position_type, cloud.points[i],
              cloud.HasNormals() ? &cloud.normals[i] : nullptr,
              cloud.HasColors() ? &cloud.colors[i] : nullptr);
    encoder.EndRow();
  }
  WriteFileAtomically(path, std::string_view(encoder.Bytes()));
}

void WriteMeshPly(const fs::path& path, const geometry::TriangleMesh& mesh, PlyFormat format) {
  WriteMeshPly(path, mesh, PlyWriteOptions{.format = format});
}

void WriteMeshPly(const fs::path& path, const geometry::TriangleMesh& mesh,
                  const PlyWriteOptions& options) {
  options.Check();
  mesh.Check();
  const bool normals = mesh.HasVertexNormals();
  const bool colors = mesh.HasVertexColors();
  PlyHeader header{.format = options.format};
  header.comments.push_back("written by facet");
  header.elements.push_back(
      VertexElement(mesh.vertices.size(), normals, colors, options.double_positions));
  const PlyType index_type =
      mesh.vertices.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())
          ? PlyType::kUint32
          : PlyType::kInt32;
  header.elements.push_back({.name = "face",
                             .count = mesh.triangles.size(),
                             .properties = {{.name = "vertex_indices",
                                             .type = index_type,
                                             .is_list = true,
                                             .count_type = PlyType::kUint8}}});
  detail::PlyEncoder encoder(options.format, detail::FormatPlyHeader(header));
  const PlyType position_type = options.double_positions ? PlyType::kFloat64 : PlyType::kFloat32;
  for (std::size_t i = 0; i < mesh.vertices.size(); ++i) {
    PutVertex(encoder, position_type, mesh.vertices[i], normals ? &mesh.vertex_normals[i] : nullptr,
              colors ? &mesh.vertex_colors[i] : nullptr);
    encoder.EndRow();
  }
  for (const auto& triangle : mesh.triangles) {
    encoder.Put(PlyType::kUint8, 3);
    for (int k = 0; k < 3; ++k) encoder.Put(index_type, triangle[k]);
    encoder.EndRow();
  }
  WriteFileAtomically(path, std::string_view(encoder.Bytes()));
}

}  // namespace facet::datasets
