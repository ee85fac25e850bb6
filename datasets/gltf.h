// glTF 2.0 binary (.glb) output and input for triangle meshes, through tinygltf.
//
// Format: Khronos glTF 2.0 specification (https://registry.khronos.org/glTF/specs/2.0/),
// section 4.4 "Binary glTF layout". Units and axes are passed through unchanged: glTF declares
// metres and a right-handed frame with +Y up, so a caller that wants a viewer to show a
// COLMAP-frame scene upright converts (x, y, z) -> (x, -y, -z) before writing.
//
// What WriteGlb writes, chosen so that the Khronos glTF validator reports no errors and no
// warnings:
//   - one scene with one node and one mesh of one indexed TRIANGLES primitive, one buffer (the
//     GLB BIN chunk) and one bufferView per attribute, each starting at a multiple of 4 bytes;
//   - POSITION: float32 VEC3 with the accessor min/max (of the float32 values) the spec requires;
//   - NORMAL (when the mesh has vertex normals): float32 VEC3, renormalised after rounding;
//   - COLOR_0 (when the mesh has vertex colours): float32 VEC3 linear RGB clamped to [0, 1]
//     (float VEC3 needs no padding, unlike 3-component unsigned byte/short colours), with a
//     material using KHR_materials_unlit (listed in extensionsUsed): vertex colours from photos or
//     scans already contain the lighting, so viewers should not shade them again (for viewers
//     without the extension the PBR fallback is non-metallic, as in the extension's example);
//   - indices: uint32 SCALAR; a mesh needing index 0xFFFFFFFF (the primitive-restart value
//     glTF forbids) or a GLB over 4 GiB (its length field is 32-bit) is refused with an error;
//   - asset.generator "facet <version>".
#pragma once

#include <filesystem>
#include <string>

#include "geometry/triangle_mesh.h"

namespace facet::datasets {

struct GlbOptions {
  // Write NORMAL when the mesh has vertex normals.
  bool write_normals = true;
  // Write COLOR_0 (and the unlit material) when the mesh has vertex colours.
  bool write_colors = true;
  // Name of the mesh and its node, shown by viewers; valid UTF-8.
  std::string name = "mesh";

  // Throws facet::Error naming the field when `name` is not valid UTF-8.
  void Check() const;
};

// Writes `mesh` as a .glb file (see above), atomically (WriteFileAtomically). Throws facet::Error
// for an invalid mesh (TriangleMesh::Check, non-finite coordinates, zero normals), an empty mesh,
// or one too large for glTF/GLB.
void WriteGlb(const std::filesystem::path& path, const geometry::TriangleMesh& mesh,
              const GlbOptions& options = {});

// Reads every triangle primitive that the default scene (or, without scenes, every root node;
// without nodes, every mesh) instantiates, with node transforms applied (matrix or TRS; normals by
// the inverse transpose, renormalised; winding reversed under a negative determinant, as the
// spec says), merged into one mesh. Accepts POSITION (float32 VEC3), optional NORMAL (float32
// VEC3) and COLOR_0 (float32, normalised uint8 or uint16; VEC3, or VEC4 whose alpha is dropped),
// uint8/16/32 indices or none (consecutive triples). Normals are kept only when every primitive
// has them; colours, when any primitive has them (others become white). Images are not decoded
// and external files are not opened: buffers must be in the GLB or data URIs.
// Throws facet::Error naming the file for anything else: not a GLB 2.0 file, truncation,
// accessors outside their buffers, non-triangle modes, sparse accessors, Draco or meshopt
// compression, required extensions facet does not know, out-of-range indices, or node graphs
// that are not trees. Memory is bounded by the file size: at most 16 times the vertices and
// triangles the file could store directly, so instancing cannot blow it up.
geometry::TriangleMesh ReadGlb(const std::filesystem::path& path);

}  // namespace facet::datasets
