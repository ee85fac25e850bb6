// The CPU integration loop of TsdfVolume (internal): every voxel of a list of blocks fuses one
// observation of a frame, evaluating kernels/tsdf.h as the CUDA path does, bit for bit, but eight
// voxels at a time (a row along x), branch-free so that the compiler vectorises it (AVX2 when the
// processor has it, chosen at run time).
#pragma once

#include <cstdint>
#include <span>

#include "geometry/kernels/tsdf.h"
#include "geometry/voxel_block_grid.h"

namespace facet::geometry::detail {

// Which loop: kBest is the AVX2 one where the processor has AVX2, kScalar the plain
// kernels::IntegrateBlockVoxel loop (the reference the tests compare the vector loop with).
enum class CpuKernel { kBest, kScalar };

// Fuses `frame` into `blocks` of `grid`, in parallel over blocks (each listed once). The frame's
// depth is sanitised (kernels::SanitizeDepth) and pixel (i, j) is depth[j * depth_stride + i],
// with depth_stride * height < 2^31. `rgb`: with a colour frame and a colour grid, the frame's
// colour packed per pixel as r | g << 8 | b << 16 in the depth's layout (the vector loop reads
// it; the scalar one reads frame.color); nullptr: colour is not fused.
void IntegrateBlocksCpu(const kernels::TsdfFrame& frame, const std::uint32_t* rgb,
                        std::span<const std::int32_t> blocks, VoxelBlockGrid* grid,
                        CpuKernel kernel = CpuKernel::kBest);

// Whether kBest is the vector loop on this processor.
bool CpuKernelIsVectorised();

}  // namespace facet::geometry::detail
