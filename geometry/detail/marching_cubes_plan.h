// The part of ExtractSurface (geometry/marching_cubes.h) that stays on the CPU for both backends:
// which blocks have their cells processed, what surrounds each of them, and (when closing) the
// side every unknown voxel and unallocated block takes. The CPU extraction (marching_cubes.cpp)
// and the CUDA one (cuda/marching_cubes_cuda.cu) read the same plan, so they give the same mesh.
#pragma once

#include <cstdint>
#include <vector>

#include "geometry/kernels/marching_cubes.h"
#include "geometry/marching_cubes.h"

namespace facet::geometry::detail {

struct SurfacePlan {
  // The blocks whose cells are processed: the grid's blocks in the grid's order, then (when
  // closing) the unallocated blocks where the sides of unobserved space meet, and the
  // unallocated blocks just below each of those and of the grid's on each axis (their cells
  // reach into them).
  std::vector<kernels::BlockKey> blocks;
  // Per processed block, its 8 neighbours at + offsets.
  std::vector<kernels::McBlockNeighbors> neighbors;
  // Per grid voxel (block-major, as the grid's arrays), 1 when an unknown voxel is classified
  // outside; empty when not closing.
  std::vector<std::uint8_t> voxel_outside;
  bool close = false;
  bool with_color = false;  // the mesh gets vertex colours

  // The grid's arrays and this plan's flags as the kernels read them (host pointers into `grid`
  // and this plan, valid while both live).
  kernels::McVoxelArrays HostVoxels(const VoxelBlockGrid& grid,
                                    const SurfaceExtractionOptions& options) const;
};

// Plans the extraction of `grid` (options already checked). Throws facet::Error when the
// bounding box is too large to classify.
SurfacePlan PlanSurfaceExtraction(const VoxelBlockGrid& grid,
                                  const SurfaceExtractionOptions& options);

// Open extraction may leave vertices on crossed edges whose cells all had an unknown corner:
// removes the vertices no triangle uses (and their colours), keeping the others' order.
void RemoveUnusedVertices(TriangleMesh& mesh);

}  // namespace facet::geometry::detail
