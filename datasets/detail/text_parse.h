// Helpers for the line-oriented text formats (TUM lists, trajectory logs, camera files): bounded
// whole-file reads, whitespace-split lines with their numbers, strict locale-free number parsing.
#pragma once

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"

namespace facet::datasets::detail {

// Text files facet reads are far smaller; anything larger is the wrong file.
inline constexpr std::uint64_t kMaxTextBytes = std::uint64_t{1} << 30;

// A non-empty, non-comment line split on whitespace; `number` is 1-based.
struct TextLine {
  int number = 0;
  std::vector<std::string_view> fields{};
};

inline std::string ReadText(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path, kMaxTextBytes);
  return std::string(bytes.begin(), bytes.end());
}

// The lines of `text` that hold something other than a '#' comment. The fields are views into
// `text`, which must outlive them.
inline std::vector<TextLine> SplitLines(const std::string& text) {
  std::vector<TextLine> lines;
  std::size_t begin = 0;
  for (int number = 1; begin < text.size(); ++number) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + begin, end - begin);
    begin = end + 1;
    TextLine parsed{number, {}};
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      std::size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      if (j > i) parsed.fields.push_back(line.substr(i, j - i));
      i = j;
    }
    if (parsed.fields.empty() || parsed.fields[0].front() == '#') continue;
    lines.push_back(std::move(parsed));
  }
  return lines;
}

// The whole field as a T (int or double; doubles must be finite), or facet::Error naming the file
// and line.
template <typename T>
T ParseNumber(std::string_view field, const std::filesystem::path& path, int line) {
  T value{};
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  bool ok = ec == std::errc() && end == field.data() + field.size();
  if constexpr (std::is_floating_point_v<T>) ok = ok && std::isfinite(value);
  FACET_CHECK(ok, "'{}' line {}: \"{}\" is not a valid number", path.string(), line, field);
  return value;
}

}  // namespace facet::datasets::detail
