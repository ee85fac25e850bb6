// The per-tile passes of the CUDA rasterizer (detail/tile_kernels.h): one block of 16x16 threads
// per tile, one thread per pixel, the tile's sorted splats staged through shared memory in batches
// of 256 (one per thread), as graphdeco-inria/diff-gaussian-rasterization's renderCUDA and
// renderCUDA backward and gsplat's rasterize_to_pixels kernels. The per-pixel math is
// splatting/kernels/rasterize.h, the same calls in the same order as the CPU loops of
// splatting/rasterizer_cpu.cpp.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/cuda_check.h"
#include "splatting/cuda/detail/tile_kernels.h"
#include "splatting/kernels/rasterize.h"

namespace facet::splatting::detail {
namespace {

using kernels::kTileSize;
constexpr int kBlock = kTileSize * kTileSize;  // threads per tile, and splats per batch
constexpr unsigned kFullWarp = 0xffffffffu;

struct PixelOf {
  int x, y;
  bool inside;   // edge tiles have threads past the image border
  float cx, cy;  // pixel centre, COLMAP convention (as the CPU's px, py)
};

__device__ PixelOf ThisPixel(const TileGrid& grid) {
  const int tile = static_cast<int>(blockIdx.x);
  PixelOf p;
  p.x = (tile % grid.tiles_x) * kTileSize + static_cast<int>(threadIdx.x) % kTileSize;
  p.y = (tile / grid.tiles_x) * kTileSize + static_cast<int>(threadIdx.x) / kTileSize;
  p.inside = p.x < grid.width && p.y < grid.height;
  p.cx = float(p.x) + 0.5f;
  p.cy = float(p.y) + 0.5f;
  return p;
}

// Forward (Kerbl et al. 2023, eq. 3): each thread blends its pixel front to back; the block leaves
// the tile once every pixel is saturated (transmittance below 1e-4) or the list is exhausted.
__global__ void __launch_bounds__(kBlock)
    ForwardTilesKernel(TileGrid grid, TileLists lists, ForwardOutputs out) {
  const PixelOf pixel = ThisPixel(grid);
  const int tid = static_cast<int>(threadIdx.x);
  const std::int64_t begin = lists.tile_offsets[blockIdx.x];
  const std::int64_t end = lists.tile_offsets[blockIdx.x + 1];

  __shared__ float2 s_mean[kBlock];
  __shared__ float4 s_conic_opacity[kBlock];  // conic a, b, c and opacity
  __shared__ float4 s_color_depth[kBlock];    // colour r, g, b and depth

  float trans = 1.0f, r = 0.0f, g = 0.0f, b = 0.0f, depth = 0.0f;
  std::int32_t last = 0, contrib = 0;
  bool done = !pixel.inside;
  for (std::int64_t start = begin; start < end; start += kBlock) {
    // Also the barrier that lets the previous batch be overwritten.
    if (__syncthreads_count(done) == kBlock) break;
    const std::int64_t k = start + tid;
    if (k < end) {
      const kernels::Splat2D<float>& s = lists.splats[lists.sorted_ids[k]];
      s_mean[tid] = make_float2(s.mean2d.x, s.mean2d.y);
      s_conic_opacity[tid] = make_float4(s.conic.a, s.conic.b, s.conic.c, s.opacity);
      s_color_depth[tid] = make_float4(s.color.x, s.color.y, s.color.z, s.depth);
    }
    __syncthreads();
    const int n = end - start < kBlock ? static_cast<int>(end - start) : kBlock;
    for (int j = 0; !done && j < n; ++j) {
      const float4 co = s_conic_opacity[j];
      float vis;
      const float alpha = kernels::SplatAlpha(kernels::Sym2<float>{co.x, co.y, co.z}, co.w,
                                              s_mean[j].x - pixel.cx, s_mean[j].y - pixel.cy, &vis);
      if (alpha == 0.0f) continue;
      const float next = trans * (1.0f - alpha);
      if (next < float(kernels::kMinTransmittance)) {  // not blended (reference)
        done = true;
        break;
      }
      const float w = alpha * trans;
      const float4 cd = s_color_depth[j];
      r += w * cd.x;
      g += w * cd.y;
      b += w * cd.z;
      depth += w * cd.w;
      trans = next;
      last = static_cast<std::int32_t>(start - begin) + j + 1;
      ++contrib;
    }
  }
  if (!pixel.inside) return;
  const std::int64_t pix = std::int64_t(pixel.y) * grid.width + pixel.x;
  out.rgb[3 * pix] = r + trans * grid.background[0];
  out.rgb[3 * pix + 1] = g + trans * grid.background[1];
  out.rgb[3 * pix + 2] = b + trans * grid.background[2];
  out.alpha[pix] = 1.0f - trans;
  out.depth[pix] = trans < 1.0f ? depth / (1.0f - trans) : 0.0f;
  out.n_contrib[pix] = contrib;
  out.final_transmittance[pix] = trans;
  out.last_contrib[pix] = last;
}

__device__ float WarpSum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(kFullWarp, v, offset);
  return v;
}

// Backward: each thread walks its pixel back to front from its last contributor, the block from
// the largest last contributor among its pixels; per splat, the pixels' 2D gradients are summed
// across the warp and lane 0 adds them to the Gaussian's accumulator (gsplat's warp reduction).
__global__ void __launch_bounds__(kBlock)
    BackwardTilesKernel(TileGrid grid, TileLists lists, BackwardInputs in, float* accumulators) {
  const std::int64_t begin = lists.tile_offsets[blockIdx.x];
  if (begin == lists.tile_offsets[blockIdx.x + 1]) return;  // uniform over the block
  const PixelOf pixel = ThisPixel(grid);
  const int tid = static_cast<int>(threadIdx.x);
  const int lane = tid % 32;

  kernels::PixelBackward<float> state{};
  std::int32_t last = 0;
  if (pixel.inside) {
    const std::int64_t pix = std::int64_t(pixel.y) * grid.width + pixel.x;
    state.transmittance = state.final_transmittance = in.final_transmittance[pix];
    state.v_rgb = {in.v_rgb[3 * pix], in.v_rgb[3 * pix + 1], in.v_rgb[3 * pix + 2]};
    state.v_alpha = in.v_alpha != nullptr ? in.v_alpha[pix] : 0.0f;
    state.bg_dot = grid.background[0] * state.v_rgb.x + grid.background[1] * state.v_rgb.y +
                   grid.background[2] * state.v_rgb.z;
    last = in.last_contrib[pix];
  }
  __shared__ std::int32_t s_max_last;
  if (tid == 0) s_max_last = 0;
  __syncthreads();
  if (last > 0) atomicMax(&s_max_last, last);
  __syncthreads();
  const std::int32_t max_last = s_max_last;

  __shared__ std::int32_t s_id[kBlock];
  __shared__ float2 s_mean[kBlock];
  __shared__ float4 s_conic_opacity[kBlock];
  __shared__ float4 s_color[kBlock];
  // Batches of list positions [batch_end - kBlock, batch_end), loaded so that slot j holds
  // position batch_end - 1 - j: back to front.
  for (std::int32_t batch_end = max_last; batch_end > 0; batch_end -= kBlock) {
    const std::int32_t batch_start = batch_end > kBlock ? batch_end - kBlock : 0;
    __syncthreads();  // the previous batch is consumed
    const std::int32_t k = batch_end - 1 - tid;
    if (k >= batch_start) {
      const std::int32_t id = lists.sorted_ids[begin + k];
      const kernels::Splat2D<float>& s = lists.splats[id];
      s_id[tid] = id;
      s_mean[tid] = make_float2(s.mean2d.x, s.mean2d.y);
      s_conic_opacity[tid] = make_float4(s.conic.a, s.conic.b, s.conic.c, s.opacity);
      s_color[tid] = make_float4(s.color.x, s.color.y, s.color.z, 0.0f);
    }
    __syncthreads();
    const int n = batch_end - batch_start;
    for (int j = 0; j < n; ++j) {
      // mean2d (2), conic (3), opacity, colour (3), |mean2d| (2): kAccumulatorStride.
      float v[kAccumulatorStride] = {};
      bool contributes = false;
      if (batch_end - 1 - j < last) {  // false outside the image (last = 0)
        const float4 co = s_conic_opacity[j];
        const kernels::Sym2<float> conic{co.x, co.y, co.z};
        const float dx = s_mean[j].x - pixel.cx, dy = s_mean[j].y - pixel.cy;
        float vis;
        const float alpha = kernels::SplatAlpha(conic, co.w, dx, dy, &vis);
        if (alpha != 0.0f) {
          contributes = true;
          const float4 c = s_color[j];
          kernels::Vec3<float> v_color;
          const float v_a = kernels::BlendBackwardStep(&state, kernels::Vec3<float>{c.x, c.y, c.z},
                                                       alpha, &v_color);
          kernels::Vec2<float> v_mean{0.0f, 0.0f};
          kernels::Sym2<float> v_conic{0.0f, 0.0f, 0.0f};
          float v_opacity = 0.0f;
          kernels::SplatAlphaVjp(conic, co.w, dx, dy, vis, v_a, &v_conic, &v_mean, &v_opacity);
          v[0] = v_mean.x, v[1] = v_mean.y;
          v[2] = v_conic.a, v[3] = v_conic.b, v[4] = v_conic.c;
          v[5] = v_opacity;
          v[6] = v_color.x, v[7] = v_color.y, v[8] = v_color.z;
          v[9] = fabsf(v_mean.x), v[10] = fabsf(v_mean.y);
        }
      }
      if (!__any_sync(kFullWarp, contributes)) continue;  // uniform over the warp
#pragma unroll
      for (int q = 0; q < kAccumulatorStride; ++q) v[q] = WarpSum(v[q]);
      if (lane == 0) {
        float* acc = accumulators + std::int64_t(s_id[j]) * kAccumulatorStride;
#pragma unroll
        for (int q = 0; q < kAccumulatorStride; ++q) atomicAdd(acc + q, v[q]);
      }
    }
  }
}

}  // namespace

void LaunchForwardTiles(const TileGrid& grid, const TileLists& lists, const ForwardOutputs& out,
                        CUstream_st* stream) {
  const unsigned tiles = static_cast<unsigned>(grid.tiles_x * grid.tiles_y);
  if (tiles == 0) return;
  ForwardTilesKernel<<<tiles, kBlock, 0, stream>>>(grid, lists, out);
  FACET_CUDA_CHECK_LAUNCH();
}

void LaunchBackwardTiles(const TileGrid& grid, const TileLists& lists, const BackwardInputs& in,
                         float* accumulators, CUstream_st* stream) {
  const unsigned tiles = static_cast<unsigned>(grid.tiles_x * grid.tiles_y);
  if (tiles == 0) return;
  BackwardTilesKernel<<<tiles, kBlock, 0, stream>>>(grid, lists, in, accumulators);
  FACET_CUDA_CHECK_LAUNCH();
}

}  // namespace facet::splatting::detail
