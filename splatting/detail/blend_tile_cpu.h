// The per-tile blending loops of the CPU rasterizer (splatting/rasterizer_cpu.cpp), written so that
// the compiler vectorises them across the pixels of a row: the tile's per-pixel state is a
// structure of arrays with a row stride of 16, every splat visits only the rows and columns of its
// screen box, and the loop bodies are branch-free (selects), calling the shared per-pixel kernels
// of splatting/kernels/rasterize.h; every select tests one comparison (combined
// conditions become 8-bit booleans the vectoriser rejects), so that the compiler if-converts them
// (the file is compiled with -fno-trapping-math, which if-conversion of float arithmetic needs).
// Per-splat sums over pixels (the backward pass) go through per-column partial sums, since a
// floating-point reduction is not vectorised without reassociation. Included only by
// rasterizer_cpu.cpp, which compiles these loops once per instruction set.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "splatting/kernels/rasterize.h"

#define FACET_ALWAYS_INLINE inline __attribute__((always_inline))

namespace facet::splatting::detail {

inline constexpr int kTile = kernels::kTileSize;
inline constexpr int kTilePixels = kTile * kTile;

// Where a tile lies in the image, and the tile-local screen box of a splat within it.
struct TileRange {
  int tx0, ty0, tw, th;  // first pixel, width and height (edge tiles are smaller)
};

template <typename T>
FACET_ALWAYS_INLINE void SplatBox(const kernels::Splat2D<T>& s, const TileRange& t, int* x0,
                                  int* x1, int* y0, int* y1) {
  // Beyond mean +- radius, alpha < 1/255, which blending skips anyway: same result, less work.
  // Relative to the tile and clamped in floating point (no int overflow far off screen).
  *x0 = kernels::ClampToInt(std::floor(s.mean2d.x - T(s.radius_x)) - T(t.tx0), 0, t.tw);
  *x1 = kernels::ClampToInt(std::ceil(s.mean2d.x + T(s.radius_x)) + T(1 - t.tx0), 0, t.tw);
  *y0 = kernels::ClampToInt(std::floor(s.mean2d.y - T(s.radius_y)) - T(t.ty0), 0, t.th);
  *y1 = kernels::ClampToInt(std::ceil(s.mean2d.y + T(s.radius_y)) + T(1 - t.ty0), 0, t.th);
}

// The 8-aligned columns covering [x0, x1): [0, 8), [8, 16) or [0, 16). The extra columns lie
// outside the splat's box, where SplatAlpha returns 0 (alpha < 1/255), so they change nothing;
// trip counts that are multiples of the vector width leave no scalar remainder.
FACET_ALWAYS_INLINE void AlignedColumns(int x0, int x1, int* lo, int* hi) {
  static_assert(kTile == 16);
  *lo = x0 < 8 ? 0 : 8;
  *hi = x1 <= 8 ? 8 : 16;
}

// Forward state of a tile's pixels, index ly * kTile + lx.
template <typename T>
struct alignas(64) TileForward {
  T trans[kTilePixels], r[kTilePixels], g[kTilePixels], b[kTilePixels], depth[kTilePixels];
  std::int32_t last[kTilePixels], contrib[kTilePixels], done[kTilePixels];
};

// Blends the tile's splats (`ids`, depth order) front to back into `st`.
template <typename T>
FACET_ALWAYS_INLINE void BlendTileForwardImpl(const kernels::Splat2D<T>* splats,
                                              const std::int32_t* ids, std::int32_t count,
                                              const TileRange& t, TileForward<T>* st) {
  for (int p = 0; p < kTilePixels; ++p) {
    st->trans[p] = T(1);
    st->r[p] = st->g[p] = st->b[p] = st->depth[p] = T(0);
    st->last[p] = st->contrib[p] = 0;
    // Pixels outside an edge tile count as done, so the early exit sees only real ones.
    st->done[p] = (p % kTile < t.tw && p / kTile < t.th) ? 0 : 1;
  }
  for (std::int32_t k = 0; k < count; ++k) {
    if ((k & 15) == 0) {  // every 16 splats: stop when every pixel is saturated
      bool all_done = true;
      for (int p = 0; p < kTilePixels; ++p) all_done &= st->done[p] != 0;
      if (all_done) break;
    }
    const kernels::Splat2D<T> s = splats[ids[k]];
    int x0, x1, y0, y1;
    SplatBox(s, t, &x0, &x1, &y0, &y1);
    const std::int32_t k1 = k + 1;
    for (int ly = y0; ly < y1; ++ly) {
      const T dy = s.mean2d.y - (T(t.ty0 + ly) + T(0.5));
      const int row = ly * kTile;
      T* __restrict trans = st->trans + row;
      T* __restrict r = st->r + row;
      T* __restrict g = st->g + row;
      T* __restrict b = st->b + row;
      T* __restrict depth = st->depth + row;
      std::int32_t* __restrict last = st->last + row;
      std::int32_t* __restrict contrib = st->contrib + row;
      std::int32_t* __restrict done = st->done + row;
      int lo, hi;
      AlignedColumns(x0, x1, &lo, &hi);
#pragma GCC ivdep
      for (int lx = lo; lx < hi; ++lx) {
        const T dx = s.mean2d.x - (T(t.tx0 + lx) + T(0.5));
        T vis;
        const T alpha = kernels::SplatAlpha(s.conic, s.opacity, dx, dy, &vis);
        const T tr = trans[lx];
        // Selects on one comparison each (vectorisers if-convert these). A done pixel sees
        // alpha 0, so its `next` is its T (>= 1e-4) and nothing below changes it.
        const T live_alpha = done[lx] != 0 ? T(0) : alpha;
        const T next = tr * (T(1) - live_alpha);
        // Kerbl et al.: a splat that would take T below 1e-4 is not blended and ends the pixel.
        const T a = next < T(kernels::kMinTransmittance) ? T(0) : live_alpha;
        const T w = a * tr;
        r[lx] += w * s.color.x;
        g[lx] += w * s.color.y;
        b[lx] += w * s.color.z;
        depth[lx] += w * s.depth;
        trans[lx] = tr * (T(1) - a);
        last[lx] = a > T(0) ? k1 : last[lx];
        contrib[lx] += a > T(0) ? 1 : 0;
        done[lx] = next < T(kernels::kMinTransmittance) ? 1 : done[lx];
      }
    }
  }
}

// Backward state of a tile's pixels.
template <typename T>
struct alignas(64) TileBackward {
  T trans[kTilePixels], br[kTilePixels], bg[kTilePixels], bb[kTilePixels];
  T final_trans[kTilePixels], vr[kTilePixels], vg[kTilePixels], vb[kTilePixels];
  T va[kTilePixels], bg_dot[kTilePixels];
  std::int32_t last[kTilePixels];
};

// Per-splat 2D gradient accumulated over a tile: mean2d (2), conic (3), opacity, colour (3),
// |mean2d| per pixel (2).
inline constexpr int kGrad2DStride = 11;

// Walks the tile's splats back to front from each pixel's last contributor; for every splat that
// touched a pixel, calls emit(id, grad[kGrad2DStride]).
template <typename T, typename Emit>
FACET_ALWAYS_INLINE void BlendTileBackwardImpl(const kernels::Splat2D<T>* splats,
                                               const std::int32_t* ids, const TileRange& t,
                                               TileBackward<T>* st, std::int32_t max_last,
                                               Emit&& emit) {
  // Per-column partial sums of the 11 gradient entries (reduced per splat after its rows).
  alignas(64) T acc[kGrad2DStride][kTile];
  for (std::int32_t k = max_last - 1; k >= 0; --k) {
    const std::int32_t id = ids[k];
    const kernels::Splat2D<T> s = splats[id];
    int x0, x1, y0, y1;
    SplatBox(s, t, &x0, &x1, &y0, &y1);
    if (x0 >= x1 || y0 >= y1) continue;
    for (int j = 0; j < kGrad2DStride; ++j) {
      for (int lx = 0; lx < kTile; ++lx) acc[j][lx] = T(0);
    }
    bool touched = false;
    for (int ly = y0; ly < y1; ++ly) {
      const T dy = s.mean2d.y - (T(t.ty0 + ly) + T(0.5));
      const int row = ly * kTile;
      T* __restrict trans = st->trans + row;
      T* __restrict br = st->br + row;
      T* __restrict bgc = st->bg + row;
      T* __restrict bb = st->bb + row;
      const T* __restrict final_trans = st->final_trans + row;
      const T* __restrict vr = st->vr + row;
      const T* __restrict vg = st->vg + row;
      const T* __restrict vb = st->vb + row;
      const T* __restrict va = st->va + row;
      const T* __restrict bg_dot = st->bg_dot + row;
      const std::int32_t* __restrict last = st->last + row;
      std::int32_t any = 0;
      int lo, hi;
      AlignedColumns(x0, x1, &lo, &hi);
#pragma GCC ivdep
      for (int lx = lo; lx < hi; ++lx) {
        const T dx = s.mean2d.x - (T(t.tx0 + lx) + T(0.5));
        T vis;
        const T alpha = kernels::SplatAlpha(s.conic, s.opacity, dx, dy, &vis);
        // Off pixels (already past their last contributor, or alpha 0) run the step with
        // alpha 0 (finite) and keep their state.
        const T a = k < last[lx] ? alpha : T(0);
        const kernels::BlendStep<T> step = kernels::BlendBackward(
            trans[lx], kernels::Vec3<T>{br[lx], bgc[lx], bb[lx]}, final_trans[lx],
            kernels::Vec3<T>{vr[lx], vg[lx], vb[lx]}, va[lx], bg_dot[lx], s.color, a);
        const kernels::SplatAlphaGrad<T> ga =
            kernels::SplatAlphaVjp(s.conic, s.opacity, dx, dy, vis, a > T(0) ? step.v_alpha : T(0));
        acc[0][lx] += ga.v_mean2d.x;
        acc[1][lx] += ga.v_mean2d.y;
        acc[2][lx] += ga.v_conic.a;
        acc[3][lx] += ga.v_conic.b;
        acc[4][lx] += ga.v_conic.c;
        acc[5][lx] += ga.v_opacity;
        acc[6][lx] += a > T(0) ? step.v_color.x : T(0);
        acc[7][lx] += a > T(0) ? step.v_color.y : T(0);
        acc[8][lx] += a > T(0) ? step.v_color.z : T(0);
        acc[9][lx] += std::abs(ga.v_mean2d.x);
        acc[10][lx] += std::abs(ga.v_mean2d.y);
        trans[lx] = a > T(0) ? step.transmittance : trans[lx];
        br[lx] = a > T(0) ? step.behind.x : br[lx];
        bgc[lx] = a > T(0) ? step.behind.y : bgc[lx];
        bb[lx] = a > T(0) ? step.behind.z : bb[lx];
        any += a > T(0) ? 1 : 0;
      }
      touched |= any != 0;
    }
    if (!touched) continue;
    T grad[kGrad2DStride];
    for (int j = 0; j < kGrad2DStride; ++j) {
      T sum = T(0);
      for (int lx = 0; lx < kTile; ++lx) sum += acc[j][lx];
      grad[j] = sum;
    }
    emit(id, grad);
  }
}

}  // namespace facet::splatting::detail
