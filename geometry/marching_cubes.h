// Marching cubes over a VoxelBlockGrid (sparse) or a ScalarGrid (dense).
//
// The case table is generated, not typed in (geometry/kernels/marching_cubes.h): for each of the
// 256 corner-sign patterns the iso-contour is traced on the six faces of the cube, an ambiguous
// face (diagonal pattern) always separating its inside corners, and the resulting closed loops
// are triangulated without adding an edge across a face of the cube. Because a face's segments depend on that face's four corners only,
// two cells sharing a face agree, so the surface has no cracks; each crossed lattice edge gets
// one vertex shared by all its cells (welding by construction), so the output is edge- and
// vertex-manifold and consistently oriented (right-hand normals towards positive values). A
// value exactly at the iso-level counts as outside (>= iso), so there are no zero-length edges;
// vertices are kept strictly inside their lattice edge.
#pragma once

#include "geometry/isosurface.h"
#include "geometry/triangle_mesh.h"
#include "geometry/voxel_block_grid.h"

namespace facet::geometry {

struct SurfaceExtractionOptions {
  // Voxels with weight <= min_weight are unknown.
  float min_weight = 0.0f;
  // kClose: unknown voxels and unallocated space are classified by a flood fill seeded at the
  // border of the allocated region and at every known non-negative voxel, passing through
  // unknown and non-negative voxels (known negative voxels are walls): what it reaches is
  // outside, the rest inside. Unknown space next to observed free space is thus outside, and
  // unknown space reachable only from the inside of the surface (the interior of a scanned
  // object, beyond the truncation band) is inside. Every cell then has a sign at each corner and
  // the surface is closed by construction (watertight), also where the input has holes: where
  // the outside reaches behind a surface seen from one side only, the surface closes along the
  // far side of the observed band (a shell as thick as the band). kOpen: only cells whose eight
  // corners are known produce triangles (Open3D's behaviour); the result may have boundaries.
  enum class Unknown { kClose, kOpen };
  Unknown unknown = Unknown::kClose;
  // Vertex colours interpolated from the voxels' (when the grid has colour).
  bool colors = true;

  void Check() const;
};

// The zero level set of `grid`. Parallel over blocks; deterministic (same grid, same mesh, in the
// same order). Returns an empty mesh when there is no surface.
TriangleMesh ExtractSurface(const VoxelBlockGrid& grid,
                            const SurfaceExtractionOptions& options = {});

// Marching cubes on a dense grid (the surface where the field crosses `iso`, oriented towards
// larger values). Closed when the values on the grid's border are all >= iso.
TriangleMesh MarchingCubes(const ScalarGrid& grid, float iso = 0.0f);

}  // namespace facet::geometry
