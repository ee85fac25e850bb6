// Mesh thumbnails for report.html: a small CPU z-buffer rasteriser, the fallback when the Vulkan
// viewer's offscreen render (`facet view --offscreen`, which `facet reconstruct` tries first)
// cannot run, so that a report shows the mesh on any machine.
#pragma once

#include <Eigen/Core>

#include "core/image.h"
#include "geometry/triangle_mesh.h"

namespace facet::pipeline {

// Renders `mesh` as seen looking along `view_direction` (world frame, from the eye towards the
// mesh; any length) with a perspective camera (about 40 degrees across) framing the mesh's
// vertices centred, filling about 90% of the image's tighter side. `up` is the world direction
// shown upwards (any other one when it is parallel to the view direction).
//
// Shading: the vertex colours (linear RGB; a neutral blue-grey without them) times ambient +
// Lambert light from a lamp above-left of the eye; vertex normals when the mesh has them, face
// normals otherwise. Faces seen from behind (open meshes) are lit as two-sided, slightly darker.
// 2x2 supersampled; background light grey. Returns a width x height 3-channel sRGB image.
// Throws facet::Error for a size outside 1-8192, a zero or non-finite direction, or an invalid
// mesh (TriangleMesh::Check).
ImageU8 RenderMeshThumbnail(const geometry::TriangleMesh& mesh,
                            const Eigen::Vector3d& view_direction, int width, int height,
                            const Eigen::Vector3d& up = Eigen::Vector3d::UnitZ());

// The thumbnail's background colour (sRGB).
inline constexpr std::uint8_t kThumbnailBackground[3] = {236, 238, 242};

}  // namespace facet::pipeline
