// DeviceBuffer<T>: an owning, growable array in CUDA device memory (cudaMalloc/cudaFree), with
// host copies in and out. The workspaces of the CUDA splatting and NeRF ops and the tests' uploads
// use it.
// Plain C++ over the CUDA runtime's C API, so .cpp files use it without nvcc; include only from
// code built with the CUDA fast path (FACET_WITH_CUDA). Errors throw facet::Error.
//
// Copies run on the legacy default stream (cudaMemcpy), which waits for the work queued on the
// blocking streams the CUDA ops use (CudaRasterizer's stream is created blocking; the NeRF trainer
// queues on the legacy default stream), so a download after an op sees its results without an
// explicit synchronisation.
#pragma once

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/cuda_check.h"

namespace facet {
namespace detail {

// FACET_CHECK for code compiled by both g++ and nvcc: FACET_CHECK formats with fmt under g++ (a
// compile-time format string) and takes one ready string under nvcc; this takes the ready string
// in both.
inline void RequireCuda(bool ok, const std::string& message,
                        SourceLocation where = SourceLocation::Current()) {
  if (!ok) [[unlikely]]
    facet::detail::ThrowError(message, where);
}

// Bytes held by all DeviceBuffers of the process (their capacities): the device memory facet's
// CUDA ops have asked for, independent of what cudaMemGetInfo reports (on virtualised GPUs
// and for small allocations served from the context's reserve, it may not move at all).
inline std::atomic<std::int64_t> device_buffer_bytes{0};

}  // namespace detail

// The bytes all DeviceBuffers hold now.
inline std::int64_t DeviceBufferBytes() { return detail::device_buffer_bytes.load(); }

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::int64_t size) { Resize(size); }
  explicit DeviceBuffer(std::span<const T> host) { Upload(host); }
  ~DeviceBuffer() { Free(); }

  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      Free();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // Sets the size to `size` elements. Grows the allocation when needed (never shrinks it); the
  // contents are not kept across a reallocation and new elements are not initialised.
  void Resize(std::int64_t size) {
    detail::RequireCuda(size >= 0, "DeviceBuffer: negative size " + std::to_string(size));
    if (size > capacity_) {
      Free();
      FACET_CUDA_CHECK(
          cudaMalloc(reinterpret_cast<void**>(&data_), sizeof(T) * static_cast<std::size_t>(size)));
      capacity_ = size;
      detail::device_buffer_bytes += std::int64_t(sizeof(T)) * capacity_;
    }
    size_ = size;
  }

  // Resizes to host.size() and copies host -> device.
  void Upload(std::span<const T> host) {
    Resize(static_cast<std::int64_t>(host.size()));
    if (!host.empty()) {
      FACET_CUDA_CHECK(cudaMemcpy(data_, host.data(), bytes(), cudaMemcpyHostToDevice));
    }
  }

  // Copies device -> host (size() elements, or the first `count`).
  void Download(T* host) const { Download(host, size_); }
  void Download(T* host, std::int64_t count) const {
    detail::RequireCuda(count >= 0 && count <= size_, "DeviceBuffer: cannot download " +
                                                          std::to_string(count) + " of " +
                                                          std::to_string(size_) + " elements");
    if (count > 0) {
      FACET_CUDA_CHECK(cudaMemcpy(host, data_, sizeof(T) * static_cast<std::size_t>(count),
                                  cudaMemcpyDeviceToHost));
    }
  }
  std::vector<T> ToHost() const {
    std::vector<T> host(static_cast<std::size_t>(size_));
    Download(host.data());
    return host;
  }

  // Sets every byte of the current elements to zero.
  void SetZero() {
    if (size_ > 0) FACET_CUDA_CHECK(cudaMemset(data_, 0, bytes()));
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::int64_t size() const { return size_; }
  std::size_t bytes() const { return sizeof(T) * static_cast<std::size_t>(size_); }
  bool empty() const { return size_ == 0; }

 private:
  void Free() {
    cudaFree(data_);
    detail::device_buffer_bytes -= std::int64_t(sizeof(T)) * capacity_;
    data_ = nullptr;
    size_ = 0;
    capacity_ = 0;
  }

  T* data_ = nullptr;
  std::int64_t size_ = 0;
  std::int64_t capacity_ = 0;
};

// Copies a device array of `count` elements to a new host vector.
template <typename T>
std::vector<T> CopyToHost(const T* device, std::int64_t count) {
  detail::RequireCuda(count >= 0, "CopyToHost: negative count " + std::to_string(count));
  std::vector<T> host(static_cast<std::size_t>(count));
  if (count > 0) {
    FACET_CUDA_CHECK(cudaMemcpy(host.data(), device, sizeof(T) * static_cast<std::size_t>(count),
                                cudaMemcpyDeviceToHost));
  }
  return host;
}

}  // namespace facet
