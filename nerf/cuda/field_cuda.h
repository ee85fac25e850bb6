// NerfFieldCuda: NerfField (nerf/field.h) on the device: the same parameters (hash table, density
// and colour networks, same layouts), evaluated by the CUDA hash encoding (hash_encoding_cuda.h),
// the CUDA networks (mlp_cuda.h: fused kernels or cuBLAS) and the shared activations and SH encoding (nerf/kernels/).
// Training evaluates a batch with Forward, then Backward accumulates the gradients into device
// arrays parallel to the parameters; Density / Radiance evaluate without gradients in chunks.
//
// All sample arrays are device pointers; work is queued on the legacy default stream. Uses
// DeviceBuffer (core/device_buffer.h): include only from code built with the CUDA fast path
// (FACET_WITH_CUDA). Errors throw facet::Error.
#pragma once

#include <Eigen/Core>

#include <cstdint>

#include "core/device_buffer.h"
#include "nerf/field.h"

namespace facet::nerf {

class NerfFieldCuda {
 public:
  // The shapes of `field`, its parameters uploaded; gradients zero. `mlp_kernel` chooses the
  // networks' implementation (nerf/mlp.h MlpCudaKernel: fused where compiled, else cuBLAS).
  explicit NerfFieldCuda(const NerfField& field, MlpCudaKernel mlp_kernel = MlpCudaKernel::kAuto);

  const NerfFieldOptions& options() const { return options_; }
  MlpCudaKernel mlp_kernel() const { return mlp_kernel_; }
  Eigen::Vector3f aabb_min() const { return aabb_min_; }
  Eigen::Vector3f aabb_max() const { return aabb_max_; }

  // Parameters to / from a host field of the same options (facet::Error otherwise).
  void Upload(const NerfField& field);
  void Download(NerfField* field) const;

  // positions, directions [n x 3] (scene units; unit directions) -> sigma [n], rgb [n x 3]. Keeps
  // the intermediate values for Backward; the inputs must stay unchanged until then.
  void Forward(const float* positions, const float* directions, std::int64_t n, float* sigma,
               float* rgb);
  // d_sigma [n], d_rgb [n x 3] of the last Forward; adds into the gradient arrays.
  void Backward(const float* d_sigma, const float* d_rgb);
  void ZeroGradients();

  // Inference in chunks (overwrites what Forward kept: call Backward first). rgb/directions may
  // be null in Density.
  void Density(const float* positions, std::int64_t n, float* sigma) const;
  void Radiance(const float* positions, const float* directions, std::int64_t n, float* sigma,
                float* rgb) const;

  // Device parameter and gradient blocks: 0 hash table, 1 density network, 2 colour network.
  float* params(int block) { return params_[block].data(); }
  float* gradient(int block) { return gradients_[block].data(); }
  const float* gradient(int block) const { return gradients_[block].data(); }
  std::int64_t param_count(int block) const { return params_[block].size(); }

 private:
  // One batch's intermediate arrays (grown, never shrunk).
  struct Workspace {
    DeviceBuffer<float> unit, features, density_out, density_act, color_in, color_out, color_act;
    DeviceBuffer<float> d_color_out, d_color_in, d_density_out, d_features, scratch;
    const float* positions = nullptr;
    std::int64_t n = 0;
  };
  void Evaluate(const float* positions, const float* directions, std::int64_t n, bool with_color,
                Workspace& ws) const;

  NerfFieldOptions options_;
  Eigen::Vector3f aabb_min_, aabb_max_;
  float inverse_scale_ = 1.0f;
  kernels::HashGridLayout layout_;
  MlpOptions density_options_, color_options_;
  MlpCudaKernel mlp_kernel_ = MlpCudaKernel::kAuto;
  DeviceBuffer<float> params_[3], gradients_[3];
  mutable Workspace ws_;
};

}  // namespace facet::nerf
