#version 460
// Two-sided Lambert shading with an ambient term: the vertex normal when the mesh has one, else
// the face normal from the screen-space derivatives of the position (flat shading).
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/shader_io.h"

layout(push_constant, std430) uniform PushConstants {
  MeshPushConstants pc;
};

layout(location = 0) in vec3 in_position_in_world;
layout(location = 1) in vec3 in_normal_in_world;
layout(location = 2) in vec3 in_color;
layout(location = 3) in float in_has_normal;

layout(location = 0) out vec4 out_color;

void main() {
  vec3 color = in_color;
  if ((pc.flags & FACET_MESH_FLAG_LIT) != 0u) {
    vec3 n = in_has_normal > 0.5 ? normalize(in_normal_in_world)
                                 : normalize(cross(dFdx(in_position_in_world),
                                                   dFdy(in_position_in_world)));
    float ambient = pc.light_dir_in_world.w;
    float diffuse = abs(dot(n, pc.light_dir_in_world.xyz));
    color *= ambient + (1.0 - ambient) * diffuse;
  }
  out_color = vec4(color, 1.0);
}
