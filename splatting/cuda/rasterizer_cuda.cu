// CudaRasterizer (rasterizer_cuda.h): the per-Gaussian passes (preprocess, key emission, VJP) as
// ParallelForCuda bodies over the kernels of splatting/kernels/rasterize.h, the CUB scan and
// radix sort that bin the splats into tiles, and the calls into the per-tile kernels
// (tile_kernels.cu).
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/cuda_check.h"
#include "core/error.h"
#include "core/parallel_for.h"
#include "splatting/cuda/detail/tile_kernels.h"
#include "splatting/cuda/device_buffer.h"
#include "splatting/cuda/rasterizer_cuda.h"
#include "splatting/kernels/rasterize.h"

namespace facet::splatting {
namespace {

using detail::kAccumulatorStride;

// The checks of the CPU backend (rasterizer_cpu.cpp), with the same messages.
void CheckInputs(const GaussiansView<float>& g, const RasterCamera<float>& camera,
                 const RasterOptions& options) {
  options.Check();
  FACET_CHECK(camera.width > 0 && camera.height > 0, "rasterizer: invalid image size " +
                                                         std::to_string(camera.width) + "x" +
                                                         std::to_string(camera.height));
  const int rest = 3 * (kernels::NumShCoeffs(options.sh_degree) - 1);
  FACET_CHECK(g.count == 0 || rest <= g.sh_rest_stride,
              "rasterizer: SH degree " + std::to_string(options.sh_degree) + " needs " +
                  std::to_string(rest) + " rest coefficients per Gaussian, the model stores " +
                  std::to_string(g.sh_rest_stride));
  FACET_CHECK(g.count >= 0 && g.count < (std::int64_t{1} << 31) - 1,
              "rasterizer: " + std::to_string(g.count) + " Gaussians exceed the 2^31 limit");
  FACET_CHECK(g.count == 0 || (g.means != nullptr && g.log_scales != nullptr &&
                               g.quats != nullptr && g.opacities != nullptr && g.sh_dc != nullptr &&
                               (rest == 0 || g.sh_rest != nullptr)),
              "rasterizer: a parameter array of the Gaussians is null");
}

// (1) Preprocess: the splat, its screen radius (0: not drawn) and the number of tiles it touches.
void Preprocess(const GaussiansView<float>& g, const RasterCamera<float>& camera,
                const RasterOptions& options, int tiles_x, int tiles_y,
                kernels::Splat2D<float>* splats, std::int32_t* radii, std::int64_t* tiles_touched,
                cudaStream_t stream) {
  const kernels::ProjectParams<float> params = ProjectParamsOf<float>(options);
  const kernels::PinholeView<float> view = camera.view;
  const kernels::Vec3<float> center = camera.center;
  const bool antialiased = options.antialiased;
  const int sh_degree = options.sh_degree;
  ParallelForCuda(
      g.count,
      [=] __device__(std::int64_t i) {
        kernels::Splat2D<float> s;
        std::int32_t radius = 0;
        std::int64_t touched = 0;
        if (kernels::PreprocessGaussian(g, i, view, center, params, antialiased, sh_degree, &s)) {
          const kernels::TileRect rect = kernels::TileBounds(s, tiles_x, tiles_y);
          if (rect.Count() > 0) {
            radius = s.radius_x > s.radius_y ? s.radius_x : s.radius_y;
            touched = rect.Count();
            splats[i] = s;
          }
        }
        radii[i] = radius;
        tiles_touched[i] = touched;
      },
      stream);
}

// (2) One key per (tile, Gaussian): tile << 32 | depth bits, written from the Gaussian's offset in
// the inclusive scan of the tile counts, so that keys come in Gaussian order.
void EmitKeys(std::int64_t count, const kernels::Splat2D<float>* splats, const std::int32_t* radii,
              const std::int64_t* offsets, int tiles_x, int tiles_y, std::uint64_t* keys,
              std::int32_t* ids, cudaStream_t stream) {
  ParallelForCuda(
      count,
      [=] __device__(std::int64_t i) {
        if (radii[i] == 0) return;
        const kernels::Splat2D<float> s = splats[i];
        const kernels::TileRect rect = kernels::TileBounds(s, tiles_x, tiles_y);
        // depth > near_plane > 0: the IEEE bits of positive floats order as unsigned integers.
        const std::uint64_t depth_bits = __float_as_uint(s.depth);
        std::int64_t k = i == 0 ? 0 : offsets[i - 1];
        for (int ty = rect.y0; ty < rect.y1; ++ty) {
          for (int tx = rect.x0; tx < rect.x1; ++tx) {
            keys[k] = (std::uint64_t(ty * tiles_x + tx) << 32) | depth_bits;
            ids[k] = static_cast<std::int32_t>(i);
            ++k;
          }
        }
      },
      stream);
}

// tile_offsets[t] = the number of sorted keys whose tile is below t, for t in [0, tiles]: position
// k fills the entries between the previous key's tile and its own (k = num_keys closes the list).
void TileOffsets(std::int64_t num_keys, const std::uint64_t* sorted_keys, int num_tiles,
                 std::int64_t* tile_offsets, cudaStream_t stream) {
  ParallelForCuda(
      num_keys + 1,
      [=] __device__(std::int64_t k) {
        const std::int64_t tile = k < num_keys ? std::int64_t(sorted_keys[k] >> 32) : num_tiles;
        const std::int64_t prev = k > 0 ? std::int64_t(sorted_keys[k - 1] >> 32) : -1;
        for (std::int64_t t = prev + 1; t <= tile; ++t) tile_offsets[t] = k;
      },
      stream);
}

// (5) The per-Gaussian VJP to the parameters, and the 2D gradients densification reads.
void GaussianVjp(const GaussiansView<float>& g, const RasterCamera<float>& camera,
                 const RasterOptions& options, const kernels::Splat2D<float>* splats,
                 const std::int32_t* radii, const float* acc,
                 const GaussiansMutableView<float>& grads, float* v_mean2d, float* v_mean2d_abs,
                 cudaStream_t stream) {
  const kernels::ProjectParams<float> params = ProjectParamsOf<float>(options);
  const kernels::PinholeView<float> view = camera.view;
  const kernels::Vec3<float> center = camera.center;
  const bool antialiased = options.antialiased;
  const int sh_degree = options.sh_degree;
  ParallelForCuda(
      g.count,
      [=] __device__(std::int64_t i) {
        const float* a = acc + i * kAccumulatorStride;
        if (v_mean2d != nullptr) v_mean2d[2 * i] = a[0], v_mean2d[2 * i + 1] = a[1];
        if (v_mean2d_abs != nullptr) v_mean2d_abs[2 * i] = a[9], v_mean2d_abs[2 * i + 1] = a[10];
        if (radii[i] == 0) {
          for (int k = 0; k < 3; ++k) grads.means[3 * i + k] = grads.log_scales[3 * i + k] = 0.0f;
          for (int k = 0; k < 4; ++k) grads.quats[4 * i + k] = 0.0f;
          for (int k = 0; k < 3; ++k) grads.sh_dc[3 * i + k] = 0.0f;
          for (int k = 0; k < grads.sh_rest_stride; ++k) {
            grads.sh_rest[i * grads.sh_rest_stride + k] = 0.0f;
          }
          grads.opacities[i] = 0.0f;
          return;
        }
        kernels::PreprocessGaussianVjp(g, i, view, center, params, antialiased, sh_degree,
                                       splats[i], kernels::Vec2<float>{a[0], a[1]},
                                       kernels::Sym2<float>{a[2], a[3], a[4]}, a[5],
                                       kernels::Vec3<float>{a[6], a[7], a[8]}, grads);
      },
      stream);
}

}  // namespace

struct CudaRasterizer::Impl {
  cudaStream_t stream = nullptr;
  // Per Gaussian.
  DeviceBuffer<kernels::Splat2D<float>> splats;
  DeviceBuffer<std::int32_t> radii;
  DeviceBuffer<std::int64_t> offsets;  // tiles touched, then their inclusive scan
  DeviceBuffer<float> accumulators;    // [N, kAccumulatorStride]
  // Per (tile, Gaussian) key.
  DeviceBuffer<std::uint64_t> keys, sorted_keys;
  DeviceBuffer<std::int32_t> ids, sorted_ids;
  DeviceBuffer<unsigned char> cub_temp;
  // Per tile and per pixel.
  DeviceBuffer<std::int64_t> tile_offsets;
  DeviceBuffer<float> rgb, alpha, depth, final_transmittance;
  DeviceBuffer<std::int32_t> n_contrib, last_contrib;

  // The last Forward's inputs, for Backward.
  bool has_forward = false;
  GaussiansView<float> gaussians;
  RasterCamera<float> camera;
  RasterOptions options;
  CudaRasterState state;

  void ReserveCubTemp(std::size_t bytes) {
    if (bytes > std::size_t(cub_temp.size())) cub_temp.Resize(std::int64_t(bytes));
  }
  detail::TileGrid Grid() const {
    detail::TileGrid grid;
    grid.width = state.width;
    grid.height = state.height;
    grid.tiles_x = state.tiles_x;
    grid.tiles_y = state.tiles_y;
    for (int c = 0; c < 3; ++c) grid.background[c] = options.background[c];
    return grid;
  }
  detail::TileLists Lists() const {
    return {splats.data(), tile_offsets.data(), sorted_ids.data()};
  }
};

CudaRasterizer::CudaRasterizer() : impl_(std::make_unique<Impl>()) {
  // Blocking (not cudaStreamNonBlocking): copies on the legacy default stream wait for it.
  FACET_CUDA_CHECK(cudaStreamCreate(&impl_->stream));
}

CudaRasterizer::~CudaRasterizer() {
  if (impl_->stream != nullptr) cudaStreamDestroy(impl_->stream);
}

CUstream_st* CudaRasterizer::stream() const { return impl_->stream; }

void CudaRasterizer::Synchronize() const { FACET_CUDA_CHECK(cudaStreamSynchronize(impl_->stream)); }

const CudaRasterState& CudaRasterizer::State() const {
  FACET_CHECK(impl_->has_forward, "CudaRasterizer: no Forward has run yet");
  return impl_->state;
}

void CudaRasterizer::Forward(const GaussiansView<float>& g, const RasterCamera<float>& camera,
                             const RasterOptions& options) {
  CheckInputs(g, camera, options);
  Impl& m = *impl_;
  m.has_forward = false;
  cudaStream_t stream = m.stream;
  const std::int64_t n = g.count;
  const int tiles_x = (camera.width + kernels::kTileSize - 1) / kernels::kTileSize;
  const int tiles_y = (camera.height + kernels::kTileSize - 1) / kernels::kTileSize;
  const int num_tiles = tiles_x * tiles_y;
  const std::int64_t pixels = std::int64_t(camera.width) * camera.height;

  // (1) Preprocess and count, (2) scan the counts into offsets.
  m.splats.Resize(n);
  m.radii.Resize(n);
  m.offsets.Resize(n);
  std::int64_t num_keys = 0;
  if (n > 0) {
    Preprocess(g, camera, options, tiles_x, tiles_y, m.splats.data(), m.radii.data(),
               m.offsets.data(), stream);
    std::size_t bytes = 0;
    FACET_CUDA_CHECK(cub::DeviceScan::InclusiveSum(nullptr, bytes, m.offsets.data(), n, stream));
    m.ReserveCubTemp(bytes);
    FACET_CUDA_CHECK(
        cub::DeviceScan::InclusiveSum(m.cub_temp.data(), bytes, m.offsets.data(), n, stream));
    FACET_CUDA_CHECK(cudaMemcpyAsync(&num_keys, m.offsets.data() + (n - 1), sizeof(num_keys),
                                     cudaMemcpyDeviceToHost, stream));
    FACET_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

  // (2) Keys, sorted on the tile and depth bits only (Inria's end bit).
  m.keys.Resize(num_keys);
  m.sorted_keys.Resize(num_keys);
  m.ids.Resize(num_keys);
  m.sorted_ids.Resize(num_keys);
  if (num_keys > 0) {
    EmitKeys(n, m.splats.data(), m.radii.data(), m.offsets.data(), tiles_x, tiles_y, m.keys.data(),
             m.ids.data(), stream);
    const int end_bit = 32 + std::bit_width(static_cast<unsigned>(num_tiles - 1));
    std::size_t bytes = 0;
    FACET_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
        nullptr, bytes, m.keys.data(), m.sorted_keys.data(), m.ids.data(), m.sorted_ids.data(),
        num_keys, 0, end_bit, stream));
    m.ReserveCubTemp(bytes);
    FACET_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
        m.cub_temp.data(), bytes, m.keys.data(), m.sorted_keys.data(), m.ids.data(),
        m.sorted_ids.data(), num_keys, 0, end_bit, stream));
  }
  m.tile_offsets.Resize(num_tiles + 1);
  TileOffsets(num_keys, m.sorted_keys.data(), num_tiles, m.tile_offsets.data(), stream);

  // (3) Blend.
  m.rgb.Resize(3 * pixels);
  m.alpha.Resize(pixels);
  m.depth.Resize(pixels);
  m.n_contrib.Resize(pixels);
  m.final_transmittance.Resize(pixels);
  m.last_contrib.Resize(pixels);

  m.gaussians = g;
  m.camera = camera;
  m.options = options;
  CudaRasterState& s = m.state;
  s.width = camera.width;
  s.height = camera.height;
  s.tiles_x = tiles_x;
  s.tiles_y = tiles_y;
  s.count = n;
  s.num_keys = num_keys;
  s.rgb = m.rgb.data();
  s.alpha = m.alpha.data();
  s.depth = m.depth.data();
  s.n_contrib = m.n_contrib.data();
  s.splats = m.splats.data();
  s.radii = m.radii.data();
  s.tile_offsets = m.tile_offsets.data();
  s.sorted_ids = m.sorted_ids.data();
  s.final_transmittance = m.final_transmittance.data();
  s.last_contrib = m.last_contrib.data();

  detail::ForwardOutputs out;
  out.rgb = m.rgb.data();
  out.alpha = m.alpha.data();
  out.depth = m.depth.data();
  out.n_contrib = m.n_contrib.data();
  out.final_transmittance = m.final_transmittance.data();
  out.last_contrib = m.last_contrib.data();
  detail::LaunchForwardTiles(m.Grid(), m.Lists(), out, stream);
  m.has_forward = true;
}

void CudaRasterizer::Backward(const float* v_rgb, const float* v_alpha,
                              const GaussiansMutableView<float>& grads, float* v_mean2d,
                              float* v_mean2d_abs) {
  Impl& m = *impl_;
  FACET_CHECK(m.has_forward, "CudaRasterizer::Backward: run Forward first");
  const std::int64_t n = m.gaussians.count;
  FACET_CHECK(grads.count == n && grads.sh_rest_stride == m.gaussians.sh_rest_stride,
              "rasterizer: the gradient arrays do not match the Gaussians");
  FACET_CHECK(v_rgb != nullptr, "CudaRasterizer::Backward: v_rgb is null");
  FACET_CHECK(
      n == 0 || (grads.means != nullptr && grads.log_scales != nullptr && grads.quats != nullptr &&
                 grads.opacities != nullptr && grads.sh_dc != nullptr &&
                 (grads.sh_rest_stride == 0 || grads.sh_rest != nullptr)),
      "CudaRasterizer::Backward: a gradient array is null");
  if (n == 0) return;
  cudaStream_t stream = m.stream;
  m.accumulators.Resize(n * kAccumulatorStride);
  FACET_CUDA_CHECK(cudaMemsetAsync(m.accumulators.data(), 0, m.accumulators.bytes(), stream));
  detail::BackwardInputs in;
  in.final_transmittance = m.final_transmittance.data();
  in.last_contrib = m.last_contrib.data();
  in.v_rgb = v_rgb;
  in.v_alpha = v_alpha;
  detail::LaunchBackwardTiles(m.Grid(), m.Lists(), in, m.accumulators.data(), stream);
  GaussianVjp(m.gaussians, m.camera, m.options, m.splats.data(), m.radii.data(),
              m.accumulators.data(), grads, v_mean2d, v_mean2d_abs, stream);
}

}  // namespace facet::splatting
