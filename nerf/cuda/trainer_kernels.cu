// The elementwise and per-ray kernels of the CUDA NeRF field, trainer, occupancy grid and renderer
// (declared in detail/launchers.h): grid-stride loops (core/parallel_for.h) over the shared
// per-element math of nerf/kernels/. Argument checks are the callers' (the .cpp files).
#include <cub/device/device_reduce.cuh>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>

#include "core/cuda_check.h"
#include "core/device_buffer.h"
#include "core/parallel_for.h"
#include "nerf/cuda/detail/launchers.h"
#include "nerf/kernels/activations.h"
#include "nerf/kernels/loss.h"
#include "nerf/kernels/occupancy.h"
#include "nerf/kernels/pixel_rays.h"
#include "nerf/kernels/sh_encoding.h"

namespace facet::nerf::detail {

void LaunchNormalise(const FieldBox& box, const float* positions, std::int64_t n, float* unit,
                     CUstream_st* stream) {
  const FieldBox b = box;
  ParallelForCuda(
      3 * n,
      [=] __device__(std::int64_t i) {
        unit[i] = (positions[i] - b.aabb_min[i % 3]) * b.inverse_scale;
      },
      stream);
}

void LaunchColorInput(const float* density_out, int geometry, const float* directions,
                      std::int64_t n, float* color_in, CUstream_st* stream) {
  const int inputs = geometry + kernels::kShCount;
  ParallelForCuda(
      n,
      [=] __device__(std::int64_t i) {
        float* row = color_in + i * inputs;
        for (int j = 0; j < geometry; ++j) row[j] = density_out[i * geometry + j];
        kernels::ShEncode(directions[3 * i], directions[3 * i + 1], directions[3 * i + 2],
                          row + geometry);
      },
      stream);
}

void LaunchFieldActivations(const float* density_out, int geometry, const float* color_out,
                            std::int64_t n, float* sigma, float* rgb, CUstream_st* stream) {
  ParallelForCuda(
      n,
      [=] __device__(std::int64_t i) {
        sigma[i] = kernels::TruncExp(density_out[i * geometry]);
        if (rgb == nullptr) return;
        for (int k = 0; k < 3; ++k) rgb[3 * i + k] = kernels::Sigmoid(color_out[3 * i + k]);
      },
      stream);
}

void LaunchColorOutputGradient(const float* d_rgb, const float* color_out, std::int64_t n,
                               float* d_color_out, CUstream_st* stream) {
  ParallelForCuda(
      3 * n,
      [=] __device__(std::int64_t i) {
        d_color_out[i] = d_rgb[i] * kernels::SigmoidDerivative(color_out[i]);
      },
      stream);
}

void LaunchDensityOutputGradient(const float* d_color_in, int color_inputs, const float* d_sigma,
                                 const float* density_out, int geometry, std::int64_t n,
                                 float* d_density_out, CUstream_st* stream) {
  ParallelForCuda(
      n,
      [=] __device__(std::int64_t i) {
        float* row = d_density_out + i * geometry;
        for (int j = 0; j < geometry; ++j) row[j] = d_color_in[i * color_inputs + j];
        row[0] += d_sigma[i] * kernels::TruncExpDerivative(density_out[i * geometry]);
      },
      stream);
}

void LaunchMakeBatch(const BatchParams& params, const DevicePhoto* photos,
                     const std::uint8_t* pixels, std::int64_t n, float* origins, float* directions,
                     float* targets, float* backgrounds, CUstream_st* stream) {
  const BatchParams p = params;
  ParallelForCuda(
      n,
      [=] __device__(std::int64_t r) {
        // Eight uniform numbers per ray: two counters of UniformFloat's four lanes each.
        const auto ray = std::uint32_t(r);
        auto uniform = [&](int lane) {
          return kernels::UniformFloat(p.seed, 2u * ray + std::uint32_t(lane / 4),
                                       std::uint32_t(lane % 4));
        };
        int index = int(uniform(0) * float(p.photo_count));
        index = index < p.photo_count ? index : p.photo_count - 1;
        const DevicePhoto& photo = photos[index];
        const float x = uniform(1) * float(photo.width);
        const float y = uniform(2) * float(photo.height);
        const int px = int(x) < photo.width ? int(x) : photo.width - 1;
        const int py = int(y) < photo.height ? int(y) : photo.height - 1;
        float background[3];
        for (int k = 0; k < 3; ++k) {
          // Random backgrounds make RGBA scenes learn transparency instead of a fixed colour.
          background[k] = p.random_background ? uniform(3 + k) : p.background[k];
        }
        const std::uint8_t* pixel =
            pixels + photo.offset +
            (std::uint64_t(py) * std::uint64_t(photo.width) + std::uint64_t(px)) *
                std::uint64_t(photo.channels);
        const float alpha = photo.channels == 4 ? float(pixel[3]) / 255.0f : 1.0f;
        float d[3];
        kernels::PixelRay(photo.view, x, y, d);
        for (int k = 0; k < 3; ++k) {
          const float c = float(pixel[k]) / 255.0f;
          targets[3 * r + k] = photo.channels == 4 ? alpha * c + (1.0f - alpha) * background[k] : c;
          backgrounds[3 * r + k] = background[k];
          origins[3 * r + k] = photo.view.origin[k];
          directions[3 * r + k] = d[k];
        }
      },
      stream);
}

void LaunchColourLoss(const float* predicted, const float* target, std::int64_t count, bool huber,
                      float huber_delta, float scale, float* loss, float* squared,
                      float* d_predicted, CUstream_st* stream) {
  ParallelForCuda(
      count,
      [=] __device__(std::int64_t i) {
        const float r = predicted[i] - target[i];
        float d = 0.0f;
        loss[i] = huber ? kernels::HuberLoss(r, huber_delta, &d) : kernels::L2Loss(r, &d);
        d_predicted[i] = d * scale;
        squared[i] = r * r;
      },
      stream);
}

void LaunchCellPoints(const kernels::GridView& grid, std::uint32_t seed, std::int64_t begin,
                      std::int64_t count, float* positions, CUstream_st* stream) {
  const kernels::GridView g = grid;
  ParallelForCuda(
      count,
      [=] __device__(std::int64_t j) {
        kernels::JitteredCellPoint(g, std::uint32_t(begin + j), seed, positions + 3 * j);
      },
      stream);
}

void LaunchCellUpdate(const CellUpdate& update, const std::uint8_t* occupancy, const float* sigma,
                      std::int64_t begin, std::int64_t count, float* values, int* bad,
                      CUstream_st* stream) {
  const CellUpdate u = update;
  ParallelForCuda(
      count,
      [=] __device__(std::int64_t j) {
        const auto cell = std::uint32_t(begin + j);
        // As OccupancyGrid::Update: decay every cell, then the max with the refreshed ones.
        float v = values[cell] * u.decay;
        if (kernels::CellRefreshed(u.all, occupancy[cell] != 0, u.refresh_fraction, u.seed, cell)) {
          const float s = sigma[j] * u.scale;
          if (!(s >= 0.0f) || isinf(s)) *bad = 1;  // negative, NaN or infinite
          v = v > s ? v : s;
        }
        values[cell] = v;
      },
      stream);
}

namespace {

// The sum of values[count] as Out (CUB's accumulator follows the output type), synchronising
// `stream` to read it back. The result slot and CUB's storage live in a grow-only scratch of the
// calling thread: the occupancy rebuild sums twice per update, and a cudaMalloc/cudaFree pair
// each time would synchronise the device.
template <typename Out, typename In>
Out DeviceSum(const In* values, std::int64_t count, cudaStream_t stream) {
  // The result first, CUB's storage from byte 256 on (cudaMalloc aligns to 256, CUB wants that).
  constexpr std::size_t kTempOffset = 256;
  static_assert(sizeof(Out) <= kTempOffset);
  thread_local DeviceBuffer<std::uint8_t> scratch;
  std::size_t temp_bytes = 0;
  FACET_CUDA_CHECK(cub::DeviceReduce::Sum(nullptr, temp_bytes, values, static_cast<Out*>(nullptr),
                                          count, stream));
  scratch.Resize(std::int64_t(kTempOffset + std::max<std::size_t>(temp_bytes, 1)));
  Out* sum = reinterpret_cast<Out*>(scratch.data());
  FACET_CUDA_CHECK(
      cub::DeviceReduce::Sum(scratch.data() + kTempOffset, temp_bytes, values, sum, count, stream));
  Out host{};
  FACET_CUDA_CHECK(cudaMemcpyAsync(&host, sum, sizeof(Out), cudaMemcpyDeviceToHost, stream));
  FACET_CUDA_CHECK(cudaStreamSynchronize(stream));
  return host;
}

}  // namespace

double SumOnDevice(const float* values, std::int64_t count, CUstream_st* stream) {
  return DeviceSum<double>(values, count, stream);
}

void LaunchThreshold(const float* values, std::int64_t count, float threshold,
                     std::uint8_t* occupancy, CUstream_st* stream) {
  ParallelForCuda(
      count, [=] __device__(std::int64_t i) { occupancy[i] = values[i] > threshold ? 1 : 0; },
      stream);
}

void LaunchMaxPool(const kernels::GridView& grid, int c, std::uint8_t* occupancy,
                   CUstream_st* stream) {
  const kernels::GridView g = grid;
  const std::int64_t per_cascade =
      std::int64_t(g.resolution) * std::int64_t(g.resolution) * std::int64_t(g.resolution);
  const std::int64_t fine_begin = std::int64_t(c - 1) * per_cascade;
  // Only cascade c - 1 is read and only cascade c written, so the threads do not race on a read;
  // concurrent writes all store 1.
  ParallelForCuda(
      per_cascade,
      [=] __device__(std::int64_t i) {
        const auto cell = std::uint32_t(fine_begin + i);
        if (occupancy[cell] == 0) return;
        float x[3];
        kernels::CellCentre(g, cell, x);
        occupancy[kernels::CellIndex(g, x, c)] = 1;
      },
      stream);
}

std::int64_t CountOccupied(const std::uint8_t* occupancy, std::int64_t count, CUstream_st* stream) {
  // The bytes are 0 or 1.
  return DeviceSum<std::int64_t>(occupancy, count, stream);
}

void LaunchPixelRays(const kernels::PinholeView& view, int width, std::int64_t begin,
                     std::int64_t count, float* origins, float* directions, CUstream_st* stream) {
  const kernels::PinholeView v = view;
  ParallelForCuda(
      count,
      [=] __device__(std::int64_t i) {
        const std::int64_t p = begin + i;
        float d[3];
        kernels::PixelRay(v, float(p % width) + 0.5f, float(p / width) + 0.5f, d);
        for (int k = 0; k < 3; ++k) {
          origins[3 * i + k] = v.origin[k];
          directions[3 * i + k] = d[k];
        }
      },
      stream);
}

void LaunchCameraDepth(const float* opacity, const float* directions, const float axis[3],
                       std::int64_t count, float* depth, CUstream_st* stream) {
  const float ax = axis[0], ay = axis[1], az = axis[2];
  ParallelForCuda(
      count,
      [=] __device__(std::int64_t i) {
        const float along =
            directions[3 * i] * ax + directions[3 * i + 1] * ay + directions[3 * i + 2] * az;
        depth[i] = opacity[i] > 0.0f ? depth[i] / opacity[i] * along : 0.0f;
      },
      stream);
}

}  // namespace facet::nerf::detail
