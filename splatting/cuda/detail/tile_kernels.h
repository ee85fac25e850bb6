// Launchers of the per-tile passes of the CUDA rasterizer (splatting/cuda/rasterizer_cuda.h),
// implemented in tile_kernels.cu: one 16x16 block per tile, front to back (forward) and back to
// front (backward). Internal to splatting/cuda/; every pointer is device memory.
#pragma once

#include <cstdint>

#include "splatting/kernels/rasterize.h"

struct CUstream_st;

namespace facet::splatting::detail {

struct TileGrid {
  int width = 0, height = 0;  // image size in pixels
  int tiles_x = 0, tiles_y = 0;
  float background[3] = {0.0f, 0.0f, 0.0f};
};

// What both passes read: the preprocessed splats and the sorted per-tile lists.
struct TileLists {
  const kernels::Splat2D<float>* splats = nullptr;  // [N]
  const std::int64_t* tile_offsets = nullptr;       // [tiles + 1]
  const std::int32_t* sorted_ids = nullptr;         // [tile_offsets[tiles]]
};

struct ForwardOutputs {
  float* rgb = nullptr;                  // [H, W, 3]
  float* alpha = nullptr;                // [H, W]
  float* depth = nullptr;                // [H, W]
  std::int32_t* n_contrib = nullptr;     // [H, W]
  float* final_transmittance = nullptr;  // [H, W]
  std::int32_t* last_contrib = nullptr;  // [H, W]
};

// Per-Gaussian 2D gradients accumulated by the backward tiles, kAccumulatorStride floats per
// Gaussian: mean2d (2), conic (3), opacity, colour (3), |mean2d| (2); the CPU's order.
inline constexpr int kAccumulatorStride = 11;

struct BackwardInputs {
  const float* final_transmittance = nullptr;  // [H, W]
  const std::int32_t* last_contrib = nullptr;  // [H, W]
  const float* v_rgb = nullptr;                // [H, W, 3]
  const float* v_alpha = nullptr;              // [H, W] or nullptr
};

// Blends every tile front to back into `out`.
void LaunchForwardTiles(const TileGrid& grid, const TileLists& lists, const ForwardOutputs& out,
                        CUstream_st* stream);

// Adds every tile's 2D gradients into `accumulators` ([N, kAccumulatorStride], zeroed by the
// caller).
void LaunchBackwardTiles(const TileGrid& grid, const TileLists& lists, const BackwardInputs& in,
                         float* accumulators, CUstream_st* stream);

}  // namespace facet::splatting::detail
