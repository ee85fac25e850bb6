#version 460
// Photo thumbnails: quad i is vertices 6i..6i+5, two triangles over its corners (top-left,
// top-right, bottom-right and top-left, bottom-right, bottom-left), pulled from
// ImageQuadPushConstants::quads.
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/shader_io.h"

layout(push_constant, std430) uniform PushConstants {
  ImageQuadPushConstants pc;
};

layout(location = 0) out vec2 out_uv;
layout(location = 1) flat out vec3 out_uv_max_layer;

const int kCorner[6] = int[6](0, 1, 2, 0, 2, 3);
const vec2 kCornerUv[4] = vec2[4](vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(1.0, 1.0), vec2(0.0, 1.0));

void main() {
  ImageQuad quad = pc.quads.quads[gl_VertexIndex / 6];
  int corner = kCorner[gl_VertexIndex % 6];
  out_uv = kCornerUv[corner] * quad.uv_max_layer.xy;
  out_uv_max_layer = quad.uv_max_layer.xyz;
  gl_Position = pc.clip_from_world * vec4(quad.corners_in_world[corner].xyz, 1.0);
}
