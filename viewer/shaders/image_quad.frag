#version 460
// The thumbnail's texel, premultiplied by the opacity (the pipeline blends "over"). The texture
// coordinate stays half a texel inside the thumbnail, so bilinear filtering never reaches the
// unused part of its layer.
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/shader_io.h"

layout(push_constant, std430) uniform PushConstants {
  ImageQuadPushConstants pc;
};

layout(set = 0, binding = 0) uniform sampler2DArray thumbnails;

layout(location = 0) in vec2 in_uv;
layout(location = 1) flat in vec3 in_uv_max_layer;

layout(location = 0) out vec4 out_color;

void main() {
  vec2 half_texel = pc.params.yz;
  vec2 uv = clamp(in_uv, half_texel, in_uv_max_layer.xy - half_texel);
  vec3 rgb = texture(thumbnails, vec3(uv, in_uv_max_layer.z)).rgb;
  float opacity = pc.params.x;
  out_color = vec4(rgb * opacity, opacity);
}
