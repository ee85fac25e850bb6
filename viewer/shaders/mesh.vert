#version 460
// Meshes and point clouds: vertices pulled from a storage buffer by gl_VertexIndex (the index
// buffer, when drawing triangles, supplies it), projected by MeshPushConstants::clip_from_world.
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/shader_io.h"

layout(push_constant, std430) uniform PushConstants {
  MeshPushConstants pc;
};

layout(location = 0) out vec3 out_position_in_world;
layout(location = 1) out vec3 out_normal_in_world;
layout(location = 2) out vec3 out_color;
layout(location = 3) out float out_has_normal;

void main() {
  MeshVertex v = pc.vertices.vertices[gl_VertexIndex];
  out_position_in_world = v.position_in_world.xyz;
  out_normal_in_world = v.normal_in_world.xyz;
  out_has_normal = v.normal_in_world.w;
  out_color = v.color.rgb;
  gl_Position = pc.clip_from_world * vec4(v.position_in_world.xyz, 1.0);
  gl_PointSize = pc.point_size_px;
}
