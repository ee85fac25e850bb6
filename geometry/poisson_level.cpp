#include "geometry/poisson_level.h"

#include <algorithm>
#include <cmath>

#include "core/parallel_for.h"
#include "geometry/poisson_stencil.h"

namespace facet::geometry::poisson {

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

void Level::AddActiveCells(const std::vector<Eigen::Vector3i>& cells, int band) {
  restrict_active_ = true;
  for (const Eigen::Vector3i& c : cells) active_cells_.emplace_back(c, band);
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
    bool surrounded = true;  // all 26 neighbouring blocks stored
    for (const std::int32_t n : nb) surrounded = surrounded && n >= 0;
    for (int l = 0; l < kBlockNodes; ++l) {
      const int lx = l % kBlock, ly = (l / kBlock) % kBlock, lz = l / (kBlock * kBlock);
      const int x = key.x * kBlock + lx, y = key.y * kBlock + ly, z = key.z * kBlock + lz;
      if (x < 0 || y < 0 || z < 0 || x > cells_ || y > cells_ || z > cells_) continue;
      // Unknown when every lattice neighbour inside the cube is stored.
      bool complete = true;
      if (surrounded) {
        flags_[std::size_t(b) * kBlockNodes + std::size_t(l)] = kUnknown;
        ++unknowns[std::size_t(b)];
        continue;
      }
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
  if (restrict_active_) {
    // Keep as unknowns only the nodes within the band of an active cell.
    std::vector<std::uint8_t> active(flags_.size(), 0);
    for (const auto& [c, band] : active_cells_) {
      Eigen::Vector3i lo, hi;
      for (int a = 0; a < 3; ++a) {
        lo[a] = std::max(c[a] - band, 0);
        hi[a] = std::min(c[a] + 1 + band, cells_);
      }
      for (int bz = kernels::BlockOf(lo.z()); bz <= kernels::BlockOf(hi.z()); ++bz)
        for (int by = kernels::BlockOf(lo.y()); by <= kernels::BlockOf(hi.y()); ++by)
          for (int bx = kernels::BlockOf(lo.x()); bx <= kernels::BlockOf(hi.x()); ++bx) {
            const std::int32_t block = FindBlock(bx, by, bz);
            if (block < 0) continue;
            std::uint8_t* mask = active.data() + std::size_t(block) * kBlockNodes;
            const int z0 = std::max(lo.z() - bz * kBlock, 0),
                      z1 = std::min(hi.z() - bz * kBlock, kBlock - 1);
            const int y0 = std::max(lo.y() - by * kBlock, 0),
                      y1 = std::min(hi.y() - by * kBlock, kBlock - 1);
            const int x0 = std::max(lo.x() - bx * kBlock, 0),
                      x1 = std::min(hi.x() - bx * kBlock, kBlock - 1);
            for (int z = z0; z <= z1; ++z)
              for (int y = y0; y <= y1; ++y)
                for (int x = x0; x <= x1; ++x) mask[kernels::LocalVoxelIndex(x, y, z)] = 1;
          }
    }
    ParallelFor(std::int64_t(blocks), [&](std::int64_t b) {
      for (std::size_t i = std::size_t(b) * kBlockNodes; i < std::size_t(b + 1) * kBlockNodes;
           ++i) {
        if (flags_[i] == kUnknown && !active[i]) {
          flags_[i] = kFixed;
          --unknowns[std::size_t(b)];
        }
      }
    });
  }
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

void Level::Divergence(const std::vector<float>& v, std::vector<float>& out) const {
  const Stencils& st = GetStencils();
  out.assign(flags_.size(), 0.0f);
  // Only blocks next to a block with some field have a right-hand side.
  std::vector<std::uint8_t> has_field(keys_.size(), 0);
  ParallelFor(block_count(), [&](std::int64_t b) {
    const std::size_t base = std::size_t(b) * kBlockNodes * 3;
    for (std::size_t i = base; i < base + kBlockNodes * 3; ++i) {
      if (v[i] != 0.0f) {
        has_field[std::size_t(b)] = 1;
        break;
      }
    }
  });
  ParallelFor(block_count(), [&](std::int64_t b) {
    bool near = false;
    for (const std::int32_t nb : neighbours_[std::size_t(b)])
      near = near || (nb >= 0 && has_field[std::size_t(nb)]);
    if (!near) return;
    float tiles[3][kTile * kTile * kTile];
    for (int c = 0; c < 3; ++c) GatherTile(neighbours_, v.data(), 3, c, std::int32_t(b), tiles[c]);
    const auto& key = keys_[std::size_t(b)];
    if (InteriorBlock(key)) {
      // Separable: b = (Dx My Mz) vx + (Mx Dy Mz) vy + (Mx My Dz) vz, three 1D passes each.
      float sum[kBlockNodes] = {};
      for (int c = 0; c < 3; ++c) {
        float cz[3], cy[3], cx[3];
        for (int k = 0; k < 3; ++k) {
          cx[k] = float(c == 0 ? kDeriv[1][k] : kMass[1][k]);
          cy[k] = float(c == 1 ? kDeriv[1][k] : kMass[1][k]);
          cz[k] = float(c == 2 ? kDeriv[1][k] : kMass[1][k]);
        }
        float along_z[kTile * kTile * kBlock], along_y[kTile * kBlock * kBlock];
        const float* t = tiles[c];
        for (int z = 0; z < kBlock; ++z)
          for (int i = 0; i < kTile * kTile; ++i)
            along_z[z * kTile * kTile + i] = cz[0] * t[z * kTile * kTile + i] +
                                             cz[1] * t[(z + 1) * kTile * kTile + i] +
                                             cz[2] * t[(z + 2) * kTile * kTile + i];
        for (int z = 0; z < kBlock; ++z)
          for (int y = 0; y < kBlock; ++y)
            for (int x = 0; x < kTile; ++x) {
              const float* a = along_z + (z * kTile + y) * kTile + x;
              along_y[(z * kBlock + y) * kTile + x] =
                  cy[0] * a[0] + cy[1] * a[kTile] + cy[2] * a[2 * kTile];
            }
        for (int zy = 0; zy < kBlock * kBlock; ++zy)
          for (int x = 0; x < kBlock; ++x) {
            const float* a = along_y + zy * kTile + x;
            sum[zy * kBlock + x] += cx[0] * a[0] + cx[1] * a[1] + cx[2] * a[2];
          }
      }
      std::copy(sum, sum + kBlockNodes, out.data() + std::size_t(b) * kBlockNodes);
      return;
    }
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
      out[i] = float(sum);
    }
  });
}

std::vector<float> Level::Restrict(const Level& fine, const std::vector<float>& fine_values) const {
  std::vector<float> out(flags_.size(), 0.0f);
  // b_I = 1/2 sum_i P_iI fine.b_i, P the trilinear prolongation (weights 1/2, 1, 1/2 per axis
  // for fine nodes 2I - 1, 2I, 2I + 1), gathered per coarse block from a 17^3 fine tile.
  constexpr int kFine = 2 * kBlock + 1;
  ParallelFor(block_count(), [&](std::int64_t b) {
    const auto& key = keys_[std::size_t(b)];
    std::vector<float> tile(std::size_t(kFine * kFine * kFine), 0.0f);
    for (int fz = -1; fz <= 1; ++fz)
      for (int fy = -1; fy <= 1; ++fy)
        for (int fx = -1; fx <= 1; ++fx) {
          const std::int32_t fb = fine.FindBlock(2 * key.x + fx, 2 * key.y + fy, 2 * key.z + fz);
          if (fb < 0) continue;
          // Fine node 8 (2 key + f) + l lands at tile index 8 (f + 1) + l - 7.
          for (int lz = 0; lz < kBlock; ++lz) {
            const int tz = kBlock * (fz + 1) + lz - (kBlock - 1);
            if (tz < 0 || tz >= kFine) continue;
            for (int ly = 0; ly < kBlock; ++ly) {
              const int ty = kBlock * (fy + 1) + ly - (kBlock - 1);
              if (ty < 0 || ty >= kFine) continue;
              for (int lx = 0; lx < kBlock; ++lx) {
                const int tx = kBlock * (fx + 1) + lx - (kBlock - 1);
                if (tx < 0 || tx >= kFine) continue;
                tile[std::size_t((tz * kFine + ty) * kFine + tx)] =
                    fine_values[std::size_t(fb) * kBlockNodes +
                                std::size_t(kernels::LocalVoxelIndex(lx, ly, lz))];
              }
            }
          }
        }
    constexpr float kW[3] = {0.5f, 1.0f, 0.5f};
    for (int l = 0; l < kBlockNodes; ++l) {
      const int lx = l % kBlock, ly = (l / kBlock) % kBlock, lz = l / (kBlock * kBlock);
      // Coarse node 8 key + l is fine node 16 key + 2 l = tile index 2 l + 1.
      float sum = 0.0f;
      for (int oz = 0; oz < 3; ++oz)
        for (int oy = 0; oy < 3; ++oy)
          for (int ox = 0; ox < 3; ++ox)
            sum += kW[ox] * kW[oy] * kW[oz] *
                   tile[std::size_t(((2 * lz + oz) * kFine + 2 * ly + oy) * kFine + 2 * lx + ox)];
      out[std::size_t(b) * kBlockNodes + std::size_t(l)] = 0.5f * sum;
    }
  });
  return out;
}

void Level::Prolong(const Level& coarse, const float* coarse_values, int components, float scale,
                    bool add, float* values, std::uint8_t* valid) const {
  const auto stride = std::size_t(components);
  ParallelFor(block_count(), [&](std::int64_t b) {
    const auto& key = keys_[std::size_t(b)];
    // The coarse nodes under this block: 4 key + (0..4) per axis, gathered once.
    constexpr int kSpan = kBlock / 2 + 1;
    std::int64_t nodes[kSpan * kSpan * kSpan];  // -1 when not stored
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
          nodes[t] = -1;
          if (last_block < 0) continue;
          const std::int64_t n =
              std::int64_t(last_block) * kBlockNodes +
              kernels::LocalVoxelIndex(cx - ck.x * kBlock, cy - ck.y * kBlock, cz - ck.z * kBlock);
          if (coarse.flags_[std::size_t(n)] != kOutsideCube) nodes[t] = n;
        }
    for (int l = 0; l < kBlockNodes; ++l) {
      const std::size_t i = std::size_t(b) * kBlockNodes + std::size_t(l);
      if (flags_[i] == kOutsideCube) continue;
      const int lx = l % kBlock, ly = (l / kBlock) % kBlock, lz = l / (kBlock * kBlock);
      // Fine node 2 I sits on coarse node I, 2 I + 1 halfway between I and I + 1.
      const int x0 = lx >> 1, y0 = ly >> 1, z0 = lz >> 1;
      const int x1 = (lx + 1) >> 1, y1 = (ly + 1) >> 1, z1 = (lz + 1) >> 1;
      bool complete = true;
      for (int z = z0; z <= z1 && complete; ++z)
        for (int y = y0; y <= y1 && complete; ++y)
          for (int x = x0; x <= x1 && complete; ++x)
            complete = nodes[(z * kSpan + y) * kSpan + x] >= 0;
      if (!complete) continue;
      const float weight = scale / float((x1 - x0 + 1) * (y1 - y0 + 1) * (z1 - z0 + 1));
      for (std::size_t c = 0; c < stride; ++c) {
        float sum = 0.0f;
        for (int z = z0; z <= z1; ++z)
          for (int y = y0; y <= y1; ++y)
            for (int x = x0; x <= x1; ++x)
              sum += coarse_values[std::size_t(nodes[(z * kSpan + y) * kSpan + x]) * stride + c];
        values[i * stride + c] = (add ? values[i * stride + c] : 0.0f) + weight * sum;
      }
      if (valid) valid[i] = 1;
    }
  });
}

std::vector<std::int64_t> Level::ProlongFrom(const Level& coarse) {
  std::vector<std::uint8_t> valid(x_.size(), 0);
  Prolong(coarse, coarse.x_.data(), 1, 1.0f, false, x_.data(), valid.data());
  std::vector<std::int64_t> missing;
  for (std::size_t i = 0; i < x_.size(); ++i)
    if (!valid[i] && flags_[i] != kOutsideCube) missing.push_back(std::int64_t(i));
  return missing;
}

void Level::ProlongAdd(const Level& coarse, const std::vector<float>& coarse_values, int components,
                       float scale, std::vector<float>& values) const {
  Prolong(coarse, coarse_values.data(), components, scale, true, values.data(), nullptr);
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
