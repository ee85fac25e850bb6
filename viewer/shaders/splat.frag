#version 460
// The Gaussian of one splat at this pixel's centre, as premultiplied colour for the blend
// src + (1 - src_alpha) dst (back to front). Mirrors kernels::SplatPower and kernels::SplatAlpha
// (splatting/kernels/rasterize.h): alpha = min(0.99, o exp(power)), skipped below 1/255. Centre
// dots and ellipsoids are opaque (alpha 1), so the blend keeps the last one drawn: the nearest.
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/shader_io.h"

layout(push_constant, std430) uniform PushConstants {
  SplatDrawPushConstants pc;
};

layout(location = 0) flat in vec4 in_conic_opacity;
layout(location = 1) flat in vec3 in_color;
layout(location = 2) flat in vec2 in_mean2d;

layout(location = 0) out vec4 out_color;

// kernels::kMinAlpha, kMaxAlpha.
const float kMinAlpha = 1.0 / 255.0;
const float kMaxAlpha = 0.99;

void main() {
  // gl_FragCoord.xy is the pixel centre (x + 0.5, y + 0.5): COLMAP's convention, as the CPU.
  vec2 d = in_mean2d - gl_FragCoord.xy;
  if (pc.mode == FACET_SPLAT_MODE_CENTRES) {
    if (dot(d, d) > pc.image.w * pc.image.w) discard;
    out_color = vec4(in_color, 1.0);
    return;
  }
  vec3 conic = in_conic_opacity.xyz;
  float power = -0.5 * (conic.x * d.x * d.x + conic.z * d.y * d.y) - conic.y * d.x * d.y;
  if (pc.mode == FACET_SPLAT_MODE_ELLIPSOIDS) {
    // Inside the ellipse d^T conic d <= 1, i.e. power >= -1/2.
    if (power < -0.5) discard;
    out_color = vec4(in_color, 1.0);
    return;
  }
  if (power > 0.0) discard;
  float alpha = min(kMaxAlpha, in_conic_opacity.w * exp(power));
  if (alpha < kMinAlpha) discard;
  out_color = vec4(in_color * alpha, alpha);
}
