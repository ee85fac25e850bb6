#version 460
// The entries of each tile in the sorted tile lists: ranges[2 t] = its first entry, ranges[2 t + 1]
// one past its last (both 0, from a fill before this pass, for a tile without entries).
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/shader_io.h"

layout(local_size_x = FACET_SPLAT_TILE_GROUP) in;
layout(push_constant, std430) uniform PushConstants {
  SplatTilePushConstants pc;
};

void main() {
  const uint stride = gl_NumWorkGroups.x * FACET_SPLAT_TILE_GROUP;
  const uint n = pc.stats.indices[0];  // the entries kept
  for (uint e = gl_GlobalInvocationID.x; e < n; e += stride) {
    const uint tile = pc.keys.indices[e];
    if (e == 0u || pc.keys.indices[e - 1u] != tile) pc.ranges.indices[2u * tile] = e;
    if (e + 1u == n || pc.keys.indices[e + 1u] != tile) pc.ranges.indices[2u * tile + 1u] = e + 1u;
  }
}
