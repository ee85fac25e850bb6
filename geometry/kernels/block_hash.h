// The hash table of VoxelBlockGrid (voxel hashing, Niessner et al., "Real-time 3D Reconstruction
// at Scale using Voxel Hashing", SIGGRAPH Asia 2013): integer block coordinates -> block index,
// open addressing with linear probing in a power-of-two table. Plain arrays and FACET_HOST_DEVICE
// lookups, so the CPU and a CUDA kernel probe the same table (a device copy of the two arrays).
#pragma once

#include <cstdint>

#include "core/host_device.h"

namespace facet::geometry::kernels {

// Voxels per block edge; a block holds kBlockSize^3 voxels, x fastest.
inline constexpr int kBlockSize = 8;
inline constexpr int kBlockVoxels = kBlockSize * kBlockSize * kBlockSize;

struct BlockKey {
  std::int32_t x = 0, y = 0, z = 0;
};

FACET_HOST_DEVICE inline bool operator==(const BlockKey& a, const BlockKey& b) {
  return a.x == b.x && a.y == b.y && a.z == b.z;
}

// Empty slots hold this key (block coordinates this far out are refused on insertion).
inline constexpr std::int32_t kEmptyKeyCoord = INT32_MIN;
inline constexpr std::int32_t kMaxBlockCoord = (1 << 28);

FACET_HOST_DEVICE inline std::uint32_t HashBlockKey(const BlockKey& k) {
  // Teschner et al. 2003 primes, as the voxel hashing paper.
  return (std::uint32_t(k.x) * 73856093u) ^ (std::uint32_t(k.y) * 19349669u) ^
         (std::uint32_t(k.z) * 83492791u);
}

// Floor division of a voxel coordinate into its block and the voxel's index inside it.
FACET_HOST_DEVICE inline std::int32_t BlockOf(std::int32_t voxel) {
  return voxel >= 0 ? voxel / kBlockSize : -((-voxel + kBlockSize - 1) / kBlockSize);
}
FACET_HOST_DEVICE inline int LocalVoxelIndex(int lx, int ly, int lz) {
  return lx + kBlockSize * (ly + kBlockSize * lz);
}

// A read-only view of the table: `capacity` slots (a power of two), keys[i].x ==
// kEmptyKeyCoord for an empty slot, values[i] the block index.
struct BlockHashView {
  const BlockKey* keys = nullptr;
  const std::int32_t* values = nullptr;
  std::uint32_t capacity = 0;

  // The block index of `key`, or -1.
  FACET_HOST_DEVICE std::int32_t Find(const BlockKey& key) const {
    if (capacity == 0) return -1;
    const std::uint32_t mask = capacity - 1;
    for (std::uint32_t slot = HashBlockKey(key) & mask, probes = 0; probes < capacity;
         slot = (slot + 1) & mask, ++probes) {
      const BlockKey& k = keys[slot];
      if (k.x == kEmptyKeyCoord) return -1;
      if (k == key) return values[slot];
    }
    return -1;
  }
};

}  // namespace facet::geometry::kernels
