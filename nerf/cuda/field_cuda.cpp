#include "nerf/cuda/field_cuda.h"

#include <algorithm>
#include <span>

#include "core/error.h"
#include "nerf/cuda/detail/launchers.h"
#include "nerf/cuda/hash_encoding_cuda.h"
#include "nerf/cuda/mlp_cuda.h"
#include "nerf/kernels/sh_encoding.h"

namespace facet::nerf {
namespace {

constexpr int kGeometry = NerfField::kGeometryFeatures;
constexpr int kColorInputs = kGeometry + kernels::kShCount;
// Inference chunk: bounds the workspace of an occupancy update over millions of cells.
constexpr std::int64_t kInferenceChunk = std::int64_t(1) << 19;

void CheckShapes(const NerfField& field, const NerfFieldOptions& options,
                 const DeviceBuffer<float> (&params)[3]) {
  FACET_CHECK(field.grid().ParamCount() == std::size_t(params[0].size()) &&
                  field.density_net().ParamCount() == std::size_t(params[1].size()) &&
                  field.color_net().ParamCount() == std::size_t(params[2].size()) &&
                  field.options().grid.OutputDims() == options.grid.OutputDims(),
              "NerfFieldCuda: the host field has other options than the device field");
}

}  // namespace

NerfFieldCuda::NerfFieldCuda(const NerfField& field, MlpCudaKernel mlp_kernel)
    : options_(field.options()),
      aabb_min_(field.aabb_min()),
      aabb_max_(field.aabb_max()),
      inverse_scale_(1.0f / (field.aabb_max() - field.aabb_min()).maxCoeff()),
      layout_(field.grid().layout()),
      density_options_(field.density_net().options()),
      color_options_(field.color_net().options()),
      mlp_kernel_(mlp_kernel) {
  params_[0].Upload(field.grid().params());
  params_[1].Upload(field.density_net().params());
  params_[2].Upload(field.color_net().params());
  for (int b = 0; b < 3; ++b) gradients_[b].Resize(params_[b].size());
  ZeroGradients();
}

void NerfFieldCuda::Upload(const NerfField& field) {
  CheckShapes(field, options_, params_);
  params_[0].Upload(field.grid().params());
  params_[1].Upload(field.density_net().params());
  params_[2].Upload(field.color_net().params());
}

void NerfFieldCuda::Download(NerfField* field) const {
  CheckShapes(*field, options_, params_);
  params_[0].Download(field->grid().params().data());
  params_[1].Download(field->density_net().params().data());
  params_[2].Download(field->color_net().params().data());
}

void NerfFieldCuda::ZeroGradients() {
  for (DeviceBuffer<float>& g : gradients_) g.SetZero();
}

void NerfFieldCuda::Evaluate(const float* positions, const float* directions, std::int64_t n,
                             bool with_color, Workspace& ws) const {
  FACET_CHECK(n >= 0, "NerfFieldCuda: negative sample count {}", n);
  ws.positions = positions;
  ws.n = n;
  if (n == 0) return;
  const int dims = options_.grid.OutputDims();
  ws.unit.Resize(3 * n);
  ws.features.Resize(n * dims);
  ws.density_out.Resize(n * kGeometry);
  ws.density_act.Resize(std::max<std::int64_t>(MlpCudaActivationFloats(density_options_, n), 1));
  const detail::FieldBox box{{aabb_min_.x(), aabb_min_.y(), aabb_min_.z()}, inverse_scale_};
  detail::LaunchNormalise(box, positions, n, ws.unit.data(), nullptr);
  HashGridForwardCuda(layout_, params_[0].data(), ws.unit.data(), n, ws.features.data());
  MlpForwardCuda(density_options_, params_[1].data(), ws.features.data(), n, ws.density_out.data(),
                 ws.density_act.data(), nullptr, mlp_kernel_);
  if (!with_color) return;
  ws.color_in.Resize(n * kColorInputs);
  ws.color_out.Resize(3 * n);
  ws.color_act.Resize(std::max<std::int64_t>(MlpCudaActivationFloats(color_options_, n), 1));
  detail::LaunchColorInput(ws.density_out.data(), kGeometry, directions, n, ws.color_in.data(),
                           nullptr);
  MlpForwardCuda(color_options_, params_[2].data(), ws.color_in.data(), n, ws.color_out.data(),
                 ws.color_act.data(), nullptr, mlp_kernel_);
}

void NerfFieldCuda::Forward(const float* positions, const float* directions, std::int64_t n,
                            float* sigma, float* rgb) {
  Evaluate(positions, directions, n, true, ws_);
  if (n == 0) return;
  detail::LaunchFieldActivations(ws_.density_out.data(), kGeometry, ws_.color_out.data(), n, sigma,
                                 rgb, nullptr);
}

void NerfFieldCuda::Backward(const float* d_sigma, const float* d_rgb) {
  const std::int64_t n = ws_.n;
  if (n == 0) return;
  ws_.d_color_out.Resize(3 * n);
  ws_.d_color_in.Resize(n * kColorInputs);
  ws_.d_density_out.Resize(n * kGeometry);
  ws_.d_features.Resize(n * options_.grid.OutputDims());
  ws_.scratch.Resize(std::max<std::int64_t>({MlpCudaBackwardScratchFloats(density_options_, n),
                                             MlpCudaBackwardScratchFloats(color_options_, n), 1}));
  detail::LaunchColorOutputGradient(d_rgb, ws_.color_out.data(), n, ws_.d_color_out.data(),
                                    nullptr);
  MlpBackwardCuda(color_options_, params_[2].data(), ws_.color_in.data(), ws_.color_act.data(),
                  ws_.d_color_out.data(), n, gradients_[2].data(), ws_.d_color_in.data(),
                  ws_.scratch.data(), nullptr, mlp_kernel_);
  // The density network's outputs feed the colour network; the first also is the density.
  detail::LaunchDensityOutputGradient(ws_.d_color_in.data(), kColorInputs, d_sigma,
                                      ws_.density_out.data(), kGeometry, n,
                                      ws_.d_density_out.data(), nullptr);
  MlpBackwardCuda(density_options_, params_[1].data(), ws_.features.data(), ws_.density_act.data(),
                  ws_.d_density_out.data(), n, gradients_[1].data(), ws_.d_features.data(),
                  ws_.scratch.data(), nullptr, mlp_kernel_);
  HashGridBackwardCuda(layout_, params_[0].data(), ws_.unit.data(), n, ws_.d_features.data(),
                       gradients_[0].data(), nullptr);
}

void NerfFieldCuda::Density(const float* positions, std::int64_t n, float* sigma) const {
  for (std::int64_t begin = 0; begin < n; begin += kInferenceChunk) {
    const std::int64_t count = std::min(kInferenceChunk, n - begin);
    Evaluate(positions + 3 * begin, nullptr, count, false, ws_);
    detail::LaunchFieldActivations(ws_.density_out.data(), kGeometry, nullptr, count, sigma + begin,
                                   nullptr, nullptr);
  }
}

void NerfFieldCuda::Radiance(const float* positions, const float* directions, std::int64_t n,
                             float* sigma, float* rgb) const {
  for (std::int64_t begin = 0; begin < n; begin += kInferenceChunk) {
    const std::int64_t count = std::min(kInferenceChunk, n - begin);
    Evaluate(positions + 3 * begin, directions + 3 * begin, count, true, ws_);
    detail::LaunchFieldActivations(ws_.density_out.data(), kGeometry, ws_.color_out.data(), count,
                                   sigma + begin, rgb + 3 * begin, nullptr);
  }
}

}  // namespace facet::nerf
