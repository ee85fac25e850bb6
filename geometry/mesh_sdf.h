// Signed distance field of a triangle mesh on a sparse voxel grid, with the inside decided by the
// generalized winding number (winding_number.h) rather than by normals or ray parity, so that
// meshes with holes, several overlapping components or self-intersections still get one
// consistent inside; and the watertight re-meshing built on it.
//
// Below, w is the generalized winding number, or its magnitude with ignore_orientation (the
// default). The grid MeshToSdf returns (voxel_block_grid.h conventions; every allocated voxel is
// known, weight 1; T = band * voxel_size):
//   - band blocks: every block with a voxel within T of a triangle. A voxel within T holds the
//     distance to the nearest triangle, negated where w exceeds the threshold (inside; a voxel
//     lying on the triangles takes the side of a point nudged 1e-3 voxel off them, and inside
//     is never -0, which marching cubes would count as outside);
//   - every other allocated voxel holds T * clamp((threshold - w) / 0.25, -1, 1): its side
//     (beyond the band only the sign matters), and, close to the w = threshold level set away
//     from the triangles (the surface that spans a hole), a value linear in w, so that marching
//     cubes places that patch between the voxels rather than at their midpoints (to save
//     winding numbers, a voxel next to one clearly, >= 0.25, on one side may take its w: see
//     FillBlock in mesh_sdf.cpp for why that cannot change the side);
//   - outside the band, blocks where w is clearly above the threshold at the block's corners and
//     centre are allocated as inside (-T), blocks where it is near or crosses the threshold get
//     a winding number per voxel, and blocks clearly outside are left unallocated unless they are
//     enclosed (cut off from the border by allocated blocks, e.g. a cavity), which are allocated
//     as outside (+T).
// So the unallocated space is all outside and connected to infinity, and ExtractSurface's
// flood fill (Unknown::kClose) cannot leak through a hole of the band into the interior: the
// extracted surface is the boundary of {w > threshold} at voxel resolution, closed by
// construction, following the input within the band and spanning its holes elsewhere.
#pragma once

#include <cstdint>

#include "geometry/triangle_mesh.h"
#include "geometry/voxel_block_grid.h"

namespace facet::geometry {

struct MeshSdfOptions {
  // Lattice spacing, in the mesh's units (metres for facet's scenes). > 0.
  double voxel_size = 0.01;
  // Half-width of the band of exact distances, in voxels (1 .. 64). Marching cubes needs 1;
  // more keeps the field a true distance further out, for smoothing or offsetting.
  int band = 3;
  // Generalized winding number above which a point is inside, in (0, 1). 1/2 is the natural
  // choice: a hole's spanning surface then sits where half the solid angle is covered.
  double winding_threshold = 0.5;
  // Inside where |w| > threshold rather than w > threshold, so that a mesh (or a component)
  // oriented inwards, clockwise seen from outside as some scans are written (the Stanford
  // bunny), has the same inside (w = -1 there). Where outward and inward parts overlap they
  // cancel either way.
  bool ignore_orientation = true;
  // Accuracy of the winding numbers (Barill et al. 2018's beta, > 0): a BVH node farther than
  // beta times its radius is expanded instead of summed.
  double winding_beta = 2.0;
  // Refuse grids above this many 8^3 blocks (4 KiB of distances and weights each): the default
  // stops at 4 GiB. A larger voxel size is the usual fix.
  std::int64_t max_blocks = std::int64_t{1} << 20;

  // Throws facet::Error naming the offending field.
  void Check() const;
};

// The signed distance field of `mesh` (described above). Parallel (oneTBB); deterministic.
// Throws facet::Error for invalid options, a mesh without triangles, an index out of range, a
// non-finite vertex, or a grid above options.max_blocks.
VoxelBlockGrid MeshToSdf(const TriangleMesh& mesh, const MeshSdfOptions& options);

// A watertight, manifold, outward-oriented mesh of the inside of `mesh` ({w > threshold}): the
// zero level set of MeshToSdf by ExtractSurface. Within a voxel of the input where the input has
// triangles; holes are spanned smoothly; overlapping or self-intersecting parts are merged
// (their union); open sheets that enclose nothing disappear. Vertex colours, when the input has
// them, are those of the nearest input vertex. Returns an empty mesh when nothing is inside.
// Throws as MeshToSdf.
TriangleMesh RemeshWatertight(const TriangleMesh& mesh, const MeshSdfOptions& options);
TriangleMesh RemeshWatertight(const TriangleMesh& mesh, double voxel_size);

}  // namespace facet::geometry
