// GpuRadixSort: a stable sort of 32-bit keys with a 32-bit payload (the splat index) in compute
// shaders, for the viewer's per-frame depth sort of splats and its per-tile splat lists. LSD radix
// sort with 8-bit digits (4 passes); each pass is the classic three steps (as in Fuchsia's and AMD
// FidelityFX's parallel sorts): a digit histogram per block of 4096 keys, an exclusive prefix sum
// over the digit-major histograms, and a stable scatter. No subgroup operations, so it runs the
// same on every Vulkan 1.3 device, lavapipe included. Depth keys: shader::SortKeyFromDepth
// (viewer/shaders/radix_sort_io.h, also callable from GLSL).
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "viewer/vulkan_context.h"
#include "viewer/vulkan_resources.h"

namespace facet::viewer {

class GpuRadixSort {
 public:
  // Pipelines plus scratch buffers for up to `max_count` keys (about 8 bytes per key, plus
  // 1 KiB per 4096 keys). Throws facet::Error when max_count is 0 or needs more workgroups than
  // the device can dispatch (maxComputeWorkGroupCount[0] * 4096 keys).
  GpuRadixSort(const VulkanContext& context, std::uint32_t max_count);
  ~GpuRadixSort();
  GpuRadixSort(const GpuRadixSort&) = delete;
  GpuRadixSort& operator=(const GpuRadixSort&) = delete;

  std::uint32_t max_count() const { return max_count_; }

  // Records into `cmd` the sort of keys[0, count) ascending, values[0, count) following their
  // keys; equal keys keep their order. Both buffers need STORAGE_BUFFER usage and room for
  // `count` uint32s; the result is in place. The recorded commands start with a barrier after
  // all earlier writes (transfer, compute, graphics) and end with one before all later reads
  // and writes, so the caller needs none of its own. The scratch buffers are shared by every
  // Record of this object: command buffers holding one must not run concurrently. count = 0
  // records nothing. Throws facet::Error when count > max_count() or a buffer is too small.
  //
  // `key_bits` (1-32): the keys are below 2^key_bits; the sort runs ceil(key_bits / 8) passes,
  // on the low 8 ceil(key_bits / 8) bits (keys whose higher bits differ but low bits agree stay
  // in their order). An odd number of passes ends with a copy back into the caller's buffers.
  // `device_count`, when given: its first uint32, written on the GPU before this sort, is the
  // number of keys to sort (capped at `count`, which sizes the dispatches); keys and values past
  // it are unspecified afterwards. The tile lists of SplatTileRasterizer, whose length only the GPU
  // knows, use both.
  void Record(VkCommandBuffer cmd, const Buffer& keys, const Buffer& values, std::uint32_t count,
              std::uint32_t key_bits = 32, const Buffer* device_count = nullptr) const;

  // Uploads, sorts (Record with `key_bits`; with `device_count`, that many keys are sorted, the
  // count being uploaded to a device buffer) and downloads, blocking; for tests and tools, not
  // per frame. Throws facet::Error when the sizes differ or exceed max_count().
  void Sort(std::vector<std::uint32_t>& keys, std::vector<std::uint32_t>& values,
            std::uint32_t key_bits = 32, std::optional<std::uint32_t> device_count = {}) const;

 private:
  void Destroy();

  const VulkanContext& context_;
  std::uint32_t max_count_ = 0;
  Buffer keys_scratch_;
  Buffer values_scratch_;
  Buffer histograms_;
  Buffer partials_;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline histogram_ = VK_NULL_HANDLE;
  VkPipeline scan_local_ = VK_NULL_HANDLE;
  VkPipeline scan_partials_ = VK_NULL_HANDLE;
  VkPipeline scatter_ = VK_NULL_HANDLE;
};

}  // namespace facet::viewer
