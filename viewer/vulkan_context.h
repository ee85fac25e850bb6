// VulkanContext: one Vulkan 1.3 instance, physical device, logical device, graphics queue and
// command pool; everything else in the viewer borrows it (it must outlive every resource made
// from it). Optionally runs the Khronos validation layer and counts its messages, so tests can
// assert that a render produced none.
#pragma once

#include <vulkan/vulkan.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace facet::viewer {

// Throws facet::Error naming `what` and the VkResult when `result` is not VK_SUCCESS.
void CheckVk(VkResult result, const char* what);

struct VulkanContextOptions {
  // Enable VK_LAYER_KHRONOS_validation (with synchronization validation) and count its
  // messages (Validation()). Throws when the layer is not installed (vulkan-validationlayers).
  bool validation = false;
  // Pick a discrete GPU when there is one; otherwise the first Vulkan 1.3 device with a graphics
  // queue (integrated GPU, then Mesa's CPU device lavapipe).
  bool prefer_discrete = true;
  // Extra instance extensions (a window's surface extensions: glfwGetRequiredInstanceExtensions).
  std::vector<std::string> instance_extensions{};
  // Enable VK_KHR_swapchain on the device (a window presents through it).
  bool swapchain = false;
  // When set, only a queue family for which it returns true is picked (a window: can it present
  // to the display? glfwGetPhysicalDevicePresentationSupport).
  std::function<bool(VkInstance, VkPhysicalDevice, std::uint32_t family)> can_present{};
};

// What the validation layer reported since the context was created.
struct ValidationMessages {
  int errors = 0;
  int warnings = 0;
  std::vector<std::string> texts{};  // every error and warning, in order
};

class VulkanContext {
 public:
  // Throws facet::Error when there is no Vulkan loader, no Vulkan 1.3 device with a graphics
  // queue ("no Vulkan device: install mesa-vulkan-drivers"), or a creation call fails.
  explicit VulkanContext(const VulkanContextOptions& options = {});
  ~VulkanContext();
  VulkanContext(const VulkanContext&) = delete;
  VulkanContext& operator=(const VulkanContext&) = delete;

  VkInstance instance() const { return instance_; }
  VkPhysicalDevice physical_device() const { return physical_device_; }
  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  std::uint32_t queue_family() const { return queue_family_; }
  const VkPhysicalDeviceProperties& properties() const { return properties_; }
  std::string DeviceName() const { return properties_.deviceName; }

  // Index of a memory type allowed by `type_bits` (VkMemoryRequirements::memoryTypeBits) with
  // all of `flags`; throws facet::Error when there is none.
  std::uint32_t FindMemoryType(std::uint32_t type_bits, VkMemoryPropertyFlags flags) const;

  // Records `record` into a fresh primary command buffer, submits it and waits for it to finish.
  void SubmitAndWait(const std::function<void(VkCommandBuffer)>& record) const;

  // A copy of the validation messages so far (empty counts without options.validation).
  ValidationMessages Validation() const;

 private:
  void CreateInstance(const VulkanContextOptions& options);
  void PickPhysicalDevice(const VulkanContextOptions& options);
  void CreateDevice(bool swapchain);
  void Destroy();

  static VKAPI_ATTR VkBool32 VKAPI_CALL OnDebugMessage(
      VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
      const VkDebugUtilsMessengerCallbackDataEXT* data, void* user_data);

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device_ = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties_{};
  VkPhysicalDeviceMemoryProperties memory_properties_{};
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  std::uint32_t queue_family_ = 0;
  VkCommandPool command_pool_ = VK_NULL_HANDLE;

  mutable std::mutex validation_mutex_;
  ValidationMessages validation_;
};

}  // namespace facet::viewer
