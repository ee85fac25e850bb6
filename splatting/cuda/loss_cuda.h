// The CUDA path of the 3DGS photometric loss (splatting/loss.h, Kerbl et al. 2023, eq. 7):
//
//   L = (1 - lambda) * L1 + lambda * (1 - SSIM)
//
// with exactly the CPU's conventions: Inria's SSIM (11x11 Gaussian window, sigma 1.5, 'same' size
// with zero padding, per channel, averaged over all pixels and channels), the per-pixel formula
// and its VJP from splatting/kernels/ssim.h, and the gradient taken back through the filters by
// filtering again (the zero-padded symmetric filter is its own adjoint). The filter runs as two
// separable passes, and, like the CPU path, every statistic is computed in double, so loss and
// gradient agree with the CPU's to float rounding of the result (memory: eight double planes of
// the image's size, 123 MB at 800x800x3, kept in the workspace).
//
// Images are device arrays of floats, row-major interleaved [H, W, C], tightly packed, C in 1..4,
// values in [0, 1]; the target is float too (decode and divide by 255 once, when uploading).
// A plain header (no CUDA types); only built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <memory>

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace facet::splatting {

// Device scratch reused across calls (grows to the largest image seen). Not thread-safe.
class CudaLossWorkspace {
 public:
  CudaLossWorkspace();
  ~CudaLossWorkspace();
  CudaLossWorkspace(const CudaLossWorkspace&) = delete;
  CudaLossWorkspace& operator=(const CudaLossWorkspace&) = delete;

  struct Impl;

 private:
  friend double PhotometricLossCuda(const float*, const float*, int, int, int, float*, double,
                                    CudaLossWorkspace&, CUstream_st*);
  std::unique_ptr<Impl> impl_;
};

// (1 - lambda_dssim) * mean |render - target| + lambda_dssim * (1 - mean SSIM) of the device
// images render and target ([height, width, channels] floats). When d_render (device, same shape)
// is not nullptr it is overwritten with dL/drender. Queued on `stream` (nullptr: the legacy
// default stream); returns after synchronising it, since the value is read back. Throws
// facet::Error for bad sizes, a null pointer, lambda_dssim outside [0, 1], or a CUDA failure.
double PhotometricLossCuda(const float* render, const float* target, int width, int height,
                           int channels, float* d_render, double lambda_dssim,
                           CudaLossWorkspace& workspace, CUstream_st* stream = nullptr);

}  // namespace facet::splatting
