#include "geometry/mesh_sdf.h"

#include <nanoflann.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <deque>
#include <limits>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/kernels/mesh_sdf.h"
#include "geometry/marching_cubes.h"
#include "geometry/winding_number.h"

namespace facet::geometry {
namespace {

using kernels::BlockKey;
using kernels::kBlockSize;
using kernels::kBlockVoxels;
using kernels::mesh_sdf::Point3;

// Winding numbers this far from the threshold count as clearly inside or outside when a whole
// block is classified from its corners and centre.
constexpr double kBlockMargin = 0.1;
// Beyond the band, the value ramps from -T to T as w goes from threshold + kFarRamp to
// threshold - kFarRamp.
constexpr double kFarRamp = 0.25;
// Offset, in voxels, of the point whose winding number decides a voxel lying on the triangles:
// far below the voxel size, far above rounding, in no axis or diagonal direction.
const Eigen::Vector3d kNudge = 1e-3 * Eigen::Vector3d(0.5377, 0.2919, 0.7913);

Point3 ToPoint(const Eigen::Vector3d& v) { return {v.x(), v.y(), v.z()}; }

// Voxel index range [lo, hi] of the nodes within `margin` of the box [min, max].
void VoxelRange(const Eigen::Vector3d& min, const Eigen::Vector3d& max, double margin, double h,
                Eigen::Vector3i& lo, Eigen::Vector3i& hi) {
  for (int k = 0; k < 3; ++k) {
    lo[k] = int(std::ceil((min[k] - margin) / h));
    hi[k] = int(std::floor((max[k] + margin) / h));
  }
}

struct Triangle {
  Point3 a, b, c;
  Eigen::Vector3d min, max;
};

class SdfBuilder {
 public:
  SdfBuilder(const TriangleMesh& mesh, const MeshSdfOptions& options)
      : options_(options),
        h_(options.voxel_size),
        truncation_(options.band * options.voxel_size),
        tree_(mesh, options.winding_beta),
        grid_(options.voxel_size) {
    triangles_.reserve(mesh.triangles.size());
    for (const auto& t : mesh.triangles) {
      const Eigen::Vector3d &a = mesh.vertices[t[0]], &b = mesh.vertices[t[1]],
                            &c = mesh.vertices[t[2]];
      triangles_.push_back({ToPoint(a), ToPoint(b), ToPoint(c), a.cwiseMin(b).cwiseMin(c),
                            a.cwiseMax(b).cwiseMax(c)});
      // Voxel coordinates must fit in an int (the grid refuses blocks beyond 2^28 anyway).
      const double reach = a.cwiseAbs().cwiseMax(b.cwiseAbs()).cwiseMax(c.cwiseAbs()).maxCoeff();
      FACET_CHECK((reach + truncation_) / h_ < double(1 << 30),
                  "the mesh extends to {} from the origin, more than 2^30 voxels of size {}: use "
                  "a larger voxel size",
                  reach, h_);
    }
  }

  VoxelBlockGrid Build() {
    AllocateBand();
    ComputeBandDistances();
    FillBand();
    ClassifyAwayFromBand();
    return std::move(grid_);
  }

 private:
  // Calls fn(key) for the blocks whose voxels may lie within T of triangle t: those of its
  // expanded bounding box whose centre is within T + the block's half-diagonal of it.
  template <typename Fn>
  void ForEachBandBlock(const Triangle& t, Fn&& fn) const {
    Eigen::Vector3i lo, hi;
    VoxelRange(t.min, t.max, truncation_, h_, lo, hi);
    const BlockKey blo = VoxelBlockGrid::BlockOfVoxel(lo), bhi = VoxelBlockGrid::BlockOfVoxel(hi);
    const double half = 0.5 * (kBlockSize - 1);
    const double reach = truncation_ + half * h_ * std::sqrt(3.0) * (1.0 + 1e-9);
    for (std::int32_t z = blo.z; z <= bhi.z; ++z) {
      for (std::int32_t y = blo.y; y <= bhi.y; ++y) {
        for (std::int32_t x = blo.x; x <= bhi.x; ++x) {
          const Point3 centre{h_ * (kBlockSize * x + half), h_ * (kBlockSize * y + half),
                              h_ * (kBlockSize * z + half)};
          if (kernels::PointTriangleSquaredDistance(centre, t.a, t.b, t.c) <= reach * reach) {
            fn(BlockKey{x, y, z});
          }
        }
      }
    }
  }

  void CheckBlockCount(std::int64_t blocks) const {
    FACET_CHECK(blocks <= options_.max_blocks,
                "the signed distance grid needs more than {} voxel blocks (max_blocks) at voxel "
                "size {}: use a larger voxel size or raise max_blocks",
                options_.max_blocks, h_);
  }

  void AllocateBand() {
    for (const Triangle& t : triangles_) {
      ForEachBandBlock(t, [&](const BlockKey& key) {
        if (grid_.Find(key) < 0) {
          CheckBlockCount(grid_.block_count() + 1);
          grid_.Insert(key);
        }
      });
    }
    band_blocks_ = grid_.block_count();
  }

  // Squared distance to the nearest triangle within T, per band voxel: every triangle writes
  // the voxels near it, in parallel, with an atomic minimum on the float bits (non-negative
  // IEEE floats order as their bit patterns).
  void ComputeBandDistances() {
    const float inf = std::numeric_limits<float>::infinity();
    squared_bits_.assign(std::size_t(band_blocks_) * kBlockVoxels,
                         std::bit_cast<std::uint32_t>(inf));
    const double limit_sq = truncation_ * truncation_;
    ParallelFor(std::int64_t(triangles_.size()), [&](std::int64_t i) {
      const Triangle& t = triangles_[std::size_t(i)];
      Eigen::Vector3i lo, hi;
      VoxelRange(t.min, t.max, truncation_, h_, lo, hi);
      ForEachBandBlock(t, [&](const BlockKey& key) {
        const std::int32_t block = grid_.Find(key);
        std::uint32_t* bits = squared_bits_.data() + std::size_t(block) * kBlockVoxels;
        const Eigen::Vector3i base = kBlockSize * Eigen::Vector3i(key.x, key.y, key.z);
        const Eigen::Vector3i from = (lo - base).cwiseMax(0);
        const Eigen::Vector3i to = (hi - base).cwiseMin(kBlockSize - 1);
        for (int z = from.z(); z <= to.z(); ++z) {
          for (int y = from.y(); y <= to.y(); ++y) {
            for (int x = from.x(); x <= to.x(); ++x) {
              const Point3 p{h_ * (base.x() + x), h_ * (base.y() + y), h_ * (base.z() + z)};
              const double d_sq = kernels::PointTriangleSquaredDistance(p, t.a, t.b, t.c);
              if (d_sq >= limit_sq) continue;
              const std::uint32_t value = std::bit_cast<std::uint32_t>(float(d_sq));
              std::atomic_ref<std::uint32_t> slot(bits[kernels::LocalVoxelIndex(x, y, z)]);
              std::uint32_t seen = slot.load(std::memory_order_relaxed);
              while (value < seen &&
                     !slot.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
              }
            }
          }
        }
      });
    });
  }

  // The value of a voxel at distance >= T (or of unknown distance) with winding number w.
  float FarValue(double w) const {
    const double s = std::clamp((options_.winding_threshold - w) / kFarRamp, -1.0, 1.0);
    return float(truncation_ * s);
  }

  // The winding number at voxel coordinates (fractional ones allowed); its magnitude when the
  // orientation is ignored.
  double WindingAt(const Eigen::Vector3d& voxel) const {
    const double w =
        kernels::mesh_sdf::WindingNumber(tree_.nodes().data(), tree_.corners().data(), tree_.beta(),
                                         Point3{h_ * voxel.x(), h_ * voxel.y(), h_ * voxel.z()});
    return options_.ignore_orientation ? std::abs(w) : w;
  }
  double Winding(const Eigen::Vector3i& voxel) const { return WindingAt(voxel.cast<double>()); }

  // Fills block `block`: `bits` (or nullptr: none within T) holds its voxels' squared
  // distances. Voxels within T get their distance, signed by their own winding number. A
  // voxel beyond T may instead take the winding number of a 6-neighbour in the block (so +-T),
  // when that one is at least kFarRamp from the threshold and exact or inherited over fewer
  // than band - 1 steps. Along such a chain no triangle is within T - h, and w only varies
  // through the boundaries (rims) of the surface (Biot-Savart: grad w is an integral over the
  // rims); a straight rim at distance rho turns w by h / (2 pi rho) per voxel, so the drift
  // over band - 1 steps stays below 1 / (2 pi) = 0.16 < kFarRamp and the side is kept. (Rims
  // coiled more tightly than the band could shift a spanning patch by a voxel.) This skips
  // most winding numbers beyond the band, three quarters of a band block's voxels at band 3.
  void FillBlock(std::int32_t block, const std::uint32_t* bits) {
    const BlockKey& key = grid_.key(block);
    float* sdf = grid_.sdf(block);
    std::fill(grid_.weight(block), grid_.weight(block) + kBlockVoxels, 1.0f);
    const float truncation = float(truncation_);
    const auto on_surface = float(1e-6 * h_);
    const double threshold = options_.winding_threshold;
    const int max_steps = options_.band - 1;
    auto voxel_of = [&](int i) {
      return Eigen::Vector3i(kBlockSize * key.x + i % kBlockSize,
                             kBlockSize * key.y + (i / kBlockSize) % kBlockSize,
                             kBlockSize * key.z + i / (kBlockSize * kBlockSize));
    };
    std::array<double, kBlockVoxels> w;
    std::array<std::int8_t, kBlockVoxels> steps;  // from an exact evaluation; -1: not yet
    steps.fill(-1);
    std::array<std::int16_t, kBlockVoxels> queue;
    int head = 0, tail = 0;
    auto settle = [&](int i, double value, int step) {
      w[std::size_t(i)] = value;
      steps[std::size_t(i)] = std::int8_t(step);
      if (step < max_steps && std::abs(value - threshold) >= kFarRamp) {
        queue[std::size_t(tail++)] = std::int16_t(i);
      }
    };
    for (int i = 0; i < kBlockVoxels; ++i) {
      const float d = bits ? std::sqrt(std::bit_cast<float>(bits[i])) : truncation;
      if (d >= truncation) continue;
      const Eigen::Vector3i voxel = voxel_of(i);
      bool inside = false;
      if (d <= on_surface) {
        // On the triangles (up to rounding) w is undefined (the average of the two sides or
        // either side, by rounding): decide at a point nudged off the surface in a fixed
        // generic direction, so that a node on the outer surface is consistently in or out
        // and one on an inner wall of a self-intersecting mesh inside.
        inside = WindingAt(voxel.cast<double>() + kNudge) > threshold;
        settle(i, inside ? 1.0 : 0.0, max_steps);  // not a source for its neighbours
      } else {
        const double wi = Winding(voxel);
        inside = wi > threshold;
        settle(i, wi, 0);
      }
      // Inside is strictly negative: marching cubes counts 0 as outside.
      sdf[i] = inside ? -std::max(d, on_surface) : d;
    }
    for (int next = 0;;) {
      while (head < tail) {
        const int u = queue[std::size_t(head++)];
        const int l[3] = {u % kBlockSize, (u / kBlockSize) % kBlockSize,
                          u / (kBlockSize * kBlockSize)};
        for (int axis = 0; axis < 3; ++axis) {
          for (int step : {-1, 1}) {
            if (l[axis] + step < 0 || l[axis] + step >= kBlockSize) continue;
            const int v =
                u + step * (axis == 0 ? 1 : (axis == 1 ? kBlockSize : kBlockSize * kBlockSize));
            if (steps[std::size_t(v)] >= 0) continue;
            settle(v, w[std::size_t(u)], steps[std::size_t(u)] + 1);
            sdf[v] = FarValue(w[std::size_t(u)]);
          }
        }
      }
      while (next < kBlockVoxels && steps[std::size_t(next)] >= 0) ++next;
      if (next == kBlockVoxels) break;
      settle(next, Winding(voxel_of(next)), 0);
      sdf[next] = FarValue(w[std::size_t(next)]);
    }
  }

  void FillBand() {
    ParallelFor(band_blocks_, [&](std::int64_t b) {
      FillBlock(std::int32_t(b), squared_bits_.data() + std::size_t(b) * kBlockVoxels);
    });
    squared_bits_ = {};
  }

  // Classifies the blocks of the band's bounding box (grown by one block) that are not band
  // blocks, from the winding number at their corners and centres, and allocates those that
  // ExtractSurface must not treat as reachable outside space (see mesh_sdf.h).
  void ClassifyAwayFromBand() {
    Eigen::Vector3i lo = Eigen::Vector3i::Constant(std::numeric_limits<int>::max());
    Eigen::Vector3i hi = Eigen::Vector3i::Constant(std::numeric_limits<int>::min());
    for (std::int64_t b = 0; b < band_blocks_; ++b) {
      const BlockKey& k = grid_.key(std::int32_t(b));
      lo = lo.cwiseMin(Eigen::Vector3i(k.x, k.y, k.z));
      hi = hi.cwiseMax(Eigen::Vector3i(k.x, k.y, k.z));
    }
    lo -= Eigen::Vector3i::Ones();
    hi += Eigen::Vector3i::Ones();
    const Eigen::Vector3i n = hi - lo + Eigen::Vector3i::Ones();
    const std::int64_t region = std::int64_t(n.x()) * n.y() * n.z();
    FACET_CHECK(region <= 16 * options_.max_blocks,
                "the mesh's bounding box spans {} voxel blocks at voxel size {}: use a larger "
                "voxel size",
                region, h_);
    auto index = [&](int x, int y, int z) {  // region-relative block coordinates
      return (std::int64_t(z) * n.y() + y) * n.x() + x;
    };

    // Winding numbers at the block corners (lattice of (n + 1)^3 points, shared) and centres.
    const Eigen::Vector3i nc = n + Eigen::Vector3i::Ones();
    std::vector<double> corner_w(std::size_t(nc.x()) * nc.y() * nc.z());
    ParallelFor(std::int64_t(corner_w.size()), [&](std::int64_t i) {
      const int x = int(i % nc.x()), y = int((i / nc.x()) % nc.y()), z = int(i / nc.x() / nc.y());
      corner_w[std::size_t(i)] = Winding(kBlockSize * (lo + Eigen::Vector3i(x, y, z)));
    });
    enum State : std::uint8_t { kBand, kOutside, kInside, kMixed, kEnclosed };
    std::vector<State> state(std::size_t(region), kBand);
    const double threshold = options_.winding_threshold;
    ParallelFor(region, [&](std::int64_t i) {
      const Eigen::Vector3i r(int(i % n.x()), int((i / n.x()) % n.y()), int(i / n.x() / n.y()));
      const Eigen::Vector3i b = lo + r;
      if (grid_.Find({b.x(), b.y(), b.z()}) >= 0) return;
      double w_min = Winding(kBlockSize * b + Eigen::Vector3i::Constant(kBlockSize / 2));
      double w_max = w_min;
      for (int c = 0; c < 8; ++c) {
        const Eigen::Vector3i p = r + Eigen::Vector3i(c & 1, (c >> 1) & 1, c >> 2);
        const double w = corner_w[(std::size_t(p.z()) * nc.y() + p.y()) * nc.x() + p.x()];
        w_min = std::min(w_min, w);
        w_max = std::max(w_max, w);
      }
      state[std::size_t(i)] = w_min > threshold + kBlockMargin   ? kInside
                              : w_max < threshold - kBlockMargin ? kOutside
                                                                 : kMixed;
    });

    // Outside blocks not 6-connected to the region's border through outside blocks are enclosed.
    std::vector<std::uint8_t> reached(std::size_t(region), 0);
    std::deque<Eigen::Vector3i> queue;
    auto visit = [&](const Eigen::Vector3i& r) {
      const std::size_t i = std::size_t(index(r.x(), r.y(), r.z()));
      if (state[i] != kOutside || reached[i]) return;
      reached[i] = 1;
      queue.push_back(r);
    };
    for (int z = 0; z < n.z(); ++z) {
      for (int y = 0; y < n.y(); ++y) {
        for (int x = 0; x < n.x(); ++x) {
          if (x == 0 || y == 0 || z == 0 || x == n.x() - 1 || y == n.y() - 1 || z == n.z() - 1) {
            visit({x, y, z});
          }
        }
      }
    }
    while (!queue.empty()) {
      const Eigen::Vector3i r = queue.front();
      queue.pop_front();
      for (int axis = 0; axis < 3; ++axis) {
        for (int step : {-1, 1}) {
          Eigen::Vector3i s = r;
          s[axis] += step;
          if (s[axis] >= 0 && s[axis] < n[axis]) visit(s);
        }
      }
    }
    for (std::int64_t i = 0; i < region; ++i) {
      if (state[std::size_t(i)] == kOutside && !reached[std::size_t(i)]) {
        state[std::size_t(i)] = kEnclosed;
      }
    }

    // Allocate (serially), then fill in parallel.
    std::vector<std::int64_t> allocated;
    for (std::int64_t i = 0; i < region; ++i) {
      const State s = state[std::size_t(i)];
      if (s == kInside || s == kMixed || s == kEnclosed) allocated.push_back(i);
    }
    CheckBlockCount(grid_.block_count() + std::int64_t(allocated.size()));
    grid_.Reserve(grid_.block_count() + std::int64_t(allocated.size()));
    std::vector<std::int32_t> blocks(allocated.size());
    for (std::size_t j = 0; j < allocated.size(); ++j) {
      const std::int64_t i = allocated[j];
      const Eigen::Vector3i b =
          lo + Eigen::Vector3i(int(i % n.x()), int((i / n.x()) % n.y()), int(i / n.x() / n.y()));
      blocks[j] = grid_.Insert({b.x(), b.y(), b.z()});
    }
    const float truncation = float(truncation_);
    ParallelFor(std::int64_t(allocated.size()), [&](std::int64_t j) {
      const State s = state[std::size_t(allocated[std::size_t(j)])];
      const std::int32_t block = blocks[std::size_t(j)];
      float* sdf = grid_.sdf(block);
      std::fill(grid_.weight(block), grid_.weight(block) + kBlockVoxels, 1.0f);
      if (s != kMixed) {
        std::fill(sdf, sdf + kBlockVoxels, s == kInside ? -truncation : truncation);
        return;
      }
      FillBlock(block, nullptr);
    });
  }

  const MeshSdfOptions& options_;
  double h_;
  double truncation_;
  WindingNumberTree tree_;
  std::vector<Triangle> triangles_{};
  VoxelBlockGrid grid_;
  std::int64_t band_blocks_ = 0;
  std::vector<std::uint32_t> squared_bits_{};
};

// KD-tree over the vertices that triangles use, for the nearest input colour.
struct VertexCloud {
  const std::vector<Eigen::Vector3d>& vertices;
  const std::vector<std::uint32_t>& used;
  std::size_t kdtree_get_point_count() const { return used.size(); }
  double kdtree_get_pt(std::size_t i, std::size_t dim) const { return vertices[used[i]][dim]; }
  template <typename Box>
  bool kdtree_get_bbox(Box& /*box*/) const {
    return false;
  }
};
using VertexTree =
    nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, VertexCloud>,
                                        VertexCloud, 3, std::uint32_t>;

}  // namespace

void MeshSdfOptions::Check() const {
  FACET_CHECK(std::isfinite(voxel_size) && voxel_size > 0.0,
              "MeshSdfOptions::voxel_size must be positive and finite (got {})", voxel_size);
  FACET_CHECK(band >= 1 && band <= 64, "MeshSdfOptions::band must be in 1 .. 64 voxels (got {})",
              band);
  FACET_CHECK(winding_threshold > 0.0 && winding_threshold < 1.0,
              "MeshSdfOptions::winding_threshold must be in (0, 1) (got {})", winding_threshold);
  FACET_CHECK(std::isfinite(winding_beta) && winding_beta > 0.0,
              "MeshSdfOptions::winding_beta must be positive and finite (got {})", winding_beta);
  FACET_CHECK(max_blocks >= 1, "MeshSdfOptions::max_blocks must be at least 1 (got {})",
              max_blocks);
}

VoxelBlockGrid MeshToSdf(const TriangleMesh& mesh, const MeshSdfOptions& options) {
  options.Check();
  FACET_CHECK(!mesh.triangles.empty(),
              "cannot compute the signed distance field of a mesh without triangles");
  return SdfBuilder(mesh, options).Build();  // the winding-number tree checks the mesh
}

TriangleMesh RemeshWatertight(const TriangleMesh& mesh, const MeshSdfOptions& options) {
  const VoxelBlockGrid grid = MeshToSdf(mesh, options);
  // Nothing inside (e.g. open sheets only): no surface, and no extraction to run.
  const auto& sdf = grid.sdf_data();
  if (std::none_of(sdf.begin(), sdf.end(), [](float v) { return v < 0.0f; })) return {};
  TriangleMesh out = ExtractSurface(grid);
  if (!mesh.HasVertexColors() || out.vertices.empty()) return out;
  std::vector<std::uint32_t> used;
  used.reserve(mesh.triangles.size() * 3);
  for (const auto& t : mesh.triangles) used.insert(used.end(), {t[0], t[1], t[2]});
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  const VertexCloud cloud{mesh.vertices, used};
  const VertexTree tree(3, cloud, nanoflann::KDTreeSingleIndexAdaptorParams(16));
  out.vertex_colors.resize(out.vertices.size());
  ParallelFor(
      std::int64_t(out.vertices.size()),
      [&](std::int64_t i) {
        std::uint32_t nearest = 0;
        double squared = 0.0;
        tree.knnSearch(out.vertices[std::size_t(i)].data(), 1, &nearest, &squared);
        out.vertex_colors[std::size_t(i)] = mesh.vertex_colors[used[nearest]];
      },
      /*grain=*/512);
  return out;
}

TriangleMesh RemeshWatertight(const TriangleMesh& mesh, double voxel_size) {
  MeshSdfOptions options;
  options.voxel_size = voxel_size;
  return RemeshWatertight(mesh, options);
}

}  // namespace facet::geometry
