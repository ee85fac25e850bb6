#include "geometry/poisson_level.h"

#include <oneapi/tbb/parallel_sort.h>

#include <algorithm>
#include <cmath>

#include "core/parallel_for.h"

namespace facet::geometry::poisson {

namespace {

// One-dimensional integrals of hat functions on the unit lattice [0, cells], by axis class
// (0: node 0, 1: interior, 2: node `cells`) and neighbour offset o + 1:
//   kMass[c][o]  = int phi_{i+o} phi_i,  kStiff[c][o] = int phi_{i+o}' phi_i',
//   kDeriv[c][o] = int phi_{i+o} phi_i'.
// Halved diagonal terms at the ends are the Neumann boundary (the integral stops at the cube).
constexpr double kMass[3][3] = {
    {0, 1.0 / 3, 1.0 / 6}, {1.0 / 6, 2.0 / 3, 1.0 / 6}, {1.0 / 6, 1.0 / 3, 0}};
constexpr double kStiff[3][3] = {{0, 1, -1}, {-1, 2, -1}, {-1, 1, 0}};
constexpr double kDeriv[3][3] = {{0, -0.5, -0.5}, {0.5, 0, -0.5}, {0.5, 0.5, 0}};

struct Stencils {
  // [class x + 3 class y + 9 class z][offset (ox+1) + 3 (oy+1) + 9 (oz+1)]
  float laplacian[27][27];
  float divergence[27][27][3];  // b_i += v_{i+o} . divergence[o]
};

Stencils MakeStencils() {
  Stencils s{};
  for (int c = 0; c < 27; ++c) {
    const int cx = c % 3, cy = (c / 3) % 3, cz = c / 9;
    for (int o = 0; o < 27; ++o) {
      const int ox = o % 3, oy = (o / 3) % 3, oz = o / 9;
      const double mx = kMass[cx][ox], my = kMass[cy][oy], mz = kMass[cz][oz];
      s.laplacian[c][o] =
          float(kStiff[cx][ox] * my * mz + mx * kStiff[cy][oy] * mz + mx * my * kStiff[cz][oz]);
      s.divergence[c][o][0] = float(kDeriv[cx][ox] * my * mz);
      s.divergence[c][o][1] = float(mx * kDeriv[cy][oy] * mz);
      s.divergence[c][o][2] = float(mx * my * kDeriv[cz][oz]);
    }
  }
  return s;
}

const Stencils& GetStencils() {
  static const Stencils stencils = MakeStencils();
  return stencils;
}

std::uint64_t PackKey(int bx, int by, int bz) {
  // Block coordinates are in [-1, 2^(depth-3) + 1]; 21 bits each after the shift by 1.
  return std::uint64_t(bx + 1) | (std::uint64_t(by + 1) << 21) | (std::uint64_t(bz + 1) << 42);
}

constexpr int kTile = kBlock + 2;

// tile[(z+1) kTile^2 + (y+1) kTile + x + 1] = component `c` of node (lx=x, ly=y, lz=z) of
// `block` and its one-node halo (0 where the neighbouring block is not stored).
void GatherTile(const std::vector<std::array<std::int32_t, 27>>& neighbours, const float* data,
                int components, int c, std::int32_t block, float* tile) {
  for (int tz = 0; tz < kTile; ++tz) {
    const int z = tz - 1, dz = z < 0 ? -1 : (z >= kBlock ? 1 : 0), lz = z - dz * kBlock;
    for (int ty = 0; ty < kTile; ++ty) {
      const int y = ty - 1, dy = y < 0 ? -1 : (y >= kBlock ? 1 : 0), ly = y - dy * kBlock;
      float* row = tile + (tz * kTile + ty) * kTile;
      for (int dx = -1; dx <= 1; ++dx) {
        const std::int32_t nb =
            neighbours[std::size_t(block)][(dx + 1) + 3 * (dy + 1) + 9 * (dz + 1)];
        const int x0 = dx < 0 ? 0 : (dx == 0 ? 1 : kTile - 1);
        const int x1 = dx < 0 ? 1 : (dx == 0 ? kTile - 1 : kTile);
        for (int tx = x0; tx < x1; ++tx) {
          const int lx = tx - 1 - dx * kBlock;
          row[tx] = nb < 0 ? 0.0f
                           : data[(std::size_t(nb) * kBlockNodes +
                                   std::size_t(kernels::LocalVoxelIndex(lx, ly, lz))) *
                                      std::size_t(components) +
                                  std::size_t(c)];
        }
      }
    }
  }
}

}  // namespace

Level::Level(int depth) : depth_(depth), cells_(1 << depth) {}

std::int32_t Level::FindBlock(int bx, int by, int bz) const {
  const auto it = index_.find(PackKey(bx, by, bz));
  return it == index_.end() ? -1 : it->second;
}

void Level::InsertBlock(int bx, int by, int bz) {
  const auto [it, inserted] = index_.try_emplace(PackKey(bx, by, bz), std::int32_t(keys_.size()));
  if (inserted) keys_.push_back({bx, by, bz});
}

void Level::AddAllBlocks() {
  const int blocks = cells_ / kBlock + 1;
  for (int z = 0; z < blocks; ++z)
    for (int y = 0; y < blocks; ++y)
      for (int x = 0; x < blocks; ++x) InsertBlock(x, y, z);
}

void Level::AddBand(const std::vector<Eigen::Vector3i>& cells, int band) {
  for (const Eigen::Vector3i& c : cells) {
    Eigen::Vector3i lo, hi;
    for (int a = 0; a < 3; ++a) {
      lo[a] = kernels::BlockOf(std::clamp(c[a] - band, 0, cells_));
      hi[a] = kernels::BlockOf(std::clamp(c[a] + 1 + band, 0, cells_));
    }
    for (int z = lo.z(); z <= hi.z(); ++z)
      for (int y = lo.y(); y <= hi.y(); ++y)
        for (int x = lo.x(); x <= hi.x(); ++x) InsertBlock(x, y, z);
  }
}

void Level::Finalize() {
  const std::size_t blocks = keys_.size();
  neighbours_.resize(blocks);
  for (std::size_t b = 0; b < blocks; ++b) {
    for (int o = 0; o < 27; ++o) {
      neighbours_[b][std::size_t(o)] =
          FindBlock(keys_[b].x + o % 3 - 1, keys_[b].y + (o / 3) % 3 - 1, keys_[b].z + o / 9 - 1);
    }
  }
  flags_.assign(blocks * kBlockNodes, kOutsideCube);
  x_.resize(blocks * kBlockNodes, 0.0f);
  b_.resize(blocks * kBlockNodes, 0.0f);
  std::vector<std::int64_t> unknowns(blocks, 0);
  ParallelFor(std::int64_t(blocks), [&](std::int64_t b) {
    const auto& key = keys_[std::size_t(b)];
    const auto& nb = neighbours_[std::size_t(b)];
    for (int l = 0; l < kBlockNodes; ++l) {
      const int lx = l % kBlock, ly = (l / kBlock) % kBlock, lz = l / (kBlock * kBlock);
      const int x = key.x * kBlock + lx, y = key.y * kBlock + ly, z = key.z * kBlock + lz;
      if (x < 0 || y < 0 || z < 0 || x > cells_ || y > cells_ || z > cells_) continue;
      // Unknown when every lattice neighbour inside the cube is stored.
      bool complete = true;
      for (int dz = -1; dz <= 1 && complete; ++dz) {
        if (z + dz < 0 || z + dz > cells_) continue;
        const int bz = (lz + dz < 0) ? 0 : (lz + dz >= kBlock ? 2 : 1);
        for (int dy = -1; dy <= 1 && complete; ++dy) {
          if (y + dy < 0 || y + dy > cells_) continue;
          const int by = (ly + dy < 0) ? 0 : (ly + dy >= kBlock ? 2 : 1);
          for (int dx = -1; dx <= 1; ++dx) {
            if (x + dx < 0 || x + dx > cells_) continue;
            const int bx = (lx + dx < 0) ? 0 : (lx + dx >= kBlock ? 2 : 1);
            if (nb[std::size_t(bx + 3 * by + 9 * bz)] < 0) {
              complete = false;
              break;
            }
          }
        }
      }
      flags_[std::size_t(b) * kBlockNodes + std::size_t(l)] = complete ? kUnknown : kFixed;
      unknowns[std::size_t(b)] += complete ? 1 : 0;
    }
  });
  unknowns_ = 0;
  for (const auto u : unknowns) unknowns_ += u;
}

std::int64_t Level::NodeIndex(int x, int y, int z) const {
  const std::int32_t block =
      FindBlock(kernels::BlockOf(x), kernels::BlockOf(y), kernels::BlockOf(z));
  if (block < 0) return -1;
  const int lx = x - kernels::BlockOf(x) * kBlock, ly = y - kernels::BlockOf(y) * kBlock,
            lz = z - kernels::BlockOf(z) * kBlock;
  return std::int64_t(block) * kBlockNodes + kernels::LocalVoxelIndex(lx, ly, lz);
}

Eigen::Vector3i Level::NodeCoords(std::int64_t i) const {
  const auto& key = keys_[std::size_t(i / kBlockNodes)];
  const int l = int(i % kBlockNodes);
  return {key.x * kBlock + l % kBlock, key.y * kBlock + (l / kBlock) % kBlock,
          key.z * kBlock + l / (kBlock * kBlock)};
}

bool Level::Evaluate(const Eigen::Vector3d& p, double* value) const {
  Eigen::Vector3i c;
  Eigen::Vector3d f;
  for (int a = 0; a < 3; ++a) {
    c[a] = std::clamp(int(std::floor(p[a])), 0, cells_ - 1);
    f[a] = std::clamp(p[a] - c[a], 0.0, 1.0);
  }
  double sum = 0.0;
  for (int k = 0; k < 8; ++k) {
    const int dx = k & 1, dy = (k >> 1) & 1, dz = k >> 2;
    const std::int64_t n = NodeIndex(c.x() + dx, c.y() + dy, c.z() + dz);
    if (n < 0 || flags_[std::size_t(n)] == kOutsideCube) return false;
    const double w = (dx ? f.x() : 1 - f.x()) * (dy ? f.y() : 1 - f.y()) * (dz ? f.z() : 1 - f.z());
    sum += w * x_[std::size_t(n)];
  }
  *value = sum;
  return true;
}

void Level::ComputeRhsFromField(const std::vector<float>& v) {
  const Stencils& st = GetStencils();
  ParallelFor(block_count(), [&](std::int64_t b) {
    float tiles[3][kTile * kTile * kTile];
    for (int c = 0; c < 3; ++c) GatherTile(neighbours_, v.data(), 3, c, std::int32_t(b), tiles[c]);
    const auto& key = keys_[std::size_t(b)];
    for (int l = 0; l < kBlockNodes; ++l) {
      const std::size_t i = std::size_t(b) * kBlockNodes + std::size_t(l);
      if (flags_[i] == kOutsideCube) continue;
      const int lx = l % kBlock, ly = (l / kBlock) % kBlock, lz = l / (kBlock * kBlock);
      const int cls = AxisClass(key.x * kBlock + lx) + 3 * AxisClass(key.y * kBlock + ly) +
                      9 * AxisClass(key.z * kBlock + lz);
      double sum = 0.0;
      for (int o = 0; o < 27; ++o) {
        const int t = (lz + o / 9) * kTile * kTile + (ly + (o / 3) % 3) * kTile + lx + o % 3;
        for (int c = 0; c < 3; ++c) sum += double(st.divergence[cls][o][c]) * tiles[c][t];
      }
      b_[i] = float(sum);
    }
  });
}

void Level::RestrictRhsFrom(const Level& fine) {
  std::fill(b_.begin(), b_.end(), 0.0f);
  // Serial scatter over the fine nodes with a right-hand side (few, near the samples).
  for (std::size_t i = 0; i < fine.b_.size(); ++i) {
    const float value = fine.b_[i];
    if (value == 0.0f) continue;
    const Eigen::Vector3i f = fine.NodeCoords(std::int64_t(i));
    int lo[3], hi[3];
    for (int a = 0; a < 3; ++a) {
      lo[a] = f[a] >> 1;
      hi[a] = (f[a] + 1) >> 1;
    }
    for (int z = lo[2]; z <= hi[2]; ++z)
      for (int y = lo[1]; y <= hi[1]; ++y)
        for (int x = lo[0]; x <= hi[0]; ++x) {
          const std::int64_t n = NodeIndex(x, y, z);
          if (n < 0) continue;
          const float w = (lo[0] == hi[0] ? 1.0f : 0.5f) * (lo[1] == hi[1] ? 1.0f : 0.5f) *
                          (lo[2] == hi[2] ? 1.0f : 0.5f);
          b_[std::size_t(n)] += 0.5f * w * value;
        }
  }
}

void Level::SetScreening(const std::vector<ScreeningSample>& samples, double to_level,
                         double sigma) {
  sigma_ = sigma;
  const std::size_t count = samples.size();
  sample_nodes_.resize(count);
  sample_weights_.resize(count);
  sample_area_.resize(count);
  ParallelFor(
      std::int64_t(count),
      [&](std::int64_t s) {
        const ScreeningSample& sample = samples[std::size_t(s)];
        const Eigen::Vector3d p = sample.position * to_level;
        Eigen::Vector3i c;
        Eigen::Vector3d f;
        for (int a = 0; a < 3; ++a) {
          c[a] = std::clamp(int(std::floor(p[a])), 0, cells_ - 1);
          f[a] = std::clamp(p[a] - c[a], 0.0, 1.0);
        }
        for (int k = 0; k < 8; ++k) {
          const int dx = k & 1, dy = (k >> 1) & 1, dz = k >> 2;
          sample_nodes_[std::size_t(s)][std::size_t(k)] =
              NodeIndex(c.x() + dx, c.y() + dy, c.z() + dz);
          sample_weights_[std::size_t(s)][std::size_t(k)] =
              float((dx ? f.x() : 1 - f.x()) * (dy ? f.y() : 1 - f.y()) * (dz ? f.z() : 1 - f.z()));
        }
        sample_area_[std::size_t(s)] = float(sample.area);
      },
      256);
  entries_.clear();
  entries_.reserve(count * 8);
  for (std::size_t s = 0; s < count; ++s) {
    for (std::size_t k = 0; k < 8; ++k) {
      const std::int64_t n = sample_nodes_[s][k];
      if (n >= 0 && flags_[std::size_t(n)] == kUnknown)
        entries_.push_back({n, std::int32_t(s), sample_weights_[s][k]});
    }
  }
  oneapi::tbb::parallel_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.node < b.node || (a.node == b.node && a.sample < b.sample);
  });
  block_entries_.assign(keys_.size() + 1, 0);
  for (const Entry& e : entries_) ++block_entries_[std::size_t(e.node / kBlockNodes) + 1];
  for (std::size_t b = 0; b < keys_.size(); ++b) block_entries_[b + 1] += block_entries_[b];
  // Jacobi preconditioner: the diagonal of L + sigma S.
  const Stencils& st = GetStencils();
  diagonal_.assign(flags_.size(), 1.0f);
  ParallelFor(block_count(), [&](std::int64_t b) {
    const auto& key = keys_[std::size_t(b)];
    for (int l = 0; l < kBlockNodes; ++l) {
      const int lx = l % kBlock, ly = (l / kBlock) % kBlock, lz = l / (kBlock * kBlock);
      const int x = key.x * kBlock + lx, y = key.y * kBlock + ly, z = key.z * kBlock + lz;
      if (x < 0 || y < 0 || z < 0 || x > cells_ || y > cells_ || z > cells_) continue;
      diagonal_[std::size_t(b) * kBlockNodes + std::size_t(l)] =
          st.laplacian[AxisClass(x) + 3 * AxisClass(y) + 9 * AxisClass(z)][13];
    }
    for (std::int64_t e = block_entries_[std::size_t(b)]; e < block_entries_[std::size_t(b) + 1];
         ++e) {
      const Entry& entry = entries_[std::size_t(e)];
      diagonal_[std::size_t(entry.node)] +=
          float(sigma_) * sample_area_[std::size_t(entry.sample)] * entry.weight * entry.weight;
    }
  });
}

void Level::Apply(const std::vector<float>& v, std::vector<float>& y) const {
  const Stencils& st = GetStencils();
  // The screening term needs v at the samples first.
  std::vector<float> at_sample(sample_nodes_.size());
  ParallelFor(
      std::int64_t(sample_nodes_.size()),
      [&](std::int64_t s) {
        float sum = 0.0f;
        for (std::size_t k = 0; k < 8; ++k) {
          const std::int64_t n = sample_nodes_[std::size_t(s)][k];
          if (n >= 0) sum += sample_weights_[std::size_t(s)][k] * v[std::size_t(n)];
        }
        at_sample[std::size_t(s)] = float(sigma_) * sample_area_[std::size_t(s)] * sum;
      },
      1024);
  ParallelFor(block_count(), [&](std::int64_t b) {
    float tile[kTile * kTile * kTile];
    GatherTile(neighbours_, v.data(), 1, 0, std::int32_t(b), tile);
    const auto& key = keys_[std::size_t(b)];
    float* out = y.data() + std::size_t(b) * kBlockNodes;
    const std::uint8_t* flag = flags_.data() + std::size_t(b) * kBlockNodes;
    for (int lz = 0; lz < kBlock; ++lz) {
      const int cz = AxisClass(key.z * kBlock + lz);
      for (int ly = 0; ly < kBlock; ++ly) {
        const int cy = AxisClass(key.y * kBlock + ly);
        for (int lx = 0; lx < kBlock; ++lx) {
          const int l = kernels::LocalVoxelIndex(lx, ly, lz);
          if (flag[l] != kUnknown) {
            out[l] = 0.0f;
            continue;
          }
          const int cls = AxisClass(key.x * kBlock + lx) + 3 * cy + 9 * cz;
          const float* c = st.laplacian[cls];
          const float* t = tile + (lz * kTile + ly) * kTile + lx;
          float sum = 0.0f;
          for (int oz = 0; oz < 3; ++oz)
            for (int oy = 0; oy < 3; ++oy)
              for (int ox = 0; ox < 3; ++ox)
                sum += c[ox + 3 * oy + 9 * oz] * t[(oz * kTile + oy) * kTile + ox];
          out[l] = sum;
        }
      }
    }
    for (std::int64_t e = block_entries_[std::size_t(b)]; e < block_entries_[std::size_t(b) + 1];
         ++e) {
      const Entry& entry = entries_[std::size_t(e)];
      y[std::size_t(entry.node)] += entry.weight * at_sample[std::size_t(entry.sample)];
    }
  });
}

CgStats Level::Solve(double tolerance, int max_iterations) {
  const std::size_t n = x_.size();
  const std::int64_t blocks = block_count();
  std::vector<float> r(n), z(n), p(n), q(n);
  std::vector<double> partial(static_cast<std::size_t>(blocks));
  // Deterministic dot product over the unknowns: per-block partial sums, summed in order.
  auto dot = [&](const std::vector<float>& a, const std::vector<float>& c) {
    ParallelFor(blocks, [&](std::int64_t b) {
      double s = 0.0;
      const std::size_t base = std::size_t(b) * kBlockNodes;
      for (std::size_t i = base; i < base + kBlockNodes; ++i) s += double(a[i]) * c[i];
      partial[std::size_t(b)] = s;
    });
    double s = 0.0;
    for (const double v : partial) s += v;
    return s;
  };
  // r = b - A x, with the fixed nodes' values in x acting as the boundary condition.
  Apply(x_, q);
  ParallelFor(
      std::int64_t(n),
      [&](std::int64_t i) {
        const auto k = std::size_t(i);
        r[k] = flags_[k] == kUnknown ? b_[k] - q[k] : 0.0f;
        z[k] = r[k] / diagonal_[k];
        p[k] = z[k];
      },
      4096);
  double rz = dot(r, z);
  const double r0 = std::sqrt(dot(r, r));
  double bnorm = 0.0;
  {
    ParallelFor(
        std::int64_t(n),
        [&](std::int64_t i) {
          const auto k = std::size_t(i);
          q[k] = flags_[k] == kUnknown ? b_[k] : 0.0f;
        },
        4096);
    bnorm = std::sqrt(dot(q, q));
  }
  const double target = tolerance * std::max(bnorm, 1e-30);
  CgStats stats;
  double rnorm = r0;
  int it = 0;
  for (; it < max_iterations && rnorm > target; ++it) {
    Apply(p, q);
    const double pq = dot(p, q);
    if (!(pq > 0.0)) break;
    const float alpha = float(rz / pq);
    ParallelFor(
        std::int64_t(n),
        [&](std::int64_t i) {
          const auto k = std::size_t(i);
          x_[k] += flags_[k] == kUnknown ? alpha * p[k] : 0.0f;
          r[k] -= alpha * q[k];
          z[k] = r[k] / diagonal_[k];
        },
        4096);
    const double rz_next = dot(r, z);
    const float beta = float(rz_next / rz);
    rz = rz_next;
    ParallelFor(
        std::int64_t(n),
        [&](std::int64_t i) {
          const auto k = std::size_t(i);
          p[k] = z[k] + beta * p[k];
        },
        4096);
    rnorm = std::sqrt(dot(r, r));
  }
  stats.iterations = it;
  stats.relative_residual = rnorm / std::max(bnorm, 1e-30);
  return stats;
}

}  // namespace facet::geometry::poisson

namespace facet::geometry::poisson {

std::vector<std::int64_t> Level::ProlongFrom(const Level& coarse) {
  std::vector<std::uint8_t> valid(x_.size(), 0);
  ParallelFor(block_count(), [&](std::int64_t b) {
    const auto& key = keys_[std::size_t(b)];
    // The coarse nodes under this block: 4 key + (0..4) per axis, gathered once.
    constexpr int kSpan = kBlock / 2 + 1;
    float values[kSpan * kSpan * kSpan];
    std::uint8_t ok[kSpan * kSpan * kSpan];
    std::int32_t last_block = -1;
    kernels::BlockKey last_key{kernels::kEmptyKeyCoord, 0, 0};
    for (int z = 0; z < kSpan; ++z)
      for (int y = 0; y < kSpan; ++y)
        for (int x = 0; x < kSpan; ++x) {
          const int cx = key.x * (kBlock / 2) + x, cy = key.y * (kBlock / 2) + y,
                    cz = key.z * (kBlock / 2) + z;
          const kernels::BlockKey ck{kernels::BlockOf(cx), kernels::BlockOf(cy),
                                     kernels::BlockOf(cz)};
          if (!(ck == last_key)) {
            last_key = ck;
            last_block = coarse.FindBlock(ck.x, ck.y, ck.z);
          }
          const int t = (z * kSpan + y) * kSpan + x;
          ok[t] = 0;
          if (last_block < 0) continue;
          const std::size_t n = std::size_t(last_block) * kBlockNodes +
                                std::size_t(kernels::LocalVoxelIndex(
                                    cx - ck.x * kBlock, cy - ck.y * kBlock, cz - ck.z * kBlock));
          ok[t] = coarse.flags_[n] != kOutsideCube;
          values[t] = coarse.x_[n];
        }
    for (int l = 0; l < kBlockNodes; ++l) {
      const std::size_t i = std::size_t(b) * kBlockNodes + std::size_t(l);
      if (flags_[i] == kOutsideCube) continue;
      const int lx = l % kBlock, ly = (l / kBlock) % kBlock, lz = l / (kBlock * kBlock);
      const int x0 = lx >> 1, y0 = ly >> 1, z0 = lz >> 1;
      const int x1 = (lx + 1) >> 1, y1 = (ly + 1) >> 1, z1 = (lz + 1) >> 1;
      float sum = 0.0f;
      bool complete = true;
      for (int z = z0; z <= z1; ++z)
        for (int y = y0; y <= y1; ++y)
          for (int x = x0; x <= x1; ++x) {
            const int t = (z * kSpan + y) * kSpan + x;
            complete = complete && ok[t];
            sum += values[t];
          }
      if (!complete) continue;
      x_[i] = sum / float((x1 - x0 + 1) * (y1 - y0 + 1) * (z1 - z0 + 1));
      valid[i] = 1;
    }
  });
  std::vector<std::int64_t> missing;
  for (std::size_t i = 0; i < x_.size(); ++i)
    if (!valid[i] && flags_[i] != kOutsideCube) missing.push_back(std::int64_t(i));
  return missing;
}

std::vector<Eigen::Vector3i> Level::CrossingCells(double iso) const {
  std::vector<std::vector<Eigen::Vector3i>> per_block(keys_.size());
  ParallelFor(block_count(), [&](std::int64_t b) {
    float tile[kTile * kTile * kTile];
    GatherTile(neighbours_, x_.data(), 1, 0, std::int32_t(b), tile);
    const auto& key = keys_[std::size_t(b)];
    for (int lz = 0; lz < kBlock; ++lz)
      for (int ly = 0; ly < kBlock; ++ly)
        for (int lx = 0; lx < kBlock; ++lx) {
          const int x = key.x * kBlock + lx, y = key.y * kBlock + ly, z = key.z * kBlock + lz;
          if (x < 0 || y < 0 || z < 0 || x >= cells_ || y >= cells_ || z >= cells_) continue;
          bool below = false, above = false, complete = true;
          for (int k = 0; k < 8 && complete; ++k) {
            const int dx = k & 1, dy = (k >> 1) & 1, dz = k >> 2;
            // Corner blocks: the +1 neighbours when a corner leaves this block.
            const int bx = lx + dx >= kBlock ? 2 : 1, by = ly + dy >= kBlock ? 2 : 1,
                      bz = lz + dz >= kBlock ? 2 : 1;
            if (neighbours_[std::size_t(b)][std::size_t(bx + 3 * by + 9 * bz)] < 0) {
              complete = false;
              break;
            }
            const float v = tile[((lz + dz + 1) * kTile + ly + dy + 1) * kTile + lx + dx + 1];
            (v < iso ? below : above) = true;
          }
          if (complete && below && above) per_block[std::size_t(b)].emplace_back(x, y, z);
        }
  });
  std::vector<Eigen::Vector3i> cells;
  for (const auto& v : per_block) cells.insert(cells.end(), v.begin(), v.end());
  return cells;
}

double Level::SampleMean(double* area) const {
  double sum = 0.0, total = 0.0;
  for (std::size_t s = 0; s < sample_nodes_.size(); ++s) {
    double value = 0.0;
    bool complete = true;
    for (std::size_t k = 0; k < 8; ++k) {
      const std::int64_t n = sample_nodes_[s][k];
      if (n < 0) {
        complete = false;
        break;
      }
      value += double(sample_weights_[s][k]) * x_[std::size_t(n)];
    }
    if (!complete) continue;
    sum += sample_area_[s] * value;
    total += sample_area_[s];
  }
  *area = total;
  return total > 0.0 ? sum / total : 0.0;
}

double Level::BoundaryMean() const {
  double sum = 0.0;
  std::int64_t count = 0;
  for (std::size_t i = 0; i < x_.size(); ++i) {
    if (flags_[i] == kOutsideCube) continue;
    const Eigen::Vector3i c = NodeCoords(std::int64_t(i));
    if ((c.array() == 0).any() || (c.array() == cells_).any()) {
      sum += x_[i];
      ++count;
    }
  }
  return count > 0 ? sum / double(count) : 0.0;
}

void Level::Negate() {
  for (auto& v : x_) v = -v;
  for (auto& v : b_) v = -v;
}

}  // namespace facet::geometry::poisson
