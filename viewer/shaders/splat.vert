#version 460
// One instance per visible splat, in the order of SplatDrawPushConstants::order (back to front):
// a screen-space rectangle around its mean, drawn as a 4-vertex triangle strip, of the splat's
// radius (SplatRecord::mean2d_radius.zw) or, for centre dots, of the dot's. Culled splats (radius
// 0), and in the ellipsoid mode splats below its opacity, collapse to a point off screen.
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/shader_io.h"

layout(push_constant, std430) uniform PushConstants {
  SplatDrawPushConstants pc;
};

layout(location = 0) flat out vec4 out_conic_opacity;
layout(location = 1) flat out vec3 out_color;
layout(location = 2) flat out vec2 out_mean2d;

void main() {
  uint index = pc.order.indices[gl_InstanceIndex];
  SplatRecord r = pc.records.records[index];
  out_conic_opacity = r.conic_opacity;
  out_mean2d = r.mean2d_radius.xy;
  float z = r.color_depth.w;
  if (pc.mode == FACET_SPLAT_MODE_DEPTH) {
    out_color = vec3(clamp((z - pc.depth.x) * pc.depth.y, 0.0, 1.0));
  } else if (pc.mode == FACET_SPLAT_MODE_ALPHA) {
    out_color = vec3(1.0);
  } else {
    out_color = r.color_depth.rgb;
  }
  if (r.mean2d_radius.z <= 0.0 ||
      (pc.mode == FACET_SPLAT_MODE_ELLIPSOIDS && r.conic_opacity.w < pc.min_opacity)) {
    gl_Position = vec4(0.0, 0.0, 2.0, 0.0);  // culled: outside the clip volume (w = 0)
    return;
  }
  // Corners (-1, -1), (1, -1), (-1, 1), (1, 1). The CPU blends every pixel of the 16x16 tiles the
  // radius box touches, but beyond the box alpha < 1/255 (the extent is opacity-aware), so the box
  // plus a pixel of margin draws every pixel the CPU blends. The box also holds the 1-sigma
  // ellipse of an ellipsoid: its extent is >= 2.5 sigma for opacities >= 0.1.
  vec2 corner = vec2(float(gl_VertexIndex & 1), float(gl_VertexIndex >> 1)) * 2.0 - 1.0;
  vec2 half_size = pc.mode == FACET_SPLAT_MODE_CENTRES ? vec2(pc.image.w) : r.mean2d_radius.zw;
  vec2 pixel = r.mean2d_radius.xy + corner * (half_size + 1.0);
  // Pixels to NDC as in projection.h (viewport (0, 0, W, H), y down); depth near / z (reversed).
  vec2 ndc = 2.0 * pixel / pc.image.xy - 1.0;
  gl_Position = vec4(ndc, pc.image.z / z, 1.0);
}
