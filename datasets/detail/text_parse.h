// Helpers for the text formats and text headers datasets/ reads (TUM lists, trajectory logs,
// camera files, COLMAP text models, PLY and PCD headers): bounded whole-file reads, whitespace
// splitting, strict locale-free number parsing, and case-insensitive file extensions. One
// definition of each, so that every reader accepts the same tokens.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"

namespace facet::datasets::detail {

// Text files facet reads are far smaller; anything larger is the wrong file.
inline constexpr std::uint64_t kMaxTextBytes = std::uint64_t{1} << 30;

// White space inside a line: what std::isspace accepts in the "C" locale, minus '\n'.
inline constexpr std::string_view kLineSpace = " \t\r\v\f";

// The words of one line (no '\n' inside), split on kLineSpace. The views point into `line`.
inline std::vector<std::string_view> SplitWords(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (true) {
    i = line.find_first_not_of(kLineSpace, i);
    if (i == std::string_view::npos) break;
    const std::size_t end = std::min(line.find_first_of(kLineSpace, i), line.size());
    words.push_back(line.substr(i, end - i));
    i = end;
  }
  return words;
}

// The whole token as a T, or std::nullopt. Locale-free (std::from_chars), plus one leading '+'
// as strtod, std::stold and C++ streams accept (but not "+-1" or "++1"). Floating-point results
// may be infinite or NaN ("inf", "nan"): callers that need finite numbers check. Integers out of
// T's range are refused, not wrapped.
template <typename T>
std::optional<T> ParseNumber(std::string_view token) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  if (token.size() > 1 && token[0] == '+' && token[1] != '-' && token[1] != '+') {
    token.remove_prefix(1);
  }
  T value{};
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  if (token.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

inline std::string ReadText(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path, kMaxTextBytes);
  return std::string(bytes.begin(), bytes.end());
}

// A non-empty, non-comment line split on whitespace; `number` is 1-based.
struct TextLine {
  int number = 0;
  std::vector<std::string_view> fields{};
};

// The lines of `text` that hold something other than a '#' comment. The fields are views into
// `text`, which must outlive them.
// The line of `text` starting at `pos` without its "\n" or "\r\n"; advances `pos` past it.
inline std::string_view NextLine(std::string_view text, std::size_t& pos) {
  std::size_t newline = text.find('\n', pos);
  if (newline == std::string_view::npos) newline = text.size();
  std::string_view line = text.substr(pos, newline - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos = std::min(newline + 1, text.size());
  return line;
}

inline std::vector<TextLine> SplitLines(const std::string& text) {
  std::vector<TextLine> lines;
  std::size_t begin = 0;
  for (int number = 1; begin < text.size(); ++number) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    TextLine parsed{number, SplitWords(std::string_view(text.data() + begin, end - begin))};
    begin = end + 1;
    if (parsed.fields.empty() || parsed.fields[0].front() == '#') continue;
    lines.push_back(std::move(parsed));
  }
  return lines;
}

// The whole field as a T (int or double; doubles must be finite), or facet::Error naming the file
// and line.
template <typename T>
T ParseNumber(std::string_view field, const std::filesystem::path& path, int line) {
  const std::optional<T> value = ParseNumber<T>(field);
  bool ok = value.has_value();
  if constexpr (std::is_floating_point_v<T>) ok = ok && std::isfinite(*value);
  FACET_CHECK(ok, "'{}' line {}: \"{}\" is not a valid number", path.string(), line, field);
  return *value;
}

}  // namespace facet::datasets::detail
