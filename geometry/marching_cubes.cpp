#include "geometry/marching_cubes.h"

#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/kernels/marching_cubes.h"

namespace facet::geometry {
namespace {

using kernels::BlockKey;
using kernels::kBlockSize;
using kernels::kBlockVoxels;
using kernels::kMcTable;
using Triangle = Eigen::Matrix<std::uint32_t, 3, 1>;

constexpr int kApron = kBlockSize + 1;  // a block's cells reach one node into the next blocks
constexpr int kApronNodes = kApron * kApron * kApron;

// Node offset of each cell corner and the (corner offset, axis) owning each cell edge.
constexpr std::array<std::array<int, 3>, 8> kCornerOffset = [] {
  std::array<std::array<int, 3>, 8> o{};
  for (int c = 0; c < 8; ++c) o[c] = {c & 1, (c >> 1) & 1, (c >> 2) & 1};
  return o;
}();
struct EdgeOwner {
  int dx, dy, dz, axis;
};
constexpr std::array<EdgeOwner, 12> kEdgeOwner = [] {
  std::array<EdgeOwner, 12> owners{};
  for (int e = 0; e < 12; ++e) {
    const int c = kernels::mc_detail::EdgeCorner(e, false);
    owners[e] = {c & 1, (c >> 1) & 1, (c >> 2) & 1, e / 4};
  }
  return owners;
}();

constexpr int ApronIndex(int i, int j, int k) { return i + kApron * (j + kApron * k); }

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
  // Whether an unknown voxel is outside.
  bool VoxelOutside(std::int32_t block, int local) const {
    return voxel_label_[std::size_t(block) * kBlockVoxels + local] != kInside;
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

// The values of one block's 9^3 nodes (its own and the first layer of its positive neighbours).
struct Apron {
  std::array<float, kApronNodes> value;
  std::array<bool, kApronNodes> defined;
  std::array<std::array<float, 3>, kApronNodes> color;
  std::array<bool, kApronNodes> has_color;
};

struct BlockOutput {
  std::vector<std::uint16_t> edge_slots;  // local node * 3 + axis of the edges this block owns
  std::vector<Eigen::Vector3d> vertices;  // on those edges (pass 1)
  std::vector<Eigen::Vector3f> colors;
  std::vector<Eigen::Vector3d> centroid_vertices;  // loops' centroids (pass 2), after them
  std::vector<Eigen::Vector3f> centroid_colors;
  std::vector<Triangle> triangles;
  std::size_t edge_vertices = 0;
  std::size_t centroids = 0;  // counted in pass 1
};

// The eight corner values of cell (i, j, k) of an apron; false when one is undefined.
bool CellValues(const Apron& apron, int i, int j, int k, float v[8]) {
  for (int c = 0; c < 8; ++c) {
    const int a =
        ApronIndex(i + kCornerOffset[c][0], j + kCornerOffset[c][1], k + kCornerOffset[c][2]);
    if (!apron.defined[a]) return false;
    v[c] = apron.value[a];
  }
  return true;
}

// Triangulates one loop of a cell: a triangle as is; a quad along the diagonal that keeps the
// two triangles flattest (never one lying on a face of the cube, which the neighbouring cell
// could also make); anything else, and a quad whose diagonals both lie on faces, as a fan around
// a new vertex at the loop's centroid (appended to `out`, index base + its rank in the block).
// Ear triangulations of hexagons and longer loops fold over on non-planar loops; fans do not.
void EmitLoop(const std::int8_t* loop, int n, const std::uint32_t* vertex,
              const Eigen::Vector3d* const* position, const Eigen::Vector3f* const* color,
              std::uint32_t base, BlockOutput& out) {
  const auto v = [&](int q) { return vertex[loop[q]]; };
  const auto p = [&](int q) -> const Eigen::Vector3d& { return *position[loop[q]]; };
  if (n == 3) {
    out.triangles.emplace_back(v(0), v(1), v(2));
    return;
  }
  if (n == 4) {
    const bool d02 = !kernels::mc_detail::EdgesShareFace(loop[0], loop[2]);
    const bool d13 = !kernels::mc_detail::EdgesShareFace(loop[1], loop[3]);
    if (d02 || d13) {
      const auto flatness = [&](int a, int b, int c, int d) {
        // cos of the angle between the normals of (a, b, c) and (a, c, d).
        const Eigen::Vector3d n0 = (p(b) - p(a)).cross(p(c) - p(a));
        const Eigen::Vector3d n1 = (p(c) - p(a)).cross(p(d) - p(a));
        const double norm = n0.norm() * n1.norm();
        return norm > 0.0 ? n0.dot(n1) / norm : -1.0;
      };
      const bool use02 = d02 && (!d13 || flatness(0, 1, 2, 3) >= flatness(1, 2, 3, 0));
      if (use02) {
        out.triangles.emplace_back(v(0), v(1), v(2));
        out.triangles.emplace_back(v(0), v(2), v(3));
      } else {
        out.triangles.emplace_back(v(1), v(2), v(3));
        out.triangles.emplace_back(v(1), v(3), v(0));
      }
      return;
    }
  }
  Eigen::Vector3d centroid = Eigen::Vector3d::Zero();
  for (int q = 0; q < n; ++q) centroid += p(q);
  const auto center = base + std::uint32_t(out.edge_vertices + out.centroid_vertices.size());
  out.centroid_vertices.push_back(centroid / n);
  if (color[loop[0]] != nullptr) {
    Eigen::Vector3f c = Eigen::Vector3f::Zero();
    for (int q = 0; q < n; ++q) c += *color[loop[q]];
    out.centroid_colors.push_back(c / float(n));
  }
  for (int q = 0; q < n; ++q) out.triangles.emplace_back(center, v(q), v((q + 1) % n));
}

}  // namespace

void SurfaceExtractionOptions::Check() const {
  FACET_CHECK(std::isfinite(min_weight) && min_weight >= 0.0f,
              "surface extraction: min_weight must be >= 0 and finite, got {}", min_weight);
}

TriangleMesh ExtractSurface(const VoxelBlockGrid& grid, const SurfaceExtractionOptions& options) {
  options.Check();
  TriangleMesh mesh;
  if (grid.block_count() == 0) return mesh;
  const bool close = options.unknown == SurfaceExtractionOptions::Unknown::kClose;
  const bool with_color = options.colors && grid.has_color();
  const float fill_value = float(grid.voxel_size());

  std::optional<Classification> classification;
  if (close) classification.emplace(grid, options.min_weight);

  // Blocks whose cells are processed: the allocated ones and, when closing, the unallocated
  // blocks where the side changes (the surface there is made of block faces), each with the
  // blocks just below it on each axis (their cells reach into it, and own edges ending in it).
  std::vector<BlockKey> blocks = grid.keys();
  const std::vector<BlockKey> changing =
      close ? classification->SideChangingBlocks() : std::vector<BlockKey>{};
  BlockIndex index(blocks, close ? 8 * (blocks.size() + changing.size()) : blocks.size());
  if (close) {
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

  const auto fill_apron = [&](const BlockKey& key, Apron& apron) {
    for (int o = 0; o < 8; ++o) {
      const BlockKey nk{key.x + (o & 1), key.y + ((o >> 1) & 1), key.z + ((o >> 2) & 1)};
      const std::int32_t nb = grid.Find(nk);
      const int i0 = (o & 1) ? kBlockSize : 0, i1 = (o & 1) ? kApron : kBlockSize;
      const int j0 = (o & 2) ? kBlockSize : 0, j1 = (o & 2) ? kApron : kBlockSize;
      const int k0 = (o & 4) ? kBlockSize : 0, k1 = (o & 4) ? kApron : kBlockSize;
      const bool outside_block = nb < 0 && close && classification->BlockOutside(nk);
      for (int k = k0; k < k1; ++k) {
        for (int j = j0; j < j1; ++j) {
          for (int i = i0; i < i1; ++i) {
            const int a = ApronIndex(i, j, k);
            apron.has_color[a] = false;
            if (nb < 0) {
              apron.defined[a] = close;
              apron.value[a] = outside_block ? fill_value : -fill_value;
              continue;
            }
            const int local = kernels::LocalVoxelIndex(i - i0, j - j0, k - k0);
            if (grid.weight(nb)[local] > options.min_weight) {
              apron.defined[a] = true;
              apron.value[a] = grid.sdf(nb)[local];
              if (with_color) {
                const float* c = grid.color(nb) + 3 * local;
                apron.color[a] = {c[0], c[1], c[2]};
                apron.has_color[a] = true;
              }
            } else {
              apron.defined[a] = close;
              apron.value[a] =
                  close && classification->VoxelOutside(nb, local) ? fill_value : -fill_value;
            }
          }
        }
      }
    }
  };

  std::vector<BlockOutput> outputs(blocks.size());
  // Pass 1: the vertices on the edges each block owns (edges starting at its nodes).
  ParallelFor(std::int64_t(blocks.size()), [&](std::int64_t b) {
    Apron apron;
    fill_apron(blocks[b], apron);
    BlockOutput& out = outputs[b];
    const Eigen::Vector3d origin =
        grid.voxel_size() * kBlockSize * Eigen::Vector3d(blocks[b].x, blocks[b].y, blocks[b].z);
    for (int k = 0; k < kBlockSize; ++k) {
      for (int j = 0; j < kBlockSize; ++j) {
        for (int i = 0; i < kBlockSize; ++i) {
          const int a = ApronIndex(i, j, k);
          if (!apron.defined[a]) continue;
          const int step[3] = {1, kApron, kApron * kApron};
          for (int axis = 0; axis < 3; ++axis) {
            const int bidx = a + step[axis];
            if (!apron.defined[bidx]) continue;
            const float va = apron.value[a], vb = apron.value[bidx];
            if ((va < 0.0f) == (vb < 0.0f)) continue;
            const float t = kernels::McEdgeT(va, vb, 0.0f);
            Eigen::Vector3d p(i, j, k);
            p[axis] += t;
            out.edge_slots.push_back(std::uint16_t(kernels::LocalVoxelIndex(i, j, k) * 3 + axis));
            out.vertices.push_back(origin + grid.voxel_size() * p);
            if (with_color) {
              const bool ca = apron.has_color[a], cb = apron.has_color[bidx];
              Eigen::Vector3f c = Eigen::Vector3f::Constant(0.5f);
              const Eigen::Vector3f col_a(apron.color[a].data()), col_b(apron.color[bidx].data());
              if (ca && cb)
                c = (1.0f - t) * col_a + t * col_b;
              else if (ca)
                c = col_a;
              else if (cb)
                c = col_b;
              out.colors.push_back(c);
            }
          }
        }
      }
    }
    out.edge_vertices = out.vertices.size();
    for (int k = 0; k < kBlockSize; ++k) {
      for (int j = 0; j < kBlockSize; ++j) {
        for (int i = 0; i < kBlockSize; ++i) {
          float v[8];
          if (CellValues(apron, i, j, k, v)) {
            out.centroids += kMcTable.centroid_loops[kernels::McConfig(v, 0.0f)];
          }
        }
      }
    }
  });

  std::vector<std::uint32_t> base(blocks.size() + 1, 0);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const std::uint64_t next =
        std::uint64_t(base[b]) + outputs[b].edge_vertices + outputs[b].centroids;
    FACET_CHECK(next < 0xFFFFFFFFull, "the extracted surface has more than 2^32 vertices");
    base[b + 1] = std::uint32_t(next);
  }

  // Pass 2: triangles, with each cell edge's vertex looked up in the block owning the edge.
  ParallelFor(std::int64_t(blocks.size()), [&](std::int64_t b) {
    Apron apron;
    fill_apron(blocks[b], apron);
    std::array<std::int32_t, 8> neighbor{};  // processed-block index of the 8 blocks at + offsets
    for (int o = 0; o < 8; ++o) {
      neighbor[o] = index.Find(
          {blocks[b].x + (o & 1), blocks[b].y + ((o >> 1) & 1), blocks[b].z + ((o >> 2) & 1)});
    }
    BlockOutput& out = outputs[b];
    for (int k = 0; k < kBlockSize; ++k) {
      for (int j = 0; j < kBlockSize; ++j) {
        for (int i = 0; i < kBlockSize; ++i) {
          float v[8];
          if (!CellValues(apron, i, j, k, v)) continue;
          const int config = kernels::McConfig(v, 0.0f);
          if (kMcTable.loop_count[config] == 0) continue;
          std::uint32_t edge_vertex[12];
          const Eigen::Vector3d* edge_position[12];
          const Eigen::Vector3f* edge_color[12];
          const auto resolve = [&](int e) {
            const EdgeOwner& owner = kEdgeOwner[e];
            int n[3] = {i + owner.dx, j + owner.dy, k + owner.dz};
            int o = 0;
            for (int a = 0; a < 3; ++a) {
              if (n[a] == kBlockSize) {
                n[a] = 0;
                o |= 1 << a;
              }
            }
            const std::int32_t nb = neighbor[o];
            FACET_CHECK(nb >= 0, "marching cubes: a crossed edge has no owning block");
            const auto slot =
                std::uint16_t(kernels::LocalVoxelIndex(n[0], n[1], n[2]) * 3 + owner.axis);
            const auto& slots = outputs[nb].edge_slots;
            const auto it = std::lower_bound(slots.begin(), slots.end(), slot);
            FACET_CHECK(it != slots.end() && *it == slot,
                        "marching cubes: a crossed edge has no vertex");
            const auto rank = std::size_t(it - slots.begin());
            edge_vertex[e] = base[nb] + std::uint32_t(rank);
            edge_position[e] = &outputs[nb].vertices[rank];
            edge_color[e] = with_color ? &outputs[nb].colors[rank] : nullptr;
          };
          int offset = 0;
          for (int l = 0; l < kMcTable.loop_count[config]; ++l) {
            const int n = kMcTable.loop_length[config][l];
            const std::int8_t* loop = &kMcTable.loop_edges[config][offset];
            offset += n;
            for (int q = 0; q < n; ++q) resolve(loop[q]);
            EmitLoop(loop, n, edge_vertex, edge_position, edge_color, base[b], out);
          }
        }
      }
    }
  });

  mesh.vertices.resize(base.back());
  if (with_color) mesh.vertex_colors.resize(base.back());
  for (const BlockOutput& out : outputs) {
    FACET_CHECK(out.centroid_vertices.size() == out.centroids,
                "marching cubes: centroid count mismatch");
  }
  std::vector<std::size_t> triangle_base(blocks.size() + 1, 0);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    triangle_base[b + 1] = triangle_base[b] + outputs[b].triangles.size();
  }
  mesh.triangles.resize(triangle_base.back());
  ParallelFor(std::int64_t(blocks.size()), [&](std::int64_t b) {
    const BlockOutput& out = outputs[b];
    std::copy(out.vertices.begin(), out.vertices.end(), mesh.vertices.begin() + base[b]);
    std::copy(out.centroid_vertices.begin(), out.centroid_vertices.end(),
              mesh.vertices.begin() + base[b] + std::ptrdiff_t(out.edge_vertices));
    if (with_color) {
      std::copy(out.colors.begin(), out.colors.end(), mesh.vertex_colors.begin() + base[b]);
      std::copy(out.centroid_colors.begin(), out.centroid_colors.end(),
                mesh.vertex_colors.begin() + base[b] + std::ptrdiff_t(out.edge_vertices));
    }
    std::copy(outputs[b].triangles.begin(), outputs[b].triangles.end(),
              mesh.triangles.begin() + std::ptrdiff_t(triangle_base[b]));
  });

  if (!close) {
    // Open extraction may leave vertices on crossed edges whose cells all had an unknown corner.
    std::vector<std::uint32_t> remap(mesh.vertices.size(), 0xFFFFFFFFu);
    for (const Triangle& t : mesh.triangles) {
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
    for (Triangle& t : mesh.triangles) {
      for (int c = 0; c < 3; ++c) t[c] = remap[t[c]];
    }
  }
  return mesh;
}

}  // namespace facet::geometry

namespace facet::geometry {

TriangleMesh MarchingCubes(const ScalarGrid& grid, float iso) {
  FACET_CHECK(grid.values.size() == std::size_t(grid.nx) * grid.ny * grid.nz,
              "scalar grid has {} values for {} x {} x {} nodes", grid.values.size(), grid.nx,
              grid.ny, grid.nz);
  FACET_CHECK(std::isfinite(iso), "marching cubes: the iso-value must be finite");
  // Copy into a block grid (node (i, j, k) -> voxel (i, j, k)) and extract without closing:
  // the cells are exactly the grid's.
  VoxelBlockGrid blocks(grid.voxel_size);
  const auto blocks_along = [](int n) { return (n + kBlockSize - 1) / kBlockSize; };
  const int bx = blocks_along(grid.nx), by = blocks_along(grid.ny), bz = blocks_along(grid.nz);
  blocks.Reserve(std::int64_t(bx) * by * bz);
  for (int k = 0; k < bz; ++k) {
    for (int j = 0; j < by; ++j) {
      for (int i = 0; i < bx; ++i) blocks.Insert(BlockKey{i, j, k});
    }
  }
  ParallelFor(blocks.block_count(), [&](std::int64_t b) {
    const BlockKey key = blocks.key(std::int32_t(b));
    float* sdf = blocks.sdf(std::int32_t(b));
    float* weight = blocks.weight(std::int32_t(b));
    for (int k = 0; k < kBlockSize; ++k) {
      for (int j = 0; j < kBlockSize; ++j) {
        for (int i = 0; i < kBlockSize; ++i) {
          const int x = key.x * kBlockSize + i, y = key.y * kBlockSize + j,
                    z = key.z * kBlockSize + k;
          if (x >= grid.nx || y >= grid.ny || z >= grid.nz) continue;
          const float value = grid.at(x, y, z);
          if (!std::isfinite(value)) continue;  // unknown: its cells produce nothing
          const int local = kernels::LocalVoxelIndex(i, j, k);
          sdf[local] = value - iso;
          weight[local] = 1.0f;
        }
      }
    }
  });
  SurfaceExtractionOptions options;
  options.unknown = SurfaceExtractionOptions::Unknown::kOpen;
  TriangleMesh mesh = ExtractSurface(blocks, options);
  for (Eigen::Vector3d& v : mesh.vertices) v += grid.origin;
  return mesh;
}

}  // namespace facet::geometry
