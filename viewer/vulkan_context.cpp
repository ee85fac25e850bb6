#include "viewer/vulkan_context.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "core/error.h"

namespace facet::viewer {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

bool HasLayer(const char* name) {
  std::uint32_t count = 0;
  vkEnumerateInstanceLayerProperties(&count, nullptr);
  std::vector<VkLayerProperties> layers(count);
  vkEnumerateInstanceLayerProperties(&count, layers.data());
  for (const VkLayerProperties& layer : layers) {
    if (std::strcmp(layer.layerName, name) == 0) return true;
  }
  return false;
}

// The first queue family with graphics (which implies transfer); -1 when none.
int GraphicsQueueFamily(VkPhysicalDevice device) {
  std::uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, families.data());
  for (std::uint32_t i = 0; i < count; ++i) {
    if (families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) return static_cast<int>(i);
  }
  return -1;
}

int DeviceTypeRank(VkPhysicalDeviceType type, bool prefer_discrete) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return prefer_discrete ? 0 : 1;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return prefer_discrete ? 1 : 0;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return 3;
    default:
      return 4;
  }
}

}  // namespace

void CheckVk(VkResult result, const char* what) {
  FACET_CHECK(result == VK_SUCCESS, "Vulkan: {} failed (VkResult {})", what,
              static_cast<int>(result));
}

VulkanContext::VulkanContext(const VulkanContextOptions& options) {
  CreateInstance(options);
  try {
    PickPhysicalDevice(options);
    CreateDevice(options.swapchain);
  } catch (...) {
    Destroy();  // the constructor did not finish, so the destructor will not run
    throw;
  }
}

VulkanContext::~VulkanContext() { Destroy(); }

void VulkanContext::Destroy() {
  if (device_ != VK_NULL_HANDLE) {
    vkDeviceWaitIdle(device_);
    if (command_pool_ != VK_NULL_HANDLE) vkDestroyCommandPool(device_, command_pool_, nullptr);
    vkDestroyDevice(device_, nullptr);
    device_ = VK_NULL_HANDLE;
  }
  if (messenger_ != VK_NULL_HANDLE) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy != nullptr) destroy(instance_, messenger_, nullptr);
    messenger_ = VK_NULL_HANDLE;
  }
  if (instance_ != VK_NULL_HANDLE) {
    vkDestroyInstance(instance_, nullptr);
    instance_ = VK_NULL_HANDLE;
  }
}

void VulkanContext::CreateInstance(const VulkanContextOptions& options) {
  const bool validation = options.validation;
  std::uint32_t api_version = 0;
  FACET_CHECK(
      vkEnumerateInstanceVersion(&api_version) == VK_SUCCESS && api_version >= VK_API_VERSION_1_3,
      "no Vulkan 1.3 loader: install libvulkan1 and mesa-vulkan-drivers");
  if (validation) {
    FACET_CHECK(HasLayer(kValidationLayer),
                "{} is not installed: install vulkan-validationlayers, or run without validation",
                kValidationLayer);
  }
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "facet";
  app.pEngineName = "facet";
  app.apiVersion = VK_API_VERSION_1_3;

  VkDebugUtilsMessengerCreateInfoEXT messenger_info{
      VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  messenger_info.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                                   VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messenger_info.pfnUserCallback = &VulkanContext::OnDebugMessage;
  messenger_info.pUserData = this;

  static constexpr VkValidationFeatureEnableEXT kSyncValidation =
      VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
  VkValidationFeaturesEXT validation_features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
  const char* layers[] = {kValidationLayer};
  std::vector<const char*> extensions;
  for (const std::string& name : options.instance_extensions) extensions.push_back(name.c_str());
  if (validation) extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  info.pApplicationInfo = &app;
  info.enabledExtensionCount = static_cast<std::uint32_t>(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  if (validation) {
    info.enabledLayerCount = 1;
    info.ppEnabledLayerNames = layers;
    // Synchronization validation too: missing or wrong barriers are the bugs that render fine
    // on one driver and not on another.
    validation_features.enabledValidationFeatureCount = 1;
    validation_features.pEnabledValidationFeatures = &kSyncValidation;
    validation_features.pNext = &messenger_info;  // also reports on vkCreate/DestroyInstance
    info.pNext = &validation_features;
  }
  CheckVk(vkCreateInstance(&info, nullptr, &instance_), "vkCreateInstance");
  if (validation) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
    FACET_CHECK(create != nullptr, "Vulkan: the validation layer has no VK_EXT_debug_utils");
    CheckVk(create(instance_, &messenger_info, nullptr, &messenger_),
            "vkCreateDebugUtilsMessengerEXT");
  }
}

void VulkanContext::PickPhysicalDevice(const VulkanContextOptions& options) {
  std::uint32_t count = 0;
  vkEnumeratePhysicalDevices(instance_, &count, nullptr);
  std::vector<VkPhysicalDevice> devices(count);
  vkEnumeratePhysicalDevices(instance_, &count, devices.data());
  int best_rank = 1 << 30;
  for (VkPhysicalDevice device : devices) {
    VkPhysicalDeviceProperties properties;
    vkGetPhysicalDeviceProperties(device, &properties);
    const int family = GraphicsQueueFamily(device);
    if (properties.apiVersion < VK_API_VERSION_1_3 || family < 0) continue;
    if (options.can_present && !options.can_present(instance_, device, std::uint32_t(family))) {
      continue;
    }
    const int rank = DeviceTypeRank(properties.deviceType, options.prefer_discrete);
    if (rank < best_rank) {
      best_rank = rank;
      physical_device_ = device;
      properties_ = properties;
      queue_family_ = static_cast<std::uint32_t>(family);
    }
  }
  FACET_CHECK(physical_device_ != VK_NULL_HANDLE,
              "no Vulkan device: {} device(s) found, none with Vulkan 1.3 and a graphics queue{}; "
              "install mesa-vulkan-drivers (lavapipe, a CPU device) or a GPU driver",
              count, options.can_present ? " that can present to the display" : "");
  vkGetPhysicalDeviceMemoryProperties(physical_device_, &memory_properties_);
}

void VulkanContext::CreateDevice(bool swapchain) {
  const char* swapchain_extension = VK_KHR_SWAPCHAIN_EXTENSION_NAME;
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queue_info.queueFamilyIndex = queue_family_;
  queue_info.queueCount = 1;
  queue_info.pQueuePriorities = &priority;

  // Vulkan 1.3 guarantees all four: dynamic rendering and synchronization2 replace render
  // passes and old barriers; buffer device addresses let shaders pull vertices without
  // descriptor sets; maintenance4 allows the LocalSizeId that glslc emits for every compute
  // shader when targeting Vulkan 1.3 (SPIR-V 1.6).
  VkPhysicalDeviceVulkan13Features features13{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
  features13.dynamicRendering = VK_TRUE;
  features13.synchronization2 = VK_TRUE;
  features13.maintenance4 = VK_TRUE;
  VkPhysicalDeviceVulkan12Features features12{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  features12.bufferDeviceAddress = VK_TRUE;
  features12.pNext = &features13;
  VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  features.pNext = &features12;
  VkPhysicalDeviceFeatures supported;
  vkGetPhysicalDeviceFeatures(physical_device_, &supported);
  features.features.largePoints = supported.largePoints;

  VkDeviceCreateInfo info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  info.pNext = &features;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue_info;
  if (swapchain) {
    info.enabledExtensionCount = 1;
    info.ppEnabledExtensionNames = &swapchain_extension;
  }
  CheckVk(vkCreateDevice(physical_device_, &info, nullptr, &device_), "vkCreateDevice");
  vkGetDeviceQueue(device_, queue_family_, 0, &queue_);

  VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pool_info.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
  pool_info.queueFamilyIndex = queue_family_;
  CheckVk(vkCreateCommandPool(device_, &pool_info, nullptr, &command_pool_), "vkCreateCommandPool");
  spdlog::debug("Vulkan device: {}", properties_.deviceName);
}

std::uint32_t VulkanContext::FindMemoryType(std::uint32_t type_bits,
                                            VkMemoryPropertyFlags flags) const {
  for (std::uint32_t i = 0; i < memory_properties_.memoryTypeCount; ++i) {
    if ((type_bits & (1u << i)) &&
        (memory_properties_.memoryTypes[i].propertyFlags & flags) == flags) {
      return i;
    }
  }
  FACET_THROW("Vulkan: {} has no memory type with flags {:#x} among bits {:#x}",
              properties_.deviceName, flags, type_bits);
}

void VulkanContext::SubmitAndWait(const std::function<void(VkCommandBuffer)>& record) const {
  VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  alloc.commandPool = command_pool_;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  CheckVk(vkAllocateCommandBuffers(device_, &alloc, &cmd), "vkAllocateCommandBuffers");
  VkFence fence = VK_NULL_HANDLE;
  auto release = [&] {
    if (fence != VK_NULL_HANDLE) vkDestroyFence(device_, fence, nullptr);
    vkFreeCommandBuffers(device_, command_pool_, 1, &cmd);
  };
  try {
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    CheckVk(vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer");
    record(cmd);
    CheckVk(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
    VkFenceCreateInfo fence_info{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    CheckVk(vkCreateFence(device_, &fence_info, nullptr, &fence), "vkCreateFence");
    VkCommandBufferSubmitInfo cmd_info{VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO};
    cmd_info.commandBuffer = cmd;
    VkSubmitInfo2 submit{VK_STRUCTURE_TYPE_SUBMIT_INFO_2};
    submit.commandBufferInfoCount = 1;
    submit.pCommandBufferInfos = &cmd_info;
    CheckVk(vkQueueSubmit2(queue_, 1, &submit, fence), "vkQueueSubmit2");
    CheckVk(vkWaitForFences(device_, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
  } catch (...) {
    vkQueueWaitIdle(queue_);
    release();
    throw;
  }
  release();
}

ValidationMessages VulkanContext::Validation() const {
  std::lock_guard lock(validation_mutex_);
  return validation_;
}

VKAPI_ATTR VkBool32 VKAPI_CALL VulkanContext::OnDebugMessage(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT /*types*/,
    const VkDebugUtilsMessengerCallbackDataEXT* data, void* user_data) {
  auto* self = static_cast<VulkanContext*>(user_data);
  const bool error = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  const char* text = data != nullptr && data->pMessage != nullptr ? data->pMessage : "";
  {
    std::lock_guard lock(self->validation_mutex_);
    (error ? self->validation_.errors : self->validation_.warnings) += 1;
    self->validation_.texts.emplace_back(text);
  }
  if (error) {
    spdlog::error("Vulkan validation: {}", text);
  } else {
    spdlog::warn("Vulkan validation: {}", text);
  }
  return VK_FALSE;
}

}  // namespace facet::viewer
