#include "geometry/voxel_block_grid.h"

#include <bit>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace facet::geometry {

using kernels::BlockKey;

VoxelBlockGrid::VoxelBlockGrid(double voxel_size, bool with_color)
    : voxel_size_(voxel_size), with_color_(with_color) {
  FACET_CHECK(std::isfinite(voxel_size) && voxel_size > 0.0,
              "voxel size must be positive and finite, got {}", voxel_size);
}

void VoxelBlockGrid::Reserve(std::int64_t blocks) {
  if (blocks <= 0) return;
  keys_.reserve(std::size_t(blocks));
  sdf_.reserve(std::size_t(blocks) * kBlockVoxels);
  weight_.reserve(std::size_t(blocks) * kBlockVoxels);
  if (with_color_) color_.reserve(std::size_t(blocks) * 3 * kBlockVoxels);
  // Load factor at most 1/2.
  const std::size_t wanted = std::bit_ceil(std::size_t(2 * blocks));
  if (wanted > hash_keys_.size()) Rehash(wanted);
}

void VoxelBlockGrid::Clear() {
  keys_.clear();
  sdf_.clear();
  weight_.clear();
  color_.clear();
  hash_keys_.clear();
  hash_values_.clear();
}

void VoxelBlockGrid::Rehash(std::size_t capacity) {
  hash_keys_.assign(capacity, BlockKey{kernels::kEmptyKeyCoord, 0, 0});
  hash_values_.assign(capacity, -1);
  const std::uint32_t mask = std::uint32_t(capacity - 1);
  for (std::size_t b = 0; b < keys_.size(); ++b) {
    std::uint32_t slot = kernels::HashBlockKey(keys_[b]) & mask;
    while (hash_keys_[slot].x != kernels::kEmptyKeyCoord) slot = (slot + 1) & mask;
    hash_keys_[slot] = keys_[b];
    hash_values_[slot] = std::int32_t(b);
  }
}

std::int32_t VoxelBlockGrid::Insert(const BlockKey& key) {
  FACET_CHECK(std::abs(std::int64_t(key.x)) < kernels::kMaxBlockCoord &&
                  std::abs(std::int64_t(key.y)) < kernels::kMaxBlockCoord &&
                  std::abs(std::int64_t(key.z)) < kernels::kMaxBlockCoord,
              "voxel block ({}, {}, {}) is too far from the origin (more than 2^28 blocks): "
              "is the voxel size much too small for the scene?",
              key.x, key.y, key.z);
  if (2 * (keys_.size() + 1) > hash_keys_.size()) {
    Rehash(std::max<std::size_t>(64, 2 * hash_keys_.size()));
  }
  const std::uint32_t mask = std::uint32_t(hash_keys_.size() - 1);
  std::uint32_t slot = kernels::HashBlockKey(key) & mask;
  while (hash_keys_[slot].x != kernels::kEmptyKeyCoord) {
    if (hash_keys_[slot] == key) return hash_values_[slot];
    slot = (slot + 1) & mask;
  }
  FACET_CHECK(keys_.size() < std::size_t(INT32_MAX), "too many voxel blocks (2^31)");
  const auto index = std::int32_t(keys_.size());
  hash_keys_[slot] = key;
  hash_values_[slot] = index;
  keys_.push_back(key);
  sdf_.resize(sdf_.size() + kBlockVoxels, 0.0f);
  weight_.resize(weight_.size() + kBlockVoxels, 0.0f);
  if (with_color_) color_.resize(color_.size() + 3 * kBlockVoxels, 0.0f);
  return index;
}

void VoxelBlockGrid::Insert(std::span<const BlockKey> keys) {
  Reserve(block_count() + std::int64_t(keys.size()));
  for (const BlockKey& key : keys) Insert(key);
}

Eigen::Vector3i VoxelBlockGrid::NearestVoxel(const Eigen::Vector3d& x) const {
  const Eigen::Vector3d v = (x / voxel_size_).array().round();
  FACET_CHECK(v.allFinite() && v.cwiseAbs().maxCoeff() < double(kernels::kMaxBlockCoord),
              "point ({}, {}, {}) is outside the voxel grid's range", x.x(), x.y(), x.z());
  return v.cast<int>();
}

VoxelBlockGrid::Sample VoxelBlockGrid::At(const Eigen::Vector3i& voxel) const {
  const BlockKey key = BlockOfVoxel(voxel);
  const std::int32_t block = Find(key);
  if (block < 0) return {};
  const int local =
      kernels::LocalVoxelIndex(voxel.x() - key.x * kBlockSize, voxel.y() - key.y * kBlockSize,
                               voxel.z() - key.z * kBlockSize);
  return {sdf(block)[local], weight(block)[local]};
}

std::size_t VoxelBlockGrid::MemoryBytes() const {
  return keys_.capacity() * sizeof(BlockKey) +
         (sdf_.capacity() + weight_.capacity() + color_.capacity()) * sizeof(float) +
         hash_keys_.capacity() * sizeof(BlockKey) + hash_values_.capacity() * sizeof(std::int32_t);
}

}  // namespace facet::geometry
