// Wavefront OBJ output for triangle meshes (the plain-text interchange format CAD tools, Blender
// and MeshLab read): `v x y z [r g b]` (vertex colours as the common MeshLab/Blender extension,
// linear RGB in [0, 1] written as is), `vn` when the mesh has normals, and 1-based `f a b c` (or
// `f a//a b//b c//c` with normals). No materials or texture coordinates.
#pragma once

#include <filesystem>

#include "geometry/triangle_mesh.h"

namespace facet::datasets {

// Writes atomically (WriteFileAtomically). Throws facet::Error for an invalid mesh
// (TriangleMesh::Check), non-finite coordinates or a mesh without triangles.
void WriteObj(const std::filesystem::path& path, const geometry::TriangleMesh& mesh);

}  // namespace facet::datasets
