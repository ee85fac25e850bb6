// Vertex colours from the photos a mesh was reconstructed from: every vertex takes the mean of the
// photo colours where it projects, over the views that see it, with occlusion resolved by a
// z-buffer of the mesh per view and grazing views left out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/image.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "geometry/triangle_mesh.h"

namespace facet::geometry {

// One photo and where it was taken from. The view borrows the pixels: they must outlive the call.
struct PhotoView {
  Camera camera{};                      // any model; distortion is applied (Camera::ImgFromCam)
  Rigid3 cam_from_world{};              // x_in_cam = cam_from_world * x_in_world
  ImageView<const std::uint8_t> rgb{};  // sRGB, 3 channels, camera.width x camera.height
};

struct PhotoColorOptions {
  // A vertex is visible when its depth exceeds the z-buffer's by at most
  // max(relative_depth_tolerance * depth, min_depth_tolerance). Relative (>= 0) ...
  double relative_depth_tolerance = 0.01;
  // ... with an absolute floor (>= 0) in world units; 0 because reconstructions have any scale.
  double min_depth_tolerance = 0.0;
  // Longer side of the z-buffer in pixels (>= 16); larger photos get a proportionally smaller
  // z-buffer. A coarser z-buffer is faster and blurs occlusion edges by its pixel size.
  int max_size = 800;
  // A view contributes only when the cosine between the vertex normal and the direction to the
  // camera is at least this (in [0, 1)); it is also the view's weight.
  double min_cos = 0.1;
  // Surfaces seen from either side count (|cos| above): for reconstructions whose orientation
  // relative to the cameras is not known, e.g. a room closed around cameras standing inside it.
  bool two_sided = false;

  // Throws facet::Error naming the field out of range.
  void Check() const;
};

// Colours the vertices of `mesh` (linear RGB) from `views`. Per view, the mesh is rasterised into
// a z-buffer (the vertices projected with the camera's model and scaled to the z-buffer size,
// each triangle rasterised as the straight triangle between its projected corners, depth
// interpolated perspective-correctly, so distorted cameras are exact only for small triangles;
// triangles with a corner behind the camera are not drawn). A vertex that projects inside the
// photo is visible when its depth is within the tolerance of the largest z-buffer depth in the
// 3x3 pixels around it (so its own triangles never hide it), the view is not grazing, and no
// empty z-buffer pixel touches its projection (on the silhouette the photo mixes in background). It
// accumulates the photo's colour at its projection (bilinear, in linear light) weighted by the
// cosine. Vertices seen by no view keep their colour, or become mid grey (sRGB 128) when the
// mesh had no colours. Vertex normals are those of the mesh, or the area-weighted ones when the
// mesh has none (computed for the call, not kept).
//
// Views are processed one after another, each in parallel over vertices and triangles; memory is
// one z-buffer (4 bytes a pixel) and a few values per vertex. Returns the number of vertices
// seen by at least one view. Throws facet::Error when `views` is empty, a camera fails
// Camera::Check, a photo is not 3 channels of the camera's size, the mesh fails
// TriangleMesh::Check, or the options are out of range.
std::size_t ColorVerticesFromPhotos(TriangleMesh& mesh, std::span<const PhotoView> views,
                                    const PhotoColorOptions& options = {});

}  // namespace facet::geometry
