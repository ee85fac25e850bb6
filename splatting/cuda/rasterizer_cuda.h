// The CUDA backend of the 3DGS tile rasterizer (Kerbl et al. 2023, sec. 6): the same passes as the
// CPU reference (splatting/rasterizer.h) scheduled as in
// graphdeco-inria/diff-gaussian-rasterization and gsplat, with the per-Gaussian and per-pixel math
// of splatting/kernels/rasterize.h:
//   (1) preprocess, one thread per Gaussian (PreprocessGaussian, TileBounds);
//   (2) tiles touched per Gaussian -> CUB inclusive scan -> one 64-bit key per (tile, Gaussian),
//       tile << 32 | depth bits (depth > 0, so the float bits sort as unsigned integers) ->
//       cub::DeviceRadixSort::SortPairs on the tile and depth bits -> per-tile ranges;
//   (3) one 16x16 block per tile blends front to back, the tile's splats staged through shared
//       memory in batches of 256;
//   (4) one 16x16 block per tile walks back to front from the block's last contributor, batches in
//       shared memory, warp-reduces the 2D gradients of each splat and atomically adds them per
//       Gaussian; (5) PreprocessGaussianVjp, one thread per Gaussian.
// The radix sort is stable and the keys are emitted in Gaussian order, so each tile's list is
// ordered by (depth, index), the CPU's order. Results agree with the CPU up to float rounding
// (nvcc contracts multiply-adds into FMAs, the device exp/log differ from glibc's in the last
// bits, and the gradient sums run in another order); a pixel whose alpha or transmittance sits
// within rounding of a threshold (1/255, 1e-4) may blend one splat more or less, and two
// Gaussians whose depths round to the same float on one side and not the other may swap.
//
// A plain header (no CUDA types: streams are CUstream_st*, i.e. cudaStream_t), so .cpp files
// include it without nvcc; only built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <cstdint>
#include <memory>

#include "splatting/kernels/gaussians_view.h"
#include "splatting/kernels/rasterize.h"
#include "splatting/rasterizer.h"

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace facet::splatting {

// The forward outputs and saved state in device memory, owned by the CudaRasterizer and valid
// until its next Forward (or its destruction). Images are row-major.
struct CudaRasterState {
  int width = 0, height = 0;
  int tiles_x = 0, tiles_y = 0;
  std::int64_t count = 0;     // Gaussians
  std::int64_t num_keys = 0;  // (tile, Gaussian) pairs: the length of sorted_ids

  const float* rgb = nullptr;                       // [H, W, 3] colour over the background
  const float* alpha = nullptr;                     // [H, W] 1 - final transmittance
  const float* depth = nullptr;                     // [H, W] sum(w z) / alpha, 0 where empty
  const std::int32_t* n_contrib = nullptr;          // [H, W] splats blended into the pixel
  const kernels::Splat2D<float>* splats = nullptr;  // [N]; defined where radii > 0
  const std::int32_t* radii = nullptr;              // [N] max(radius_x, radius_y), 0: not drawn
  const std::int64_t* tile_offsets = nullptr;       // [tiles + 1] ranges into sorted_ids
  const std::int32_t* sorted_ids = nullptr;         // [num_keys] per tile by (depth, index)
  const float* final_transmittance = nullptr;       // [H, W]
  const std::int32_t* last_contrib = nullptr;       // [H, W] end of the tile list consumed

  int NumTiles() const { return tiles_x * tiles_y; }
  std::int64_t NumPixels() const { return std::int64_t(width) * height; }
};

// Owns a CUDA stream and growable device workspaces, reused across calls (no allocation once the
// largest scene and image have been seen). Not thread-safe: one per thread. Throws facet::Error
// for bad inputs and when a CUDA call fails (no device, out of memory).
class CudaRasterizer {
 public:
  CudaRasterizer();
  ~CudaRasterizer();
  CudaRasterizer(const CudaRasterizer&) = delete;
  CudaRasterizer& operator=(const CudaRasterizer&) = delete;

  // Renders the Gaussians whose parameters are in device memory (layout: splatting/gaussians.h).
  // Work is queued on stream(); returns after one synchronisation (the key count sizes the sort).
  // The Gaussians' device arrays must stay unchanged until Backward has run.
  void Forward(const GaussiansView<float>& device_gaussians, const RasterCamera<float>& camera,
               const RasterOptions& options);

  // The gradients of a loss w.r.t. the parameters of the last Forward's Gaussians, given
  // v_rgb = dL/drgb (device, [H, W, 3]) and optionally v_alpha = dL/dalpha (device, [H, W],
  // nullptr for none). `device_grads` (device arrays, same count and SH stride) is overwritten;
  // Gaussians not drawn get zero. v_mean2d (dL/dmean2d) and v_mean2d_abs (sum over pixels of
  // |dL_pixel/dmean2d|, AbsGS), device [N, 2] each in pixels, are written when not nullptr.
  // Queued on stream() without synchronising.
  void Backward(const float* v_rgb, const float* v_alpha,
                const GaussiansMutableView<float>& device_grads, float* v_mean2d = nullptr,
                float* v_mean2d_abs = nullptr);

  // The last Forward's outputs; device pointers (synchronise or copy on the default stream).
  const CudaRasterState& State() const;
  // Device [N] screen radii of the last Forward (0: not drawn), what densification reads.
  const std::int32_t* Radii() const { return State().radii; }

  // The blocking stream every call is queued on (work on the legacy default stream waits for
  // it), for callers that chain their own kernels.
  CUstream_st* stream() const;
  void Synchronize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::splatting
