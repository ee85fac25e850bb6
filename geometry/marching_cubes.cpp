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
  explicit BlockIndex(const std::vector<BlockKey>& keys)
      : keys_(std::max<std::size_t>(16, std::bit_ceil(2 * keys.size())),
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

// Inside/outside of everything the grid does not know, from a flood fill (see the header).
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
    block_state_.assign(std::size_t(cells), kUnvisited);
    for (const BlockKey& k : grid.keys()) block_state_[Flat(k)] = kAllocated;
    voxel_outside_.assign(std::size_t(grid.block_count()) * kBlockVoxels, 0);
    Fill(min_weight);
  }

  // Whether an unallocated block is outside (reached by the fill).
  bool BlockOutside(const BlockKey& k) const {
    if (!InBox(k)) return true;
    return block_state_[Flat(k)] == kOutside;
  }
  bool VoxelOutside(std::int32_t block, int local) const {
    return voxel_outside_[std::size_t(block) * kBlockVoxels + local] != 0;
  }

 private:
  static constexpr std::uint8_t kUnvisited = 0, kAllocated = 1, kOutside = 2;

  bool InBox(const BlockKey& k) const {
    return k.x >= lo_[0] && k.x <= hi_[0] && k.y >= lo_[1] && k.y <= hi_[1] && k.z >= lo_[2] &&
           k.z <= hi_[2];
  }
  std::size_t Flat(const BlockKey& k) const {
    return std::size_t((std::int64_t(k.z) - lo_[2]) * dims_[1] + (std::int64_t(k.y) - lo_[1])) *
               std::size_t(dims_[0]) +
           std::size_t(std::int64_t(k.x) - lo_[0]);
  }

  void Fill(float min_weight) {
    const auto passable = [&](std::int32_t block, int local) {
      return !(grid_.weight(block)[local] > min_weight && grid_.sdf(block)[local] < 0.0f);
    };
    std::vector<BlockKey> block_stack;
    std::vector<std::int64_t> voxel_stack;  // block * kBlockVoxels + local
    const auto visit_voxel = [&](std::int32_t block, int local) {
      std::uint8_t& seen = voxel_outside_[std::size_t(block) * kBlockVoxels + local];
      if (seen || !passable(block, local)) return;
      seen = 1;
      voxel_stack.push_back(std::int64_t(block) * kBlockVoxels + local);
    };
    const auto visit_block = [&](const BlockKey& k) {
      if (!InBox(k)) return;
      std::uint8_t& state = block_state_[Flat(k)];
      if (state != kUnvisited) return;
      state = kOutside;
      block_stack.push_back(k);
    };
    // Seeds: the padding shell (unallocated and connected) and every known non-negative voxel,
    // so that unknown space next to observed free space (e.g. an enclosed cavity) is outside
    // and unknown space bordering only the inside of the surface is inside.
    visit_block({lo_[0], lo_[1], lo_[2]});
    for (std::int32_t block = 0; block < std::int32_t(grid_.block_count()); ++block) {
      for (int local = 0; local < kBlockVoxels; ++local) {
        if (grid_.weight(block)[local] > min_weight) visit_voxel(block, local);
      }
    }
    const int axis_step[6][3] = {{1, 0, 0},  {-1, 0, 0}, {0, 1, 0},
                                 {0, -1, 0}, {0, 0, 1},  {0, 0, -1}};
    while (!block_stack.empty() || !voxel_stack.empty()) {
      if (!block_stack.empty()) {
        const BlockKey k = block_stack.back();
        block_stack.pop_back();
        for (const auto& s : axis_step) {
          const BlockKey n{k.x + s[0], k.y + s[1], k.z + s[2]};
          if (!InBox(n)) continue;
          if (block_state_[Flat(n)] != kAllocated) {
            visit_block(n);
            continue;
          }
          // Enter the allocated block through the face it shares with k.
          const std::int32_t block = grid_.Find(n);
          const int axis = s[0] != 0 ? 0 : (s[1] != 0 ? 1 : 2);
          const int layer = (s[0] + s[1] + s[2]) > 0 ? 0 : kBlockSize - 1;
          for (int p = 0; p < kBlockSize; ++p) {
            for (int q = 0; q < kBlockSize; ++q) {
              int c[3];
              c[axis] = layer;
              c[(axis + 1) % 3] = p;
              c[(axis + 2) % 3] = q;
              visit_voxel(block, kernels::LocalVoxelIndex(c[0], c[1], c[2]));
            }
          }
        }
        continue;
      }
      const std::int64_t item = voxel_stack.back();
      voxel_stack.pop_back();
      const auto block = std::int32_t(item / kBlockVoxels);
      const int local = int(item % kBlockVoxels);
      const int l[3] = {local % kBlockSize, (local / kBlockSize) % kBlockSize,
                        local / (kBlockSize * kBlockSize)};
      const BlockKey& k = grid_.key(block);
      for (const auto& s : axis_step) {
        int n[3] = {l[0] + s[0], l[1] + s[1], l[2] + s[2]};
        BlockKey nk = k;
        int* nk_coord[3] = {&nk.x, &nk.y, &nk.z};
        bool same = true;
        for (int a = 0; a < 3; ++a) {
          if (n[a] < 0 || n[a] >= kBlockSize) {
            same = false;
            *nk_coord[a] += n[a] < 0 ? -1 : 1;
            n[a] = n[a] < 0 ? kBlockSize - 1 : 0;
          }
        }
        if (same) {
          visit_voxel(block, kernels::LocalVoxelIndex(n[0], n[1], n[2]));
        } else if (InBox(nk) && block_state_[Flat(nk)] == kAllocated) {
          visit_voxel(grid_.Find(nk), kernels::LocalVoxelIndex(n[0], n[1], n[2]));
        } else {
          visit_block(nk);
        }
      }
    }
  }

  const VoxelBlockGrid& grid_;
  std::array<std::int32_t, 3> lo_{}, hi_{};
  std::array<std::int64_t, 3> dims_{};
  std::vector<std::uint8_t> block_state_;
  std::vector<std::uint8_t> voxel_outside_;  // per allocated voxel: reached by the fill
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
  std::vector<Eigen::Vector3d> vertices;
  std::vector<Eigen::Vector3f> colors;
  std::vector<Triangle> triangles;
};

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

  // Blocks whose cells are processed: the allocated ones and, when closing, the blocks just
  // below them on each axis (their cells reach into allocated blocks).
  std::vector<BlockKey> blocks = grid.keys();
  BlockIndex index(blocks);
  if (close) {
    const std::size_t allocated = blocks.size();
    for (std::size_t b = 0; b < allocated; ++b) {
      for (int o = 1; o < 8; ++o) {
        const BlockKey k{blocks[b].x - (o & 1), blocks[b].y - ((o >> 1) & 1),
                         blocks[b].z - ((o >> 2) & 1)};
        if (grid.Find(k) < 0 && index.Insert(k, std::int32_t(blocks.size()))) blocks.push_back(k);
      }
    }
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
  });

  std::vector<std::uint32_t> base(blocks.size() + 1, 0);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const std::uint64_t next = std::uint64_t(base[b]) + outputs[b].vertices.size();
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
          bool all_defined = true;
          for (int c = 0; c < 8; ++c) {
            const int a = ApronIndex(i + kCornerOffset[c][0], j + kCornerOffset[c][1],
                                     k + kCornerOffset[c][2]);
            all_defined = all_defined && apron.defined[a];
            v[c] = apron.value[a];
          }
          if (!all_defined) continue;
          const int config = kernels::McConfig(v, 0.0f);
          const int count = kMcTable.triangle_count[config];
          if (count == 0) continue;
          std::uint32_t edge_vertex[12];
          std::uint16_t resolved = 0;
          const auto vertex_of = [&](int e) {
            if (resolved & (1u << e)) return edge_vertex[e];
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
            edge_vertex[e] = base[nb] + std::uint32_t(it - slots.begin());
            resolved |= std::uint16_t(1u << e);
            return edge_vertex[e];
          };
          for (int t = 0; t < count; ++t) {
            const std::int8_t* e = &kMcTable.edges[config][3 * t];
            out.triangles.emplace_back(vertex_of(e[0]), vertex_of(e[1]), vertex_of(e[2]));
          }
        }
      }
    }
  });

  mesh.vertices.resize(base.back());
  if (with_color) mesh.vertex_colors.resize(base.back());
  std::vector<std::size_t> triangle_base(blocks.size() + 1, 0);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    triangle_base[b + 1] = triangle_base[b] + outputs[b].triangles.size();
  }
  mesh.triangles.resize(triangle_base.back());
  ParallelFor(std::int64_t(blocks.size()), [&](std::int64_t b) {
    std::copy(outputs[b].vertices.begin(), outputs[b].vertices.end(),
              mesh.vertices.begin() + base[b]);
    if (with_color) {
      std::copy(outputs[b].colors.begin(), outputs[b].colors.end(),
                mesh.vertex_colors.begin() + base[b]);
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
