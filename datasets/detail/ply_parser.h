// The generic PLY machinery behind datasets/ply.h and datasets/gaussian_splats.h: a header parser,
// a row-by-row data walker that hands each row to a callback, and an encoder for writers.
//
// Safety contract: ParsePlyHeader refuses counts the bytes cannot hold before anything is
// allocated; ReadPlyData checks every read against the end of the buffer and every list count
// against the bytes left, so a corrupt file ends in facet::Error, never a crash, a hang or an
// unbounded allocation. Integer-typed ASCII values must be integers within their type's range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "datasets/ply.h"

namespace facet::datasets::detail {

// Parses the header at the start of `bytes` (the whole file); `file` names it in errors.
PlyHeader ParsePlyHeader(std::span<const std::uint8_t> bytes, const std::string& file);

// The same parser on the first bytes of a file of `file_size` bytes (prefix.size() <= file_size),
// for reading a header without the data: std::nullopt when the prefix ends before the end_header
// line does (read more and call again); otherwise the header, with every count checked against
// file_size exactly as ParsePlyHeader checks it, or facet::Error.
std::optional<PlyHeader> ParsePlyHeaderPrefix(std::span<const std::uint8_t> prefix,
                                              std::uint64_t file_size, const std::string& file);

// One row of an element, valid only during the callback that receives it. Values come as double,
// which holds every PLY scalar type exactly except float64 itself (returned as is).
class PlyRow {
 public:
  double Scalar(std::size_t property) const;
  std::uint64_t ListSize(std::size_t property) const;
  double ListItem(std::size_t property, std::uint64_t item) const;

  std::uint64_t Index() const { return index_; }  // row number within its element, from 0
  // "byte offset N" (binary) or "line N" (ASCII) of the row's start, for error messages.
  std::string Where() const;

 private:
  friend class PlyDataWalker;
  const PlyElement* element_ = nullptr;
  bool ascii_ = false;
  bool big_endian_ = false;
  const std::uint8_t* data_ = nullptr;    // binary: the row's first byte
  const double* values_ = nullptr;        // ASCII: the row's parsed values
  const std::size_t* offsets_ = nullptr;  // per property: byte offset (binary) / value index
  std::uint64_t index_ = 0;
  std::uint64_t location_ = 0;  // byte offset or line number
};

using PlyRowHandler = std::function<void(const PlyRow&)>;

// Walks the data section in element order and calls handlers[e] for every row of element e when
// that handler is set (`handlers` may be shorter than the element list). Rows of other elements
// are parsed and skipped. Trailing bytes after the last element are ignored.
void ReadPlyData(std::span<const std::uint8_t> bytes, const PlyHeader& header,
                 const std::string& file, const std::vector<PlyRowHandler>& handlers);

// The header text for `header` (its data_offset is ignored), ending with "end_header\n".
std::string FormatPlyHeader(const PlyHeader& header);

// Appends values in a PLY encoding: ASCII (space-separated, shortest round-trip decimals, a
// newline per row) or binary in either byte order.
class PlyEncoder {
 public:
  explicit PlyEncoder(PlyFormat format, std::string header_text);

  // Appends `value` as `type`. Integer types take integral values within their range (the caller
  // guarantees it); floats are rounded to nearest.
  void Put(PlyType type, double value);
  void EndRow();
  std::string& Bytes() { return bytes_; }

 private:
  PlyFormat format_;
  bool row_started_ = false;
  std::string bytes_;
};

}  // namespace facet::datasets::detail
