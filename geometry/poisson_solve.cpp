// The linear solve of one level: screening, the matrix-free operator and conjugate gradients.
#include <oneapi/tbb/parallel_sort.h>

#include <algorithm>
#include <cmath>

#include "core/parallel_for.h"
#include "geometry/poisson_level.h"
#include "geometry/poisson_stencil.h"

namespace facet::geometry::poisson {

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
      if (n >= 0 && flags_[std::size_t(n)] == kUnknown && samples[s].depth >= depth_)
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
    const bool interior = InteriorBlock(key);
    for (int lz = 0; lz < kBlock; ++lz) {
      for (int ly = 0; ly < kBlock; ++ly) {
        float* o = out + kernels::LocalVoxelIndex(0, ly, lz);
        if (interior) {
          // The interior stencil: 8/3 at the centre, 0 at the 6 faces, -1/6 at the 12 edges,
          // -1/12 at the 8 corners (rows r[oz][oy] of the tile).
          const float* r[3][3];
          for (int oz = 0; oz < 3; ++oz)
            for (int oy = 0; oy < 3; ++oy) r[oz][oy] = tile + ((lz + oz) * kTile + ly + oy) * kTile;
          for (int lx = 0; lx < kBlock; ++lx) {
            const float edges = r[1][0][lx] + r[1][0][lx + 2] + r[1][2][lx] + r[1][2][lx + 2] +
                                r[0][1][lx] + r[0][1][lx + 2] + r[2][1][lx] + r[2][1][lx + 2] +
                                r[0][0][lx + 1] + r[0][2][lx + 1] + r[2][0][lx + 1] +
                                r[2][2][lx + 1];
            const float corners = r[0][0][lx] + r[0][0][lx + 2] + r[0][2][lx] + r[0][2][lx + 2] +
                                  r[2][0][lx] + r[2][0][lx + 2] + r[2][2][lx] + r[2][2][lx + 2];
            o[lx] =
                (8.0f / 3.0f) * r[1][1][lx + 1] - (1.0f / 6.0f) * edges - (1.0f / 12.0f) * corners;
          }
        } else {
          const int cy = AxisClass(key.y * kBlock + ly), cz = AxisClass(key.z * kBlock + lz);
          for (int lx = 0; lx < kBlock; ++lx) {
            const float* c = st.laplacian[AxisClass(key.x * kBlock + lx) + 3 * cy + 9 * cz];
            const float* t = tile + (lz * kTile + ly) * kTile + lx;
            float sum = 0.0f;
            for (int oz = 0; oz < 3; ++oz)
              for (int oy = 0; oy < 3; ++oy)
                for (int ox = 0; ox < 3; ++ox)
                  sum += c[ox + 3 * oy + 9 * oz] * t[(oz * kTile + oy) * kTile + ox];
            o[lx] = sum;
          }
        }
      }
    }
    for (int l = 0; l < kBlockNodes; ++l) out[l] = flag[l] == kUnknown ? out[l] : 0.0f;
    for (std::int64_t e = block_entries_[std::size_t(b)]; e < block_entries_[std::size_t(b) + 1];
         ++e) {
      const Entry& entry = entries_[std::size_t(e)];
      y[std::size_t(entry.node)] += entry.weight * at_sample[std::size_t(entry.sample)];
    }
  });
}

CgStats Level::Solve(double tolerance, int max_iterations) {
  if (unknowns_ == 0) return {};
  const std::size_t n = x_.size();
  const std::int64_t blocks = block_count();
  std::vector<float> r(n), z(n), p(n), q(n), inverse_diagonal(n);
  // Deterministic reductions: per-block partial sums, added in block order.
  std::vector<std::array<double, 3>> partial(static_cast<std::size_t>(blocks));
  auto total = [&](int k) {
    double s = 0.0;
    for (const auto& v : partial) s += v[std::size_t(k)];
    return s;
  };
  // r = b - A x on the unknowns, with the fixed nodes' values in x as the boundary condition.
  Apply(x_, q);
  ParallelFor(blocks, [&](std::int64_t b) {
    double rz = 0.0, rr = 0.0, bb = 0.0;
    for (std::size_t i = std::size_t(b) * kBlockNodes; i < std::size_t(b + 1) * kBlockNodes; ++i) {
      const bool unknown = flags_[i] == kUnknown;
      inverse_diagonal[i] = unknown ? 1.0f / diagonal_[i] : 0.0f;
      r[i] = unknown ? b_[i] - q[i] : 0.0f;
      z[i] = r[i] * inverse_diagonal[i];
      p[i] = z[i];
      rz += double(r[i]) * z[i];
      rr += double(r[i]) * r[i];
      bb += unknown ? double(b_[i]) * b_[i] : 0.0;
    }
    partial[std::size_t(b)] = {rz, rr, bb};
  });
  double rz = total(0), rnorm = std::sqrt(total(1));
  const double bnorm = std::max(std::sqrt(total(2)), 1e-30);
  CgStats stats;
  int it = 0;
  for (; it < max_iterations && rnorm > tolerance * bnorm; ++it) {
    Apply(p, q);  // p and q vanish off the unknowns
    ParallelFor(blocks, [&](std::int64_t b) {
      double pq = 0.0;
      for (std::size_t i = std::size_t(b) * kBlockNodes; i < std::size_t(b + 1) * kBlockNodes; ++i)
        pq += double(p[i]) * q[i];
      partial[std::size_t(b)][0] = pq;
    });
    const double pq = total(0);
    if (!(pq > 0.0)) break;
    const float alpha = float(rz / pq);
    ParallelFor(blocks, [&](std::int64_t b) {
      double rz_b = 0.0, rr_b = 0.0;
      for (std::size_t i = std::size_t(b) * kBlockNodes; i < std::size_t(b + 1) * kBlockNodes;
           ++i) {
        x_[i] += alpha * p[i];
        r[i] -= alpha * q[i];
        z[i] = r[i] * inverse_diagonal[i];
        rz_b += double(r[i]) * z[i];
        rr_b += double(r[i]) * r[i];
      }
      partial[std::size_t(b)][0] = rz_b;
      partial[std::size_t(b)][1] = rr_b;
    });
    const double rz_next = total(0);
    rnorm = std::sqrt(total(1));
    const float beta = float(rz_next / rz);
    rz = rz_next;
    ParallelFor(blocks, [&](std::int64_t b) {
      for (std::size_t i = std::size_t(b) * kBlockNodes; i < std::size_t(b + 1) * kBlockNodes; ++i)
        p[i] = z[i] + beta * p[i];
    });
  }
  stats.iterations = it;
  stats.relative_residual = rnorm / bnorm;
  return stats;
}

}  // namespace facet::geometry::poisson
