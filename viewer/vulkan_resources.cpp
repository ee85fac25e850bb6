#include "viewer/vulkan_resources.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "viewer/embedded_shaders.h"

namespace facet::viewer {

Buffer::Buffer(const VulkanContext& context, VkDeviceSize size_bytes, VkBufferUsageFlags usage,
               Memory memory)
    : context_(&context), size_(size_bytes) {
  FACET_CHECK(size_bytes > 0, "Vulkan: cannot create an empty buffer");
  VkDevice device = context.device();
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = size_bytes;
  info.usage = usage | VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
  const bool addressable = usage & VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  if (addressable) info.usage |= VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  CheckVk(vkCreateBuffer(device, &info, nullptr, &buffer_), "vkCreateBuffer");

  VkMemoryRequirements requirements;
  vkGetBufferMemoryRequirements(device, buffer_, &requirements);
  VkMemoryPropertyFlags flags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  if (memory != Memory::kDevice) {
    flags = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  }
  std::uint32_t type = 0;
  try {
    // Reading back from uncached memory is slow on discrete GPUs: ask for cached first.
    type = memory == Memory::kHostRead
               ? context.FindMemoryType(requirements.memoryTypeBits,
                                        flags | VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
               : context.FindMemoryType(requirements.memoryTypeBits, flags);
  } catch (const Error&) {
    type = context.FindMemoryType(requirements.memoryTypeBits, flags);
  }
  VkMemoryAllocateFlagsInfo flags_info{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO};
  flags_info.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
  VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  alloc.pNext = addressable ? &flags_info : nullptr;
  alloc.allocationSize = requirements.size;
  alloc.memoryTypeIndex = type;
  try {
    CheckVk(vkAllocateMemory(device, &alloc, nullptr, &memory_), "vkAllocateMemory (buffer)");
    CheckVk(vkBindBufferMemory(device, buffer_, memory_, 0), "vkBindBufferMemory");
    if (memory != Memory::kDevice) {
      CheckVk(vkMapMemory(device, memory_, 0, VK_WHOLE_SIZE, 0, &mapped_), "vkMapMemory");
    }
  } catch (...) {
    Reset();
    throw;
  }
  if (addressable) {
    VkBufferDeviceAddressInfo address_info{VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
    address_info.buffer = buffer_;
    address_ = vkGetBufferDeviceAddress(device, &address_info);
  }
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    Reset();
    context_ = std::exchange(other.context_, nullptr);
    buffer_ = std::exchange(other.buffer_, VK_NULL_HANDLE);
    memory_ = std::exchange(other.memory_, VK_NULL_HANDLE);
    size_ = std::exchange(other.size_, 0);
    address_ = std::exchange(other.address_, 0);
    mapped_ = std::exchange(other.mapped_, nullptr);
  }
  return *this;
}

void Buffer::Upload(std::span<const std::byte> bytes, VkDeviceSize offset) {
  FACET_CHECK(offset <= size_ && bytes.size() <= size_ - offset,
              "Vulkan: uploading {} bytes at {} into a buffer of {}", bytes.size(), offset, size_);
  if (bytes.empty()) return;
  if (mapped_ != nullptr) {
    std::memcpy(static_cast<std::byte*>(mapped_) + offset, bytes.data(), bytes.size());
    return;
  }
  Buffer staging(*context_, bytes.size(), VK_BUFFER_USAGE_TRANSFER_SRC_BIT, Memory::kHostWrite);
  std::memcpy(staging.mapped(), bytes.data(), bytes.size());
  context_->SubmitAndWait([&](VkCommandBuffer cmd) {
    VkBufferCopy region{0, offset, bytes.size()};
    vkCmdCopyBuffer(cmd, staging.handle(), buffer_, 1, &region);
    // The copy before every later command's access (the fence wait orders host work only).
    MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
                  VK_ACCESS_2_MEMORY_READ_BIT | VK_ACCESS_2_MEMORY_WRITE_BIT);
  });
}

void Buffer::Reset() {
  if (context_ == nullptr) return;
  VkDevice device = context_->device();
  if (buffer_ != VK_NULL_HANDLE) vkDestroyBuffer(device, buffer_, nullptr);
  if (memory_ != VK_NULL_HANDLE) vkFreeMemory(device, memory_, nullptr);  // also unmaps
  buffer_ = VK_NULL_HANDLE;
  memory_ = VK_NULL_HANDLE;
  mapped_ = nullptr;
  size_ = 0;
  address_ = 0;
  context_ = nullptr;
}

Image::Image(const VulkanContext& context, int width, int height, VkFormat format,
             VkImageUsageFlags usage, VkImageAspectFlags aspect, std::uint32_t array_layers)
    : context_(&context),
      format_(format),
      aspect_(aspect),
      width_(width),
      height_(height),
      layers_(std::max(array_layers, 1u)) {
  const auto max_size = static_cast<int>(context.properties().limits.maxImageDimension2D);
  FACET_CHECK(width > 0 && height > 0 && width <= max_size && height <= max_size,
              "Vulkan: image size {}x{} is outside 1..{} on {}", width, height, max_size,
              context.DeviceName());
  const std::uint32_t max_layers = context.properties().limits.maxImageArrayLayers;
  FACET_CHECK(layers_ <= max_layers, "Vulkan: {} image layers exceed {}'s {}", layers_,
              context.DeviceName(), max_layers);
  VkDevice device = context.device();
  VkImageCreateInfo info{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
  info.imageType = VK_IMAGE_TYPE_2D;
  info.format = format;
  info.extent = {static_cast<std::uint32_t>(width), static_cast<std::uint32_t>(height), 1};
  info.mipLevels = 1;
  info.arrayLayers = layers_;
  info.samples = VK_SAMPLE_COUNT_1_BIT;
  info.tiling = VK_IMAGE_TILING_OPTIMAL;
  info.usage = usage;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  CheckVk(vkCreateImage(device, &info, nullptr, &image_), "vkCreateImage");
  try {
    VkMemoryRequirements requirements;
    vkGetImageMemoryRequirements(device, image_, &requirements);
    VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    alloc.allocationSize = requirements.size;
    alloc.memoryTypeIndex =
        context.FindMemoryType(requirements.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    CheckVk(vkAllocateMemory(device, &alloc, nullptr, &memory_), "vkAllocateMemory (image)");
    CheckVk(vkBindImageMemory(device, image_, memory_, 0), "vkBindImageMemory");
    VkImageViewCreateInfo view_info{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
    view_info.image = image_;
    view_info.viewType = array_layers > 0 ? VK_IMAGE_VIEW_TYPE_2D_ARRAY : VK_IMAGE_VIEW_TYPE_2D;
    view_info.format = format;
    view_info.subresourceRange = {aspect, 0, 1, 0, layers_};
    CheckVk(vkCreateImageView(device, &view_info, nullptr, &view_), "vkCreateImageView");
  } catch (...) {
    Reset();
    throw;
  }
}

Image& Image::operator=(Image&& other) noexcept {
  if (this != &other) {
    Reset();
    context_ = std::exchange(other.context_, nullptr);
    image_ = std::exchange(other.image_, VK_NULL_HANDLE);
    view_ = std::exchange(other.view_, VK_NULL_HANDLE);
    memory_ = std::exchange(other.memory_, VK_NULL_HANDLE);
    format_ = other.format_;
    aspect_ = other.aspect_;
    width_ = std::exchange(other.width_, 0);
    height_ = std::exchange(other.height_, 0);
    layers_ = std::exchange(other.layers_, 0);
  }
  return *this;
}

void Image::Reset() {
  if (context_ == nullptr) return;
  VkDevice device = context_->device();
  if (view_ != VK_NULL_HANDLE) vkDestroyImageView(device, view_, nullptr);
  if (image_ != VK_NULL_HANDLE) vkDestroyImage(device, image_, nullptr);
  if (memory_ != VK_NULL_HANDLE) vkFreeMemory(device, memory_, nullptr);
  view_ = VK_NULL_HANDLE;
  image_ = VK_NULL_HANDLE;
  memory_ = VK_NULL_HANDLE;
  width_ = height_ = 0;
  layers_ = 0;
  context_ = nullptr;
}

ShaderModule::ShaderModule(const VulkanContext& context, std::span<const std::uint32_t> spirv)
    : context_(context) {
  VkShaderModuleCreateInfo info{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  info.codeSize = spirv.size_bytes();
  info.pCode = spirv.data();
  CheckVk(vkCreateShaderModule(context.device(), &info, nullptr, &module_), "vkCreateShaderModule");
}

ShaderModule::~ShaderModule() { vkDestroyShaderModule(context_.device(), module_, nullptr); }

VkPipelineLayout MakeComputeLayout(const VulkanContext& context, std::uint32_t push_bytes,
                                   const char* what) {
  const VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes};
  VkPipelineLayoutCreateInfo info{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  info.pushConstantRangeCount = 1;
  info.pPushConstantRanges = &push;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  CheckVk(vkCreatePipelineLayout(context.device(), &info, nullptr, &layout),
          fmt::format("vkCreatePipelineLayout ({})", what).c_str());
  return layout;
}

VkPipeline MakeComputePipeline(const VulkanContext& context, VkPipelineLayout layout,
                               const char* shader, std::uint32_t constant) {
  const ShaderModule module(context, EmbeddedShader(shader));
  const VkSpecializationMapEntry entry{0, 0, sizeof(std::uint32_t)};
  const VkSpecializationInfo specialization{1, &entry, sizeof(constant), &constant};
  VkComputePipelineCreateInfo info{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  info.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  info.stage.module = module.handle();
  info.stage.pName = "main";
  info.stage.pSpecializationInfo = &specialization;
  info.layout = layout;
  VkPipeline pipeline = VK_NULL_HANDLE;
  CheckVk(vkCreateComputePipelines(context.device(), VK_NULL_HANDLE, 1, &info, nullptr, &pipeline),
          fmt::format("vkCreateComputePipelines ({})", shader).c_str());
  return pipeline;
}

void CopyImageToBuffer(VkCommandBuffer cmd, const Image& image, const Buffer& buffer) {
  VkBufferImageCopy region{};
  region.imageSubresource = {image.aspect(), 0, 0, 1};
  region.imageExtent = {static_cast<std::uint32_t>(image.width()),
                        static_cast<std::uint32_t>(image.height()), 1};
  vkCmdCopyImageToBuffer(cmd, image.handle(), VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, buffer.handle(),
                         1, &region);
}

void MemoryBarrier(VkCommandBuffer cmd, VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access,
                   VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access) {
  VkMemoryBarrier2 barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER_2};
  barrier.srcStageMask = src_stage;
  barrier.srcAccessMask = src_access;
  barrier.dstStageMask = dst_stage;
  barrier.dstAccessMask = dst_access;
  VkDependencyInfo dependency{VK_STRUCTURE_TYPE_DEPENDENCY_INFO};
  dependency.memoryBarrierCount = 1;
  dependency.pMemoryBarriers = &barrier;
  vkCmdPipelineBarrier2(cmd, &dependency);
}

void ComputeBarrier(VkCommandBuffer cmd) {
  MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT, VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT,
                VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT,
                VK_ACCESS_2_SHADER_STORAGE_READ_BIT | VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT);
}

void ImageBarrier(VkCommandBuffer cmd, VkImage image, const VkImageSubresourceRange& range,
                  VkImageLayout from, VkImageLayout to, VkPipelineStageFlags2 src_stage,
                  VkAccessFlags2 src_access, VkPipelineStageFlags2 dst_stage,
                  VkAccessFlags2 dst_access) {
  VkImageMemoryBarrier2 barrier{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER_2};
  barrier.srcStageMask = src_stage;
  barrier.srcAccessMask = src_access;
  barrier.dstStageMask = dst_stage;
  barrier.dstAccessMask = dst_access;
  barrier.oldLayout = from;
  barrier.newLayout = to;
  barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  barrier.image = image;
  barrier.subresourceRange = range;
  VkDependencyInfo dependency{VK_STRUCTURE_TYPE_DEPENDENCY_INFO};
  dependency.imageMemoryBarrierCount = 1;
  dependency.pImageMemoryBarriers = &barrier;
  vkCmdPipelineBarrier2(cmd, &dependency);
}

void TransitionImage(VkCommandBuffer cmd, const Image& image, VkImageLayout from, VkImageLayout to,
                     VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access,
                     VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access) {
  ImageBarrier(cmd, image.handle(), {image.aspect(), 0, 1, 0, 1}, from, to, src_stage, src_access,
               dst_stage, dst_access);
}

}  // namespace facet::viewer
