// PLY (Stanford polygon file format) point clouds and triangle meshes.
//
// Format: Greg Turk, "The PLY Polygon File Format" (1994), as documented at
// paulbourke.net/dataformats/ply. A header ("ply", "format <ascii|binary_little_endian|
// binary_big_endian> 1.0", "element <name> <count>", "property <type> <name>",
// "property list <count type> <item type> <name>", "comment ...", "obj_info ...", "end_header")
// followed by the elements' rows in header order. Scalar types and their aliases:
// char/int8, uchar/uint8, short/int16, ushort/uint16, int/int32, uint/uint32, float/float32,
// double/float64. Writers use the short names (char ... double), which every reader accepts.
//
// Reading is generic: any elements and properties are parsed, and those a reader does not need
// are skipped. Every count is validated against the file length before anything is allocated
// (binary: count x the smallest possible row must fit in the bytes left; ASCII: every value needs
// at least one character and a separator). Errors name the file and the byte offset (binary) or
// line (ASCII) and say what to do.
//
// Colours: PLY files store display (sRGB-encoded) colours, as uchar 0-255 (also ushort 0-65535 or
// float/double in [0, 1]). geometry::PointCloud and TriangleMesh hold linear RGB in [0, 1], so
// readers decode with the sRGB transfer function (IEC 61966-2-1) and writers encode and round
// back to uchar; an 8-bit colour survives a read/write round trip exactly. Normals are returned
// as stored (not renormalised). NaN and infinite coordinates are kept as they are; the ASCII
// writer prints them as "nan"/"inf", which the reader accepts.
//
// 3DGS scenes (x y z f_dc_* f_rest_* opacity scale_* rot_*) have their own reader and writer in
// datasets/gaussian_splats.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "geometry/point_cloud.h"
#include "geometry/triangle_mesh.h"

namespace facet::datasets {

enum class PlyFormat { kAscii, kBinaryLittleEndian, kBinaryBigEndian };

enum class PlyType : std::uint8_t {
  kInt8,
  kUint8,
  kInt16,
  kUint16,
  kInt32,
  kUint32,
  kFloat32,
  kFloat64
};

// Bytes of one value of `type` in a binary file (1, 2, 4 or 8).
std::size_t PlyTypeSize(PlyType type);
// The short name the writers use: char uchar short ushort int uint float double.
std::string_view PlyTypeName(PlyType type);
bool PlyTypeIsInteger(PlyType type);

struct PlyProperty {
  std::string name{};
  PlyType type = PlyType::kFloat32;      // the value type; for a list, the type of its items
  bool is_list = false;                  // "property list <count type> <item type> <name>"
  PlyType count_type = PlyType::kUint8;  // lists only: the (integer) type of the item count
};

struct PlyElement {
  std::string name{};
  std::uint64_t count = 0;  // number of rows
  std::vector<PlyProperty> properties{};

  // Index of the property called `property_name`, or -1 when there is none.
  int FindProperty(std::string_view property_name) const;
};

struct PlyHeader {
  PlyFormat format = PlyFormat::kBinaryLittleEndian;
  std::vector<PlyElement> elements{};  // in file order
  std::vector<std::string> comments{};
  std::vector<std::string> obj_info{};
  std::uint64_t data_offset = 0;  // byte offset of the first data byte, just after "end_header\n"

  // The element called `element_name`, or nullptr.
  const PlyElement* FindElement(std::string_view element_name) const;
};

// Parses and validates the header only (e.g. to tell a 3DGS file from a mesh), with the same
// parser and checks as the readers below. Reads just the header's bytes (from 64 KiB, doubling
// while the header goes on), and validates the counts against the file's length. Throws
// facet::Error naming the file and line for a malformed header or counts the file cannot hold.
PlyHeader ReadPlyHeader(const std::filesystem::path& path);

struct PlyWriteOptions {
  // Encoding of the data section.
  PlyFormat format = PlyFormat::kBinaryLittleEndian;
  // Write positions as double instead of float. Float keeps 24 significant bits: a coordinate x
  // comes back within |x| * 2^-24 (6e-8 relative); ASCII prints the shortest exact decimal.
  bool double_positions = false;

  // Throws facet::Error when `format` is not one of the PlyFormat values.
  void Check() const;
};

// Reads the "vertex" element: x y z (any scalar type), optionally nx ny nz and colours
// red green blue (or diffuse_red diffuse_green diffuse_blue; alpha is ignored). Other elements
// (e.g. faces) and properties are skipped. Throws facet::Error for a missing or malformed file,
// a missing vertex element or coordinate, or an incomplete normal/colour triple.
geometry::PointCloud ReadPointCloudPly(const std::filesystem::path& path);

// Writes "vertex" with x y z (float or double), nx ny nz (float) when the cloud has normals, and
// red green blue (uchar) when it has colours. Atomic (WriteFileAtomically).
void WritePointCloudPly(const std::filesystem::path& path, const geometry::PointCloud& cloud,
                        PlyFormat format = PlyFormat::kBinaryLittleEndian);
void WritePointCloudPly(const std::filesystem::path& path, const geometry::PointCloud& cloud,
                        const PlyWriteOptions& options);

// Reads "vertex" (as ReadPointCloudPly) and "face" with a list property "vertex_indices" (or
// "vertex_index") of any integer types. Polygons with n > 3 corners are fan-triangulated
// (v0 v1 v2, v0 v2 v3, ...), keeping their winding. Throws facet::Error for a missing face
// element, a face with fewer than 3 corners, or an index that is negative or not below the vertex
// count (naming the face and where it is in the file).
geometry::TriangleMesh ReadMeshPly(const std::filesystem::path& path);

// Writes "vertex" (as WritePointCloudPly, with the mesh's normals and colours) and "face" with
// "property list uchar int vertex_indices" (uint when there are more than 2^31 - 1 vertices).
// Throws facet::Error when mesh.Check() fails. Atomic.
void WriteMeshPly(const std::filesystem::path& path, const geometry::TriangleMesh& mesh,
                  PlyFormat format = PlyFormat::kBinaryLittleEndian);
void WriteMeshPly(const std::filesystem::path& path, const geometry::TriangleMesh& mesh,
                  const PlyWriteOptions& options);

}  // namespace facet::datasets
