#version 460
// One workgroup per 16x16 tile, one thread per pixel: the tile's splats (its range of the sorted
// tile lists, front to back) are blended front to back as the CPU rasterizer does
// (splatting/detail/blend_tile_cpu.h, splatting/cuda/tile_kernels.cu, Kerbl et al. 2023, eq. 3):
//   alpha = min(0.99, o exp(power)), skipped below 1/255 or where power > 0; a splat that would
//   take T below 1e-4 is not blended and ends the pixel; C = sum c alpha T + T_final behind.
// Splats are loaded a batch of 256 at a time into shared memory; the workgroup stops when every
// pixel of the tile is done. With FACET_SPLAT_BLEND_OPAQUE, "behind" is the opaque layers'
// colour and a splat counts only in front of their depth (the quad path's depth test: near / z
// >= depth); as splats come front to back, the first one behind it ends the pixel.
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/shader_io.h"

const uint kThreads = FACET_SPLAT_TILE * FACET_SPLAT_TILE;
layout(local_size_x = FACET_SPLAT_TILE, local_size_y = FACET_SPLAT_TILE) in;
layout(push_constant, std430) uniform PushConstants {
  SplatBlendPushConstants pc;
};

// kernels::kMinAlpha, kMaxAlpha, kMinTransmittance.
const float kMinAlpha = 1.0 / 255.0;
const float kMaxAlpha = 0.99;
const float kMinTransmittance = 1e-4;

shared vec4 s_mean_depth[kThreads];     // xy mean (px), z its reversed-Z depth near / z
shared vec4 s_conic_opacity[kThreads];  // conic a, b, c and opacity
shared vec4 s_color[kThreads];          // rgb
shared vec4 s_box[kThreads];            // the pixels the CPU evaluates: x0, y0, x1, y1 (inclusive)
shared uint s_done;                     // pixels of the tile that are done

// kernels::ExpNonPositive<float>: the CPU's exp for x <= 0 (2^n times a degree-7 Taylor
// polynomial of e^f, arguments clamped at -20), so that both round alike.
float ExpNonPositive(float x) {
  x = max(x, -20.0);
  const float t = x * 1.44269504088896341;
  const float n = roundEven(t);
  const float f = (t - n) * 0.693147180559945309;
  const float p =
      1.0 + f * (1.0 + f * (0.5 + f * (1.0 / 6.0 + f * (1.0 / 24.0 + f * (1.0 / 120.0 +
                                                f * (1.0 / 720.0 + f * (1.0 / 5040.0)))))));
  return p * uintBitsToFloat(uint(int(n) + 127) << 23);
}

void main() {
  const uint tid = gl_LocalInvocationIndex;
  const uvec2 pixel = gl_WorkGroupID.xy * FACET_SPLAT_TILE + gl_LocalInvocationID.xy;
  const bool inside = pixel.x < pc.width && pixel.y < pc.height;
  const uint pix = pixel.y * pc.width + pixel.x;
  const bool hdr = (pc.flags & FACET_SPLAT_BLEND_HDR) != 0u;
  const bool opaque = (pc.flags & FACET_SPLAT_BLEND_OPAQUE) != 0u;
  const vec2 centre = vec2(pixel) + 0.5;  // COLMAP's pixel centre, as the CPU

  const uint tile = gl_WorkGroupID.y * pc.tiles_x + gl_WorkGroupID.x;
  const uint begin = pc.ranges.indices[2u * tile];
  const uint end = pc.ranges.indices[2u * tile + 1u];

  vec3 behind = pc.background.rgb;
  float opaque_depth = 0.0;  // reversed Z: 0 is infinitely far, so every splat is in front
  if (inside && opaque) {
    behind = hdr ? vec3(unpackHalf2x16(pc.pixels.indices[2u * pix]),
                        unpackHalf2x16(pc.pixels.indices[2u * pix + 1u]).x)
                 : unpackUnorm4x8(pc.pixels.indices[pix]).rgb;
    opaque_depth = uintBitsToFloat(pc.depth.indices[pix]);
  }

  if (tid == 0u) s_done = 0u;
  barrier();
  bool done = !inside;  // pixels past the image's edge count as done from the start
  bool counted = done;
  if (counted) atomicAdd(s_done, 1u);
  float trans = 1.0;
  vec3 rgb = vec3(0.0);
  for (uint start = begin; start < end; start += kThreads) {
    barrier();  // the last batch is read by all, and every pixel's done is counted
    if (s_done == kThreads) break;
    if (start + tid < end) {
      SplatRecord r = pc.records.records[pc.values.indices[start + tid]];
      s_mean_depth[tid] = vec4(r.mean2d_radius.xy, pc.near_plane / r.color_depth.w, 0.0);
      s_conic_opacity[tid] = r.conic_opacity;
      s_color[tid] = vec4(r.color_depth.rgb, 0.0);
      // detail::SplatBox (splatting/detail/blend_tile_cpu.h): beyond it alpha < 1/255.
      s_box[tid] = vec4(floor(r.mean2d_radius.xy - r.mean2d_radius.zw),
                        ceil(r.mean2d_radius.xy + r.mean2d_radius.zw));
    }
    barrier();
    const uint n = min(end - start, kThreads);
    for (uint j = 0u; !done && j < n; ++j) {
      const vec4 md = s_mean_depth[j];
      if (md.z < opaque_depth) {  // behind the opaque surface, as all after it
        done = true;
        break;
      }
      const vec4 box = s_box[j];
      if (any(lessThan(vec2(pixel), box.xy)) || any(greaterThan(vec2(pixel), box.zw))) continue;
      // kernels::SplatPower and kernels::SplatAlpha at d = mean2d - pixel centre.
      const vec4 co = s_conic_opacity[j];
      const vec2 d = md.xy - centre;
      const float power = -0.5 * (co.x * d.x * d.x + co.z * d.y * d.y) - co.y * d.x * d.y;
      if (power > 0.0) continue;
      const float alpha = min(kMaxAlpha, co.w * ExpNonPositive(power));
      if (alpha < kMinAlpha) continue;
      const float next = trans * (1.0 - alpha);
      if (next < kMinTransmittance) {  // not blended (the reference code)
        done = true;
        break;
      }
      rgb += (alpha * trans) * s_color[j].rgb;
      trans = next;
    }
    if (done && !counted) {
      atomicAdd(s_done, 1u);
      counted = true;
    }
  }
  if (!inside) return;
  const vec3 color = rgb + trans * behind;
  if (hdr) {
    pc.pixels.indices[2u * pix] = packHalf2x16(color.rg);
    pc.pixels.indices[2u * pix + 1u] = packHalf2x16(vec2(color.b, 1.0));
  } else {
    pc.pixels.indices[pix] = packUnorm4x8(vec4(color, 1.0));
  }
}
