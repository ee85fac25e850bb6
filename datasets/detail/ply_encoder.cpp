#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <utility>

#include "datasets/detail/ply_parser.h"

namespace facet::datasets::detail {

std::string FormatPlyHeader(const PlyHeader& header) {
  static constexpr std::string_view kFormats[] = {"ascii", "binary_little_endian",
                                                  "binary_big_endian"};
  std::string text = fmt::format("ply\nformat {} 1.0\n", kFormats[static_cast<int>(header.format)]);
  for (const std::string& comment : header.comments) text += fmt::format("comment {}\n", comment);
  for (const std::string& info : header.obj_info) text += fmt::format("obj_info {}\n", info);
  for (const PlyElement& element : header.elements) {
    text += fmt::format("element {} {}\n", element.name, element.count);
    for (const PlyProperty& property : element.properties) {
      if (property.is_list) {
        text += fmt::format("property list {} {} {}\n", PlyTypeName(property.count_type),
                            PlyTypeName(property.type), property.name);
      } else {
        text += fmt::format("property {} {}\n", PlyTypeName(property.type), property.name);
      }
    }
  }
  return text + "end_header\n";
}

PlyEncoder::PlyEncoder(PlyFormat format, std::string header_text)
    : format_(format), bytes_(std::move(header_text)) {}

namespace {
template <typename T>
void Store(std::string& out, T value, bool big_endian) {
  auto raw = std::bit_cast<std::array<char, sizeof(T)>>(value);
  if (big_endian) std::reverse(raw.begin(), raw.end());
  out.append(raw.data(), raw.size());
}
}  // namespace

void PlyEncoder::Put(PlyType type, double value) {
  if (format_ == PlyFormat::kAscii) {
    if (row_started_) bytes_ += ' ';
    row_started_ = true;
    auto out = std::back_inserter(bytes_);
    if (type == PlyType::kFloat32) {
      fmt::format_to(out, "{}", static_cast<float>(value));
    } else if (type == PlyType::kFloat64) {
      fmt::format_to(out, "{}", value);
    } else {
      fmt::format_to(out, "{}", static_cast<std::int64_t>(value));
    }
    return;
  }
  const bool big_endian = format_ == PlyFormat::kBinaryBigEndian;
  switch (type) {
    case PlyType::kInt8:
      Store(bytes_, static_cast<std::int8_t>(value), big_endian);
      break;
    case PlyType::kUint8:
      Store(bytes_, static_cast<std::uint8_t>(value), big_endian);
      break;
    case PlyType::kInt16:
      Store(bytes_, static_cast<std::int16_t>(value), big_endian);
      break;
    case PlyType::kUint16:
      Store(bytes_, static_cast<std::uint16_t>(value), big_endian);
      break;
    case PlyType::kInt32:
      Store(bytes_, static_cast<std::int32_t>(value), big_endian);
      break;
    case PlyType::kUint32:
      Store(bytes_, static_cast<std::uint32_t>(value), big_endian);
      break;
    case PlyType::kFloat32:
      Store(bytes_, static_cast<float>(value), big_endian);
      break;
    case PlyType::kFloat64:
      Store(bytes_, value, big_endian);
      break;
  }
}

void PlyEncoder::EndRow() {
  if (format_ == PlyFormat::kAscii) bytes_ += '\n';
  row_started_ = false;
}

}  // namespace facet::datasets::detail
