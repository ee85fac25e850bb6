// Allocation rules shared by the file readers of datasets/ (PLY, 3DGS PLY, PCD, ...).
//
// A count read from a file is checked against the bytes actually present before anything is
// allocated by it. Even then, records on disk can be far smaller than their in-memory form: a
// PLY vertex of three uchar coordinates is 3 bytes, a PointCloud point with normal and colour is
// 60, so reserve(count) alone could ask for 20x the file. Readers therefore reserve at most
// kMaxReservePerFileByte x the file's size per container up front, and beyond that let the
// container grow as records are really decoded: a file that turns out to be corrupt halfway costs
// only what its valid part needs, and the final size is what the data really hold.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace facet::datasets::detail {

// Bytes one container may reserve up front per byte of the file being read.
inline constexpr std::uint64_t kMaxReservePerFileByte = 4;

// reserve(count), capped at kMaxReservePerFileByte x file_bytes of memory.
template <typename T, typename Allocator>
void ReserveBounded(std::vector<T, Allocator>& items, std::uint64_t count,
                    std::uint64_t file_bytes) {
  const std::uint64_t budget = kMaxReservePerFileByte * file_bytes / sizeof(T);
  items.reserve(static_cast<std::size_t>(std::min(count, budget)));
}

// Makes room for `count` items in all, growing geometrically (at least doubling) when it must.
// For containers filled in many appends of known sizes (glTF primitives instanced by many nodes):
// reserve(size() + n) at each append would reallocate and copy everything every time, quadratic.
template <typename T, typename Allocator>
void ReserveGrowing(std::vector<T, Allocator>& items, std::size_t count) {
  if (count > items.capacity()) items.reserve(std::max(count, 2 * items.capacity()));
}

}  // namespace facet::datasets::detail
