// Marching cubes over a VoxelBlockGrid (sparse) or a ScalarGrid (dense).
//
// The case table is generated, not typed in (geometry/kernels/marching_cubes.h): for each of the
// 256 corner-sign patterns the iso-contour is traced on the six faces of the cube, an ambiguous
// face (diagonal pattern) always separating its inside corners, and the resulting closed loops
// are triangulated at run time: a triangle as is, a quad along its flatter diagonal, longer loops
// as a fan around their centroid (ear-clipped hexagons fold over and self-intersect on
// non-planar loops; fans do not), never adding an edge across a face of the cube. Because a face's
// segments depend on that face's four corners only, two cells sharing a face agree, so the surface
// has no cracks; each crossed lattice edge gets one vertex shared by all its cells (welding by
// construction), so the output is edge- and vertex-manifold and consistently oriented (right-hand
// normals towards positive values). A value exactly at the iso-level counts as outside (>= iso), so
// there are no zero-length edges; vertices are kept strictly inside their lattice edge.
#pragma once

#include "core/backend.h"
#include "geometry/isosurface.h"
#include "geometry/triangle_mesh.h"
#include "geometry/voxel_block_grid.h"

namespace facet::geometry {

struct SurfaceExtractionOptions {
  // Voxels with weight <= min_weight are unknown.
  float min_weight = 0.0f;
  // kClose: every unknown voxel and every unallocated block takes the side of its nearest
  // source, where the sources are the known voxels (inside when negative) and the space beyond
  // the allocated blocks' bounding box (outside); distances are shortest paths through the
  // lattice (an unallocated block counts as one step of its width). Every cell then has a sign
  // at each corner and the surface is closed by construction (watertight): an unobserved gap in
  // a surface is spanned about halfway between the observations on either side, an object's
  // unobserved interior stays inside, a cavity bordered by observed free space stays outside,
  // and a surface seen from one side only closes about halfway between its observed band and
  // the edge of the volume. kOpen: only cells whose eight corners are known produce triangles
  // (Open3D's behaviour); the result may have boundaries.
  enum class Unknown { kClose, kOpen };
  Unknown unknown = Unknown::kClose;
  // Vertex colours interpolated from the voxels' (when the grid has colour).
  bool colors = true;
  // kCuda: run the per-block passes on the GPU (needs a CUDA build and a device); the mesh is
  // the same, array for array. The classification of unknown space stays on the CPU.
  Backend backend = Backend::kCpu;

  void Check() const;
};

// The zero level set of `grid`. Parallel over blocks; deterministic (same grid, same mesh, in the
// same order, on either backend). Returns an empty mesh when there is no surface.
TriangleMesh ExtractSurface(const VoxelBlockGrid& grid,
                            const SurfaceExtractionOptions& options = {});

// Marching cubes on a dense grid (the surface where the field crosses `iso`, oriented towards
// larger values). Closed when the values on the grid's border are all >= iso.
TriangleMesh MarchingCubes(const ScalarGrid& grid, float iso = 0.0f);

}  // namespace facet::geometry
