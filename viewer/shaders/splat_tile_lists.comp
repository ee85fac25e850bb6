#version 460
// The tile lists of SplatTileRasterizer, per splat in front-to-back order (`order`), in two
// dispatches of this shader around the radix sort's scan (radix_sort_scan.comp):
//   kEmit = 0: tile_counts[k] = the tiles splat order[k] touches (0 when culled), and 0 for
//              k in [count, padded_count) (the scan's padding);
//   kEmit = 1: its entries, from offset tile_counts[k] + partials[k / scan_chunk] (the scanned
//              counts): key = tile id, value = splat index, so each tile's entries run front to
//              back, which the stable sort by tile id keeps. Entries past `capacity` are not
//              written (the farthest splats'); stats[1] says how many were needed.
// The tiles of a splat are those of kernels::TileBounds' (splatting/kernels/rasterize.h: the
// 16x16 tiles its radius box touches, in the same float math) where its ellipse can reach alpha
// 1/255 (TileTouched): the blend gives the CPU's image from fewer entries than the CPU's lists.
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/shader_io.h"

layout(local_size_x = FACET_SPLAT_TILE_GROUP) in;
layout(constant_id = 0) const uint kEmit = 0u;
layout(push_constant, std430) uniform PushConstants {
  SplatTilePushConstants pc;
};

// kernels::ClampToInt and kernels::TileBounds: [x0, x1) x [y0, y1) in tiles.
uvec4 TileRect(SplatRecord r) {
  const float ts = float(FACET_SPLAT_TILE);
  vec2 lo = floor((r.mean2d_radius.xy - r.mean2d_radius.zw) / ts);
  vec2 hi = floor((r.mean2d_radius.xy + r.mean2d_radius.zw) / ts) + 1.0;
  vec2 limit = vec2(pc.tiles_x, pc.tiles_y);
  lo = clamp(lo, vec2(0.0), limit);
  hi = clamp(hi, vec2(0.0), limit);
  return uvec4(lo, hi);
}

// kernels::SplatReachesTile (splatting/kernels/rasterize.h): whether splat r can reach alpha
// 1/255 at a pixel centre of tile (tx, ty), from the minimum of its quadratic form over the
// rectangle of the tile's pixel centres. `precise`: the count and emit pipelines must decide
// alike (no contraction differences between them).
bool TileTouched(vec4 mean_radius, vec4 conic_opacity, float q_max, uint tx, uint ty) {
  const float ts = float(FACET_SPLAT_TILE);
  precise const vec2 lo = vec2(tx, ty) * ts + 0.5 - mean_radius.xy;
  precise const vec2 hi = lo + (ts - 1.0);
  if (lo.x <= 0.0 && hi.x >= 0.0 && lo.y <= 0.0 && hi.y >= 0.0) return true;
  const float a = conic_opacity.x, b = conic_opacity.y, c = conic_opacity.z;
  precise float q_min = 3.4e38;
  for (int e = 0; e < 2; ++e) {
    precise const float x = e == 0 ? lo.x : hi.x;  // edge ux = x, uy in [lo.y, hi.y]
    precise const float uy = clamp(-b * x / c, lo.y, hi.y);
    q_min = min(q_min, a * x * x + 2.0 * b * x * uy + c * uy * uy);
    precise const float y = e == 0 ? lo.y : hi.y;  // edge uy = y, ux in [lo.x, hi.x]
    precise const float ux = clamp(-b * y / a, lo.x, hi.x);
    q_min = min(q_min, a * ux * ux + 2.0 * b * ux * y + c * y * y);
  }
  return q_min <= q_max * 1.001 + 0.01;
}

void main() {
  const uint stride = gl_NumWorkGroups.x * FACET_SPLAT_TILE_GROUP;
  const uint n = kEmit == 0u ? pc.padded_count : pc.count;
  for (uint k = gl_GlobalInvocationID.x; k < n; k += stride) {
    uint index = 0u;
    uvec4 rect = uvec4(0u);
    SplatRecord r;
    if (k < pc.count) {
      index = pc.order.indices[k];
      r = pc.records.records[index];
      if (r.mean2d_radius.z > 0.0) rect = TileRect(r);  // radius 0: culled
    }
    const float q_max = 2.0 * log(255.0 * r.conic_opacity.w);
    uint tiles = 0u;
    for (uint y = rect.y; y < rect.w; ++y) {
      for (uint x = rect.x; x < rect.z; ++x) {
        if (TileTouched(r.mean2d_radius, r.conic_opacity, q_max, x, y)) ++tiles;
      }
    }
    if (kEmit == 0u) {
      pc.tile_counts.indices[k] = tiles;
      continue;
    }
    uint offset = pc.tile_counts.indices[k] + pc.partials.indices[k / pc.scan_chunk];
    if (k + 1u == pc.count) {  // the last splat's entries end the lists
      pc.stats.indices[0] = min(offset + tiles, pc.capacity);
      pc.stats.indices[1] = offset + tiles;
    }
    for (uint y = rect.y; y < rect.w; ++y) {
      for (uint x = rect.x; x < rect.z && offset < pc.capacity; ++x) {
        if (!TileTouched(r.mean2d_radius, r.conic_opacity, q_max, x, y)) continue;
        pc.keys.indices[offset] = y * pc.tiles_x + x;
        pc.values.indices[offset] = index;
        ++offset;
      }
    }
  }
}
