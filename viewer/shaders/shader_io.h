// Structs shared by the host (C++) and the shaders (GLSL): declared once here, so that a field
// added on one side cannot be forgotten on the other. Layouts follow std430 (storage buffers and
// push constants): only 4-component vectors and 4x4 matrices, so no vec3 padding rules apply;
// the C++ side static_asserts every offset.
#ifndef FACET_VIEWER_SHADERS_SHADER_IO_H_
#define FACET_VIEWER_SHADERS_SHADER_IO_H_

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>

namespace facet::viewer::shader {

struct alignas(16) vec4 {
  float x, y, z, w;
};
struct alignas(16) mat4 {
  float m[16];  // column-major, as GLSL's mat4 and Eigen's default
};
using uint = std::uint32_t;
// A buffer device address (VK_KHR_buffer_device_address, core in Vulkan 1.2).
#define FACET_BUFFER_REF(Type) std::uint64_t
#else
#define FACET_BUFFER_REF(Type) Type
#endif

// One vertex of a mesh or one point of a cloud, read by the vertex shader from a storage buffer
// (vertex pulling) through MeshPushConstants::vertices.
struct MeshVertex {
  vec4 position_in_world;  // xyz, w = 1
  vec4 normal_in_world;    // xyz unit length; w = 1 when present, 0 when absent
  vec4 color;              // linear RGB in [0, 1], a = 1
};

#ifndef __cplusplus
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer MeshVertexBuffer {
  MeshVertex vertices[];
};
#endif

// MeshPushConstants::flags
#define FACET_MESH_FLAG_LIT 1u  // Lambert shading; otherwise the vertex colour as is (points)

// Push constants of the mesh and point pipelines (96 bytes; Vulkan guarantees 128).
struct MeshPushConstants {
  mat4 clip_from_world;                       // projection * cam_from_world (see projection.h)
  vec4 light_dir_in_world;                    // xyz towards the light, unit; w = ambient term
  FACET_BUFFER_REF(MeshVertexBuffer) vertices;  // the MeshVertex array
  float point_size_px;                        // gl_PointSize of the point pipeline
  uint flags;                                 // FACET_MESH_FLAG_*
};

#ifdef __cplusplus
static_assert(sizeof(MeshVertex) == 48 && offsetof(MeshVertex, color) == 32);
static_assert(offsetof(MeshPushConstants, light_dir_in_world) == 64);
static_assert(offsetof(MeshPushConstants, vertices) == 80);
static_assert(offsetof(MeshPushConstants, point_size_px) == 88);
static_assert(offsetof(MeshPushConstants, flags) == 92 && sizeof(MeshPushConstants) == 96);
}  // namespace facet::viewer::shader
#endif

#endif  // FACET_VIEWER_SHADERS_SHADER_IO_H_
