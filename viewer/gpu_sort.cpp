#include "viewer/gpu_sort.h"

#include <span>

#include "core/error.h"
#include "viewer/embedded_shaders.h"
#include "viewer/shaders/radix_sort_io.h"

namespace facet::viewer {
namespace {

using shader::SortPushConstants;

constexpr std::uint32_t kBlock = FACET_SORT_BLOCK;
constexpr std::uint32_t kRadix = FACET_SORT_RADIX;
constexpr std::uint32_t kScanChunk = FACET_SORT_SCAN_CHUNK;
constexpr VkDeviceSize kWord = sizeof(std::uint32_t);

std::uint32_t DivUp(std::uint64_t a, std::uint64_t b) {
  return static_cast<std::uint32_t>((a + b - 1) / b);
}

}  // namespace

GpuRadixSort::GpuRadixSort(const VulkanContext& context, std::uint32_t max_count)
    : context_(context), max_count_(max_count) {
  FACET_CHECK(max_count > 0, "GpuRadixSort: max_count must be positive");
  const std::uint32_t max_blocks = DivUp(max_count, kBlock);
  const std::uint32_t max_groups = context.properties().limits.maxComputeWorkGroupCount[0];
  FACET_CHECK(max_blocks <= max_groups,
              "GpuRadixSort: {} keys need {} workgroups but {} dispatches at most {}; sort fewer "
              "keys at a time",
              max_count, max_blocks, context.DeviceName(), max_groups);
  constexpr VkBufferUsageFlags kStorage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  const VkDeviceSize key_bytes = max_count * kWord;
  keys_scratch_ = Buffer(context, key_bytes, kStorage, Buffer::Memory::kDevice);
  values_scratch_ = Buffer(context, key_bytes, kStorage, Buffer::Memory::kDevice);
  const std::uint64_t histogram_entries = std::uint64_t{kRadix} * max_blocks;
  histograms_ = Buffer(context, histogram_entries * kWord, kStorage, Buffer::Memory::kDevice);
  partials_ = Buffer(context, DivUp(histogram_entries, kScanChunk) * kWord, kStorage,
                     Buffer::Memory::kDevice);

  layout_ = MakeComputeLayout(context, sizeof(SortPushConstants), "radix sort");
  try {
    histogram_ = MakeComputePipeline(context, layout_, "radix_sort_histogram.comp", 0);
    scan_local_ = MakeComputePipeline(context, layout_, "radix_sort_scan.comp", 0);
    scan_partials_ = MakeComputePipeline(context, layout_, "radix_sort_scan.comp", 1);
    scatter_ = MakeComputePipeline(context, layout_, "radix_sort_scatter.comp", 0);
  } catch (...) {
    Destroy();  // the constructor did not finish, so the destructor will not run
    throw;
  }
}

GpuRadixSort::~GpuRadixSort() { Destroy(); }

void GpuRadixSort::Destroy() {
  VkDevice device = context_.device();
  for (VkPipeline* pipeline : {&histogram_, &scan_local_, &scan_partials_, &scatter_}) {
    if (*pipeline != VK_NULL_HANDLE) vkDestroyPipeline(device, *pipeline, nullptr);
    *pipeline = VK_NULL_HANDLE;
  }
  if (layout_ != VK_NULL_HANDLE) vkDestroyPipelineLayout(device, layout_, nullptr);
  layout_ = VK_NULL_HANDLE;
}

void GpuRadixSort::Record(VkCommandBuffer cmd, const Buffer& keys, const Buffer& values,
                          std::uint32_t count, std::uint32_t key_bits,
                          const Buffer* device_count) const {
  FACET_CHECK(count <= max_count_, "GpuRadixSort: {} keys exceed max_count {}", count, max_count_);
  FACET_CHECK(key_bits >= 1 && key_bits <= 32, "GpuRadixSort: key_bits must be 1-32 (got {})",
              key_bits);
  FACET_CHECK(device_count == nullptr || device_count->address() != 0,
              "GpuRadixSort: the device count buffer needs VK_BUFFER_USAGE_STORAGE_BUFFER_BIT");
  if (count == 0) return;
  FACET_CHECK(keys.address() != 0 && values.address() != 0,
              "GpuRadixSort: keys and values need VK_BUFFER_USAGE_STORAGE_BUFFER_BIT");
  FACET_CHECK(keys.size() >= count * kWord && values.size() >= count * kWord,
              "GpuRadixSort: {} keys need {} bytes; the keys buffer has {}, the values {}", count,
              count * kWord, keys.size(), values.size());

  SortPushConstants push{};
  push.histograms = histograms_.address();
  push.partials = partials_.address();
  push.count = count;
  push.block_count = DivUp(count, kBlock);
  push.partial_count = DivUp(std::uint64_t{kRadix} * push.block_count, kScanChunk);
  if (device_count != nullptr) {
    push.device_count = device_count->address();
    push.use_device_count = 1;
  }
  const std::uint32_t passes = DivUp(key_bits, 8);

  MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, VK_ACCESS_2_MEMORY_WRITE_BIT,
                VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT,
                VK_ACCESS_2_SHADER_STORAGE_READ_BIT | VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT);
  // Even passes read the caller's buffers and write the scratch ones; odd passes the reverse,
  // so after an even number of passes the sorted keys are back in the caller's buffers.
  for (std::uint32_t pass = 0; pass < passes; ++pass) {
    const bool from_caller = pass % 2 == 0;
    push.keys_in = from_caller ? keys.address() : keys_scratch_.address();
    push.values_in = from_caller ? values.address() : values_scratch_.address();
    push.keys_out = from_caller ? keys_scratch_.address() : keys.address();
    push.values_out = from_caller ? values_scratch_.address() : values.address();
    push.shift = 8 * pass;
    vkCmdPushConstants(cmd, layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
    const std::pair<VkPipeline, std::uint32_t> steps[] = {{histogram_, push.block_count},
                                                          {scan_local_, push.partial_count},
                                                          {scan_partials_, 1},
                                                          {scatter_, push.block_count}};
    for (const auto& [pipeline, groups] : steps) {
      vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
      vkCmdDispatch(cmd, groups, 1, 1);
      if (pipeline != scatter_ || pass + 1 < passes) ComputeBarrier(cmd);
    }
  }
  if (passes % 2 == 1) {  // the result is in the scratch buffers: copy it back
    MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT, VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT,
                  VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_READ_BIT);
    const VkBufferCopy region{0, 0, count * kWord};
    vkCmdCopyBuffer(cmd, keys_scratch_.handle(), keys.handle(), 1, &region);
    vkCmdCopyBuffer(cmd, values_scratch_.handle(), values.handle(), 1, &region);
    MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
                  VK_ACCESS_2_MEMORY_READ_BIT | VK_ACCESS_2_MEMORY_WRITE_BIT);
    return;
  }
  MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT, VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT,
                VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
                VK_ACCESS_2_MEMORY_READ_BIT | VK_ACCESS_2_MEMORY_WRITE_BIT);
}

void GpuRadixSort::Sort(std::vector<std::uint32_t>& keys, std::vector<std::uint32_t>& values,
                        std::uint32_t key_bits, std::optional<std::uint32_t> device_count) const {
  FACET_CHECK(keys.size() == values.size(), "GpuRadixSort::Sort: {} keys but {} values",
              keys.size(), values.size());
  FACET_CHECK(keys.size() <= max_count_, "GpuRadixSort::Sort: {} keys exceed max_count {}",
              keys.size(), max_count_);
  if (keys.empty()) return;
  const auto count = static_cast<std::uint32_t>(keys.size());
  const VkDeviceSize bytes = count * kWord;
  Buffer device_keys(context_, bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, Buffer::Memory::kDevice);
  Buffer device_values(context_, bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                       Buffer::Memory::kDevice);
  device_keys.Upload(std::as_bytes(std::span(keys)));
  device_values.Upload(std::as_bytes(std::span(values)));
  Buffer count_buffer;
  if (device_count) {
    count_buffer =
        Buffer(context_, kWord, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, Buffer::Memory::kDevice);
    count_buffer.Upload(std::as_bytes(std::span(&*device_count, 1)));
  }
  Buffer readback(context_, 2 * bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, Buffer::Memory::kHostRead);
  context_.SubmitAndWait([&](VkCommandBuffer cmd) {
    Record(cmd, device_keys, device_values, count, key_bits,
           device_count ? &count_buffer : nullptr);
    const VkBufferCopy key_region{0, 0, bytes};
    const VkBufferCopy value_region{0, bytes, bytes};
    vkCmdCopyBuffer(cmd, device_keys.handle(), readback.handle(), 1, &key_region);
    vkCmdCopyBuffer(cmd, device_values.handle(), readback.handle(), 1, &value_region);
    MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_2_HOST_BIT, VK_ACCESS_2_HOST_READ_BIT);
  });
  const auto* words = static_cast<const std::uint32_t*>(readback.mapped());
  keys.assign(words, words + count);
  values.assign(words + count, words + 2 * count);
}

}  // namespace facet::viewer
