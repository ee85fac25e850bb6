// LZF, the small LZ77 codec PCD's binary_compressed mode uses (Marc Lehmann's liblzf; PCL ships
// a copy as pcl/io/lzf.h). A stream is a sequence of
//   literal run:     control byte 000LLLLL, then L + 1 bytes copied as they are (1-32);
//   back reference:  control byte LLLOOOOO (LLL > 0), [one more length byte when LLL = 7], one
//                    offset byte; copies length + 2 bytes (3-264) from distance
//                    (OOOOO << 8 | offset byte) + 1 behind the output end (may overlap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace facet::datasets::detail {

// Most output bytes one input byte can produce: a 3-byte back reference yields 264.
inline constexpr std::size_t kLzfMaxExpansion = 88;

// Inflates `compressed` into exactly `size` bytes, or nullopt when the stream is malformed (a run
// or reference past either end, a reference before the start) or inflates to another size.
// Memory follows the bytes actually decoded (the buffer doubles as it fills, never beyond
// `size`), so a stream that declares a large `size` but breaks early costs little. The caller
// still bounds `size` (by kLzfMaxExpansion x the input and an absolute limit) before calling.
std::optional<std::vector<std::uint8_t>> LzfDecompress(std::span<const std::uint8_t> compressed,
                                                       std::size_t size);

// Compresses greedily with a hash of 3-byte prefixes (a simpler cousin of liblzf's lzf_compress;
// any valid stream is readable by every LZF decoder).
std::vector<std::uint8_t> LzfCompress(std::span<const std::uint8_t> data);

}  // namespace facet::datasets::detail
