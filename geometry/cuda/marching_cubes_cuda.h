// The CUDA path of ExtractSurface (marching_cubes.h). The plan (which blocks are processed, their
// neighbours, the classification of unknown space) is made on the CPU
// (detail/marching_cubes_plan.h) and uploaded with the grid's voxel arrays; the two passes run as
// kernels, one thread block per processed block and one thread per cell, over the per-node and
// per-loop steps of kernels/marching_cubes.h (the CPU path's source too; the .cu is compiled
// without fused multiply-adds, so both round identically and the meshes are equal array for array).
// A plain header (no CUDA or Eigen types); only built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <cstdint>
#include <memory>

#include "geometry/kernels/marching_cubes.h"

namespace facet::geometry {

struct TriangleMesh;
class VoxelBlockGrid;
struct SurfaceExtractionOptions;

// ExtractSurface on the GPU, whatever options.backend says (marching_cubes_cuda.cpp). Throws
// facet::Error for bad options or a CUDA failure.
TriangleMesh ExtractSurfaceCuda(const VoxelBlockGrid& grid,
                                const SurfaceExtractionOptions& options);

namespace detail {

// What the kernels read, as HOST pointers (uploaded by McDeviceExtraction::Run).
struct McCudaInput {
  kernels::McVoxelArrays voxels;  // sdf / weight / voxel_outside: grid_voxels each; color: 3x
  std::int64_t grid_voxels = 0;
  const kernels::BlockKey* blocks = nullptr;  // the processed blocks, block_count of them
  const kernels::McBlockNeighbors* neighbors = nullptr;  // per processed block
  std::int64_t block_count = 0;
  double voxel_size = 0.0;
};

// Device arrays and the three launches (count, vertices, triangles) of one extraction.
class McDeviceExtraction {
 public:
  McDeviceExtraction();
  ~McDeviceExtraction();
  McDeviceExtraction(const McDeviceExtraction&) = delete;
  McDeviceExtraction& operator=(const McDeviceExtraction&) = delete;

  // Uploads `input` and counts each block's vertices and triangles; returns the total number of
  // vertices (edge vertices then loop centroids, block after block), which the caller checks
  // against the 32-bit index range before calling Extract.
  std::int64_t Count(const McCudaInput& input);
  std::int64_t triangle_count() const;
  // Makes the vertices and triangles (after Count, vertex total < 2^32 - 1) and copies them into
  // host arrays of 3 doubles per vertex, 3 floats per vertex colour (skipped when null or without
  // colour) and 3 indices per triangle. Throws facet::Error on a CUDA failure, or when a crossed
  // edge has no vertex (a broken plan, as the CPU path).
  void Extract(double* vertices, float* colors, std::uint32_t* triangles);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace detail
}  // namespace facet::geometry
