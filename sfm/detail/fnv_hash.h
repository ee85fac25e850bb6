// FNV-1a, 64-bit: the checksum of feature cache files and the hash in cache file names. Not
// cryptographic; it only has to notice damaged files and keep distinct names apart.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace facet::sfm::detail {

inline std::uint64_t Fnv1a64(std::span<const std::uint8_t> bytes,
                             std::uint64_t hash = 14695981039346656037ull) {
  for (const std::uint8_t b : bytes) {
    hash ^= b;
    hash *= 1099511628211ull;
  }
  return hash;
}

inline std::uint64_t Fnv1a64(std::string_view text) {
  return Fnv1a64(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                               text.size()));
}

}  // namespace facet::sfm::detail
