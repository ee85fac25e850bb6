#include "datasets/ply.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "common/temp_dir.h"
#include "datasets/detail/ply_parser.h"
#include "datasets/detail/srgb.h"
#include "format_test_util.h"

namespace facet::datasets {
namespace {

using testing::ErrorMessage;
using testing::SharedData;
using testing::TempDir;
using testing::WriteBytes;

using Triangle = Eigen::Matrix<std::uint32_t, 3, 1>;

constexpr PlyFormat kFormats[] = {PlyFormat::kAscii, PlyFormat::kBinaryLittleEndian,
                                  PlyFormat::kBinaryBigEndian};

// Float storage rounds each coordinate to the nearest float: exactly static_cast<float>.
void ExpectFloatRounded(const Eigen::Vector3d& read, const Eigen::Vector3d& written) {
  for (int k = 0; k < 3; ++k)
    EXPECT_EQ(read[k], static_cast<double>(static_cast<float>(written[k])));
}

TEST(PlySrgb, EveryEightBitCodeSurvivesDecodeAndEncode) {
  for (int code = 0; code < 256; ++code) {
    EXPECT_EQ(detail::LinearToSrgb8(detail::Srgb8ToLinear(static_cast<std::uint8_t>(code))), code);
  }
  EXPECT_FLOAT_EQ(detail::Srgb8ToLinear(255), 1.0f);
  EXPECT_NEAR(detail::Srgb8ToLinear(188), 0.5f, 0.003f);  // sRGB 188 is about half the light
}

TEST(PlyPointCloud, RoundTripsInEveryEncoding) {
  TempDir dir;
  const geometry::PointCloud cloud = testing::SampleCloud(40, true, true);
  for (const PlyFormat format : kFormats) {
    SCOPED_TRACE(static_cast<int>(format));
    WritePointCloudPly(dir / "cloud.ply", cloud, format);
    EXPECT_EQ(ReadPlyHeader(dir / "cloud.ply").format, format);
    const geometry::PointCloud read = ReadPointCloudPly(dir / "cloud.ply");
    ASSERT_EQ(read.size(), cloud.size());
    ASSERT_TRUE(read.HasNormals());
    ASSERT_TRUE(read.HasColors());
    for (std::size_t i = 0; i < cloud.size(); ++i) {
      ExpectFloatRounded(read.points[i], cloud.points[i]);
      ExpectFloatRounded(read.normals[i], cloud.normals[i]);
      EXPECT_EQ(read.colors[i], cloud.colors[i]);  // on the 8-bit grid: exact
    }
  }
}

TEST(PlyPointCloud, DoublePositionsRoundTripExactly) {
  TempDir dir;
  geometry::PointCloud cloud = testing::SampleCloud(10, false, false);
  cloud.points.emplace_back(1e300, -4.9e-324, 1.0 / 7.0);
  for (const PlyFormat format : kFormats) {
    WritePointCloudPly(dir / "cloud.ply", cloud, {.format = format, .double_positions = true});
    const geometry::PointCloud read = ReadPointCloudPly(dir / "cloud.ply");
    ASSERT_EQ(read.size(), cloud.size());
    EXPECT_FALSE(read.HasNormals());
    EXPECT_FALSE(read.HasColors());
    for (std::size_t i = 0; i < cloud.size(); ++i) EXPECT_EQ(read.points[i], cloud.points[i]);
  }
}

TEST(PlyPointCloud, NanAndInfinityAreKept) {
  TempDir dir;
  geometry::PointCloud cloud;
  const double inf = std::numeric_limits<double>::infinity();
  cloud.points = {{std::nan(""), 1.0, 2.0}, {inf, -inf, 0.5}};
  for (const PlyFormat format : kFormats) {
    WritePointCloudPly(dir / "cloud.ply", cloud, format);
    const geometry::PointCloud read = ReadPointCloudPly(dir / "cloud.ply");
    ASSERT_EQ(read.size(), 2u);
    EXPECT_TRUE(std::isnan(read.points[0].x()));
    EXPECT_EQ(read.points[0].y(), 1.0);
    EXPECT_EQ(read.points[1], Eigen::Vector3d(inf, -inf, 0.5));
  }
}

TEST(PlyMesh, RoundTripsInEveryEncoding) {
  TempDir dir;
  const geometry::TriangleMesh mesh = testing::SampleMesh();
  for (const PlyFormat format : kFormats) {
    SCOPED_TRACE(static_cast<int>(format));
    WriteMeshPly(dir / "mesh.ply", mesh, format);
    const geometry::TriangleMesh read = ReadMeshPly(dir / "mesh.ply");
    EXPECT_EQ(read.vertices, mesh.vertices);  // small integers: exact in float
    EXPECT_EQ(read.triangles, mesh.triangles);
    EXPECT_EQ(read.vertex_normals, mesh.vertex_normals);
    EXPECT_EQ(read.vertex_colors, mesh.vertex_colors);
    EXPECT_NO_THROW(read.Check());
  }
}

TEST(PlyMesh, PolygonsAreFanTriangulatedAndAliasesAccepted) {
  TempDir dir;
  WriteBytes(dir / "poly.ply",
             "ply\nformat ascii 1.0\ncomment a quad and a pentagon\n"
             "element vertex 6\nproperty float32 x\nproperty float64 y\nproperty int16 z\n"
             "element face 2\nproperty list uint8 uint32 vertex_index\nend_header\n"
             "0 0 0\n1 0 0\n1 1 0\n0 1 0\n2 0 0\n2 1 1\n"
             "4 0 1 2 3\n5 1 4 5 2 3\n");
  const geometry::TriangleMesh mesh = ReadMeshPly(dir / "poly.ply");
  ASSERT_EQ(mesh.vertices.size(), 6u);
  EXPECT_EQ(mesh.vertices[5], Eigen::Vector3d(2, 1, 1));
  const std::vector<Triangle> expected = {{0, 1, 2}, {0, 2, 3}, {1, 4, 5}, {1, 5, 2}, {1, 2, 3}};
  EXPECT_EQ(mesh.triangles, expected);
}

// A file with elements and properties facet does not know, interleaved with the ones it reads.
std::string FileWithExtras(PlyFormat format) {
  PlyHeader header{.format = format};
  header.comments = {"made by a test", ""};
  header.obj_info = {"scanner 7"};
  header.elements.push_back(
      {.name = "camera",
       .count = 2,
       .properties = {{.name = "fx", .type = PlyType::kFloat64},
                      {.name = "dist", .type = PlyType::kFloat32, .is_list = true}}});
  header.elements.push_back({.name = "vertex",
                             .count = 3,
                             .properties = {{.name = "confidence", .type = PlyType::kFloat64},
                                            {.name = "x"},
                                            {.name = "neighbours",
                                             .type = PlyType::kInt32,
                                             .is_list = true,
                                             .count_type = PlyType::kUint16},
                                            {.name = "y", .type = PlyType::kInt16},
                                            {.name = "z", .type = PlyType::kUint32},
                                            {.name = "diffuse_red", .type = PlyType::kUint8},
                                            {.name = "diffuse_green", .type = PlyType::kUint8},
                                            {.name = "diffuse_blue", .type = PlyType::kUint8},
                                            {.name = "alpha", .type = PlyType::kUint8}}});
  header.elements.push_back(
      {.name = "face",
       .count = 1,
       .properties = {{.name = "flags", .type = PlyType::kUint8},
                      {.name = "vertex_indices", .type = PlyType::kUint16, .is_list = true},
                      {.name = "texcoord", .type = PlyType::kFloat32, .is_list = true}}});
  header.elements.push_back({.name = "empty", .count = 1000000000000, .properties = {}});
  detail::PlyEncoder out(format, detail::FormatPlyHeader(header));
  for (int c = 0; c < 2; ++c) {
    out.Put(PlyType::kFloat64, 500.5 + c);
    out.Put(PlyType::kUint8, 2);
    out.Put(PlyType::kFloat32, 0.25);
    out.Put(PlyType::kFloat32, -0.125);
    out.EndRow();
  }
  for (int v = 0; v < 3; ++v) {
    out.Put(PlyType::kFloat64, 0.9);
    out.Put(PlyType::kFloat32, 1.5 * v);
    out.Put(PlyType::kUint16, v);  // v neighbours
    for (int k = 0; k < v; ++k) out.Put(PlyType::kInt32, -k);
    out.Put(PlyType::kInt16, -7 * v);
    out.Put(PlyType::kUint32, 4000000000.0 + v);
    for (int k = 0; k < 3; ++k) out.Put(PlyType::kUint8, 50 * v + k);
    out.Put(PlyType::kUint8, 255);
    out.EndRow();
  }
  out.Put(PlyType::kUint8, 9);
  out.Put(PlyType::kUint8, 3);
  for (int k : {2, 1, 0}) out.Put(PlyType::kUint16, k);
  out.Put(PlyType::kUint8, 0);
  out.EndRow();
  return out.Bytes();
}

TEST(Ply, UnknownElementsAndPropertiesAreSkipped) {
  TempDir dir;
  for (const PlyFormat format : kFormats) {
    SCOPED_TRACE(static_cast<int>(format));
    WriteBytes(dir / "extras.ply", FileWithExtras(format));
    const PlyHeader header = ReadPlyHeader(dir / "extras.ply");
    ASSERT_EQ(header.elements.size(), 4u);
    EXPECT_EQ(header.comments, (std::vector<std::string>{"made by a test", ""}));
    EXPECT_EQ(header.obj_info, std::vector<std::string>{"scanner 7"});
    EXPECT_EQ(header.elements[1].properties[2].count_type, PlyType::kUint16);

    const geometry::TriangleMesh mesh = ReadMeshPly(dir / "extras.ply");
    ASSERT_EQ(mesh.vertices.size(), 3u);
    for (int v = 0; v < 3; ++v) {
      EXPECT_EQ(mesh.vertices[v], Eigen::Vector3d(1.5 * v, -7 * v, 4000000000.0 + v));
      for (int k = 0; k < 3; ++k) {
        EXPECT_EQ(detail::LinearToSrgb8(mesh.vertex_colors[v][k]), 50 * v + k);
      }
    }
    ASSERT_EQ(mesh.triangles.size(), 1u);
    EXPECT_EQ(mesh.triangles[0], Triangle(2, 1, 0));
    EXPECT_EQ(ReadPointCloudPly(dir / "extras.ply").size(), 3u);
  }
}

TEST(Ply, EveryScalarTypeDecodesExactlyInEveryEncoding) {
  constexpr PlyType kTypes[] = {PlyType::kInt8,    PlyType::kUint8,  PlyType::kInt16,
                                PlyType::kUint16,  PlyType::kInt32,  PlyType::kUint32,
                                PlyType::kFloat32, PlyType::kFloat64};
  const double low[] = {-128, 0, -32768, 0, -2147483648.0, 0, -3.4028234663852886e38, -1.7e308};
  const double high[] = {127,
                         255,
                         32767,
                         65535,
                         2147483647.0,
                         4294967295.0,
                         std::numeric_limits<float>::denorm_min(),
                         std::numeric_limits<double>::denorm_min()};
  TempDir dir;
  for (const PlyFormat format : kFormats) {
    SCOPED_TRACE(static_cast<int>(format));
    PlyElement element{.name = "values", .count = 2, .properties = {}};
    for (int t = 0; t < 8; ++t) {
      std::string name = "v";  // (not "v" + to_string: g++ 12 raises a false -Wrestrict)
      name += std::to_string(t);
      element.properties.push_back({.name = name, .type = kTypes[t]});
    }
    const PlyHeader header{.format = format, .elements = {element}};
    detail::PlyEncoder out(format, detail::FormatPlyHeader(header));
    for (const double* row : {low, high}) {
      for (int t = 0; t < 8; ++t) out.Put(kTypes[t], row[t]);
      out.EndRow();
    }
    WriteBytes(dir / "types.ply", out.Bytes());
    const std::vector<std::uint8_t> bytes = facet::ReadFile(dir / "types.ply");
    const PlyHeader parsed = detail::ParsePlyHeader(bytes, "types.ply");
    int rows = 0;
    detail::ReadPlyData(bytes, parsed, "types.ply", {[&](const detail::PlyRow& row) {
                          const double* expected = row.Index() == 0 ? low : high;
                          for (int t = 0; t < 8; ++t) EXPECT_EQ(row.Scalar(t), expected[t]) << t;
                          ++rows;
                        }});
    EXPECT_EQ(rows, 2);
  }
}

// Writes `text` as a file and returns the facet::Error message reading it as a mesh gives.
std::string MeshError(const TempDir& dir, const std::string& text) {
  WriteBytes(dir / "bad.ply", text);
  const std::string message = ErrorMessage([&] { ReadMeshPly(dir / "bad.ply"); });
  EXPECT_NE(message.find("bad.ply"), std::string::npos) << message;  // names the file
  return message;
}

std::string BinaryHeader(const std::string& body) {
  return "ply\nformat binary_little_endian 1.0\n" + body + "end_header\n";
}

TEST(PlyCorruption, ElementCountLargerThanTheFileIsRefused) {
  TempDir dir;
  const std::string message =
      MeshError(dir, BinaryHeader("element vertex 1000000\nproperty float x\nproperty float y\n"
                                  "property float z\nelement face 0\nproperty list uchar int "
                                  "vertex_indices\n") +
                         std::string(24, '\0'));
  EXPECT_NE(message.find("element 'vertex' (line 3) declares 1000000 rows"), std::string::npos)
      << message;
}

// ReadPlyHeader reads only the header's bytes (64 KiB, doubling), with the readers' own parser.
TEST(PlyHeader, ReadingOnlyTheHeaderGivesWhatTheWholeFileParserGives) {
  TempDir dir;
  const std::string elements =
      "element vertex 2\nproperty float x\nproperty float y\nproperty float z\n"
      "element face 1\nproperty list uchar int vertex_indices\n";
  const std::string data = "0 0 0\n1 0 0\n3 0 1 1\n";
  // Headers ending just before, at and after the first and second chunk boundaries.
  for (const std::size_t padding : {0ul, 65400ul, 65480ul, 65536ul, 131000ul, 200000ul}) {
    std::string header = "ply\nformat ascii 1.0\n";
    while (header.size() < padding) header += "comment padding\n";
    header += elements + "end_header\n";
    SCOPED_TRACE(header.size());
    WriteBytes(dir / "long.ply", header + data);
    const PlyHeader from_prefix = ReadPlyHeader(dir / "long.ply");
    const std::vector<std::uint8_t> bytes = facet::ReadFile(dir / "long.ply");
    const PlyHeader whole = detail::ParsePlyHeader(bytes, "long.ply");
    EXPECT_EQ(from_prefix.data_offset, header.size());
    EXPECT_EQ(from_prefix.data_offset, whole.data_offset);
    EXPECT_EQ(from_prefix.comments.size(), whole.comments.size());
    ASSERT_EQ(from_prefix.elements.size(), 2u);
    EXPECT_EQ(from_prefix.elements[1].count, 1u);
    EXPECT_EQ(ReadMeshPly(dir / "long.ply").triangles.size(), 1u);
  }
  // A prefix that ends inside the header asks for more; counts are checked against the file size.
  const std::string header = "ply\nformat ascii 1.0\n" + elements + "end_header\n";
  const std::span<const std::uint8_t> all(reinterpret_cast<const std::uint8_t*>(header.data()),
                                          header.size());
  EXPECT_FALSE(detail::ParsePlyHeaderPrefix(all.first(30), 1000, "f.ply").has_value());
  EXPECT_FALSE(detail::ParsePlyHeaderPrefix(all.first(all.size() - 1), 1000, "f.ply").has_value());
  EXPECT_TRUE(detail::ParsePlyHeaderPrefix(all, all.size() + 30, "f.ply").has_value());
  // Two vertices of 3 values and a face of at least 1 are 7 values, at least 13 bytes: 30 bytes
  // after the header hold them, 3 do not.
  EXPECT_THROW(detail::ParsePlyHeaderPrefix(all, all.size() + 3, "f.ply"), Error);
  WriteBytes(dir / "short.ply", header + "0 0\n");
  EXPECT_NE(ErrorMessage([&] { ReadPlyHeader(dir / "short.ply"); }).find("declares 2 rows"),
            std::string::npos);
}

TEST(PlyCorruption, NegativeCountIsRefused) {
  TempDir dir;
  EXPECT_NE(
      MeshError(dir, BinaryHeader("element vertex -1\nproperty float x\n")).find("negative count"),
      std::string::npos);
  EXPECT_NE(
      MeshError(dir, BinaryHeader("element vertex 99999999999999999999\n")).find("invalid count"),
      std::string::npos);
}

TEST(PlyCorruption, HugeOrNegativeListCountIsRefused) {
  TempDir dir;
  const std::string header = BinaryHeader(
      "element vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
      "element face 1\nproperty list uint int vertex_indices\n");
  std::string data(36, '\0');
  const std::string huge =
      header + data + std::string("\xff\xff\xff\xff", 4) + std::string(12, '\0');
  EXPECT_NE(MeshError(dir, huge).find("more than the rest of the file"), std::string::npos);
  const std::string negative =
      BinaryHeader(
          "element vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
          "element face 1\nproperty list char int vertex_indices\n") +
      data + "\xff" + std::string(12, '\0');
  const std::string message = MeshError(dir, negative);
  EXPECT_NE(message.find("negative count -1"), std::string::npos) << message;
  EXPECT_NE(message.find("byte offset"), std::string::npos) << message;
}

TEST(PlyCorruption, MalformedHeadersAreRefused) {
  TempDir dir;
  EXPECT_NE(MeshError(dir, "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n")
                .find("no end_header"),
            std::string::npos);
  EXPECT_NE(MeshError(dir, BinaryHeader("element vertex 1\nproperty float128 x\n"))
                .find("unknown property type 'float128'"),
            std::string::npos);
  EXPECT_NE(MeshError(dir, "solid cube\nfacet normal 0 0 1\n").find("not a PLY file"),
            std::string::npos);
  EXPECT_NE(MeshError(dir, BinaryHeader("property float x\nelement vertex 1\n"))
                .find("before any element"),
            std::string::npos);
  EXPECT_NE(MeshError(dir, BinaryHeader("element face 1\nproperty list float int v\n"))
                .find("must be an integer type"),
            std::string::npos);
  EXPECT_NE(
      MeshError(dir, "ply\nformat binary_middle_endian 1.0\nend_header\n").find("unknown format"),
      std::string::npos);
  EXPECT_NE(MeshError(dir, "ply\nelement vertex 0\nend_header\n").find("no 'format' line"),
            std::string::npos);
  EXPECT_NE(MeshError(dir, BinaryHeader("element vertex 0\nproperty float x\nproperty float y\n"))
                .find("lacks x, y or z"),
            std::string::npos);
}

TEST(PlyCorruption, AsciiProblemsNameTheLine) {
  TempDir dir;
  const std::string header =
      "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\n"
      "property float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n"
      "element face 1\nproperty list uchar int vertex_indices\nend_header\n";
  EXPECT_NE(MeshError(dir, header + "0 0 0 1 2 3\n1 1 1 4 300 6\n3 0 1 1\n")
                .find("line 14: '300' is not a valid uchar"),
            std::string::npos);
  EXPECT_NE(MeshError(dir, header + "0 0 0 1 2 3\n1 1 1 4 5 6\n3 0 1 2\n")
                .find("refers to vertex 2, but there are 2"),
            std::string::npos);
  EXPECT_NE(MeshError(dir, header + "0 0 0 1 2 3\n1 1 1 4 5 6\n2 0 1\n").find("2 corners"),
            std::string::npos);
  EXPECT_NE(MeshError(dir, header + "0 0 0 1 2 3\n1 1 x 4 5 6\n3 0 1 1\n")
                .find("line 14: 'x' is not a valid float"),
            std::string::npos);
  EXPECT_NE(MeshError(dir, header + "0 0 0 1 2 3\n1 1 1 4 5 6\n3 0 1\n").find("truncated"),
            std::string::npos);
  const std::string absurd =
      "ply\nformat ascii 1.0\nelement vertex 1000000000\nproperty float x\nproperty float y\n"
      "property float z\nend_header\n1 2 3\n";
  EXPECT_NE(MeshError(dir, absurd).find("1000000000 rows"), std::string::npos);
}

TEST(PlyRealData, StanfordBunnyHasItsKnownCounts) {
  const auto path = SharedData("stanford-bunny/bun_zipper.ply");
  FACET_SKIP_WITHOUT(path);
  const geometry::TriangleMesh bunny = ReadMeshPly(path);
  EXPECT_EQ(bunny.vertices.size(), 35947u);
  EXPECT_EQ(bunny.triangles.size(), 69451u);
  EXPECT_FALSE(bunny.HasVertexNormals());
  EXPECT_FALSE(bunny.HasVertexColors());
  EXPECT_NO_THROW(bunny.Check());
  EXPECT_EQ(bunny.triangles[0], Triangle(20399, 21215, 21216));
  // The file prints 6 significant digits; the reader rounds them to float (2^-24 relative).
  const geometry::Bounds3 bounds = geometry::ComputeBounds(bunny.vertices);
  EXPECT_TRUE(bounds.min.isApprox(Eigen::Vector3d(-0.0946899, 0.0329874, -0.0618736), 1e-7));
  EXPECT_TRUE(bounds.max.isApprox(Eigen::Vector3d(0.0610091, 0.187321, 0.0587997), 1e-7));

  // Through a big-endian copy and back: floats survive bit for bit.
  TempDir dir;
  WriteMeshPly(dir / "bunny.ply", bunny, PlyFormat::kBinaryBigEndian);
  const geometry::TriangleMesh again = ReadMeshPly(dir / "bunny.ply");
  EXPECT_EQ(again.vertices, bunny.vertices);
  EXPECT_EQ(again.triangles, bunny.triangles);
}

TEST(PlyRealData, IcpFragmentHasNormalsAndColours) {
  const auto path = SharedData("icp-fragments/frag_115.ply");
  FACET_SKIP_WITHOUT(path);
  const geometry::PointCloud cloud = ReadPointCloudPly(path);
  ASSERT_EQ(cloud.size(), 64365u);
  ASSERT_TRUE(cloud.HasNormals());
  ASSERT_TRUE(cloud.HasColors());
  EXPECT_EQ(cloud.points[0], Eigen::Vector3d(0.84765625, 2.679497718811035, 1.59765625));
  EXPECT_NEAR(cloud.normals[0].norm(), 1.0, 1e-6);
  EXPECT_EQ(detail::LinearToSrgb8(cloud.colors[0][0]), 120);
  EXPECT_EQ(detail::LinearToSrgb8(cloud.colors[0][1]), 115);
  EXPECT_EQ(detail::LinearToSrgb8(cloud.colors[0][2]), 114);
  const geometry::TriangleMesh mesh = ReadMeshPly(path);
  EXPECT_EQ(mesh.triangles.size(), 127229u);
  EXPECT_NO_THROW(mesh.Check());
}

}  // namespace
}  // namespace facet::datasets
