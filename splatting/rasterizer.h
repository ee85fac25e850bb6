// The differentiable 3DGS tile rasterizer (Kerbl et al. 2023, sec. 6): forward rendering of
// Gaussians into a pinhole view and the exact reverse pass giving the gradients of every
// parameter. This header is the CPU backend (oneTBB over Gaussians and 16x16 tiles), templated over
// the scalar so that gradient tests run it in double; the math it runs per Gaussian and per pixel
// is splatting/kernels/rasterize.h, shared with the CUDA backend.
//
// Passes: (1) preprocess every Gaussian (cull, project, extent, SH colour); (2) bin into the tiles
// its screen box touches and sort each tile's list by (depth, index) — the same order as the
// reference's global radix sort on (tile, depth) keys; (3) blend each tile front to back;
// backward: (4) walk each pixel back to front from its last contributor, accumulating the 2D
// gradients per Gaussian; (5) the per-Gaussian VJP down to the parameters.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "splatting/kernels/gaussians_view.h"
#include "splatting/kernels/rasterize.h"

namespace facet::splatting {

// A pinhole view with its image size and camera centre.
template <typename T>
struct RasterCamera {
  kernels::PinholeView<T> view{};
  kernels::Vec3<T> center{};  // camera centre in world coordinates
  int width = 0;
  int height = 0;
};

// The view of a PINHOLE or SIMPLE_PINHOLE camera (others throw facet::Error: undistort first).
RasterCamera<float> MakeRasterCamera(const geometry::Camera& camera,
                                     const geometry::Rigid3& cam_from_world);

struct RasterOptions {
  std::array<float, 3> background{0.0f, 0.0f, 0.0f};  // RGB behind the Gaussians, [0, 1]
  int sh_degree = 3;          // active SH degree, 0..3 and <= the model's max degree
  bool antialiased = false;   // Mip-Splatting opacity compensation of the 2D filter
  float near_plane = 0.01f;   // camera-space z culling distance (scene units)
  float low_pass = 0.3f;      // px^2 added to the 2D covariance
  float clamp_factor = 1.3f;  // Jacobian tangent clamp, multiple of the half field of view

  void Check() const;
};

// The projection tunables of `options` in the kernels' scalar type (shared by the CPU and CUDA
// backends).
template <typename T>
kernels::ProjectParams<T> ProjectParamsOf(const RasterOptions& options) {
  kernels::ProjectParams<T> params;
  params.near_plane = T(options.near_plane);
  params.low_pass = T(options.low_pass);
  params.clamp_factor = T(options.clamp_factor);
  return params;
}

// Forward outputs, plus the state the backward pass reads. Images are row-major.
template <typename T>
struct RasterResult {
  int width = 0, height = 0;
  std::vector<T> rgb{};                   // [H, W, 3] colour over the background
  std::vector<T> alpha{};                 // [H, W] accumulated opacity 1 - T_final
  std::vector<T> depth{};                 // [H, W] expected depth sum(w z) / alpha (0: empty)
  std::vector<std::int32_t> n_contrib{};  // [H, W] splats blended into the pixel

  std::vector<kernels::Splat2D<T>> splats{};  // [N] preprocessed Gaussians
  std::vector<std::uint8_t> visible{};        // [N] 1 when drawn (touches at least one tile)
  std::vector<std::int64_t> tile_offsets{};   // [tiles + 1] ranges into tile_ids
  std::vector<std::int32_t> tile_ids{};       // Gaussian indices, per tile by (depth, index)
  std::vector<T> final_transmittance{};       // [H, W]
  std::vector<std::int32_t> last_contrib{};   // [H, W] end of the tile list the pixel consumed

  // Wall-clock seconds of the last forward's passes (profiling).
  double preprocess_seconds = 0.0, sort_seconds = 0.0, blend_seconds = 0.0;

  int TilesX() const { return (width + kernels::kTileSize - 1) / kernels::kTileSize; }
  int TilesY() const { return (height + kernels::kTileSize - 1) / kernels::kTileSize; }
  // Screen radius max(radius_x, radius_y) of Gaussian i, 0 when not drawn.
  std::int32_t Radius(std::int64_t i) const;
};

// Renders `gaussians` into `camera`. `out` is reused across calls (no reallocation at a fixed
// size). Throws facet::Error for a bad option or an SH degree above the model's.
template <typename T>
void RasterizeForward(const GaussiansView<T>& gaussians, const RasterCamera<T>& camera,
                      const RasterOptions& options, RasterResult<T>* out);

// Per-view 2D gradients the densification strategies read, [N, 2] each, pixels.
template <typename T>
struct RasterGradients2D {
  std::vector<T> v_mean2d{};      // dL/dmean2d
  std::vector<T> v_mean2d_abs{};  // sum over pixels of |dL_pixel/dmean2d| (AbsGS)
};

// The gradients of a loss L w.r.t. the parameters of `gaussians` given dL/drgb ([H, W, 3]) and
// optionally dL/dalpha ([H, W], nullptr for none), after RasterizeForward with the same inputs.
// `grads` (same count and SH stride) is overwritten; Gaussians not drawn get zero.
template <typename T>
void RasterizeBackward(const GaussiansView<T>& gaussians, const RasterCamera<T>& camera,
                       const RasterOptions& options, const RasterResult<T>& forward, const T* v_rgb,
                       const T* v_alpha, const GaussiansMutableView<T>& grads,
                       RasterGradients2D<T>* grads2d = nullptr);

}  // namespace facet::splatting
