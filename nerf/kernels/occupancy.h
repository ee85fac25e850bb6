// The multi-cascade occupancy grid of instant-ngp (Müller et al. 2022, sec. 4 and appendix E.2)
// as seen by the per-sample code: cascade lookup, cell index, the distance to the next cell
// boundary along a ray (instant-ngp's distance_to_next_voxel), and the hash-based random numbers
// that make the jitter independent of the thread schedule. Shared by the CPU loops
// (nerf/occupancy_grid.cpp, nerf/ray_marching.cpp) and the CUDA kernels (nerf/cuda/).
//
// Geometry: cascade 0 is the scene box, centre `centre`, half side `half_extent` per axis (scene
// units; the box need not be a cube, its cells are then boxes too). Cascade c is the same box
// scaled by 2^c around the centre. Each cascade has resolution^3 cells; cell (x, y, z) of cascade
// c has the linear index ((c * res + z) * res + y) * res + x, x fastest, with x/y/z along the
// scene axes from the cascade box's min corner. A point belongs to the finest cascade that
// contains it (instant-ngp's mip_from_pos).
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace facet::nerf::kernels {

struct GridView {
  float centre[3] = {0.0f, 0.0f, 0.0f};
  float half_extent[3] = {0.5f, 0.5f, 0.5f};  // of cascade 0, > 0 per axis
  int resolution = 128;
  int cascades = 1;
  // cascades * resolution^3 bytes, nonzero = occupied; host or device memory as the caller runs.
  const std::uint8_t* occupancy = nullptr;
};

// max / min of finite floats as selects: glibc's fmaxf / fminf are out-of-line calls on x86-64
// (they order NaNs), and these run per sample.
FACET_HOST_DEVICE inline float MaxF(float a, float b) { return a > b ? a : b; }
FACET_HOST_DEVICE inline float MinF(float a, float b) { return a < b ? a : b; }

// The finest cascade containing x (|x - centre| <= half_extent * 2^c on every axis), or
// g.cascades when x is outside the outermost cascade.
FACET_HOST_DEVICE inline int CascadeOf(const GridView& g, const float x[3]) {
  float m = 0.0f;
  for (int k = 0; k < 3; ++k) m = MaxF(m, fabsf(x[k] - g.centre[k]) / g.half_extent[k]);
  int c = 0;
  float scale = 1.0f;
  while (m > scale && c < g.cascades) {
    scale *= 2.0f;
    ++c;
  }
  return c;
}

// Coordinate of x along axis k in cells of cascade c (0 at the cascade box's min face). The one
// formula CellIndex and DistanceToNextCell share, so that a skipped cell is the looked-up cell.
FACET_HOST_DEVICE inline float CellCoordinate(const GridView& g, const float x[3], int c, int k) {
  const float side = 2.0f * g.half_extent[k] * float(1u << c);
  return (x[k] - g.centre[k] + 0.5f * side) * (float(g.resolution) / side);
}

// Linear index of the cell of cascade c holding x; coordinates clamp to the cascade's cells.
FACET_HOST_DEVICE inline std::uint32_t CellIndex(const GridView& g, const float x[3], int c) {
  std::uint32_t index[3];
  for (int k = 0; k < 3; ++k) {
    int i = int(floorf(CellCoordinate(g, x, c, k)));
    i = i < 0 ? 0 : (i >= g.resolution ? g.resolution - 1 : i);
    index[k] = std::uint32_t(i);
  }
  const auto res = std::uint32_t(g.resolution);
  return ((std::uint32_t(c) * res + index[2]) * res + index[1]) * res + index[0];
}

// Centre of cell `index` (layout above), scene coordinates: the cascade box's centre plus
// (u - 1/2) x its side, u = (cell + 1/2) / resolution per axis.
FACET_HOST_DEVICE inline void CellCentre(const GridView& g, std::uint32_t index, float x[3]) {
  const auto res = std::uint32_t(g.resolution);
  const std::uint32_t cell[3] = {index % res, (index / res) % res, (index / (res * res)) % res};
  const int c = int(index / (res * res * res));
  for (int k = 0; k < 3; ++k) {
    const float side = 2.0f * g.half_extent[k] * float(1u << c);
    const float u = (float(cell[k]) + 0.5f) / float(res);
    x[k] = g.centre[k] + (u - 0.5f) * side;
  }
}

// The point an occupancy update evaluates in cell `index`: its centre plus a jitter uniform over
// the cell, drawn from (seed, index) (the same on every backend).
FACET_HOST_DEVICE inline void JitteredCellPoint(const GridView& g, std::uint32_t index,
                                                std::uint32_t seed, float x[3]);

// True when x lies in an occupied cell of its finest cascade; false outside all cascades.
FACET_HOST_DEVICE inline bool OccupiedAt(const GridView& g, const float x[3]) {
  const int c = CascadeOf(g, x);
  if (c >= g.cascades) return false;
  return g.occupancy[CellIndex(g, x, c)] != 0;
}

// Distance along the ray (unit direction d) from x to the boundary of x's cell in cascade c,
// >= 0. Axes with d[k] == 0 never cross.
FACET_HOST_DEVICE inline float DistanceToNextCell(const GridView& g, const float x[3],
                                                  const float d[3], int c) {
  float t = INFINITY;
  for (int k = 0; k < 3; ++k) {
    if (d[k] == 0.0f) continue;
    const float cell = 2.0f * g.half_extent[k] * float(1u << c) / float(g.resolution);
    const float p = CellCoordinate(g, x, c, k);
    const float boundary = d[k] > 0.0f ? floorf(p) + 1.0f : floorf(p);
    t = MinF(t, (boundary - p) * cell / d[k]);
  }
  return MaxF(t, 0.0f);
}

// A 32-bit integer hash (the "lowbias32" finaliser of C. Wellons), mixing well in every bit.
FACET_HOST_DEVICE inline std::uint32_t Hash32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// A uniform float in [0, 1) determined by (seed, index, lane): the same on every backend.
FACET_HOST_DEVICE inline float UniformFloat(std::uint32_t seed, std::uint32_t index,
                                            std::uint32_t lane) {
  const std::uint32_t h = Hash32(Hash32(seed ^ 0x9e3779b9u) ^ Hash32(index * 4u + lane));
  return float(h >> 8) * (1.0f / 16777216.0f);
}

FACET_HOST_DEVICE inline void JitteredCellPoint(const GridView& g, std::uint32_t index,
                                                std::uint32_t seed, float x[3]) {
  CellCentre(g, index, x);
  const auto res = std::uint32_t(g.resolution);
  const int c = int(index / (res * res * res));
  for (int k = 0; k < 3; ++k) {
    const float jitter = UniformFloat(seed, index, std::uint32_t(k)) - 0.5f;
    x[k] += jitter * (2.0f * g.half_extent[k]) * float(1u << c) / float(res);
  }
}

// Whether an occupancy update evaluates cell `index` (instant-ngp: every cell during warm-up,
// then the occupied ones and a random `refresh_fraction` of the others, decided from (seed, cell)).
FACET_HOST_DEVICE inline bool CellRefreshed(bool all, bool occupied, float refresh_fraction,
                                            std::uint32_t seed, std::uint32_t index) {
  return all || occupied || UniformFloat(seed ^ 0x51ed270bu, index, 3) < refresh_fraction;
}

}  // namespace facet::nerf::kernels
