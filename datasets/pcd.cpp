#include "datasets/pcd.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/detail/lzf.h"
#include "datasets/detail/reader_limits.h"
#include "datasets/detail/srgb.h"
#include "datasets/detail/text_parse.h"

namespace facet::datasets {
namespace fs = std::filesystem;
namespace {

using detail::ParseNumber;
using detail::SplitWords;

// The most binary_compressed data facet inflates (pcd.h).
constexpr std::uint64_t kMaxPcdInflatedBytes = std::uint64_t{1} << 30;

enum class PcdData { kAscii, kBinary, kBinaryCompressed };

struct PcdField {
  std::string name{};
  std::size_t size = 4;     // bytes per value
  char type = 'F';          // I, U or F
  std::uint64_t count = 1;  // values per point
};

struct PcdHeader {
  std::vector<PcdField> fields{};
  std::uint64_t points = 0;
  PcdData data = PcdData::kAscii;
  std::size_t data_offset = 0;  // first byte after the DATA line
  int data_line = 0;            // line number of the DATA line
};

PcdHeader ParseHeader(std::span<const std::uint8_t> bytes, const std::string& file) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  PcdHeader header;
  bool have_size = false, have_type = false, have_width = false, have_points = false;
  std::uint64_t width = 0, height = 1;
  std::size_t pos = 0;
  int line_number = 0;
  while (true) {
    FACET_CHECK(pos < text.size(),
                "cannot read PCD '{}': the header has no DATA line (after line {}); the file is "
                "truncated or not a PCD file",
                file, line_number);
    const std::string_view line = detail::NextLine(text, pos);
    ++line_number;
    const std::vector<std::string_view> words = SplitWords(line);
    if (words.empty() || words[0].front() == '#') continue;
    const std::string_view key = words[0];
    const std::size_t values = words.size() - 1;
    auto expect_per_field = [&](std::string_view what) {
      FACET_CHECK(
          !header.fields.empty() && values == header.fields.size(),
          "cannot read PCD '{}' line {}: {} has {} values for {} FIELDS (FIELDS must come first)",
          file, line_number, what, values, header.fields.size());
    };
    auto parse_count = [&](std::string_view token, std::string_view what) {
      const std::optional<std::uint64_t> value = ParseNumber<std::uint64_t>(token);
      FACET_CHECK(value.has_value(),
                  "cannot read PCD '{}' line {}: {} '{}' is not a non-negative integer", file,
                  line_number, what, token);
      return *value;
    };
    if (key == "VERSION" || key == "VIEWPOINT") continue;
    if (key == "FIELDS" || key == "COLUMNS") {
      FACET_CHECK(values > 0, "cannot read PCD '{}' line {}: FIELDS names no field", file,
                  line_number);
      header.fields.assign(values, PcdField{});
      for (std::size_t f = 0; f < values; ++f) header.fields[f].name = words[f + 1];
    } else if (key == "SIZE") {
      expect_per_field("SIZE");
      for (std::size_t f = 0; f < values; ++f) {
        header.fields[f].size = parse_count(words[f + 1], "SIZE");
      }
      have_size = true;
    } else if (key == "TYPE") {
      expect_per_field("TYPE");
      for (std::size_t f = 0; f < values; ++f) {
        FACET_CHECK(words[f + 1].size() == 1,
                    "cannot read PCD '{}' line {}: TYPE '{}' is not I, U or F", file, line_number,
                    words[f + 1]);
        header.fields[f].type = words[f + 1][0];
      }
      have_type = true;
    } else if (key == "COUNT") {
      expect_per_field("COUNT");
      for (std::size_t f = 0; f < values; ++f) {
        header.fields[f].count = parse_count(words[f + 1], "COUNT");
        FACET_CHECK(header.fields[f].count >= 1,
                    "cannot read PCD '{}' line {}: field '{}' has COUNT 0", file, line_number,
                    header.fields[f].name);
      }
    } else if (key == "WIDTH" || key == "HEIGHT" || key == "POINTS") {
      FACET_CHECK(values == 1, "cannot read PCD '{}' line {}: {} needs one value", file,
                  line_number, key);
      const std::uint64_t value = parse_count(words[1], key);
      if (key == "WIDTH") {
        width = value;
        have_width = true;
      } else if (key == "HEIGHT") {
        height = value;
      } else {
        header.points = value;
        have_points = true;
      }
    } else if (key == "DATA") {
      FACET_CHECK(values == 1,
                  "cannot read PCD '{}' line {}: expected 'DATA ascii|binary|binary_compressed'",
                  file, line_number);
      if (words[1] == "ascii") {
        header.data = PcdData::kAscii;
      } else if (words[1] == "binary") {
        header.data = PcdData::kBinary;
      } else if (words[1] == "binary_compressed") {
        header.data = PcdData::kBinaryCompressed;
      } else {
        FACET_THROW(
            "cannot read PCD '{}' line {}: unknown DATA '{}' (expected ascii, binary or "
            "binary_compressed)",
            file, line_number, words[1]);
      }
      header.data_offset = pos;
      header.data_line = line_number;
      break;
    } else {
      FACET_THROW("cannot read PCD '{}' line {}: unknown header key '{}'", file, line_number, key);
    }
  }

  FACET_CHECK(!header.fields.empty() && have_size && have_type,
              "cannot read PCD '{}': the header lacks FIELDS, SIZE or TYPE", file);
  for (const PcdField& field : header.fields) {
    const bool valid =
        field.type == 'F'
            ? (field.size == 4 || field.size == 8)
            : ((field.type == 'I' || field.type == 'U') &&
               (field.size == 1 || field.size == 2 || field.size == 4 || field.size == 8));
    FACET_CHECK(valid,
                "cannot read PCD '{}': field '{}' has SIZE {} TYPE {}, which PCD does not define "
                "(I/U take 1, 2, 4, 8 bytes; F takes 4 or 8)",
                file, field.name, field.size, field.type);
  }
  if (!have_width) width = header.points;
  std::uint64_t product = 0;
  FACET_CHECK(!__builtin_mul_overflow(width, height, &product) &&
                  (!have_points || product == header.points),
              "cannot read PCD '{}': WIDTH {} x HEIGHT {} does not match POINTS {}", file, width,
              height, header.points);
  header.points = product;
  return header;
}

double Decode(const std::uint8_t* p, const PcdField& field) {
  auto load = [p]<typename T>(T) {
    T value;
    std::memcpy(&value, p, sizeof(T));
    return static_cast<double>(value);
  };
  if (field.type == 'F') return field.size == 4 ? load(float{}) : load(double{});
  const bool is_signed = field.type == 'I';
  switch (field.size) {
    case 1:
      return is_signed ? load(std::int8_t{}) : load(std::uint8_t{});
    case 2:
      return is_signed ? load(std::int16_t{}) : load(std::uint16_t{});
    case 4:
      return is_signed ? load(std::int32_t{}) : load(std::uint32_t{});
    default:
      return is_signed ? load(std::int64_t{}) : load(std::uint64_t{});
  }
}

// Where one field's first value of point i lives, for both binary layouts.
struct FieldAccess {
  int field = -1;          // index in header.fields; -1 = absent
  std::size_t offset = 0;  // binary: within a record; compressed: start of the field's block
  std::size_t stride = 0;  // bytes from one point to the next
};

// The fields facet reads, with their positions in the (decompressed) data.
struct Layout {
  std::array<FieldAccess, 3> xyz{};
  std::array<FieldAccess, 3> normal{};
  FieldAccess color{};
};

Layout FindFields(const PcdHeader& header, const std::string& file, bool structure_of_arrays) {
  Layout layout;
  std::size_t record = 0;  // bytes per point (with padding fields unless SoA)
  std::size_t block = 0;   // SoA: bytes before this field's block
  auto assign = [&](FieldAccess& access, std::size_t f) {
    access.field = static_cast<int>(f);
    access.offset = structure_of_arrays ? block : record;
  };
  for (std::size_t f = 0; f < header.fields.size(); ++f) {
    const PcdField& field = header.fields[f];
    const std::string& name = field.name;
    static constexpr const char* kXyz[] = {"x", "y", "z"};
    static constexpr const char* kNormal[] = {"normal_x", "normal_y", "normal_z"};
    for (int k = 0; k < 3; ++k) {
      if (name == kXyz[k]) assign(layout.xyz[k], f);
      if (name == kNormal[k]) assign(layout.normal[k], f);
    }
    if (name == "rgb" || name == "rgba") {
      FACET_CHECK(
          field.size == 4 && field.count == 1,
          "cannot read PCD '{}': colour field '{}' must be one 4-byte value (got SIZE {} COUNT {})",
          file, name, field.size, field.count);
      assign(layout.color, f);
    }
    const std::size_t bytes = field.size * field.count;  // bounded: COUNT fits the file (below)
    if (!(structure_of_arrays && name == "_")) {
      record += bytes;
      block += bytes * header.points;
    }
  }
  for (int k = 0; k < 3; ++k) {
    FACET_CHECK(layout.xyz[k].field >= 0 && header.fields[layout.xyz[k].field].count == 1,
                "cannot read PCD '{}': it needs fields x, y and z with COUNT 1", file);
  }
  const int normals =
      (layout.normal[0].field >= 0) + (layout.normal[1].field >= 0) + (layout.normal[2].field >= 0);
  FACET_CHECK(normals == 0 || normals == 3,
              "cannot read PCD '{}': it has only some of normal_x, normal_y, normal_z", file);
  for (FieldAccess* access : {&layout.xyz[0], &layout.xyz[1], &layout.xyz[2], &layout.normal[0],
                              &layout.normal[1], &layout.normal[2], &layout.color}) {
    if (access->field < 0) continue;
    const PcdField& field = header.fields[access->field];
    access->stride = structure_of_arrays ? field.size * field.count : record;
  }
  return layout;
}

// Bytes of one point's record; throws when the fields' sizes overflow.
std::uint64_t RecordBytes(const PcdHeader& header, const std::string& file, bool skip_padding) {
  std::uint64_t total = 0;
  for (const PcdField& field : header.fields) {
    if (skip_padding && field.name == "_") continue;
    std::uint64_t bytes = 0;
    FACET_CHECK(!__builtin_mul_overflow(field.size, field.count, &bytes) &&
                    !__builtin_add_overflow(total, bytes, &total),
                "cannot read PCD '{}': field '{}' has an absurd COUNT {}", file, field.name,
                field.count);
  }
  return total;
}

void AppendPoint(geometry::PointCloud& cloud, const Eigen::Vector3d& point,
                 const Eigen::Vector3d& normal, std::uint32_t packed, const Layout& layout) {
  if (point.array().isNaN().any()) return;  // PCL's invalid point
  cloud.points.push_back(point);
  if (layout.normal[0].field >= 0) cloud.normals.push_back(normal);
  if (layout.color.field >= 0) {
    cloud.colors.emplace_back(detail::Srgb8ToLinear((packed >> 16) & 0xff),
                              detail::Srgb8ToLinear((packed >> 8) & 0xff),
                              detail::Srgb8ToLinear(packed & 0xff));
  }
}

void ReadBinaryPoints(const std::uint8_t* data, const PcdHeader& header, const Layout& layout,
                      geometry::PointCloud& cloud) {
  auto value = [&](const FieldAccess& access, std::uint64_t i) {
    return Decode(data + access.offset + i * access.stride, header.fields[access.field]);
  };
  for (std::uint64_t i = 0; i < header.points; ++i) {
    Eigen::Vector3d point, normal = Eigen::Vector3d::Zero();
    for (int k = 0; k < 3; ++k) {
      point[k] = value(layout.xyz[k], i);
      if (layout.normal[k].field >= 0) normal[k] = value(layout.normal[k], i);
    }
    std::uint32_t packed = 0;
    if (layout.color.field >= 0) {
      std::memcpy(&packed, data + layout.color.offset + i * layout.color.stride, 4);
    }
    AppendPoint(cloud, point, normal, packed, layout);
  }
}

// An ASCII value of `field` as the binary encoding would hold it; false when the token is not
// a number of that type (an integer in range, or a float that does not overflow float32).
bool ParseAsciiValue(std::string_view token, const PcdField& field, double& value) {
  const std::optional<double> parsed = ParseNumber<double>(token);
  if (!parsed) return false;
  value = *parsed;
  if (field.type == 'F') {
    if (field.size == 8) return true;
    const float rounded = static_cast<float>(value);
    if (!std::isfinite(rounded) && std::isfinite(value)) return false;
    value = rounded;
    return true;
  }
  const int bits = 8 * static_cast<int>(field.size);
  const double low = field.type == 'I' ? -std::ldexp(1.0, bits - 1) : 0.0;
  const double high = std::ldexp(1.0, field.type == 'I' ? bits - 1 : bits) - 1.0;
  return std::floor(value) == value && value >= low && value <= high;
}

void ReadAsciiPoints(std::string_view text, const PcdHeader& header, const Layout& layout,
                     const std::string& file, geometry::PointCloud& cloud) {
  // Token index of each field's first value.
  std::vector<std::size_t> first(header.fields.size());
  std::size_t per_point = 0;
  for (std::size_t f = 0; f < header.fields.size(); ++f) {
    first[f] = per_point;
    per_point += header.fields[f].count;
  }
  std::size_t pos = 0;
  int line_number = header.data_line;
  std::uint64_t read = 0;
  while (read < header.points) {
    FACET_CHECK(
        pos < text.size(),
        "cannot read PCD '{}': the file ends after {} of {} points (line {}); it is truncated",
        file, read, header.points, line_number);
    const std::string_view line = detail::NextLine(text, pos);
    ++line_number;
    const std::vector<std::string_view> tokens = SplitWords(line);
    if (tokens.empty()) continue;
    FACET_CHECK(tokens.size() == per_point,
                "cannot read PCD '{}' line {}: {} values, but the fields need {} per point", file,
                line_number, tokens.size(), per_point);
    auto number = [&](const FieldAccess& access) {
      const std::string_view token = tokens[first[access.field]];
      const PcdField& field = header.fields[access.field];
      double value = 0.0;
      FACET_CHECK(ParseAsciiValue(token, field, value),
                  "cannot read PCD '{}' line {}: '{}' is not a valid {} {} value (field '{}')",
                  file, line_number, token, field.type, field.size, field.name);
      return value;
    };
    Eigen::Vector3d point, normal = Eigen::Vector3d::Zero();
    for (int k = 0; k < 3; ++k) {
      point[k] = number(layout.xyz[k]);
      if (layout.normal[k].field >= 0) normal[k] = number(layout.normal[k]);
    }
    std::uint32_t packed = 0;
    if (layout.color.field >= 0) {
      const PcdField& field = header.fields[layout.color.field];
      const std::string_view token = tokens[first[layout.color.field]];
      const bool digits =
          std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
      bool ok = false;
      if (field.type != 'F' || digits) {
        const std::optional<std::int64_t> integer = ParseNumber<std::int64_t>(token);
        ok = integer && *integer >= std::numeric_limits<std::int32_t>::min() &&
             *integer <= std::numeric_limits<std::uint32_t>::max();
        packed = static_cast<std::uint32_t>(integer.value_or(0));
      } else {
        const std::optional<float> bits = ParseNumber<float>(token);
        ok = bits.has_value();
        packed = std::bit_cast<std::uint32_t>(bits.value_or(0.0f));
      }
      FACET_CHECK(ok, "cannot read PCD '{}' line {}: '{}' is not a packed colour", file,
                  line_number, token);
    }
    AppendPoint(cloud, point, normal, packed, layout);
    ++read;
  }
}

}  // namespace

geometry::PointCloud ReadPcd(const fs::path& path) {
  const std::string file = path.string();
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  const PcdHeader header = ParseHeader(bytes, file);
  const std::size_t available = bytes.size() - header.data_offset;
  const std::uint8_t* data = bytes.data() + header.data_offset;
  geometry::PointCloud cloud;
  // Counts are verified against the bytes present before this; still reserve no more than
  // detail/reader_limits.h allows, since a point in memory can be 20x its record.
  auto reserve = [&](const Layout& layout) {
    detail::ReserveBounded(cloud.points, header.points, bytes.size());
    if (layout.normal[0].field >= 0) {
      detail::ReserveBounded(cloud.normals, header.points, bytes.size());
    }
    if (layout.color.field >= 0) detail::ReserveBounded(cloud.colors, header.points, bytes.size());
  };

  if (header.data == PcdData::kAscii) {
    RecordBytes(header, file, false);  // throws on absurd COUNTs, which bounds the sum below
    std::uint64_t values = 0;          // per point
    for (const PcdField& field : header.fields) values += field.count;
    // Every value takes at least one character and a separator (the last newline optional).
    std::uint64_t total = 0;
    FACET_CHECK(!__builtin_mul_overflow(header.points, values, &total) &&
                    total <= (std::uint64_t{available} + 1) / 2,
                "cannot read PCD '{}': POINTS {} is more than the {} bytes after the header (byte "
                "offset {}) can hold at {} values per point; the file is truncated",
                file, header.points, available, header.data_offset, values);
    const Layout layout = FindFields(header, file, false);
    reserve(layout);
    ReadAsciiPoints({reinterpret_cast<const char*>(data), available}, header, layout, file, cloud);
    return cloud;
  }
  if (header.data == PcdData::kBinary) {
    const std::uint64_t record = RecordBytes(header, file, false);
    std::uint64_t total = 0;
    FACET_CHECK(!__builtin_mul_overflow(record, header.points, &total) && total <= available,
                "cannot read PCD '{}': {} points of {} bytes need more than the {} bytes after the "
                "header (byte offset {}); the file is truncated",
                file, header.points, record, available, header.data_offset);
    const Layout layout = FindFields(header, file, false);
    reserve(layout);
    ReadBinaryPoints(data, header, layout, cloud);
    return cloud;
  }

  FACET_CHECK(available >= 8,
              "cannot read PCD '{}': binary_compressed data at byte offset {} lacks its 8-byte "
              "size prefix; the file is truncated",
              file, header.data_offset);
  std::uint32_t compressed = 0, uncompressed = 0;
  std::memcpy(&compressed, data, 4);
  std::memcpy(&uncompressed, data + 4, 4);
  FACET_CHECK(compressed <= available - 8,
              "cannot read PCD '{}': {} compressed bytes declared at byte offset {}, but only {} "
              "follow; the file is truncated",
              file, compressed, header.data_offset, available - 8);
  const std::uint64_t record = RecordBytes(header, file, true);
  std::uint64_t expected = 0;
  FACET_CHECK(!__builtin_mul_overflow(record, header.points, &expected) && expected == uncompressed,
              "cannot read PCD '{}': {} points of {} bytes do not match the {} uncompressed bytes "
              "declared at byte offset {}",
              file, header.points, record, uncompressed, header.data_offset + 4);
  FACET_CHECK(uncompressed <= std::uint64_t{compressed} * detail::kLzfMaxExpansion,
              "cannot read PCD '{}': {} compressed bytes cannot inflate to {} (LZF expands at most "
              "{}x); the file is corrupt",
              file, compressed, uncompressed, detail::kLzfMaxExpansion);
  FACET_CHECK(uncompressed <= kMaxPcdInflatedBytes,
              "cannot read PCD '{}': its binary_compressed data inflate to {} bytes, more than "
              "facet inflates ({}); convert it to DATA binary (e.g. with PCL's pcl_convert_pcd_"
              "ascii_binary) or split it",
              file, uncompressed, kMaxPcdInflatedBytes);
  const auto inflated = detail::LzfDecompress({data + 8, compressed}, uncompressed);
  FACET_CHECK(inflated.has_value(),
              "cannot read PCD '{}': the LZF data at byte offset {} are corrupt", file,
              header.data_offset + 8);
  const Layout layout = FindFields(header, file, true);
  reserve(layout);
  ReadBinaryPoints(inflated->data(), header, layout, cloud);
  return cloud;
}

void WritePcd(const fs::path& path, const geometry::PointCloud& cloud, PcdFormat format) {
  FACET_CHECK(format == PcdFormat::kAscii || format == PcdFormat::kBinary ||
                  format == PcdFormat::kBinaryCompressed,
              "WritePcd: format must be kAscii, kBinary or kBinaryCompressed (got {})",
              static_cast<int>(format));
  cloud.Check();
  const bool normals = cloud.HasNormals();
  const bool colors = cloud.HasColors();
  const std::size_t n = cloud.size();
  const int fields = 3 + (normals ? 3 : 0) + (colors ? 1 : 0);
  std::string names = "x y z";
  if (normals) names += " normal_x normal_y normal_z";
  if (colors) names += " rgb";
  std::string sizes, types, counts;
  for (int f = 0; f < fields; ++f) {
    const bool rgb = colors && f == fields - 1;
    sizes += f ? " 4" : "4";
    types += f ? " " : "";
    types += rgb && format == PcdFormat::kAscii ? 'U' : 'F';
    counts += f ? " 1" : "1";
  }
  static constexpr const char* kData[] = {"ascii", "binary", "binary_compressed"};
  std::string out = fmt::format(
      "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS {}\nSIZE {}\nTYPE {}\nCOUNT "
      "{}\nWIDTH {}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {}\nDATA {}\n",
      names, sizes, types, counts, n, n, kData[static_cast<int>(format)]);

  // Field f of point i as 4 bytes (float bits, or the packed 0x00RRGGBB colour).
  auto field_bits = [&](std::size_t i, int f) -> std::uint32_t {
    if (f < 3) return std::bit_cast<std::uint32_t>(static_cast<float>(cloud.points[i][f]));
    if (normals && f < 6) {
      return std::bit_cast<std::uint32_t>(static_cast<float>(cloud.normals[i][f - 3]));
    }
    const Eigen::Vector3f& c = cloud.colors[i];
    return std::uint32_t{detail::LinearToSrgb8(c[0])} << 16 |
           std::uint32_t{detail::LinearToSrgb8(c[1])} << 8 | detail::LinearToSrgb8(c[2]);
  };
  if (format == PcdFormat::kAscii) {
    auto inserter = std::back_inserter(out);
    for (std::size_t i = 0; i < n; ++i) {
      for (int f = 0; f < fields; ++f) {
        const std::uint32_t bits = field_bits(i, f);
        if (f > 0) out += ' ';
        if (colors && f == fields - 1) {
          fmt::format_to(inserter, "{}", bits);
        } else {
          fmt::format_to(inserter, "{}", std::bit_cast<float>(bits));
        }
      }
      out += '\n';
    }
  } else {
    std::vector<std::uint8_t> data(n * fields * 4);
    for (std::size_t i = 0; i < n; ++i) {
      for (int f = 0; f < fields; ++f) {
        const std::uint32_t bits = field_bits(i, f);
        // binary: one record per point; compressed: one block per field.
        const std::size_t slot = format == PcdFormat::kBinary ? i * fields + f : f * n + i;
        std::memcpy(data.data() + slot * 4, &bits, 4);
      }
    }
    if (format == PcdFormat::kBinaryCompressed) {
      const std::vector<std::uint8_t> packed = detail::LzfCompress(data);
      FACET_CHECK(data.size() <= std::numeric_limits<std::uint32_t>::max() &&
                      packed.size() <= std::numeric_limits<std::uint32_t>::max(),
                  "cannot write PCD '{}': {} bytes of point data exceed binary_compressed's 32-bit "
                  "sizes (write it as binary)",
                  path.string(), data.size());
      const std::array<std::uint32_t, 2> prefix = {static_cast<std::uint32_t>(packed.size()),
                                                   static_cast<std::uint32_t>(data.size())};
      out.append(reinterpret_cast<const char*>(prefix.data()), sizeof(prefix));
      data = packed;
    }
    out.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  WriteFileAtomically(path, std::string_view(out));
}

}  // namespace facet::datasets
