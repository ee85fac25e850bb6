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
  mat4 clip_from_world;                         // projection * cam_from_world (see projection.h)
  vec4 light_dir_in_world;                      // xyz towards the light, unit; w = ambient term
  FACET_BUFFER_REF(MeshVertexBuffer) vertices;  // the MeshVertex array
  float point_size_px;                          // gl_PointSize of the point pipeline
  uint flags;                                   // FACET_MESH_FLAG_*
};

// ---- Gaussian splats (splat_renderer.h) ----

// One Gaussian as uploaded (splatting/gaussians.h's parametrisation, so that the shaders run the
// CPU rasterizer's float math on the same numbers). Its SH coefficients live in a separate float
// array, coefficient-major: coefficient k of channel c at [stride * i + 3 k + c], k = 0 the DC.
struct SplatGaussian {
  vec4 mean_opacity;  // xyz mean in world (scene units), w opacity logit (opacity = sigmoid)
  vec4 log_scale;     // xyz log standard deviations along the local axes, w unused
  vec4 rotation;      // quaternion (w, x, y, z) in (x, y, z, w) order, unnormalised
};

// What splat_preprocess.comp writes per Gaussian for one view: the rasterizer's Splat2D
// (splatting/kernels/rasterize.h). A zero radius (zw) marks a culled Gaussian.
struct SplatRecord {
  vec4 mean2d_radius;  // xy mean in pixels (COLMAP: first pixel centre at 0.5), zw radius px
  vec4 conic_opacity;  // xyz conic (a, b, c) = inverse 2D covariance (low-pass included), w opacity
  vec4 color_depth;    // rgb view-dependent colour (>= 0), w camera-space z
};

#ifndef __cplusplus
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer SplatGaussianBuffer {
  SplatGaussian gaussians[];
};
layout(buffer_reference, std430, buffer_reference_align = 4) readonly buffer SplatShBuffer {
  float sh[];
};
layout(buffer_reference, std430, buffer_reference_align = 16) buffer SplatRecordBuffer {
  SplatRecord records[];
};
layout(buffer_reference, std430, buffer_reference_align = 4) buffer SplatIndexBuffer {
  uint indices[];
};
#endif

// The buffers of one GpuSplats, written once when it is made (the per-view push constants below
// reference it, leaving their room to the view's parameters).
struct SplatModel {
  FACET_BUFFER_REF(SplatGaussianBuffer) gaussians;  // [count]
  FACET_BUFFER_REF(SplatShBuffer) sh;               // [count * sh_stride]
  FACET_BUFFER_REF(SplatRecordBuffer) records;      // [count], written by the preprocess
  FACET_BUFFER_REF(SplatIndexBuffer) sort_keys;     // [count], written: depth keys
  uint count;                                       // Gaussians
  uint sh_stride;                                   // floats per Gaussian in `sh`
  uint unused0, unused1;
};

#ifndef __cplusplus
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer SplatModelBuffer {
  SplatModel model;
};
#endif

// The depth key of a culled Gaussian in SplatModel::sort_keys. Visible ones hold
// ~floatBitsToUint(z_in_cam): z > near > 0, whose bits order like z, so ascending keys run back to
// front (the order of "over" blending) and never reach this value (that would need z = +0).
#define FACET_SPLAT_CULLED_KEY 0xffffffffu

// Push constants of splat_preprocess.comp (128 bytes, Vulkan's guaranteed minimum).
struct SplatPreprocessPushConstants {
  vec4 cam_from_world_rows[3];  // rows of [R | t] of cam_from_world
  vec4 intrinsics;              // fx, fy, cx, cy (pixels)
  vec4 image;                   // width px, height px, near plane (scene units), low-pass px^2
  // xyz: the crop box's minimum corner in world (means below it are culled); w: the factor
  // applied to every standard deviation.
  vec4 crop_min_scale;
  // xyz: the crop box's maximum corner in world (means above it are culled); w: the opacity
  // below which a Gaussian is culled.
  vec4 crop_max_opacity;
  FACET_BUFFER_REF(SplatModelBuffer) model;  // the GpuSplats' buffers
  // Bits 0-7: the SH degree evaluated, <= the stored degree; FACET_SPLAT_KEYS_FRONT_TO_BACK.
  uint sh_degree_flags;
  float clamp_factor;  // Jacobian tangent clamp, multiple of the half field of view
};

// SplatPreprocessPushConstants::sh_degree_flags: visible splats get the key floatBitsToUint(z)
// (ascending = front to back, the order of SplatTileRasterizer) instead of ~floatBitsToUint(z).
// Culled ones keep FACET_SPLAT_CULLED_KEY, above both (finite z > 0 has bits below 0x7f800000).
#define FACET_SPLAT_KEYS_FRONT_TO_BACK 0x100u

// SplatDrawPushConstants::mode: what each splat contributes (SplatRenderMode in splat_renderer.h).
#define FACET_SPLAT_MODE_SPLATS 0u      // the Gaussian, in its colour
#define FACET_SPLAT_MODE_CENTRES 1u     // an opaque dot of its colour at its 2D mean
#define FACET_SPLAT_MODE_ELLIPSOIDS 2u  // opaque inside its 1-sigma conic, in its colour
#define FACET_SPLAT_MODE_DEPTH 3u       // the Gaussian, in its normalised depth (grey)
#define FACET_SPLAT_MODE_ALPHA 4u       // the Gaussian, in white

// Push constants of splat.vert / splat.frag.
struct SplatDrawPushConstants {
  FACET_BUFFER_REF(SplatRecordBuffer) records;  // SplatModel::records
  FACET_BUFFER_REF(SplatIndexBuffer) order;     // Gaussian indices, back to front
  vec4 image;  // width px, height px, near plane (scene units), centre dot radius px
  vec4 depth;  // FACET_SPLAT_MODE_DEPTH: x the depth drawn black, y 1 / (white - black depth)
  uint mode;   // FACET_SPLAT_MODE_*
  float min_opacity;  // FACET_SPLAT_MODE_ELLIPSOIDS: splats below it are not drawn
  uint unused0, unused1;
};

// ---- The compute tile rasterizer of the splats (splat_tiles.h) ----

// Pixels per side of a tile: one workgroup of FACET_SPLAT_TILE^2 threads blends a tile.
#define FACET_SPLAT_TILE 16u
// Threads per workgroup of the per-splat and per-entry tile passes.
#define FACET_SPLAT_TILE_GROUP 256u

// Push constants of splat_tile_{count,emit,ranges}.comp. Entry e of the tile lists is one
// (splat, tile) pair: keys[e] the tile id (y * tiles_x + x), values[e] the splat's index.
struct SplatTilePushConstants {
  FACET_BUFFER_REF(SplatRecordBuffer) records;  // SplatModel::records
  FACET_BUFFER_REF(SplatIndexBuffer) order;     // [count] splat indices, front to back
  // [padded_count] tiles touched by each splat of `order`, then (after the radix sort's scan
  // shader) their exclusive prefix sum within chunks of FACET_SORT_SCAN_CHUNK.
  FACET_BUFFER_REF(SplatIndexBuffer) tile_counts;
  FACET_BUFFER_REF(SplatIndexBuffer) partials;  // the scanned chunk sums of tile_counts
  FACET_BUFFER_REF(SplatIndexBuffer) keys;      // [capacity] tile ids
  FACET_BUFFER_REF(SplatIndexBuffer) values;    // [capacity] splat indices
  FACET_BUFFER_REF(SplatIndexBuffer) ranges;    // [2 * tiles]: first and end entry of each tile
  // [0]: entries kept, min([1], capacity) (the sort's device count); [1]: entries needed.
  FACET_BUFFER_REF(SplatIndexBuffer) stats;
  uint count;         // splats in `order`
  uint padded_count;  // count rounded up to FACET_SORT_RADIX (the scan's granule)
  uint capacity;      // room in keys and values
  uint tiles_x;       // tiles per row: ceil(width / FACET_SPLAT_TILE)
  uint tiles_y;       // tile rows
  uint scan_chunk;    // FACET_SORT_SCAN_CHUNK
  uint unused0, unused1;
};

// SplatBlendPushConstants::flags
#define FACET_SPLAT_BLEND_HDR 1u     // `pixels` holds RGBA16F (2 words a pixel), else RGBA8
#define FACET_SPLAT_BLEND_OPAQUE 2u  // `pixels` and `depth` hold the opaque layers' image

// Push constants of splat_tile_blend.comp: one workgroup per tile.
struct SplatBlendPushConstants {
  FACET_BUFFER_REF(SplatRecordBuffer) records;  // SplatModel::records
  FACET_BUFFER_REF(SplatIndexBuffer) values;    // the sorted tile lists' splat indices
  FACET_BUFFER_REF(SplatIndexBuffer) ranges;    // [2 * tiles]
  // The colour image as a buffer, row-major, in the target's format: read (with
  // FACET_SPLAT_BLEND_OPAQUE) and written.
  FACET_BUFFER_REF(SplatIndexBuffer) pixels;
  // With FACET_SPLAT_BLEND_OPAQUE: the depth attachment (float near / z, reversed Z, 0 where
  // nothing was drawn), row-major.
  FACET_BUFFER_REF(SplatIndexBuffer) depth;
  vec4 background;  // rgb: the colour behind the splats without FACET_SPLAT_BLEND_OPAQUE
  uint width, height, tiles_x, flags;
  float near_plane;  // the near plane of the depth attachment's reversed Z
  uint unused0, unused1, unused2;
};

// ---- Photo thumbnails on camera frustums (image_quads.h) ----

// One textured quad: its corners in the world and where its thumbnail lies in the 2D-array
// texture (each thumbnail fills the top-left w x h texels of its W x H layer).
struct ImageQuad {
  vec4 corners_in_world[4];  // xyz: top-left, top-right, bottom-right, bottom-left; w = 1
  vec4 uv_max_layer;         // xy: (w / W, h / H), the thumbnail's texture extent; z: layer; w 0
};

#ifndef __cplusplus
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer ImageQuadBuffer {
  ImageQuad quads[];
};
#endif

// Push constants of image_quad.{vert,frag} (88 bytes used; the C++ struct pads to 96).
struct ImageQuadPushConstants {
  mat4 clip_from_world;                     // projection * cam_from_world (see projection.h)
  vec4 params;                              // x: opacity in [0, 1]; yz: half a texel in uv; w 0
  FACET_BUFFER_REF(ImageQuadBuffer) quads;  // the ImageQuad array
};

#ifdef __cplusplus
static_assert(sizeof(MeshVertex) == 48 && offsetof(MeshVertex, color) == 32);
static_assert(offsetof(MeshPushConstants, light_dir_in_world) == 64);
static_assert(offsetof(MeshPushConstants, vertices) == 80);
static_assert(offsetof(MeshPushConstants, point_size_px) == 88);
static_assert(offsetof(MeshPushConstants, flags) == 92 && sizeof(MeshPushConstants) == 96);
static_assert(sizeof(SplatGaussian) == 48 && sizeof(SplatRecord) == 48);
static_assert(offsetof(SplatModel, count) == 32 && sizeof(SplatModel) == 48);
static_assert(offsetof(SplatPreprocessPushConstants, crop_min_scale) == 80);
static_assert(offsetof(SplatPreprocessPushConstants, model) == 112);
static_assert(offsetof(SplatPreprocessPushConstants, sh_degree_flags) == 120);
static_assert(sizeof(SplatPreprocessPushConstants) == 128);
static_assert(offsetof(SplatDrawPushConstants, image) == 16);
static_assert(offsetof(SplatDrawPushConstants, depth) == 32);
static_assert(offsetof(SplatDrawPushConstants, mode) == 48);
static_assert(sizeof(SplatDrawPushConstants) == 64);
static_assert(offsetof(SplatTilePushConstants, count) == 64);
static_assert(sizeof(SplatTilePushConstants) == 96);
static_assert(offsetof(SplatBlendPushConstants, background) == 48);
static_assert(offsetof(SplatBlendPushConstants, near_plane) == 80);
static_assert(sizeof(SplatBlendPushConstants) == 96);
static_assert(sizeof(ImageQuad) == 80 && offsetof(ImageQuad, uv_max_layer) == 64);
static_assert(offsetof(ImageQuadPushConstants, params) == 64);
static_assert(offsetof(ImageQuadPushConstants, quads) == 80);
}  // namespace facet::viewer::shader
#endif

#endif  // FACET_VIEWER_SHADERS_SHADER_IO_H_
