// CudaTrainState (train_step_cuda.h): the device-resident training iteration. Plain C++ over the
// CUDA runtime's C API; the two small kernels are in train_step_cuda.cu.
#include "splatting/cuda/train_step_cuda.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "core/cuda_check.h"
#include "core/error.h"
#include "splatting/cuda/adam_cuda.h"
#include "splatting/cuda/detail/train_kernels.h"
#include "splatting/cuda/device_buffer.h"
#include "splatting/cuda/loss_cuda.h"
#include "splatting/cuda/rasterizer_cuda.h"

namespace facet::splatting {
namespace {

constexpr int kGroups = Gaussians::kNumGroups;
using GroupBuffers = std::array<DeviceBuffer<float>, kGroups>;

std::int64_t DeviceBytesInUse() {
  std::size_t free_bytes = 0, total_bytes = 0;
  FACET_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  return static_cast<std::int64_t>(total_bytes - free_bytes);
}

GaussiansView<float> ViewOf(const GroupBuffers& b, std::int64_t count, int stride) {
  return {b[Gaussians::kMeans].data(),
          b[Gaussians::kLogScales].data(),
          b[Gaussians::kQuats].data(),
          b[Gaussians::kOpacities].data(),
          b[Gaussians::kShDc].data(),
          b[Gaussians::kShRest].data(),
          count,
          stride};
}

GaussiansMutableView<float> MutableViewOf(GroupBuffers& b, std::int64_t count, int stride) {
  return {b[Gaussians::kMeans].data(),
          b[Gaussians::kLogScales].data(),
          b[Gaussians::kQuats].data(),
          b[Gaussians::kOpacities].data(),
          b[Gaussians::kShDc].data(),
          b[Gaussians::kShRest].data(),
          count,
          stride};
}

// Host vector <- the first `count` elements of a device array.
template <typename T>
void DownloadInto(const T* device, std::int64_t count, std::vector<T>* host) {
  host->resize(static_cast<std::size_t>(count));
  if (count > 0) {
    FACET_CUDA_CHECK(cudaMemcpy(host->data(), device, sizeof(T) * static_cast<std::size_t>(count),
                                cudaMemcpyDeviceToHost));
  }
}

}  // namespace

struct CudaTrainState::Impl {
  AdamOptions adam_options;
  CudaRasterizer rasterizer;
  CudaLossWorkspace loss;
  GroupBuffers params, grads, exp_avg, exp_avg_sq;
  DeviceBuffer<std::uint8_t> target_bytes;
  DeviceBuffer<float> target, d_render, v_mean2d, v_mean2d_abs;
  DeviceBuffer<double> squared_error{1};
  std::vector<float> host_v_mean2d, host_v_mean2d_abs;
  std::vector<std::int32_t> host_radii;
  std::int64_t count = 0;
  int max_sh_degree = 0;
  int stride = 0;
  std::int64_t adam_step = 0;
  std::int64_t baseline_bytes = 0;         // cudaMemGetInfo's bytes in use at construction
  std::int64_t baseline_buffer_bytes = 0;  // DeviceBuffers' bytes at construction
  std::int64_t peak_bytes = 0;

  // The larger of the two growths: the driver's count includes allocations outside
  // DeviceBuffer (CUB's temporaries), the buffers' own count moves where the driver's does not.
  void RecordMemory() {
    peak_bytes = std::max({peak_bytes, DeviceBytesInUse() - baseline_bytes,
                           DeviceBufferBytes() - baseline_buffer_bytes});
  }
};

CudaTrainState::CudaTrainState(const AdamOptions& adam_options) : impl_(std::make_unique<Impl>()) {
  adam_options.Check();
  impl_->adam_options = adam_options;
  impl_->baseline_bytes = DeviceBytesInUse();
  impl_->baseline_buffer_bytes = DeviceBufferBytes();
}

CudaTrainState::~CudaTrainState() = default;

void CudaTrainState::Upload(const Gaussians& params, const Adam& adam) {
  Impl& s = *impl_;
  FACET_CHECK(params.max_sh_degree >= 0 && params.max_sh_degree <= kernels::kMaxShDegree,
              "CudaTrainState::Upload: SH degree {} (expected 0-3)", params.max_sh_degree);
  const std::int64_t n = params.size();
  const Gaussians& m = adam.FirstMoment();
  const Gaussians& v = adam.SecondMoment();
  // Before its first step Adam has no moments (Adam::Step creates them, zero).
  const bool moments = !(m.empty() && v.empty());
  FACET_CHECK(
      !moments || (m.size() == n && v.size() == n && m.max_sh_degree == params.max_sh_degree &&
                   v.max_sh_degree == params.max_sh_degree),
      "CudaTrainState::Upload: Adam moments for {} Gaussians of degree {}, parameters for "
      "{} of degree {}",
      m.size(), m.max_sh_degree, n, params.max_sh_degree);
  for (int g = 0; g < kGroups; ++g) {
    const auto group = static_cast<Gaussians::Group>(g);
    FACET_CHECK(params.Data(group).size() == static_cast<std::size_t>(n) * params.Width(group),
                "CudaTrainState::Upload: parameter group {} holds {} floats for {} Gaussians", g,
                params.Data(group).size(), n);
    s.params[g].Upload(params.Data(group));
    s.grads[g].Resize(s.params[g].size());
    if (moments) {
      s.exp_avg[g].Upload(m.Data(group));
      s.exp_avg_sq[g].Upload(v.Data(group));
    } else {
      s.exp_avg[g].Resize(s.params[g].size());
      s.exp_avg_sq[g].Resize(s.params[g].size());
      s.exp_avg[g].SetZero();
      s.exp_avg_sq[g].SetZero();
    }
  }
  s.count = n;
  s.max_sh_degree = params.max_sh_degree;
  s.stride = params.ShRestStride();
  s.adam_step = adam.StepCount();
  s.v_mean2d.Resize(2 * n);
  s.v_mean2d_abs.Resize(2 * n);
  s.host_v_mean2d.clear();
  s.host_v_mean2d_abs.clear();
  s.host_radii.clear();
  s.RecordMemory();
}

void CudaTrainState::Download(Gaussians* params, Adam* adam) const {
  FACET_CHECK(params != nullptr && adam != nullptr, "CudaTrainState::Download: null output");
  const Impl& s = *impl_;
  *params = Gaussians(s.count, s.max_sh_degree);
  adam->FirstMoment() = Gaussians(s.count, s.max_sh_degree);
  adam->SecondMoment() = Gaussians(s.count, s.max_sh_degree);
  for (int g = 0; g < kGroups; ++g) {
    const auto group = static_cast<Gaussians::Group>(g);
    s.params[g].Download(params->Data(group).data());
    s.exp_avg[g].Download(adam->FirstMoment().Data(group).data());
    s.exp_avg_sq[g].Download(adam->SecondMoment().Data(group).data());
  }
  adam->SetStepCount(s.adam_step);
}

CudaStepResult CudaTrainState::Step(const ImageU8& target, const RasterCamera<float>& camera,
                                    const RasterOptions& options, float lambda_dssim,
                                    const GroupLearningRates& lr, std::int64_t adam_step,
                                    bool want_stats) {
  Impl& s = *impl_;
  FACET_CHECK(s.count > 0, "CudaTrainState::Step: no Gaussians on the device (Upload first)");
  const int w = camera.width, h = camera.height;
  FACET_CHECK(target.width() == w && target.height() == h && target.channels() == 3,
              "CudaTrainState::Step: the target is {}x{}x{}, the camera {}x{} (RGB expected)",
              target.width(), target.height(), target.channels(), w, h);
  FACET_CHECK(adam_step >= 1, "CudaTrainState::Step: the Adam step must be >= 1 (got {})",
              adam_step);
  const std::int64_t values = std::int64_t(w) * h * 3;
  CUstream_st* stream = s.rasterizer.stream();

  // The copy runs on the legacy default stream, which the rasterizer's blocking stream waits for.
  s.target_bytes.Upload(std::span<const std::uint8_t>(target.data(), std::size_t(values)));
  s.target.Resize(values);
  s.d_render.Resize(values);
  detail::LaunchBytesToUnitFloat(s.target_bytes.data(), s.target.data(), values, stream);

  s.rasterizer.Forward(ViewOf(s.params, s.count, s.stride), camera, options);
  const CudaRasterState& state = s.rasterizer.State();
  detail::LaunchSquaredErrorSum(state.rgb, s.target.data(), values, s.squared_error.data(), stream);
  CudaStepResult result;
  result.loss = PhotometricLossCuda(state.rgb, s.target.data(), w, h, 3, s.d_render.data(),
                                    lambda_dssim, s.loss, stream);

  s.rasterizer.Backward(s.d_render.data(), nullptr, MutableViewOf(s.grads, s.count, s.stride),
                        want_stats ? s.v_mean2d.data() : nullptr,
                        want_stats ? s.v_mean2d_abs.data() : nullptr);
  if (want_stats) {
    // cudaMemcpy on the legacy default stream waits for the backward pass.
    DownloadInto<float>(s.v_mean2d.data(), 2 * s.count, &s.host_v_mean2d);
    DownloadInto<float>(s.v_mean2d_abs.data(), 2 * s.count, &s.host_v_mean2d_abs);
    DownloadInto<std::int32_t>(state.radii, s.count, &s.host_radii);
  }

  for (int g = 0; g < kGroups; ++g) {
    AdamStepCuda(s.params[g].data(), s.grads[g].data(), s.exp_avg[g].data(), s.exp_avg_sq[g].data(),
                 s.params[g].size(), lr[g], adam_step, s.adam_options, stream);
  }
  s.adam_step = adam_step;

  double squared_error = 0.0;
  s.squared_error.Download(&squared_error);  // waits for the whole iteration
  const double mse = squared_error / double(values);
  result.psnr = mse > 0.0 ? -10.0 * std::log10(mse) : 100.0;
  s.RecordMemory();
  return result;
}

ImageF32 CudaTrainState::Render(const RasterCamera<float>& camera, const RasterOptions& options) {
  Impl& s = *impl_;
  s.rasterizer.Forward(ViewOf(s.params, s.count, s.stride), camera, options);
  ImageF32 image(camera.width, camera.height, 3);
  const std::int64_t values = std::int64_t(camera.width) * camera.height * 3;
  if (values > 0) {
    FACET_CUDA_CHECK(cudaMemcpy(image.data(), s.rasterizer.State().rgb,
                                sizeof(float) * static_cast<std::size_t>(values),
                                cudaMemcpyDeviceToHost));
  }
  s.RecordMemory();
  return image;
}

std::int64_t CudaTrainState::size() const { return impl_->count; }
std::int64_t CudaTrainState::AdamStep() const { return impl_->adam_step; }
std::span<const float> CudaTrainState::VMean2d() const { return impl_->host_v_mean2d; }
std::span<const float> CudaTrainState::VMean2dAbs() const { return impl_->host_v_mean2d_abs; }
std::span<const std::int32_t> CudaTrainState::Radii() const { return impl_->host_radii; }
std::int64_t CudaTrainState::PeakDeviceBytes() const { return impl_->peak_bytes; }

}  // namespace facet::splatting
