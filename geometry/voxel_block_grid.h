// VoxelBlockGrid: a sparse volume of signed distances on a regular lattice, stored in blocks of
// 8^3 voxels allocated only where they are needed (voxel hashing), so memory grows with the
// surface, not with the bounding box. TSDF fusion, screened Poisson and mesh-to-SDF all write one,
// and ExtractSurface (marching_cubes.h) turns any of them into a mesh.
//
// Conventions:
//   - voxel (x, y, z), integers of any sign, is the lattice node at world point
//     voxel_size * (x, y, z); marching cubes cells span the nodes (x..x+1, y..y+1, z..z+1);
//   - block (bx, by, bz) holds voxels 8 bx .. 8 bx + 7 (likewise y, z), local index
//     lx + 8 (ly + 8 lz);
//   - sdf: signed distance in world units, negative inside the surface (for a TSDF, clamped to
//     +-truncation); weight: confidence, 0 = unknown (never observed);
//   - color (optional): linear RGB in [0, 1], 3 floats per voxel.
// New blocks start unknown: sdf 0, weight 0, colour 0.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <span>
#include <vector>

#include "geometry/kernels/block_hash.h"

namespace facet::geometry {

class VoxelBlockGrid {
 public:
  static constexpr int kBlockSize = kernels::kBlockSize;
  static constexpr int kBlockVoxels = kernels::kBlockVoxels;

  // Throws facet::Error unless voxel_size > 0 and finite.
  explicit VoxelBlockGrid(double voxel_size, bool with_color = false);

  double voxel_size() const { return voxel_size_; }
  double block_size() const { return voxel_size_ * kBlockSize; }
  bool has_color() const { return with_color_; }
  std::int64_t block_count() const { return std::int64_t(keys_.size()); }

  // The block index of `key`, or -1.
  std::int32_t Find(const kernels::BlockKey& key) const { return hash_view().Find(key); }
  // The index of the block `key`, allocating it (unknown voxels) when absent. Not thread-safe.
  // Throws facet::Error for coordinates beyond +-2^28 blocks.
  std::int32_t Insert(const kernels::BlockKey& key);
  // Inserts every key (duplicates allowed); reserves once. Not thread-safe.
  void Insert(std::span<const kernels::BlockKey> keys);
  void Reserve(std::int64_t blocks);
  void Clear();

  const kernels::BlockKey& key(std::int32_t block) const { return keys_[block]; }
  const std::vector<kernels::BlockKey>& keys() const { return keys_; }

  // kBlockVoxels values of block `block` (3 * kBlockVoxels for colour; nullptr without colour).
  float* sdf(std::int32_t block) { return sdf_.data() + std::size_t(block) * kBlockVoxels; }
  const float* sdf(std::int32_t block) const {
    return sdf_.data() + std::size_t(block) * kBlockVoxels;
  }
  float* weight(std::int32_t block) { return weight_.data() + std::size_t(block) * kBlockVoxels; }
  const float* weight(std::int32_t block) const {
    return weight_.data() + std::size_t(block) * kBlockVoxels;
  }
  float* color(std::int32_t block) {
    return with_color_ ? color_.data() + std::size_t(block) * 3 * kBlockVoxels : nullptr;
  }
  const float* color(std::int32_t block) const {
    return with_color_ ? color_.data() + std::size_t(block) * 3 * kBlockVoxels : nullptr;
  }
  // Whole arrays, block after block (for device copies and serialisation).
  std::vector<float>& sdf_data() { return sdf_; }
  const std::vector<float>& sdf_data() const { return sdf_; }
  std::vector<float>& weight_data() { return weight_; }
  const std::vector<float>& weight_data() const { return weight_; }
  std::vector<float>& color_data() { return color_; }
  const std::vector<float>& color_data() const { return color_; }

  // The world point of voxel (x, y, z), and the voxel nearest a world point.
  Eigen::Vector3d VoxelCenter(const Eigen::Vector3i& voxel) const {
    return voxel_size_ * voxel.cast<double>();
  }
  Eigen::Vector3i NearestVoxel(const Eigen::Vector3d& x) const;
  // The block containing voxel (x, y, z) (floor division by 8).
  static kernels::BlockKey BlockOfVoxel(const Eigen::Vector3i& voxel) {
    return {kernels::BlockOf(voxel.x()), kernels::BlockOf(voxel.y()), kernels::BlockOf(voxel.z())};
  }

  // sdf and weight of voxel (x, y, z); weight 0 (and sdf 0) when its block is not allocated.
  struct Sample {
    float sdf = 0.0f;
    float weight = 0.0f;
  };
  Sample At(const Eigen::Vector3i& voxel) const;

  kernels::BlockHashView hash_view() const {
    return {hash_keys_.data(), hash_values_.data(), std::uint32_t(hash_keys_.size())};
  }
  // Bytes held by the voxel arrays and the hash table.
  std::size_t MemoryBytes() const;

 private:
  void Rehash(std::size_t capacity);

  double voxel_size_;
  bool with_color_;
  std::vector<kernels::BlockKey> keys_{};  // per block
  std::vector<float> sdf_{}, weight_{}, color_{};
  std::vector<kernels::BlockKey> hash_keys_{};  // open addressing, power-of-two capacity
  std::vector<std::int32_t> hash_values_{};
};

}  // namespace facet::geometry
