#include "datasets/detail/ply_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "datasets/detail/text_parse.h"

namespace facet::datasets {
namespace {

static_assert(std::endian::native == std::endian::little, "facet assumes a little-endian host");

struct TypeName {
  std::string_view name;
  PlyType type;
};
constexpr std::array<TypeName, 16> kTypeNames = {{
    {"char", PlyType::kInt8},
    {"int8", PlyType::kInt8},
    {"uchar", PlyType::kUint8},
    {"uint8", PlyType::kUint8},
    {"short", PlyType::kInt16},
    {"int16", PlyType::kInt16},
    {"ushort", PlyType::kUint16},
    {"uint16", PlyType::kUint16},
    {"int", PlyType::kInt32},
    {"int32", PlyType::kInt32},
    {"uint", PlyType::kUint32},
    {"uint32", PlyType::kUint32},
    {"float", PlyType::kFloat32},
    {"float32", PlyType::kFloat32},
    {"double", PlyType::kFloat64},
    {"float64", PlyType::kFloat64},
}};

// The text after the keyword, for comment and obj_info lines.
std::string RestOfLine(std::string_view line, std::string_view keyword) {
  std::string_view rest = line.substr(line.find(keyword) + keyword.size());
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  return std::string(rest);
}

template <typename T>
T Load(const std::uint8_t* p, bool big_endian) {
  std::array<std::uint8_t, sizeof(T)> raw;
  std::memcpy(raw.data(), p, sizeof(T));
  if (big_endian) std::reverse(raw.begin(), raw.end());
  return std::bit_cast<T>(raw);
}

double Decode(const std::uint8_t* p, PlyType type, bool big_endian) {
  switch (type) {
    case PlyType::kInt8:
      return Load<std::int8_t>(p, big_endian);
    case PlyType::kUint8:
      return Load<std::uint8_t>(p, big_endian);
    case PlyType::kInt16:
      return Load<std::int16_t>(p, big_endian);
    case PlyType::kUint16:
      return Load<std::uint16_t>(p, big_endian);
    case PlyType::kInt32:
      return Load<std::int32_t>(p, big_endian);
    case PlyType::kUint32:
      return Load<std::uint32_t>(p, big_endian);
    case PlyType::kFloat32:
      return Load<float>(p, big_endian);
    case PlyType::kFloat64:
      return Load<double>(p, big_endian);
  }
  return 0.0;
}

std::pair<double, double> IntegerRange(PlyType type) {
  switch (type) {
    case PlyType::kInt8:
      return {-128.0, 127.0};
    case PlyType::kUint8:
      return {0.0, 255.0};
    case PlyType::kInt16:
      return {-32768.0, 32767.0};
    case PlyType::kUint16:
      return {0.0, 65535.0};
    case PlyType::kInt32:
      return {-2147483648.0, 2147483647.0};
    case PlyType::kUint32:
      return {0.0, 4294967295.0};
    default:
      return {0.0, 0.0};
  }
}

}  // namespace

std::size_t PlyTypeSize(PlyType type) {
  switch (type) {
    case PlyType::kInt8:
    case PlyType::kUint8:
      return 1;
    case PlyType::kInt16:
    case PlyType::kUint16:
      return 2;
    case PlyType::kInt32:
    case PlyType::kUint32:
    case PlyType::kFloat32:
      return 4;
    case PlyType::kFloat64:
      return 8;
  }
  return 0;
}

std::string_view PlyTypeName(PlyType type) {
  for (const TypeName& entry : kTypeNames) {
    if (entry.type == type) return entry.name;  // the short name comes first in the table
  }
  return "?";
}

bool PlyTypeIsInteger(PlyType type) {
  return type != PlyType::kFloat32 && type != PlyType::kFloat64;
}

int PlyElement::FindProperty(std::string_view property_name) const {
  for (std::size_t i = 0; i < properties.size(); ++i) {
    if (properties[i].name == property_name) return static_cast<int>(i);
  }
  return -1;
}

const PlyElement* PlyHeader::FindElement(std::string_view element_name) const {
  for (const PlyElement& element : elements) {
    if (element.name == element_name) return &element;
  }
  return nullptr;
}

namespace detail {

std::optional<PlyHeader> ParsePlyHeaderPrefix(std::span<const std::uint8_t> prefix,
                                              std::uint64_t file_size, const std::string& file) {
  FACET_CHECK(prefix.size() <= file_size,
              "internal: a PLY header prefix of {} bytes is longer than its file '{}' ({} bytes)",
              prefix.size(), file, file_size);
  const bool whole_file = prefix.size() == file_size;
  const std::string_view text(reinterpret_cast<const char*>(prefix.data()), prefix.size());
  PlyHeader header;
  std::vector<int> element_lines;
  bool have_format = false;
  std::size_t pos = 0;
  int line_number = 0;
  while (true) {
    if (pos >= text.size() && !whole_file) return std::nullopt;  // more of the file is needed
    FACET_CHECK(pos < text.size(),
                "cannot read PLY '{}': the header has no end_header line (after line {}); the file "
                "is truncated or not a PLY file",
                file, line_number);
    std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) {
      if (!whole_file) return std::nullopt;  // the line may continue past the prefix
      newline = text.size();                 // the file's last line, without '\n'
    }
    std::string_view line = text.substr(pos, newline - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = std::min(newline + 1, text.size());
    ++line_number;
    const std::vector<std::string_view> words = SplitWords(line);
    if (line_number == 1) {
      FACET_CHECK(words.size() == 1 && words[0] == "ply",
                  "cannot read '{}': not a PLY file (it does not start with a 'ply' line)", file);
      continue;
    }
    if (words.empty()) continue;
    const std::string_view keyword = words[0];
    if (keyword == "end_header") break;
    if (keyword == "comment") {
      header.comments.push_back(RestOfLine(line, keyword));
    } else if (keyword == "obj_info") {
      header.obj_info.push_back(RestOfLine(line, keyword));
    } else if (keyword == "format") {
      FACET_CHECK(words.size() == 3 && (words[2] == "1.0" || words[2] == "1"),
                  "cannot read PLY '{}' line {}: expected 'format <encoding> 1.0', got '{}'", file,
                  line_number, line);
      if (words[1] == "ascii") {
        header.format = PlyFormat::kAscii;
      } else if (words[1] == "binary_little_endian") {
        header.format = PlyFormat::kBinaryLittleEndian;
      } else if (words[1] == "binary_big_endian") {
        header.format = PlyFormat::kBinaryBigEndian;
      } else {
        FACET_THROW(
            "cannot read PLY '{}' line {}: unknown format '{}' (expected ascii, "
            "binary_little_endian or binary_big_endian)",
            file, line_number, words[1]);
      }
      have_format = true;
    } else if (keyword == "element") {
      FACET_CHECK(words.size() == 3,
                  "cannot read PLY '{}' line {}: expected 'element <name> <count>', got '{}'", file,
                  line_number, line);
      PlyElement element;
      element.name = std::string(words[1]);
      const std::string_view count = words[2];
      FACET_CHECK(count.front() != '-',
                  "cannot read PLY '{}' line {}: element '{}' has a negative count {}", file,
                  line_number, words[1], count);
      const std::optional<std::uint64_t> parsed = ParseNumber<std::uint64_t>(count);
      FACET_CHECK(parsed.has_value(),
                  "cannot read PLY '{}' line {}: element '{}' has an invalid count '{}' (expected "
                  "a non-negative integer below 2^64)",
                  file, line_number, words[1], count);
      element.count = *parsed;
      FACET_CHECK(header.FindElement(element.name) == nullptr,
                  "cannot read PLY '{}' line {}: element '{}' is declared twice", file, line_number,
                  words[1]);
      header.elements.push_back(std::move(element));
      element_lines.push_back(line_number);
    } else if (keyword == "property") {
      FACET_CHECK(!header.elements.empty(),
                  "cannot read PLY '{}' line {}: a property comes before any element", file,
                  line_number);
      auto parse_type = [&](std::string_view name) {
        for (const TypeName& entry : kTypeNames) {
          if (entry.name == name) return entry.type;
        }
        FACET_THROW(
            "cannot read PLY '{}' line {}: unknown property type '{}' (expected one of char uchar "
            "short ushort int uint float double or int8 ... float64)",
            file, line_number, name);
      };
      PlyProperty property;
      if (words.size() >= 2 && words[1] == "list") {
        FACET_CHECK(words.size() == 5,
                    "cannot read PLY '{}' line {}: expected 'property list <count type> <item "
                    "type> <name>', got '{}'",
                    file, line_number, line);
        property.is_list = true;
        property.count_type = parse_type(words[2]);
        property.type = parse_type(words[3]);
        property.name = std::string(words[4]);
        FACET_CHECK(PlyTypeIsInteger(property.count_type),
                    "cannot read PLY '{}' line {}: the count type of list '{}' must be an integer "
                    "type, not {}",
                    file, line_number, words[4], words[2]);
      } else {
        FACET_CHECK(words.size() == 3,
                    "cannot read PLY '{}' line {}: expected 'property <type> <name>', got '{}'",
                    file, line_number, line);
        property.type = parse_type(words[1]);
        property.name = std::string(words[2]);
      }
      PlyElement& element = header.elements.back();
      FACET_CHECK(element.FindProperty(property.name) < 0,
                  "cannot read PLY '{}' line {}: element '{}' declares property '{}' twice", file,
                  line_number, element.name, property.name);
      element.properties.push_back(std::move(property));
    } else {
      FACET_THROW("cannot read PLY '{}' line {}: unknown header keyword '{}'", file, line_number,
                  keyword);
    }
  }
  FACET_CHECK(have_format, "cannot read PLY '{}': the header has no 'format' line", file);
  header.data_offset = pos;

  // Every count must fit in the bytes after the header before anyone allocates by it.
  const std::uint64_t available = file_size - pos;
  std::uint64_t needed = 0;  // bytes (binary) or values (ASCII) the elements so far need at least
  for (std::size_t e = 0; e < header.elements.size(); ++e) {
    const PlyElement& element = header.elements[e];
    std::uint64_t row = 0;
    for (const PlyProperty& property : element.properties) {
      if (header.format == PlyFormat::kAscii) {
        row += 1;  // a list needs at least its count
      } else {
        row += PlyTypeSize(property.is_list ? property.count_type : property.type);
      }
    }
    std::uint64_t element_need = 0;
    const bool overflow = __builtin_mul_overflow(element.count, row, &element_need) ||
                          __builtin_add_overflow(needed, element_need, &needed);
    // ASCII: each value is at least one character plus a separator (none after the last).
    const bool fits =
        header.format == PlyFormat::kAscii ? (needed <= available / 2 + 1) : (needed <= available);
    FACET_CHECK(!overflow && fits,
                "cannot read PLY '{}': element '{}' (line {}) declares {} rows of at least {} {} "
                "each, more than the {} bytes after the header hold; the file is truncated or its "
                "header is wrong",
                file, element.name, element_lines[e], element.count, row,
                header.format == PlyFormat::kAscii ? "values" : "bytes", available);
  }
  return header;
}

PlyHeader ParsePlyHeader(std::span<const std::uint8_t> bytes, const std::string& file) {
  return *ParsePlyHeaderPrefix(bytes, bytes.size(), file);  // never nullopt for a whole file
}

double PlyRow::Scalar(std::size_t property) const {
  if (ascii_) return values_[offsets_[property]];
  return Decode(data_ + offsets_[property], element_->properties[property].type, big_endian_);
}

std::uint64_t PlyRow::ListSize(std::size_t property) const {
  if (ascii_) return static_cast<std::uint64_t>(values_[offsets_[property]]);
  // The walker has checked that the count is a non-negative integer.
  return static_cast<std::uint64_t>(
      Decode(data_ + offsets_[property], element_->properties[property].count_type, big_endian_));
}

double PlyRow::ListItem(std::size_t property, std::uint64_t item) const {
  if (ascii_) return values_[offsets_[property] + 1 + item];
  const PlyProperty& p = element_->properties[property];
  return Decode(data_ + offsets_[property] + PlyTypeSize(p.count_type) + item * PlyTypeSize(p.type),
                p.type, big_endian_);
}

std::string PlyRow::Where() const {
  return fmt::format("{} {}", ascii_ ? "line" : "byte offset", location_);
}

// Walks the data section; a class only to share state between the two encodings' loops.
class PlyDataWalker {
 public:
  PlyDataWalker(std::span<const std::uint8_t> bytes, const PlyHeader& header,
                const std::string& file, const std::vector<PlyRowHandler>& handlers)
      : bytes_(bytes), header_(header), file_(file), handlers_(handlers) {}

  void Run() {
    pos_ = header_.data_offset;
    line_ = 1 + static_cast<std::uint64_t>(
                    std::count(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(pos_),
                               std::uint8_t{'\n'}));
    for (std::size_t e = 0; e < header_.elements.size(); ++e) {
      const PlyElement& element = header_.elements[e];
      if (element.properties.empty()) continue;  // no bytes, nothing to hand over
      const PlyRowHandler* handler = e < handlers_.size() && handlers_[e] ? &handlers_[e] : nullptr;
      row_.element_ = &element;
      offsets_.assign(element.properties.size(), 0);
      row_.offsets_ = offsets_.data();
      if (header_.format == PlyFormat::kAscii) {
        ReadAscii(element, handler);
      } else {
        ReadBinary(element, handler);
      }
    }
  }

 private:
  [[noreturn]] void Truncated(const PlyElement& element, std::uint64_t row,
                              std::size_t offset) const {
    FACET_THROW(
        "cannot read PLY '{}': row {} of element '{}' (byte offset {}) runs past the end of the "
        "file ({} bytes); the file is truncated",
        file_, row, element.name, offset, bytes_.size());
  }

  void ReadBinary(const PlyElement& element, const PlyRowHandler* handler) {
    const bool big_endian = header_.format == PlyFormat::kBinaryBigEndian;
    row_.ascii_ = false;
    row_.big_endian_ = big_endian;
    const bool fixed = std::none_of(element.properties.begin(), element.properties.end(),
                                    [](const PlyProperty& p) { return p.is_list; });
    std::size_t row_size = 0;
    if (fixed) {
      for (std::size_t p = 0; p < element.properties.size(); ++p) {
        offsets_[p] = row_size;
        row_size += PlyTypeSize(element.properties[p].type);
      }
      // ParsePlyHeader has checked this; repeat it because the walk relies on it.
      if (element.count > (bytes_.size() - pos_) / row_size) Truncated(element, 0, pos_);
      if (handler == nullptr) {
        pos_ += element.count * row_size;
        return;
      }
    }
    const std::size_t end = bytes_.size();
    for (std::uint64_t r = 0; r < element.count; ++r) {
      const std::size_t start = pos_;
      if (fixed) {
        pos_ += row_size;
      } else {
        for (std::size_t p = 0; p < element.properties.size(); ++p) {
          const PlyProperty& property = element.properties[p];
          offsets_[p] = pos_ - start;
          if (!property.is_list) {
            if (end - pos_ < PlyTypeSize(property.type)) Truncated(element, r, start);
            pos_ += PlyTypeSize(property.type);
            continue;
          }
          const std::size_t count_size = PlyTypeSize(property.count_type);
          if (end - pos_ < count_size) Truncated(element, r, start);
          const double count = Decode(bytes_.data() + pos_, property.count_type, big_endian);
          FACET_CHECK(count >= 0.0,
                      "cannot read PLY '{}': list '{}' in row {} of element '{}' (byte offset {}) "
                      "has a negative count {}",
                      file_, property.name, r, element.name, pos_, count);
          pos_ += count_size;
          const std::size_t item_size = PlyTypeSize(property.type);
          FACET_CHECK(count <= static_cast<double>((end - pos_) / item_size),
                      "cannot read PLY '{}': list '{}' in row {} of element '{}' (byte offset {}) "
                      "has {} items, more than the rest of the file holds; the file is corrupt",
                      file_, property.name, r, element.name, pos_ - count_size, count);
          pos_ += static_cast<std::size_t>(count) * item_size;
        }
      }
      if (handler != nullptr) {
        row_.data_ = bytes_.data() + start;
        row_.index_ = r;
        row_.location_ = start;
        (*handler)(row_);
      }
    }
  }

  // The next whitespace-separated token; counts lines.
  std::string_view NextToken(const PlyElement& element, std::uint64_t row) {
    const char* text = reinterpret_cast<const char*>(bytes_.data());
    while (pos_ < bytes_.size()) {
      const char c = text[pos_];
      if (c == '\n') {
        ++line_;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        break;
      }
      ++pos_;
    }
    const std::size_t start = pos_;
    while (pos_ < bytes_.size() && text[pos_] != ' ' && text[pos_] != '\t' && text[pos_] != '\r' &&
           text[pos_] != '\n') {
      ++pos_;
    }
    FACET_CHECK(
        pos_ > start,
        "cannot read PLY '{}': the file ends in row {} of element '{}' (line {}); it is truncated",
        file_, row, element.name, line_);
    return {text + start, pos_ - start};
  }

  double ParseValue(std::string_view token, PlyType type, const PlyElement& element,
                    std::string_view property) const {
    const std::optional<double> parsed = ParseNumber<double>(token);
    bool ok = parsed.has_value();
    double value = parsed.value_or(0.0);
    if (ok && PlyTypeIsInteger(type)) {
      const auto [lo, hi] = IntegerRange(type);
      ok = value >= lo && value <= hi && std::floor(value) == value;
    } else if (ok && type == PlyType::kFloat32) {
      const float rounded = static_cast<float>(value);       // as a binary file would hold it
      ok = std::isfinite(rounded) || !std::isfinite(value);  // no overflow to infinity
      value = rounded;
    }
    FACET_CHECK(
        ok, "cannot read PLY '{}' line {}: '{}' is not a valid {} (property '{}' of element '{}')",
        file_, line_, token, PlyTypeName(type), property, element.name);
    return value;
  }

  void ReadAscii(const PlyElement& element, const PlyRowHandler* handler) {
    row_.ascii_ = true;
    for (std::uint64_t r = 0; r < element.count; ++r) {
      values_.clear();
      std::uint64_t row_line = 0;
      for (std::size_t p = 0; p < element.properties.size(); ++p) {
        const PlyProperty& property = element.properties[p];
        offsets_[p] = values_.size();
        const std::string_view token = NextToken(element, r);
        if (p == 0) row_line = line_;
        if (!property.is_list) {
          values_.push_back(ParseValue(token, property.type, element, property.name));
          continue;
        }
        const double count = ParseValue(token, property.count_type, element, property.name);
        FACET_CHECK(count >= 0.0 && count <= static_cast<double>((bytes_.size() - pos_) / 2 + 1),
                    "cannot read PLY '{}' line {}: list '{}' of element '{}' has {} items, more "
                    "than the rest of the file holds",
                    file_, line_, property.name, element.name, token);
        values_.push_back(count);
        for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(count); ++i) {
          values_.push_back(
              ParseValue(NextToken(element, r), property.type, element, property.name));
        }
      }
      if (handler != nullptr) {
        row_.values_ = values_.data();
        row_.index_ = r;
        row_.location_ = row_line;
        (*handler)(row_);
      }
    }
  }

  std::span<const std::uint8_t> bytes_;
  const PlyHeader& header_;
  const std::string& file_;
  const std::vector<PlyRowHandler>& handlers_;
  std::size_t pos_ = 0;
  std::uint64_t line_ = 1;
  PlyRow row_;
  std::vector<std::size_t> offsets_;
  std::vector<double> values_;
};

void ReadPlyData(std::span<const std::uint8_t> bytes, const PlyHeader& header,
                 const std::string& file, const std::vector<PlyRowHandler>& handlers) {
  PlyDataWalker(bytes, header, file, handlers).Run();
}

}  // namespace detail
}  // namespace facet::datasets
