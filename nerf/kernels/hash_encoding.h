// The per-point, per-level math of the multiresolution hash encoding (Müller et al., "Instant
// Neural Graphics Primitives with a Multiresolution Hash Encoding", SIGGRAPH 2022, sec. 3),
// shared by the CPU loops (nerf/hash_encoding.cpp) and the CUDA kernels (nerf/cuda/).
//
// Conventions (the paper's equations, not instant-ngp's later "pos * scale + 0.5" variant):
//   - level l has resolution N_l (a positive integer, see nerf/hash_encoding.h) and the grid
//     vertices v in {0..N_l}^3; a position p in [0,1]^3 (clamped) maps to x = p * N_l, its cell
//     c = min(floor(x), N_l - 1) per axis and the fraction t = x - c in [0,1];
//   - dense levels ((N_l+1)^3 <= 2^T) index vertex v as v.x + v.y (N_l+1) + v.z (N_l+1)^2;
//     hashed levels as (v.x * 1 XOR v.y * 2654435761 XOR v.z * 805459861) mod 2^T, in uint32
//     arithmetic (the products wrap modulo 2^32), so the mod is a mask;
//   - corner k (bit 0: +x, bit 1: +y, bit 2: +z) has trilinear weight
//     prod_axis (bit ? t : 1 - t); a level's output feature f is sum_k w_k table[idx_k][f].
// The parameters of a level start at `offset` and hold `entries` x F floats (entry-major).
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace facet::nerf::kernels {

inline constexpr int kHashGridMaxLevels = 32;
inline constexpr std::uint32_t kHashPrimeY = 2654435761u;
inline constexpr std::uint32_t kHashPrimeZ = 805459861u;

struct HashGridLevel {
  std::uint64_t offset = 0;      // first parameter of the level
  std::uint32_t resolution = 1;  // N_l: cells per axis
  std::uint32_t stride = 2;      // N_l + 1: vertices per axis (dense indexing)
  std::uint32_t entries = 8;     // table entries: (N_l+1)^3 dense, 2^T hashed
  std::uint32_t dense = 1;       // 1: dense indexing, 0: spatial hash (mask = entries - 1)
  float scale = 1.0f;            // float(N_l)
};

// Everything a kernel needs: passed by value to CUDA kernels (under 1 KiB).
struct HashGridLayout {
  int levels = 0;
  int features = 0;  // F
  HashGridLevel level[kHashGridMaxLevels] = {};
};

FACET_HOST_DEVICE inline float ClampUnit(float p) { return fminf(fmaxf(p, 0.0f), 1.0f); }

// The cell and fraction of a clamped coordinate p in [0,1] on a level of resolution n.
FACET_HOST_DEVICE inline void LocateAxis(float p, float scale, std::uint32_t n, std::uint32_t* cell,
                                         float* frac) {
  const float x = p * scale;
  std::uint32_t c = static_cast<std::uint32_t>(x);  // x >= 0: truncation is floor
  if (c >= n) c = n - 1;
  *cell = c;
  *frac = x - static_cast<float>(c);
}

// The table entries of the 8 corners of cell (x, y, z), corner order as above.
FACET_HOST_DEVICE inline void CornerEntries(const HashGridLevel& lv, std::uint32_t x,
                                            std::uint32_t y, std::uint32_t z,
                                            std::uint32_t idx[8]) {
  if (lv.dense) {
    const std::uint32_t s = lv.stride, s2 = s * s;
    const std::uint32_t b = x + y * s + z * s2;
    idx[0] = b;
    idx[1] = b + 1;
    idx[2] = b + s;
    idx[3] = b + s + 1;
    idx[4] = b + s2;
    idx[5] = b + s2 + 1;
    idx[6] = b + s2 + s;
    idx[7] = b + s2 + s + 1;
  } else {
    const std::uint32_t mask = lv.entries - 1;
    const std::uint32_t y0 = y * kHashPrimeY, y1 = (y + 1) * kHashPrimeY;
    const std::uint32_t z0 = z * kHashPrimeZ, z1 = (z + 1) * kHashPrimeZ;
    const std::uint32_t x1 = x + 1;
    idx[0] = (x ^ y0 ^ z0) & mask;
    idx[1] = (x1 ^ y0 ^ z0) & mask;
    idx[2] = (x ^ y1 ^ z0) & mask;
    idx[3] = (x1 ^ y1 ^ z0) & mask;
    idx[4] = (x ^ y0 ^ z1) & mask;
    idx[5] = (x1 ^ y0 ^ z1) & mask;
    idx[6] = (x ^ y1 ^ z1) & mask;
    idx[7] = (x1 ^ y1 ^ z1) & mask;
  }
}

// The entry of one grid vertex (for tests and tools; the loops use CornerEntries).
FACET_HOST_DEVICE inline std::uint32_t VertexEntry(const HashGridLevel& lv, std::uint32_t x,
                                                   std::uint32_t y, std::uint32_t z) {
  if (lv.dense) return x + y * lv.stride + z * lv.stride * lv.stride;
  return (x ^ (y * kHashPrimeY) ^ (z * kHashPrimeZ)) & (lv.entries - 1);
}

// Corner entries, trilinear weights and the per-axis fractions of clamped position (px, py, pz).
struct LevelCell {
  std::uint32_t idx[8];
  float w[8];
  float t[3];
};

FACET_HOST_DEVICE inline void LocateCell(const HashGridLevel& lv, float px, float py, float pz,
                                         LevelCell* cell) {
  std::uint32_t x, y, z;
  LocateAxis(px, lv.scale, lv.resolution, &x, &cell->t[0]);
  LocateAxis(py, lv.scale, lv.resolution, &y, &cell->t[1]);
  LocateAxis(pz, lv.scale, lv.resolution, &z, &cell->t[2]);
  CornerEntries(lv, x, y, z, cell->idx);
  const float tx = cell->t[0], ty = cell->t[1], tz = cell->t[2];
  const float ux = 1.0f - tx, uy = 1.0f - ty, uz = 1.0f - tz;
  const float a00 = uy * uz, a10 = ty * uz, a01 = uy * tz, a11 = ty * tz;
  cell->w[0] = ux * a00;
  cell->w[1] = tx * a00;
  cell->w[2] = ux * a10;
  cell->w[3] = tx * a10;
  cell->w[4] = ux * a01;
  cell->w[5] = tx * a01;
  cell->w[6] = ux * a11;
  cell->w[7] = tx * a11;
}

// Level output out[0..F) at clamped position (px, py, pz); `params` is the whole table.
template <int F>
FACET_HOST_DEVICE inline void LevelForward(const HashGridLevel& lv, const float* params, float px,
                                           float py, float pz, float* out) {
  LevelCell cell;
  LocateCell(lv, px, py, pz, &cell);
  const float* table = params + lv.offset;
  float acc[F];
  for (int f = 0; f < F; ++f) acc[f] = 0.0f;
  for (int k = 0; k < 8; ++k) {
    const float* e = table + static_cast<std::uint64_t>(cell.idx[k]) * F;
    for (int f = 0; f < F; ++f) acc[f] += cell.w[k] * e[f];
  }
  for (int f = 0; f < F; ++f) out[f] = acc[f];
}

// Scatters d_out[0..F) (dLoss/dOutput of this level) onto the table: add(i, value) with i the
// global parameter index (CPU: +=, CUDA: atomicAdd).
template <int F, typename Add>
FACET_HOST_DEVICE inline void LevelBackwardParams(const HashGridLevel& lv, float px, float py,
                                                  float pz, const float* d_out, Add&& add) {
  LevelCell cell;
  LocateCell(lv, px, py, pz, &cell);
  for (int k = 0; k < 8; ++k) {
    const std::uint64_t base = lv.offset + static_cast<std::uint64_t>(cell.idx[k]) * F;
    for (int f = 0; f < F; ++f) add(base + f, cell.w[k] * d_out[f]);
  }
}

// dLoss/dp of one level, from its located cell (of the clamped position), the level's table
// (params + offset), d_out[0..F) and the raw (unclamped) position p; added to d_pos[0..3). An
// axis whose coordinate lies outside [0,1] gets nothing (the clamp is flat there); on the
// boundary the derivative is the one of the cell inside.
template <int F>
FACET_HOST_DEVICE inline void CellPositionGradient(const LevelCell& cell, const float* table,
                                                   float scale, const float p[3],
                                                   const float* d_out, float d_pos[3]) {
  float g[8];  // dLoss/d(level output) . table entry, per corner
  for (int k = 0; k < 8; ++k) {
    const float* e = table + static_cast<std::uint64_t>(cell.idx[k]) * F;
    float s = 0.0f;
    for (int f = 0; f < F; ++f) s += d_out[f] * e[f];
    g[k] = s;
  }
  const float tx = cell.t[0], ty = cell.t[1], tz = cell.t[2];
  const float ux = 1.0f - tx, uy = 1.0f - ty, uz = 1.0f - tz;
  // d/dt_x of sum_k w_k g_k: the +x corners minus the -x corners, weighted in y and z.
  const float dx = uy * uz * (g[1] - g[0]) + ty * uz * (g[3] - g[2]) + uy * tz * (g[5] - g[4]) +
                   ty * tz * (g[7] - g[6]);
  const float dy = ux * uz * (g[2] - g[0]) + tx * uz * (g[3] - g[1]) + ux * tz * (g[6] - g[4]) +
                   tx * tz * (g[7] - g[5]);
  const float dz = ux * uy * (g[4] - g[0]) + tx * uy * (g[5] - g[1]) + ux * ty * (g[6] - g[2]) +
                   tx * ty * (g[7] - g[3]);
  const float d[3] = {dx, dy, dz};
  for (int a = 0; a < 3; ++a) {
    if (p[a] >= 0.0f && p[a] <= 1.0f) d_pos[a] += scale * d[a];
  }
}

// CellPositionGradient at the raw position p, locating the cell itself.
template <int F>
FACET_HOST_DEVICE inline void LevelBackwardPosition(const HashGridLevel& lv, const float* params,
                                                    const float p[3], const float* d_out,
                                                    float d_pos[3]) {
  LevelCell cell;
  LocateCell(lv, ClampUnit(p[0]), ClampUnit(p[1]), ClampUnit(p[2]), &cell);
  CellPositionGradient<F>(cell, params + lv.offset, lv.scale, p, d_out, d_pos);
}

}  // namespace facet::nerf::kernels
