// The kernel launchers of the CUDA nerf ops (defined in the .cu files, called by the .cpp files
// that check arguments and drive cuBLAS). Plain C++; only built with FACET_WITH_CUDA.
#pragma once

#include <cstdint>

#include "nerf/kernels/adam.h"
#include "nerf/kernels/occupancy.h"
#include "nerf/kernels/pixel_rays.h"

struct CUstream_st;

namespace facet::nerf {
struct MlpOptions;
}

namespace facet::nerf::detail {

// x = max(x, 0) over `count` floats.
void LaunchRelu(float* x, std::int64_t count, CUstream_st* stream);
// g = 0 where activation <= 0 (the ReLU's derivative from its output), over `count` floats.
void LaunchReluBackward(float* g, const float* activations, std::int64_t count,
                        CUstream_st* stream);
// The fused MLP (fused_mlp_cuda.cu, kernels/fused_mlp.h). FusedMlpCompiled: whether it is built
// for the network's shape (and its weights fit in a block's shared memory). The launches need a
// compiled shape (facet::Error otherwise) and 16-byte aligned sample arrays.
bool FusedMlpCompiled(const MlpOptions& options);
// output[n x out] and (when not null) activations (hidden_layers blocks of n x hidden).
void LaunchFusedMlpForward(const MlpOptions& options, const float* params, const float* input,
                           std::int64_t n, float* output, float* activations, CUstream_st* stream);
// g (hidden_layers blocks of n x hidden) = dL/d(pre-activation) of each hidden layer; d_input
// [n x in] = dL/d(input) when not null. The weight gradients are the caller's (GEMMs).
void LaunchFusedMlpBackward(const MlpOptions& options, const float* params,
                            const float* activations, const float* d_output, std::int64_t n,
                            float* g, float* d_input, CUstream_st* stream);
// AdamUpdate on every parameter (or only those with a non-zero gradient when `sparse`).
void LaunchAdamUpdate(const kernels::AdamStep& step, bool sparse, float* params, const float* grads,
                      float* m, float* v, std::int64_t count, CUstream_st* stream);

// --- The NeRF field (field_cuda.cpp) ---

// unit[n x 3] = (positions - aabb_min) * inverse_scale (NerfField's map onto [0, 1]^3).
struct FieldBox {
  float aabb_min[3] = {0.0f, 0.0f, 0.0f};
  float inverse_scale = 1.0f;
};
void LaunchNormalise(const FieldBox& box, const float* positions, std::int64_t n, float* unit,
                     CUstream_st* stream);
// color_in[n x (geometry + 16)] = the density network's output row [n x geometry] followed by
// the spherical harmonics of the unit direction [n x 3].
void LaunchColorInput(const float* density_out, int geometry, const float* directions,
                      std::int64_t n, float* color_in, CUstream_st* stream);
// sigma[n] = TruncExp(density_out[i * geometry]); rgb[n x 3] = Sigmoid(color_out) (rgb may be
// null: density only).
void LaunchFieldActivations(const float* density_out, int geometry, const float* color_out,
                            std::int64_t n, float* sigma, float* rgb, CUstream_st* stream);
// d_color_out[n x 3] = d_rgb * Sigmoid'(color_out).
void LaunchColorOutputGradient(const float* d_rgb, const float* color_out, std::int64_t n,
                               float* d_color_out, CUstream_st* stream);
// d_density_out[n x geometry] = d_color_in's first `geometry` columns (of color_inputs), plus
// d_sigma * TruncExp'(density_out) on column 0.
void LaunchDensityOutputGradient(const float* d_color_in, int color_inputs, const float* d_sigma,
                                 const float* density_out, int geometry, std::int64_t n,
                                 float* d_density_out, CUstream_st* stream);

// --- Training batches (trainer_cuda.cpp) ---

// A training photo on the device: its camera and where its pixels start in the packed uint8
// array (row-major, `channels` per pixel).
struct DevicePhoto {
  kernels::PinholeView view;
  int width = 0, height = 0, channels = 3;
  std::uint64_t offset = 0;
};
struct BatchParams {
  std::uint32_t seed = 0;  // mixes the run's seed and the step (one stream per step)
  int photo_count = 0;
  bool random_background = false;  // RGBA photos: a random background per ray
  float background[3] = {0.0f, 0.0f, 0.0f};
};
// Ray r: a photo, a point uniform over its image and (RGBA) a background, all drawn from
// kernels::UniformFloat(seed, ...) so that no host RNG runs per ray; writes origins, directions,
// targets and backgrounds (n x 3 each).
void LaunchMakeBatch(const BatchParams& params, const DevicePhoto* photos,
                     const std::uint8_t* pixels, std::int64_t n, float* origins, float* directions,
                     float* targets, float* backgrounds, CUstream_st* stream);
// Per value i < count (= rays x 3): r = predicted - target, loss[i] = L2 or Huber of r,
// d_predicted[i] = dloss/dr * scale, squared[i] = r^2.
void LaunchColourLoss(const float* predicted, const float* target, std::int64_t count, bool huber,
                      float huber_delta, float scale, float* loss, float* squared,
                      float* d_predicted, CUstream_st* stream);

// --- The occupancy grid (occupancy_cuda.cpp) ---

// positions[count x 3] = JitteredCellPoint of cells [begin, begin + count).
void LaunchCellPoints(const kernels::GridView& grid, std::uint32_t seed, std::int64_t begin,
                      std::int64_t count, float* positions, CUstream_st* stream);
struct CellUpdate {
  bool all = false;  // warm-up: every cell refreshed
  float refresh_fraction = 0.0f;
  std::uint32_t seed = 0;
  float decay = 1.0f;
  float scale = 1.0f;  // density -> cell value (the optical thickness of min_step)
};
// Cells [begin, begin + count): value = decay * value, then max(value, scale * sigma) for the
// cells CellRefreshed picks (by the occupancy bits of the last derivation). Sets *bad to 1 when a
// refreshed cell's value is negative or not finite.
void LaunchCellUpdate(const CellUpdate& update, const std::uint8_t* occupancy, const float* sigma,
                      std::int64_t begin, std::int64_t count, float* values, int* bad,
                      CUstream_st* stream);
// Sum of values[count] in double (CUB), synchronising `stream` to read it.
double SumOnDevice(const float* values, std::int64_t count, CUstream_st* stream);
// occupancy[i] = values[i] > threshold, i < count.
void LaunchThreshold(const float* values, std::int64_t count, float threshold,
                     std::uint8_t* occupancy, CUstream_st* stream);
// The cascade-c cell holding the centre of each occupied cell of cascade c - 1 becomes occupied
// (OccupancyGrid's max-pool); `grid.occupancy` is `occupancy`.
void LaunchMaxPool(const kernels::GridView& grid, int c, std::uint8_t* occupancy,
                   CUstream_st* stream);
// Number of nonzero bytes of occupancy[count], synchronising `stream`.
std::int64_t CountOccupied(const std::uint8_t* occupancy, std::int64_t count, CUstream_st* stream);

// --- Rendering (render_cuda.cpp) ---

// Rays through the centres of pixels [begin, begin + count) of a width-wide image.
void LaunchPixelRays(const kernels::PinholeView& view, int width, std::int64_t begin,
                     std::int64_t count, float* origins, float* directions, CUstream_st* stream);
// depth[i] = depth[i] / opacity[i] * (directions[i] . axis) (camera z), or 0 where opacity is 0.
void LaunchCameraDepth(const float* opacity, const float* directions, const float axis[3],
                       std::int64_t count, float* depth, CUstream_st* stream);

}  // namespace facet::nerf::detail
