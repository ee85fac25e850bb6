// PhotometricLossCuda (loss_cuda.h): the CPU loss of splatting/loss.cpp pass for pass, each pass a
// kernel over the interleaved elements (y, x, c): the horizontal then vertical zero-padded window
// sums of x, y, x^2, y^2, x y; the per-pixel SSIM, its VJP and |x - y| with per-block partial sums
// (added on the host in a fixed order, so the value is deterministic); then the same two passes
// over the three statistic gradients and the chain through x -> (x, x^2, x y).
#include <cub/block/block_reduce.cuh>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/cuda_check.h"
#include "core/error.h"
#include "core/host_device.h"
#include "splatting/cuda/device_buffer.h"
#include "splatting/cuda/loss_cuda.h"
#include "splatting/kernels/ssim.h"

namespace facet::splatting {
namespace {

// As splatting/loss.h: kSsimWindowSize, kSsimWindowSigma (that header includes core/image.h,
// whose fmt-formatted checks nvcc cannot compile).
constexpr int kWindow = 11;
constexpr int kRadius = kWindow / 2;
constexpr double kSigma = 1.5;
constexpr int kThreads = 256;
constexpr int kMaxBlocks = 1024;

using Real = double;  // the CPU loss's arithmetic

struct Window {
  Real g[kWindow];
};

// The normalised 1D Gaussian, computed as the CPU's GaussianWindow().
Window GaussianWindow() {
  Window w;
  double sum = 0.0;
  for (int i = 0; i < kWindow; ++i) {
    const double d = i - kWindow / 2;
    w.g[i] = std::exp(-d * d / (2.0 * kSigma * kSigma));
    sum += w.g[i];
  }
  for (double& v : w.g) v /= sum;
  return w;
}

struct Shape {
  int width, height, channels;
  FACET_HOST_DEVICE std::int64_t Count() const { return std::int64_t(width) * height * channels; }
};

__device__ std::int64_t GlobalIndex() {
  return std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ std::int64_t GridStride() { return std::int64_t(blockDim.x) * gridDim.x; }

// Zero-padded horizontal window sum of `in` at element e (x from e's pixel, channel kept).
template <typename Load>
__device__ Real RowSum(const Window& w, const Shape& s, std::int64_t e, const Load& load) {
  const int c = int(e % s.channels);
  const std::int64_t pixel = e / s.channels;
  const int x = int(pixel % s.width);
  const std::int64_t row = pixel - x;
  Real sum = 0;
  for (int k = -kRadius; k <= kRadius; ++k) {
    const int xx = x + k;
    if (xx >= 0 && xx < s.width) sum += w.g[k + kRadius] * load((row + xx) * s.channels + c);
  }
  return sum;
}

// Zero-padded vertical window sum of plane `in` at element e.
__device__ Real ColumnSum(const Window& w, const Shape& s, std::int64_t e, const Real* in) {
  const std::int64_t row_elems = std::int64_t(s.width) * s.channels;
  const int y = int(e / row_elems);
  Real sum = 0;
  for (int k = -kRadius; k <= kRadius; ++k) {
    const int yy = y + k;
    if (yy >= 0 && yy < s.height) sum += w.g[k + kRadius] * in[e + std::int64_t(k) * row_elems];
  }
  return sum;
}

// Pass 1: horizontal sums of x, y, x^2, y^2, x y into h[0..4].
__global__ void RowStatsKernel(Window w, Shape s, const float* render, const float* target,
                               Real* h0, Real* h1, Real* h2, Real* h3, Real* h4) {
  for (std::int64_t e = GlobalIndex(); e < s.Count(); e += GridStride()) {
    h0[e] = RowSum(w, s, e, [&](std::int64_t i) { return Real(render[i]); });
    h1[e] = RowSum(w, s, e, [&](std::int64_t i) { return Real(target[i]); });
    h2[e] = RowSum(w, s, e, [&](std::int64_t i) { return Real(render[i]) * Real(render[i]); });
    h3[e] = RowSum(w, s, e, [&](std::int64_t i) { return Real(target[i]) * Real(target[i]); });
    h4[e] = RowSum(w, s, e, [&](std::int64_t i) { return Real(render[i]) * Real(target[i]); });
  }
}

// Pass 2: vertical sums -> local statistics -> SSIM (summed) and, with gradients, the VJP w.r.t.
// mu_x, E[x^2] and E[x y] (scaled by v_ssim) into d_mu, d_xx, d_xy; also sums |x - y|. Writes the
// block's two partial sums to partials[2 * block].
__global__ void SsimKernel(Window w, Shape s, const float* render, const float* target,
                           const Real* h0, const Real* h1, const Real* h2, const Real* h3,
                           const Real* h4, Real v_ssim, Real* d_mu, Real* d_xx, Real* d_xy,
                           Real* partials) {
  Real ssim_sum = 0, l1_sum = 0;
  for (std::int64_t e = GlobalIndex(); e < s.Count(); e += GridStride()) {
    const Real mu_x = ColumnSum(w, s, e, h0), mu_y = ColumnSum(w, s, e, h1);
    const Real e_xx = ColumnSum(w, s, e, h2), e_yy = ColumnSum(w, s, e, h3);
    const Real e_xy = ColumnSum(w, s, e, h4);
    const kernels::SsimStats<Real> st{mu_x, mu_y, e_xx - mu_x * mu_x, e_yy - mu_y * mu_y,
                                      e_xy - mu_x * mu_y};
    ssim_sum += kernels::SsimFromStats(st);
    l1_sum += fabs(Real(render[e]) - Real(target[e]));
    if (d_mu != nullptr) {
      // var_x = E[xx] - mu_x^2 and cov = E[xy] - mu_x mu_y (mu_y, E[yy]: target only).
      const kernels::SsimStats<Real> v = kernels::SsimFromStatsVjp(st, v_ssim);
      d_mu[e] = v.mu_x - Real(2) * mu_x * v.var_x - mu_y * v.cov_xy;
      d_xx[e] = v.var_x;
      d_xy[e] = v.cov_xy;
    }
  }
  using BlockReduce = cub::BlockReduce<Real, kThreads>;
  __shared__ typename BlockReduce::TempStorage storage;
  const Real ssim_block = BlockReduce(storage).Sum(ssim_sum);
  __syncthreads();
  const Real l1_block = BlockReduce(storage).Sum(l1_sum);
  if (threadIdx.x == 0) {
    partials[2 * blockIdx.x] = ssim_block;
    partials[2 * blockIdx.x + 1] = l1_block;
  }
}

// Pass 3: horizontal sums of the three statistic gradients (the adjoint of pass 2's filter).
__global__ void RowGradKernel(Window w, Shape s, const Real* d_mu, const Real* d_xx,
                              const Real* d_xy, Real* f_mu, Real* f_xx, Real* f_xy) {
  for (std::int64_t e = GlobalIndex(); e < s.Count(); e += GridStride()) {
    f_mu[e] = RowSum(w, s, e, [&](std::int64_t i) { return d_mu[i]; });
    f_xx[e] = RowSum(w, s, e, [&](std::int64_t i) { return d_xx[i]; });
    f_xy[e] = RowSum(w, s, e, [&](std::int64_t i) { return d_xy[i]; });
  }
}

// Pass 4: vertical sums (the adjoint of pass 1's filter), then the chain through
// x -> (x, x^2, x y), plus the L1 term l1_scale * sign(x - y).
__global__ void GradientKernel(Window w, Shape s, const float* render, const float* target,
                               const Real* f_mu, const Real* f_xx, const Real* f_xy, Real l1_scale,
                               float* d_render) {
  for (std::int64_t e = GlobalIndex(); e < s.Count(); e += GridStride()) {
    const Real x = render[e], y = target[e];
    const Real d = x - y;
    const Real l1 = d > 0 ? l1_scale : (d < 0 ? -l1_scale : Real(0));
    const Real ssim = ColumnSum(w, s, e, f_mu) + Real(2) * x * ColumnSum(w, s, e, f_xx) +
                      y * ColumnSum(w, s, e, f_xy);
    d_render[e] = float(l1 + ssim);
  }
}

int BlocksFor(std::int64_t n) {
  return int(std::clamp<std::int64_t>((n + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

}  // namespace

struct CudaLossWorkspace::Impl {
  DeviceBuffer<Real> planes[8];  // h0..h4 (pass 1), then d_mu, d_xx, d_xy (pass 2)
  DeviceBuffer<Real> partials;
  std::vector<Real> host_partials;
};

CudaLossWorkspace::CudaLossWorkspace() : impl_(std::make_unique<Impl>()) {}
CudaLossWorkspace::~CudaLossWorkspace() = default;

double PhotometricLossCuda(const float* render, const float* target, int width, int height,
                           int channels, float* d_render, double lambda_dssim,
                           CudaLossWorkspace& workspace, CUstream_st* stream) {
  FACET_CHECK(width > 0 && height > 0 && channels >= 1 && channels <= 4,
              "PhotometricLossCuda: invalid image " + std::to_string(width) + "x" +
                  std::to_string(height) + "x" + std::to_string(channels) +
                  " (non-empty, 1-4 channels)");
  FACET_CHECK(render != nullptr && target != nullptr,
              "PhotometricLossCuda: the render or the target is null");
  FACET_CHECK(lambda_dssim >= 0.0 && lambda_dssim <= 1.0,
              "PhotometricLossCuda: lambda_dssim = " + std::to_string(lambda_dssim) +
                  " must lie in [0, 1]");
  const Shape shape{width, height, channels};
  const std::int64_t n = shape.Count();
  const Window window = GaussianWindow();
  CudaLossWorkspace::Impl& ws = *workspace.impl_;
  for (DeviceBuffer<Real>& plane : ws.planes) plane.Resize(n);
  Real* h[5] = {ws.planes[0].data(), ws.planes[1].data(), ws.planes[2].data(), ws.planes[3].data(),
                ws.planes[4].data()};
  Real* d[3] = {ws.planes[5].data(), ws.planes[6].data(), ws.planes[7].data()};
  const int blocks = BlocksFor(n);
  ws.partials.Resize(2 * blocks);
  const bool with_grad = d_render != nullptr;
  const Real inv_n = Real(1) / Real(n);

  RowStatsKernel<<<blocks, kThreads, 0, stream>>>(window, shape, render, target, h[0], h[1], h[2],
                                                  h[3], h[4]);
  FACET_CUDA_CHECK_LAUNCH();
  SsimKernel<<<blocks, kThreads, 0, stream>>>(
      window, shape, render, target, h[0], h[1], h[2], h[3], h[4], -lambda_dssim * inv_n,
      with_grad ? d[0] : nullptr, d[1], d[2], ws.partials.data());
  FACET_CUDA_CHECK_LAUNCH();
  if (with_grad) {
    // The filtered gradients reuse the pass-1 planes, which pass 2 has consumed.
    RowGradKernel<<<blocks, kThreads, 0, stream>>>(window, shape, d[0], d[1], d[2], h[0], h[1],
                                                   h[2]);
    FACET_CUDA_CHECK_LAUNCH();
    GradientKernel<<<blocks, kThreads, 0, stream>>>(window, shape, render, target, h[0], h[1], h[2],
                                                    (1.0 - lambda_dssim) * inv_n, d_render);
    FACET_CUDA_CHECK_LAUNCH();
  }
  ws.host_partials.resize(2 * std::size_t(blocks));
  FACET_CUDA_CHECK(cudaMemcpyAsync(ws.host_partials.data(), ws.partials.data(), ws.partials.bytes(),
                                   cudaMemcpyDeviceToHost, stream));
  FACET_CUDA_CHECK(cudaStreamSynchronize(stream));
  Real ssim_sum = 0, l1_sum = 0;
  for (int b = 0; b < blocks; ++b) {
    ssim_sum += ws.host_partials[2 * b];
    l1_sum += ws.host_partials[2 * b + 1];
  }
  return (1.0 - lambda_dssim) * (l1_sum * inv_n) + lambda_dssim * (1.0 - ssim_sum * inv_n);
}

}  // namespace facet::splatting
