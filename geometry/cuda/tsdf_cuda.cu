// TsdfDeviceGrid: device arrays and the per-voxel integration launch (kernels/tsdf.h).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <string>
#include <utility>

#include "core/cuda_check.h"
#include "core/parallel_for.h"
#include "geometry/cuda/tsdf_cuda.h"

namespace facet::geometry {
namespace {

void Require(bool ok, const std::string& message) {
  if (!ok) [[unlikely]]
    FACET_THROW(message);
}

// A growable device array; Grow keeps the contents.
template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  ~DeviceArray() { cudaFree(data_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  // Capacity for at least `n` elements; the first `keep` elements survive a reallocation.
  void Reserve(std::int64_t n, std::int64_t keep) {
    if (n <= capacity_) return;
    const std::int64_t capacity = std::max<std::int64_t>(n, capacity_ + capacity_ / 2);
    T* fresh = nullptr;
    FACET_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&fresh), Bytes(capacity)));
    if (keep > 0) {
      const cudaError_t status = cudaMemcpy(fresh, data_, Bytes(keep), cudaMemcpyDeviceToDevice);
      if (status != cudaSuccess) cudaFree(fresh);
      FACET_CUDA_CHECK(status);
    }
    cudaFree(data_);
    data_ = fresh;
    capacity_ = capacity;
  }
  void Upload(const T* host, std::int64_t n) {
    Reserve(n, 0);
    if (n > 0) FACET_CUDA_CHECK(cudaMemcpy(data_, host, Bytes(n), cudaMemcpyHostToDevice));
  }
  // Copies `rows` rows of `row_elements` from a host image with `host_stride` elements per row
  // into a tightly packed device image.
  void Upload2D(const T* host, std::int64_t host_stride, std::int64_t row_elements,
                std::int64_t rows) {
    Reserve(row_elements * rows, 0);
    FACET_CUDA_CHECK(cudaMemcpy2D(data_, Bytes(row_elements), host, Bytes(host_stride),
                                  Bytes(row_elements), std::size_t(rows), cudaMemcpyHostToDevice));
  }

  T* data() const { return data_; }
  std::int64_t capacity() const { return capacity_; }
  static std::size_t Bytes(std::int64_t n) { return sizeof(T) * std::size_t(n); }

 private:
  T* data_ = nullptr;
  std::int64_t capacity_ = 0;
};

}  // namespace

struct TsdfDeviceGrid::Impl {
  bool with_color = false;
  std::int64_t blocks = 0;
  DeviceArray<float> sdf, weight, color;
  // Per-frame uploads.
  DeviceArray<float> depth, srgb_to_linear;
  DeviceArray<std::uint8_t> rgb;
  DeviceArray<std::int32_t> frame_blocks;
  DeviceArray<kernels::BlockKey> frame_keys;
};

TsdfDeviceGrid::TsdfDeviceGrid(bool with_color) : impl_(std::make_unique<Impl>()) {
  impl_->with_color = with_color;
}

TsdfDeviceGrid::~TsdfDeviceGrid() = default;

std::int64_t TsdfDeviceGrid::block_count() const { return impl_->blocks; }

void TsdfDeviceGrid::Resize(std::int64_t blocks) {
  Impl& d = *impl_;
  if (blocks <= d.blocks) return;
  constexpr std::int64_t kVoxels = kernels::kBlockVoxels;
  const std::int64_t old_voxels = d.blocks * kVoxels;
  const std::int64_t new_voxels = blocks * kVoxels;
  const std::int64_t channels = d.with_color ? 3 : 0;
  d.sdf.Reserve(new_voxels, old_voxels);
  d.weight.Reserve(new_voxels, old_voxels);
  FACET_CUDA_CHECK(
      cudaMemset(d.sdf.data() + old_voxels, 0, DeviceArray<float>::Bytes(new_voxels - old_voxels)));
  FACET_CUDA_CHECK(cudaMemset(d.weight.data() + old_voxels, 0,
                              DeviceArray<float>::Bytes(new_voxels - old_voxels)));
  if (channels > 0) {
    d.color.Reserve(channels * new_voxels, channels * old_voxels);
    FACET_CUDA_CHECK(cudaMemset(d.color.data() + channels * old_voxels, 0,
                                DeviceArray<float>::Bytes(channels * (new_voxels - old_voxels))));
  }
  d.blocks = blocks;
}

void TsdfDeviceGrid::Integrate(const kernels::TsdfFrame& frame, const std::int32_t* blocks,
                               const kernels::BlockKey* keys, std::int64_t count) {
  Impl& d = *impl_;
  if (count <= 0) return;
  for (std::int64_t i = 0; i < count; ++i) {
    Require(blocks[i] >= 0 && blocks[i] < d.blocks,
            "TsdfDeviceGrid::Integrate: block index " + std::to_string(blocks[i]) +
                " is outside the device grid of " + std::to_string(d.blocks) + " blocks");
  }
  kernels::TsdfFrame device_frame = frame;
  d.depth.Upload2D(frame.depth, frame.depth_stride, frame.width, frame.height);
  device_frame.depth = d.depth.data();
  device_frame.depth_stride = frame.width;
  const bool color = d.with_color && frame.color != nullptr;
  if (color) {
    const std::int64_t row = std::int64_t(frame.width) * frame.color_channels;
    d.rgb.Upload2D(frame.color, frame.color_stride, row, frame.height);
    d.srgb_to_linear.Upload(frame.srgb_to_linear, 256);
    device_frame.color = d.rgb.data();
    device_frame.color_stride = row;
    device_frame.srgb_to_linear = d.srgb_to_linear.data();
  } else {
    device_frame.color = nullptr;
  }
  d.frame_blocks.Upload(blocks, count);
  d.frame_keys.Upload(keys, count);

  const std::int32_t* block_index = d.frame_blocks.data();
  const kernels::BlockKey* block_key = d.frame_keys.data();
  float* sdf = d.sdf.data();
  float* weight = d.weight.data();
  float* color_data = color ? d.color.data() : nullptr;
  constexpr int kVoxels = kernels::kBlockVoxels;
  ParallelForCuda(count * kVoxels, [=] __device__(std::int64_t i) {
    const std::int64_t b = i / kVoxels;
    const int local = int(i % kVoxels);
    const std::int64_t block = block_index[b];
    kernels::IntegrateBlockVoxel(
        device_frame, block_key[b], local, sdf + block * kVoxels, weight + block * kVoxels,
        color_data != nullptr ? color_data + 3 * block * kVoxels : nullptr);
  });
  FACET_CUDA_CHECK(cudaDeviceSynchronize());
}

void TsdfDeviceGrid::Download(float* sdf, float* weight, float* color, std::int64_t blocks) const {
  const Impl& d = *impl_;
  Require(blocks >= 0 && blocks <= d.blocks, "TsdfDeviceGrid::Download: " + std::to_string(blocks) +
                                                 " blocks asked, the device grid has " +
                                                 std::to_string(d.blocks));
  if (blocks == 0) return;
  const std::size_t voxels = std::size_t(blocks) * kernels::kBlockVoxels;
  FACET_CUDA_CHECK(cudaMemcpy(sdf, d.sdf.data(), voxels * sizeof(float), cudaMemcpyDeviceToHost));
  FACET_CUDA_CHECK(
      cudaMemcpy(weight, d.weight.data(), voxels * sizeof(float), cudaMemcpyDeviceToHost));
  if (color != nullptr && d.with_color) {
    FACET_CUDA_CHECK(
        cudaMemcpy(color, d.color.data(), 3 * voxels * sizeof(float), cudaMemcpyDeviceToHost));
  }
}

std::size_t TsdfDeviceGrid::DeviceBytes() const {
  const Impl& d = *impl_;
  return sizeof(float) * std::size_t(d.sdf.capacity() + d.weight.capacity() + d.color.capacity() +
                                     d.depth.capacity() + d.srgb_to_linear.capacity()) +
         std::size_t(d.rgb.capacity()) + sizeof(std::int32_t) * d.frame_blocks.capacity() +
         sizeof(kernels::BlockKey) * d.frame_keys.capacity();
}

}  // namespace facet::geometry
