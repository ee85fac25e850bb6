#include "geometry/detail/marching_cubes_plan.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"

namespace facet::geometry::detail {
namespace {

using kernels::BlockKey;
using kernels::kBlockSize;
using kernels::kBlockVoxels;

// Open-addressing map from block keys to indices of a list of blocks (the blocks to process).
class BlockIndex {
 public:
  // Room for `max_entries` keys (the table does not grow) at load factor <= 1/2.
  BlockIndex(const std::vector<BlockKey>& keys, std::size_t max_entries)
      : keys_(std::max<std::size_t>(16, std::bit_ceil(2 * std::max(max_entries, keys.size()))),
              BlockKey{kernels::kEmptyKeyCoord, 0, 0}),
        values_(keys_.size(), -1) {
    for (std::size_t i = 0; i < keys.size(); ++i) Insert(keys[i], std::int32_t(i));
  }
  // Inserts when absent; returns true when inserted.
  bool Insert(const BlockKey& key, std::int32_t value) {
    const std::uint32_t mask = std::uint32_t(keys_.size() - 1);
    std::uint32_t slot = kernels::HashBlockKey(key) & mask;
    while (keys_[slot].x != kernels::kEmptyKeyCoord) {
      if (keys_[slot] == key) return false;
      slot = (slot + 1) & mask;
    }
    keys_[slot] = key;
    values_[slot] = value;
    return true;
  }
  std::int32_t Find(const BlockKey& key) const {
    return kernels::BlockHashView{keys_.data(), values_.data(), std::uint32_t(keys_.size())}.Find(
        key);
  }

 private:
  std::vector<BlockKey> keys_;
  std::vector<std::int32_t> values_;
};

// Inside/outside of everything the grid does not know: each unknown voxel and each unallocated
// block takes the side of its nearest source (see the header), by Dial's bucketed shortest paths
// over a graph whose nodes are the allocated voxels and the unallocated blocks of the padded
// bounding box: voxel-voxel steps cost 1, voxel-block steps kVoxelToBlock, block-block steps a
// block's width.
class Classification {
 public:
  Classification(const VoxelBlockGrid& grid, float min_weight) : grid_(grid) {
    lo_ = {INT32_MAX, INT32_MAX, INT32_MAX};
    hi_ = {INT32_MIN, INT32_MIN, INT32_MIN};
    for (const BlockKey& k : grid.keys()) {
      lo_ = {std::min(lo_[0], k.x), std::min(lo_[1], k.y), std::min(lo_[2], k.z)};
      hi_ = {std::max(hi_[0], k.x), std::max(hi_[1], k.y), std::max(hi_[2], k.z)};
    }
    for (int a = 0; a < 3; ++a) {
      lo_[a] -= 1;
      hi_[a] += 1;
      dims_[a] = std::int64_t(hi_[a]) - lo_[a] + 1;
    }
    const std::int64_t cells = dims_[0] * dims_[1] * dims_[2];
    FACET_CHECK(cells <= (std::int64_t{1} << 31),
                "the surface's bounding box spans {} x {} x {} voxel blocks, too many to classify "
                "the unobserved space; use a larger voxel size or open extraction",
                dims_[0], dims_[1], dims_[2]);
    block_label_.assign(std::size_t(cells), kUnlabeled);
    block_dist_.assign(std::size_t(cells), UINT32_MAX);
    for (const BlockKey& k : grid.keys()) block_label_[Flat(k)] = kAllocated;
    const std::size_t voxels = std::size_t(grid.block_count()) * kBlockVoxels;
    voxel_label_.assign(voxels, kUnlabeled);
    voxel_dist_.assign(voxels, UINT16_MAX);
    Label(min_weight);
  }

  // Whether an unallocated block is outside.
  bool BlockOutside(const BlockKey& k) const {
    return !InBox(k) || block_label_[Flat(k)] != kInside;
  }
  // The unallocated blocks with an unallocated neighbour (of 26) on the other side: the surface
  // passes between them, through space nothing observed.
  std::vector<BlockKey> SideChangingBlocks() const {
    std::vector<BlockKey> out;
    for (std::size_t flat = 0; flat < block_label_.size(); ++flat) {
      const std::uint8_t label = block_label_[flat];
      if (label == kAllocated) continue;
      const BlockKey k = Unflat(flat);
      bool change = false;
      for (int dz = -1; dz <= 1 && !change; ++dz) {
        for (int dy = -1; dy <= 1 && !change; ++dy) {
          for (int dx = -1; dx <= 1 && !change; ++dx) {
            const BlockKey n{k.x + dx, k.y + dy, k.z + dz};
            if (!InBox(n)) continue;
            const std::uint8_t other = block_label_[Flat(n)];
            change = other != kAllocated && (other == kInside) != (label == kInside);
          }
        }
      }
      if (change) out.push_back(k);
    }
    return out;
  }
  // Per allocated voxel, 1 when it is outside (meaningful for the unknown ones); leaves this
  // classification without its voxel labels.
  std::vector<std::uint8_t> TakeVoxelOutside() {
    for (std::uint8_t& label : voxel_label_) label = label != kInside ? 1 : 0;
    return std::move(voxel_label_);
  }

 private:
  static constexpr std::uint8_t kUnlabeled = 0, kOutside = 1, kInside = 2, kAllocated = 3;
  static constexpr std::uint32_t kVoxelToBlock = kBlockSize / 2;
  static constexpr std::uint32_t kBlockToBlock = kBlockSize;
  static constexpr int kBuckets = kBlockSize + 1;  // > the largest step
  static constexpr std::uint64_t kBlockBit = std::uint64_t{1} << 63;

  bool InBox(const BlockKey& k) const {
    return k.x >= lo_[0] && k.x <= hi_[0] && k.y >= lo_[1] && k.y <= hi_[1] && k.z >= lo_[2] &&
           k.z <= hi_[2];
  }
  std::size_t Flat(const BlockKey& k) const {
    return std::size_t((std::int64_t(k.z) - lo_[2]) * dims_[1] + (std::int64_t(k.y) - lo_[1])) *
               std::size_t(dims_[0]) +
           std::size_t(std::int64_t(k.x) - lo_[0]);
  }
  BlockKey Unflat(std::size_t flat) const {
    const auto x = std::int64_t(flat % std::size_t(dims_[0]));
    const auto yz = std::int64_t(flat / std::size_t(dims_[0]));
    return {std::int32_t(lo_[0] + x), std::int32_t(lo_[1] + yz % dims_[1]),
            std::int32_t(lo_[2] + yz / dims_[1])};
  }

  void Label(float min_weight) {
    std::array<std::vector<std::uint64_t>, kBuckets> buckets;
    std::int64_t pending = 0;
    const auto push_voxel = [&](std::size_t voxel, std::uint8_t label, std::uint32_t d) {
      const auto d16 = std::uint16_t(std::min<std::uint32_t>(d, UINT16_MAX - 1));
      if (d16 >= voxel_dist_[voxel]) return;
      voxel_dist_[voxel] = d16;
      voxel_label_[voxel] = label;
      buckets[d % kBuckets].push_back(voxel);
      ++pending;
    };
    const auto push_block = [&](std::size_t flat, std::uint8_t label, std::uint32_t d) {
      if (d >= block_dist_[flat]) return;
      block_dist_[flat] = d;
      block_label_[flat] = label;
      buckets[d % kBuckets].push_back(kBlockBit | flat);
      ++pending;
    };
    // Sources: the padding shell (outside), then every known voxel (its own side).
    for (std::size_t flat = 0; flat < block_label_.size(); ++flat) {
      const BlockKey k = Unflat(flat);
      if (k.x == lo_[0] || k.x == hi_[0] || k.y == lo_[1] || k.y == hi_[1] || k.z == lo_[2] ||
          k.z == hi_[2]) {
        push_block(flat, kOutside, 0);
      }
    }
    for (std::int32_t block = 0; block < std::int32_t(grid_.block_count()); ++block) {
      for (int local = 0; local < kBlockVoxels; ++local) {
        if (grid_.weight(block)[local] > min_weight) {
          push_voxel(std::size_t(block) * kBlockVoxels + std::size_t(local),
                     grid_.sdf(block)[local] < 0.0f ? kInside : kOutside, 0);
        }
      }
    }
    const int axis_step[6][3] = {{1, 0, 0},  {-1, 0, 0}, {0, 1, 0},
                                 {0, -1, 0}, {0, 0, 1},  {0, 0, -1}};
    for (std::uint32_t d = 0; pending > 0; ++d) {
      std::vector<std::uint64_t>& bucket = buckets[d % kBuckets];
      // Steps cost at least 1, so nothing is added to this bucket while it is walked.
      for (std::size_t q = 0; q < bucket.size(); ++q) {
        const std::uint64_t item = bucket[q];
        --pending;
        if (item & kBlockBit) {
          const std::size_t flat = std::size_t(item & ~kBlockBit);
          if (block_dist_[flat] != d) continue;  // superseded by a shorter path
          const std::uint8_t label = block_label_[flat];
          const BlockKey k = Unflat(flat);
          for (const auto& s : axis_step) {
            const BlockKey n{k.x + s[0], k.y + s[1], k.z + s[2]};
            if (!InBox(n)) continue;
            const std::size_t nflat = Flat(n);
            if (block_label_[nflat] != kAllocated) {
              push_block(nflat, label, d + kBlockToBlock);
              continue;
            }
            // The face of the allocated block that k touches.
            const std::int32_t block = grid_.Find(n);
            const int axis = s[0] != 0 ? 0 : (s[1] != 0 ? 1 : 2);
            const int layer = (s[0] + s[1] + s[2]) > 0 ? 0 : kBlockSize - 1;
            for (int p = 0; p < kBlockSize; ++p) {
              for (int r = 0; r < kBlockSize; ++r) {
                int c[3];
                c[axis] = layer;
                c[(axis + 1) % 3] = p;
                c[(axis + 2) % 3] = r;
                push_voxel(std::size_t(block) * kBlockVoxels +
                               std::size_t(kernels::LocalVoxelIndex(c[0], c[1], c[2])),
                           label, d + kVoxelToBlock);
              }
            }
          }
          continue;
        }
        const std::size_t voxel = std::size_t(item);
        if (voxel_dist_[voxel] != std::min<std::uint32_t>(d, UINT16_MAX - 1)) continue;
        const std::uint8_t label = voxel_label_[voxel];
        const auto block = std::int32_t(voxel / kBlockVoxels);
        const int local = int(voxel % kBlockVoxels);
        const int l[3] = {local % kBlockSize, (local / kBlockSize) % kBlockSize,
                          local / (kBlockSize * kBlockSize)};
        const BlockKey& k = grid_.key(block);
        for (const auto& s : axis_step) {
          int n[3] = {l[0] + s[0], l[1] + s[1], l[2] + s[2]};
          BlockKey nk = k;
          std::int32_t* nk_coord[3] = {&nk.x, &nk.y, &nk.z};
          bool same = true;
          for (int a = 0; a < 3; ++a) {
            if (n[a] < 0 || n[a] >= kBlockSize) {
              same = false;
              *nk_coord[a] += n[a] < 0 ? -1 : 1;
              n[a] = n[a] < 0 ? kBlockSize - 1 : 0;
            }
          }
          const auto neighbor_local = std::size_t(kernels::LocalVoxelIndex(n[0], n[1], n[2]));
          if (same) {
            push_voxel(std::size_t(block) * kBlockVoxels + neighbor_local, label, d + 1);
          } else if (InBox(nk) && block_label_[Flat(nk)] == kAllocated) {
            push_voxel(std::size_t(grid_.Find(nk)) * kBlockVoxels + neighbor_local, label, d + 1);
          } else if (InBox(nk)) {
            push_block(Flat(nk), label, d + kVoxelToBlock);
          }
        }
      }
      bucket.clear();
    }
  }

  const VoxelBlockGrid& grid_;
  std::array<std::int32_t, 3> lo_{}, hi_{};
  std::array<std::int64_t, 3> dims_{};
  std::vector<std::uint8_t> block_label_;  // per block of the padded box
  std::vector<std::uint32_t> block_dist_;
  std::vector<std::uint8_t> voxel_label_;  // per allocated voxel
  std::vector<std::uint16_t> voxel_dist_;
};

}  // namespace

kernels::McVoxelArrays SurfacePlan::HostVoxels(const VoxelBlockGrid& grid,
                                               const SurfaceExtractionOptions& options) const {
  kernels::McVoxelArrays voxels;
  voxels.sdf = grid.sdf_data().data();
  voxels.weight = grid.weight_data().data();
  voxels.color = with_color ? grid.color_data().data() : nullptr;
  voxels.voxel_outside = close ? voxel_outside.data() : nullptr;
  voxels.min_weight = options.min_weight;
  voxels.fill_value = float(grid.voxel_size());
  voxels.close = close;
  return voxels;
}

SurfacePlan PlanSurfaceExtraction(const VoxelBlockGrid& grid,
                                  const SurfaceExtractionOptions& options) {
  SurfacePlan plan;
  plan.close = options.unknown == SurfaceExtractionOptions::Unknown::kClose;
  plan.with_color = options.colors && grid.has_color();
  std::optional<Classification> classification;
  if (plan.close) classification.emplace(grid, options.min_weight);

  // The blocks whose cells are processed: the allocated ones and, when closing, the unallocated
  // blocks where the side changes (the surface there is made of block faces), each with the
  // blocks just below it on each axis (their cells reach into it, and own edges ending in it).
  std::vector<BlockKey>& blocks = plan.blocks;
  blocks = grid.keys();
  const std::vector<BlockKey> changing =
      plan.close ? classification->SideChangingBlocks() : std::vector<BlockKey>{};
  BlockIndex index(blocks, plan.close ? 8 * (blocks.size() + changing.size()) : blocks.size());
  if (plan.close) {
    const std::size_t allocated = blocks.size();
    const auto add_with_lower_neighbours = [&](const BlockKey key) {  // a copy: blocks grows
      for (int o = 0; o < 8; ++o) {
        const BlockKey k{key.x - (o & 1), key.y - ((o >> 1) & 1), key.z - ((o >> 2) & 1)};
        if (grid.Find(k) < 0 && index.Insert(k, std::int32_t(blocks.size()))) blocks.push_back(k);
      }
    };
    for (std::size_t b = 0; b < allocated; ++b) add_with_lower_neighbours(blocks[b]);
    for (const BlockKey& key : changing) add_with_lower_neighbours(key);
  }

  plan.neighbors.resize(blocks.size());
  ParallelFor(std::int64_t(blocks.size()), [&](std::int64_t b) {
    kernels::McBlockNeighbors& neighbors = plan.neighbors[std::size_t(b)];
    for (int o = 0; o < 8; ++o) {
      const BlockKey k{blocks[b].x + (o & 1), blocks[b].y + ((o >> 1) & 1),
                       blocks[b].z + ((o >> 2) & 1)};
      neighbors.grid_block[o] = grid.Find(k);
      neighbors.processed[o] = index.Find(k);
      neighbors.outside[o] =
          neighbors.grid_block[o] < 0 && plan.close && classification->BlockOutside(k) ? 1 : 0;
    }
  });
  if (plan.close) plan.voxel_outside = classification->TakeVoxelOutside();
  return plan;
}

void RemoveUnusedVertices(TriangleMesh& mesh) {
  const bool with_color = !mesh.vertex_colors.empty();
  std::vector<std::uint32_t> remap(mesh.vertices.size(), 0xFFFFFFFFu);
  for (const auto& t : mesh.triangles) {
    for (int c = 0; c < 3; ++c) remap[t[c]] = 0;
  }
  std::uint32_t kept = 0;
  for (std::size_t v = 0; v < remap.size(); ++v) {
    if (remap[v] == 0xFFFFFFFFu) continue;
    remap[v] = kept;
    mesh.vertices[kept] = mesh.vertices[v];
    if (with_color) mesh.vertex_colors[kept] = mesh.vertex_colors[v];
    ++kept;
  }
  mesh.vertices.resize(kept);
  if (with_color) mesh.vertex_colors.resize(kept);
  for (auto& t : mesh.triangles) {
    for (int c = 0; c < 3; ++c) t[c] = remap[t[c]];
  }
}

}  // namespace facet::geometry::detail
