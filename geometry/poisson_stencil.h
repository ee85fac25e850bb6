// Internal to geometry/poisson_level*.cpp: the finite-element stencils of the trilinear hat
// basis and the gathering of a block with its one-node halo. Not a public interface.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "geometry/poisson_level.h"

namespace facet::geometry::poisson {

// One-dimensional integrals of hat functions on the unit lattice [0, cells], by axis class
// (0: node 0, 1: interior, 2: node `cells`) and neighbour offset o + 1:
//   kMass[c][o]  = int phi_{i+o} phi_i,  kStiff[c][o] = int phi_{i+o}' phi_i',
//   kDeriv[c][o] = int phi_{i+o} phi_i'.
// Halved diagonal terms at the ends are the Neumann boundary (the integral stops at the cube).
inline constexpr double kMass[3][3] = {
    {0, 1.0 / 3, 1.0 / 6}, {1.0 / 6, 2.0 / 3, 1.0 / 6}, {1.0 / 6, 1.0 / 3, 0}};
inline constexpr double kStiff[3][3] = {{0, 1, -1}, {-1, 2, -1}, {-1, 1, 0}};
inline constexpr double kDeriv[3][3] = {{0, -0.5, -0.5}, {0.5, 0, -0.5}, {0.5, 0.5, 0}};

struct Stencils {
  // [class x + 3 class y + 9 class z][offset (ox+1) + 3 (oy+1) + 9 (oz+1)]
  float laplacian[27][27];
  float divergence[27][27][3];  // b_i += v_{i+o} . divergence[o]
};

inline Stencils MakeStencils() {
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

inline const Stencils& GetStencils() {
  static const Stencils stencils = MakeStencils();
  return stencils;
}

inline std::uint64_t PackKey(int bx, int by, int bz) {
  // Block coordinates are in [-1, 2^(depth-3) + 1]; 21 bits each after the shift by 1.
  return std::uint64_t(bx + 1) | (std::uint64_t(by + 1) << 21) | (std::uint64_t(bz + 1) << 42);
}

inline constexpr int kTile = kBlock + 2;

// tile[(z+1) kTile^2 + (y+1) kTile + x + 1] = component `c` of node (lx=x, ly=y, lz=z) of
// `block` and its one-node halo (0 where the neighbouring block is not stored).
inline void GatherTile(const std::vector<std::array<std::int32_t, 27>>& neighbours,
                       const float* data, int components, int c, std::int32_t block, float* tile) {
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

}  // namespace facet::geometry::poisson
