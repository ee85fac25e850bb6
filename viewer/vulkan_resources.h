// Move-only owners of Vulkan buffers, images and shader modules, each with its own
// VkDeviceMemory (one allocation per resource: fine for the viewer's few large resources; a
// sub-allocator is the upgrade path if that changes). The VulkanContext must outlive them.
#pragma once

#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "viewer/vulkan_context.h"

namespace facet::viewer {

class Buffer {
 public:
  enum class Memory {
    kDevice,    // device-local; fill it with Upload()
    kHostRead,  // host-visible and coherent, mapped: readback (prefers host-cached memory)
    kHostWrite  // host-visible and coherent, mapped: staging and per-frame data
  };

  Buffer() = default;
  // `usage` gains SHADER_DEVICE_ADDRESS and TRANSFER_DST/SRC as needed. Throws facet::Error when
  // `size_bytes` is 0 or the allocation fails.
  Buffer(const VulkanContext& context, VkDeviceSize size_bytes, VkBufferUsageFlags usage,
         Memory memory);
  ~Buffer() { Reset(); }
  Buffer(Buffer&& other) noexcept { *this = std::move(other); }
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  VkBuffer handle() const { return buffer_; }
  VkDeviceSize size() const { return size_; }
  // The shader-visible address (MeshPushConstants::vertices and friends).
  VkDeviceAddress address() const { return address_; }
  // Host pointer of a kHostRead / kHostWrite buffer; nullptr for kDevice.
  void* mapped() const { return mapped_; }

  // Copies `bytes` to the start of the buffer: directly when mapped, else through a staging
  // buffer and a blocking submit.
  void Upload(std::span<const std::byte> bytes) { Upload(bytes, 0); }
  // Copies `bytes` to `offset` bytes into the buffer (the range must fit).
  void Upload(std::span<const std::byte> bytes, VkDeviceSize offset);

  void Reset();

 private:
  const VulkanContext* context_ = nullptr;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  VkDeviceSize size_ = 0;
  VkDeviceAddress address_ = 0;
  void* mapped_ = nullptr;
};

// A device-local 2D image (one mip level; one layer, or an array) with a view over all of it.
class Image {
 public:
  Image() = default;
  // `array_layers` 0: one layer with a 2D view; n >= 1: n layers with a 2D-array view over all
  // of them (a texture array, e.g. the photo thumbnails).
  Image(const VulkanContext& context, int width, int height, VkFormat format,
        VkImageUsageFlags usage, VkImageAspectFlags aspect, std::uint32_t array_layers = 0);
  ~Image() { Reset(); }
  Image(Image&& other) noexcept { *this = std::move(other); }
  Image& operator=(Image&& other) noexcept;
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;

  VkImage handle() const { return image_; }
  VkImageView view() const { return view_; }
  VkFormat format() const { return format_; }
  VkImageAspectFlags aspect() const { return aspect_; }
  int width() const { return width_; }
  int height() const { return height_; }
  std::uint32_t layers() const { return layers_; }

  void Reset();

 private:
  const VulkanContext* context_ = nullptr;
  VkImage image_ = VK_NULL_HANDLE;
  VkImageView view_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  VkFormat format_ = VK_FORMAT_UNDEFINED;
  VkImageAspectFlags aspect_ = 0;
  int width_ = 0;
  int height_ = 0;
  std::uint32_t layers_ = 0;
};

// A VkShaderModule made from embedded SPIR-V (EmbeddedShader("mesh.vert")).
class ShaderModule {
 public:
  ShaderModule(const VulkanContext& context, std::span<const std::uint32_t> spirv);
  ~ShaderModule();
  ShaderModule(const ShaderModule&) = delete;
  ShaderModule& operator=(const ShaderModule&) = delete;
  VkShaderModule handle() const { return module_; }

 private:
  const VulkanContext& context_;
  VkShaderModule module_ = VK_NULL_HANDLE;
};

// A compute pipeline layout with one push-constant range of `push_bytes` (no descriptor sets: the
// compute shaders reach their buffers through device addresses in the push constants), and a
// compute pipeline of the embedded shader `shader` (viewer/embedded_shaders.h) with
// specialization constant 0 = `constant`. The caller destroys them; failures throw facet::Error
// naming `shader` / `what`.
VkPipelineLayout MakeComputeLayout(const VulkanContext& context, std::uint32_t push_bytes,
                                   const char* what);
VkPipeline MakeComputePipeline(const VulkanContext& context, VkPipelineLayout layout,
                               const char* shader, std::uint32_t constant = 0);

// Records the copy of all of `image` (layout TRANSFER_SRC_OPTIMAL, mip 0, layer 0, its aspect)
// into `buffer`, tightly packed.
void CopyImageToBuffer(VkCommandBuffer cmd, const Image& image, const Buffer& buffer);

// Records a synchronization2 global memory barrier: `src_access` in `src_stage` before
// `dst_access` in `dst_stage`, for every buffer and image.
void MemoryBarrier(VkCommandBuffer cmd, VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access,
                   VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access);
// One compute dispatch's storage writes before the next one's storage reads and writes.
void ComputeBarrier(VkCommandBuffer cmd);

// Records a synchronization2 layout transition of `range` of `image` (any image: a swapchain's
// too).
void ImageBarrier(VkCommandBuffer cmd, VkImage image, const VkImageSubresourceRange& range,
                  VkImageLayout from, VkImageLayout to, VkPipelineStageFlags2 src_stage,
                  VkAccessFlags2 src_access, VkPipelineStageFlags2 dst_stage,
                  VkAccessFlags2 dst_access);

// Records a synchronization2 layout transition of all of `image` (colour or depth aspect).
void TransitionImage(VkCommandBuffer cmd, const Image& image, VkImageLayout from, VkImageLayout to,
                     VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access,
                     VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access);

}  // namespace facet::viewer
