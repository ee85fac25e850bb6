#include "viewer/window.h"

#define GLFW_INCLUDE_NONE
#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_vulkan.h>
#include <imgui.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace facet::viewer {
namespace {

void CheckImGuiVk(VkResult result) {
  if (result != VK_SUCCESS) FACET_THROW("Vulkan (ImGui backend): VkResult {}", int(result));
}

// A barrier over the one colour layer of a swapchain or scene image.
void ColorBarrier(VkCommandBuffer cmd, VkImage image, VkImageLayout from, VkImageLayout to,
                  VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access,
                  VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access) {
  ImageBarrier(cmd, image, {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}, from, to, src_stage, src_access,
               dst_stage, dst_access);
}

}  // namespace

void WindowOptions::Check() const {
  FACET_CHECK(width >= 1 && height >= 1 && width <= 16384 && height <= 16384,
              "window: size {}x{} must be 1-16384 a side", width, height);
}

Window::Window(const WindowOptions& options) : options_(options) {
  options_.Check();
  glfwSetErrorCallback(
      [](int code, const char* text) { spdlog::debug("GLFW error {}: {}", code, text); });
  if (glfwInit() != GLFW_TRUE) {
    throw NoDisplayError(
        "no display to open a window on (DISPLAY / WAYLAND_DISPLAY unset or unreachable): use "
        "--offscreen --screenshot FILE, or run under xvfb-run");
  }
  glfw_initialised_ = true;
  try {
    FACET_CHECK(glfwVulkanSupported() == GLFW_TRUE,
                "window: GLFW finds no Vulkan loader (install libvulkan1 and a Vulkan driver)");
    glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
    glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);  // HiDPI: the window keeps its apparent size
    window_ =
        glfwCreateWindow(options_.width, options_.height, options_.title.c_str(), nullptr, nullptr);
    FACET_CHECK(window_ != nullptr, "window: cannot create a {}x{} window", options_.width,
                options_.height);
    glfwSetWindowUserPointer(window_, this);
    glfwSetFramebufferSizeCallback(window_, [](GLFWwindow* w, int, int) {
      static_cast<Window*>(glfwGetWindowUserPointer(w))->resized_ = true;
    });
    glfwSetDropCallback(window_, [](GLFWwindow* w, int count, const char** paths) {
      auto* self = static_cast<Window*>(glfwGetWindowUserPointer(w));
      for (int i = 0; i < count; ++i) self->dropped_.emplace_back(paths[i]);
    });
    // Installed before ImGui's, which calls it after its own.
    glfwSetKeyCallback(window_, [](GLFWwindow* w, int key, int, int action, int) {
      if (action == GLFW_PRESS || action == GLFW_REPEAT) {
        static_cast<Window*>(glfwGetWindowUserPointer(w))->key_presses_.push_back(key);
      }
    });
    float scale_y = 1.0f;
    glfwGetWindowContentScale(window_, &content_scale_, &scale_y);
    content_scale_ = std::max({content_scale_, scale_y, 1.0f});

    VulkanContextOptions context_options;
    context_options.validation = options_.validation;
    context_options.swapchain = true;
    std::uint32_t extension_count = 0;
    const char** extensions = glfwGetRequiredInstanceExtensions(&extension_count);
    FACET_CHECK(extensions != nullptr, "window: GLFW names no Vulkan surface extension");
    for (std::uint32_t i = 0; i < extension_count; ++i) {
      context_options.instance_extensions.emplace_back(extensions[i]);
    }
    context_options.can_present = [](VkInstance instance, VkPhysicalDevice device,
                                     std::uint32_t family) {
      return glfwGetPhysicalDevicePresentationSupport(instance, device, family) == GLFW_TRUE;
    };
    context_ = std::make_unique<VulkanContext>(context_options);
    CheckVk(glfwCreateWindowSurface(context_->instance(), window_, nullptr, &surface_),
            "glfwCreateWindowSurface");
    VkBool32 present = VK_FALSE;
    vkGetPhysicalDeviceSurfaceSupportKHR(context_->physical_device(), context_->queue_family(),
                                         surface_, &present);
    FACET_CHECK(present == VK_TRUE, "window: {} cannot present to the window",
                context_->DeviceName());
    CreateSwapchain();

    const VkDevice device = context_->device();
    VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pool_info.queueFamilyIndex = context_->queue_family();
    CheckVk(vkCreateCommandPool(device, &pool_info, nullptr, &command_pool_),
            "vkCreateCommandPool");
    VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    alloc.commandPool = command_pool_;
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    CheckVk(vkAllocateCommandBuffers(device, &alloc, &cmd_), "vkAllocateCommandBuffers");
    VkSemaphoreCreateInfo semaphore_info{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    CheckVk(vkCreateSemaphore(device, &semaphore_info, nullptr, &acquired_), "vkCreateSemaphore");
    VkFenceCreateInfo fence_info{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    CheckVk(vkCreateFence(device, &fence_info, nullptr, &fence_), "vkCreateFence");

    // Timestamps, when the queue family has them (lavapipe and every desktop GPU do).
    std::uint32_t family_count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(context_->physical_device(), &family_count, nullptr);
    std::vector<VkQueueFamilyProperties> families(family_count);
    vkGetPhysicalDeviceQueueFamilyProperties(context_->physical_device(), &family_count,
                                             families.data());
    if (families[context_->queue_family()].timestampValidBits > 0 &&
        context_->properties().limits.timestampPeriod > 0.0f) {
      VkQueryPoolCreateInfo query_info{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
      query_info.queryType = VK_QUERY_TYPE_TIMESTAMP;
      query_info.queryCount = kMaxMarks;
      CheckVk(vkCreateQueryPool(device, &query_info, nullptr, &queries_), "vkCreateQueryPool");
    }
    InitImGui();
  } catch (...) {
    Destroy();
    throw;
  }
}

Window::~Window() { Destroy(); }

void Window::InitImGui() {
  const VkDevice device = context_->device();
  const VkDescriptorPoolSize pool_size{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 16};
  VkDescriptorPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  pool_info.flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT;
  pool_info.maxSets = 16;
  pool_info.poolSizeCount = 1;
  pool_info.pPoolSizes = &pool_size;
  CheckVk(vkCreateDescriptorPool(device, &pool_info, nullptr, &descriptor_pool_),
          "vkCreateDescriptorPool");

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  imgui_context_ = true;
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // no imgui.ini written next to the user's files
  // HiDPI: fonts rasterised at the display's scale, widgets sized to match.
  ImFontConfig font;
  font.SizePixels = 13.0f * content_scale_;
  io.Fonts->AddFontDefault(&font);
  ImGui::GetStyle().ScaleAllSizes(content_scale_);
  ImGui_ImplGlfw_InitForVulkan(window_, true);
  imgui_glfw_ = true;

  ImGui_ImplVulkan_InitInfo init{};
  init.Instance = context_->instance();
  init.PhysicalDevice = context_->physical_device();
  init.Device = device;
  init.QueueFamily = context_->queue_family();
  init.Queue = context_->queue();
  init.DescriptorPool = descriptor_pool_;
  init.MinImageCount = 2;
  init.ImageCount = static_cast<std::uint32_t>(std::max<std::size_t>(images_.size(), 2));
  init.MSAASamples = VK_SAMPLE_COUNT_1_BIT;
  init.CheckVkResultFn = &CheckImGuiVk;
  FACET_CHECK(ImGui_ImplVulkan_Init(&init, render_pass_), "window: ImGui's Vulkan backend failed");
  imgui_vulkan_ = true;
  context_->SubmitAndWait([](VkCommandBuffer cmd) { ImGui_ImplVulkan_CreateFontsTexture(cmd); });
  ImGui_ImplVulkan_DestroyFontUploadObjects();
}

void Window::CreateSwapchain() {
  const VkPhysicalDevice gpu = context_->physical_device();
  const VkDevice device = context_->device();
  VkSurfaceCapabilitiesKHR caps;
  CheckVk(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(gpu, surface_, &caps),
          "vkGetPhysicalDeviceSurfaceCapabilitiesKHR");
  std::uint32_t count = 0;
  vkGetPhysicalDeviceSurfaceFormatsKHR(gpu, surface_, &count, nullptr);
  std::vector<VkSurfaceFormatKHR> formats(count);
  vkGetPhysicalDeviceSurfaceFormatsKHR(gpu, surface_, &count, formats.data());
  // UNORM, not SRGB: the scene holds display values already (the trainer's colours as is), the
  // same numbers --offscreen writes to its PNG.
  VkSurfaceFormatKHR chosen{VK_FORMAT_UNDEFINED, VK_COLOR_SPACE_SRGB_NONLINEAR_KHR};
  for (const VkSurfaceFormatKHR& f : formats) {
    if (f.format == VK_FORMAT_B8G8R8A8_UNORM || f.format == VK_FORMAT_R8G8B8A8_UNORM) {
      chosen = f;
      break;
    }
  }
  FACET_CHECK(chosen.format != VK_FORMAT_UNDEFINED,
              "window: the display offers no B8G8R8A8_UNORM or R8G8B8A8_UNORM surface format");
  FACET_CHECK(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT,
              "window: the swapchain's images cannot be blitted into (no TRANSFER_DST usage)");
  VkExtent2D extent = caps.currentExtent;
  if (extent.width == 0xFFFFFFFFu) {
    int w = 0, h = 0;
    glfwGetFramebufferSize(window_, &w, &h);
    extent.width = std::clamp<std::uint32_t>(std::uint32_t(std::max(w, 1)),
                                             caps.minImageExtent.width, caps.maxImageExtent.width);
    extent.height = std::clamp<std::uint32_t>(
        std::uint32_t(std::max(h, 1)), caps.minImageExtent.height, caps.maxImageExtent.height);
  }
  std::uint32_t image_count = std::max(caps.minImageCount + 1, 2u);
  if (caps.maxImageCount > 0) image_count = std::min(image_count, caps.maxImageCount);

  VkPresentModeKHR mode = VK_PRESENT_MODE_FIFO_KHR;  // always offered
  if (!options_.vsync) {
    vkGetPhysicalDeviceSurfacePresentModesKHR(gpu, surface_, &count, nullptr);
    std::vector<VkPresentModeKHR> modes(count);
    vkGetPhysicalDeviceSurfacePresentModesKHR(gpu, surface_, &count, modes.data());
    for (VkPresentModeKHR wanted : {VK_PRESENT_MODE_MAILBOX_KHR, VK_PRESENT_MODE_IMMEDIATE_KHR}) {
      if (std::find(modes.begin(), modes.end(), wanted) != modes.end()) {
        mode = wanted;
        break;
      }
    }
  }
  VkSwapchainCreateInfoKHR info{VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR};
  info.surface = surface_;
  info.minImageCount = image_count;
  info.imageFormat = chosen.format;
  info.imageColorSpace = chosen.colorSpace;
  info.imageExtent = extent;
  info.imageArrayLayers = 1;
  info.imageUsage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
  info.imageSharingMode = VK_SHARING_MODE_EXCLUSIVE;
  info.preTransform = caps.currentTransform;
  info.compositeAlpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
  info.presentMode = mode;
  info.clipped = VK_TRUE;
  CheckVk(vkCreateSwapchainKHR(device, &info, nullptr, &swapchain_), "vkCreateSwapchainKHR");
  format_ = chosen.format;
  extent_ = extent;
  CheckVk(vkGetSwapchainImagesKHR(device, swapchain_, &image_count, nullptr),
          "vkGetSwapchainImagesKHR");
  images_.resize(image_count);
  CheckVk(vkGetSwapchainImagesKHR(device, swapchain_, &image_count, images_.data()),
          "vkGetSwapchainImagesKHR");

  if (render_pass_ == VK_NULL_HANDLE) {
    // The overlay draws over the blitted scene: load it, end ready to present. The external
    // dependency orders the load after the blit.
    VkAttachmentDescription attachment{};
    attachment.format = chosen.format;
    attachment.samples = VK_SAMPLE_COUNT_1_BIT;
    attachment.loadOp = VK_ATTACHMENT_LOAD_OP_LOAD;
    attachment.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
    attachment.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
    attachment.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
    attachment.initialLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL;
    attachment.finalLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
    VkAttachmentReference ref{0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
    VkSubpassDescription subpass{};
    subpass.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS;
    subpass.colorAttachmentCount = 1;
    subpass.pColorAttachments = &ref;
    VkSubpassDependency dependency{};
    dependency.srcSubpass = VK_SUBPASS_EXTERNAL;
    dependency.dstSubpass = 0;
    dependency.srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
    dependency.srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
    dependency.dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
    dependency.dstAccessMask =
        VK_ACCESS_COLOR_ATTACHMENT_READ_BIT | VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
    VkRenderPassCreateInfo rp{VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO};
    rp.attachmentCount = 1;
    rp.pAttachments = &attachment;
    rp.subpassCount = 1;
    rp.pSubpasses = &subpass;
    rp.dependencyCount = 1;
    rp.pDependencies = &dependency;
    CheckVk(vkCreateRenderPass(device, &rp, nullptr, &render_pass_), "vkCreateRenderPass");
  }
  VkSemaphoreCreateInfo semaphore_info{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  for (VkImage image : images_) {
    VkImageViewCreateInfo view_info{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
    view_info.image = image;
    view_info.viewType = VK_IMAGE_VIEW_TYPE_2D;
    view_info.format = chosen.format;
    view_info.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    VkImageView view = VK_NULL_HANDLE;
    CheckVk(vkCreateImageView(device, &view_info, nullptr, &view), "vkCreateImageView");
    views_.push_back(view);
    VkFramebufferCreateInfo fb{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
    fb.renderPass = render_pass_;
    fb.attachmentCount = 1;
    fb.pAttachments = &view;
    fb.width = extent.width;
    fb.height = extent.height;
    fb.layers = 1;
    VkFramebuffer framebuffer = VK_NULL_HANDLE;
    CheckVk(vkCreateFramebuffer(device, &fb, nullptr, &framebuffer), "vkCreateFramebuffer");
    framebuffers_.push_back(framebuffer);
    VkSemaphore semaphore = VK_NULL_HANDLE;
    CheckVk(vkCreateSemaphore(device, &semaphore_info, nullptr, &semaphore), "vkCreateSemaphore");
    rendered_.push_back(semaphore);
  }
  resized_ = false;
}

void Window::DestroySwapchain() {
  const VkDevice device = context_->device();
  for (VkFramebuffer fb : framebuffers_) vkDestroyFramebuffer(device, fb, nullptr);
  for (VkImageView view : views_) vkDestroyImageView(device, view, nullptr);
  for (VkSemaphore semaphore : rendered_) vkDestroySemaphore(device, semaphore, nullptr);
  if (swapchain_ != VK_NULL_HANDLE) vkDestroySwapchainKHR(device, swapchain_, nullptr);
  framebuffers_.clear(), views_.clear(), rendered_.clear(), images_.clear();
  swapchain_ = VK_NULL_HANDLE;
}

void Window::Destroy() {
  if (context_) {
    const VkDevice device = context_->device();
    vkDeviceWaitIdle(device);
    if (imgui_vulkan_) ImGui_ImplVulkan_Shutdown();
    DestroySwapchain();
    if (queries_ != VK_NULL_HANDLE) vkDestroyQueryPool(device, queries_, nullptr);
    if (fence_ != VK_NULL_HANDLE) vkDestroyFence(device, fence_, nullptr);
    if (acquired_ != VK_NULL_HANDLE) vkDestroySemaphore(device, acquired_, nullptr);
    if (command_pool_ != VK_NULL_HANDLE) vkDestroyCommandPool(device, command_pool_, nullptr);
    if (descriptor_pool_ != VK_NULL_HANDLE) {
      vkDestroyDescriptorPool(device, descriptor_pool_, nullptr);
    }
    if (render_pass_ != VK_NULL_HANDLE) vkDestroyRenderPass(device, render_pass_, nullptr);
    if (surface_ != VK_NULL_HANDLE) vkDestroySurfaceKHR(context_->instance(), surface_, nullptr);
  }
  if (imgui_glfw_) ImGui_ImplGlfw_Shutdown();
  if (imgui_context_) ImGui::DestroyContext();
  imgui_context_ = imgui_glfw_ = imgui_vulkan_ = false;
  queries_ = VK_NULL_HANDLE, fence_ = VK_NULL_HANDLE, acquired_ = VK_NULL_HANDLE;
  command_pool_ = VK_NULL_HANDLE, descriptor_pool_ = VK_NULL_HANDLE;
  render_pass_ = VK_NULL_HANDLE, surface_ = VK_NULL_HANDLE;
  context_.reset();
  if (window_ != nullptr) glfwDestroyWindow(window_);
  window_ = nullptr;
  if (glfw_initialised_) glfwTerminate();
  glfw_initialised_ = false;
}

bool Window::ShouldClose() const { return glfwWindowShouldClose(window_) == GLFW_TRUE; }

void Window::RequestClose() { glfwSetWindowShouldClose(window_, GLFW_TRUE); }

void Window::SetTitle(const std::string& title) { glfwSetWindowTitle(window_, title.c_str()); }

std::vector<std::string> Window::TakeDroppedPaths() { return std::exchange(dropped_, {}); }

std::vector<int> Window::TakeKeyPresses() { return std::exchange(key_presses_, {}); }

bool Window::NewFrame() {
  glfwPollEvents();
  int w = 0, h = 0;
  glfwGetFramebufferSize(window_, &w, &h);
  while ((w == 0 || h == 0) && !ShouldClose()) {  // minimised: nothing to draw into
    glfwWaitEvents();
    glfwGetFramebufferSize(window_, &w, &h);
  }
  if (ShouldClose()) return false;
  if (resized_ || std::uint32_t(w) != extent_.width || std::uint32_t(h) != extent_.height) {
    vkDeviceWaitIdle(context_->device());
    DestroySwapchain();
    CreateSwapchain();
  }
  ImGui_ImplVulkan_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
  return true;
}

void Window::RecordBlitAndOverlay(VkCommandBuffer cmd, std::uint32_t index, const Image* scene) {
  const VkImage target = images_[index];
  // The acquire semaphore's wait covers ALL_COMMANDS: the layout change from UNDEFINED needs no
  // earlier access.
  ColorBarrier(cmd, target, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
               VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, 0, VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT,
               VK_ACCESS_2_TRANSFER_WRITE_BIT);
  if (scene != nullptr) {
    ColorBarrier(cmd, scene->handle(), VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                 VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                 VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
                 VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_2_BLIT_BIT,
                 VK_ACCESS_2_TRANSFER_READ_BIT);
    VkImageBlit region{};
    region.srcSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    region.srcOffsets[1] = {scene->width(), scene->height(), 1};
    region.dstSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    region.dstOffsets[1] = {int(extent_.width), int(extent_.height), 1};
    const bool same_size =
        scene->width() == int(extent_.width) && scene->height() == int(extent_.height);
    vkCmdBlitImage(cmd, scene->handle(), VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, target,
                   VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region,
                   same_size ? VK_FILTER_NEAREST : VK_FILTER_LINEAR);
  } else {
    const VkClearColorValue black{{0.0f, 0.0f, 0.0f, 1.0f}};
    const VkImageSubresourceRange range{VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    vkCmdClearColorImage(cmd, target, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &black, 1, &range);
  }
  ColorBarrier(cmd, target, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
               VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL, VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT,
               VK_ACCESS_2_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
               VK_ACCESS_2_COLOR_ATTACHMENT_READ_BIT | VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT);
  VkRenderPassBeginInfo begin{VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO};
  begin.renderPass = render_pass_;
  begin.framebuffer = framebuffers_[index];
  begin.renderArea.extent = extent_;
  vkCmdBeginRenderPass(cmd, &begin, VK_SUBPASS_CONTENTS_INLINE);
  ImGui_ImplVulkan_RenderDrawData(ImGui::GetDrawData(), cmd);
  vkCmdEndRenderPass(cmd);
}

void Window::Mark(VkCommandBuffer cmd, const std::string& phase) {
  if (queries_ == VK_NULL_HANDLE || marks_.size() + 3 > kMaxMarks) return;
  marks_.push_back(phase);
  vkCmdWriteTimestamp2(cmd, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, queries_,
                       static_cast<std::uint32_t>(marks_.size()));
}

void Window::ReadTimings() {
  timings_ = {};
  if (queries_ == VK_NULL_HANDLE) return;
  const std::uint32_t count = static_cast<std::uint32_t>(marks_.size()) + 1;
  std::array<std::uint64_t, kMaxMarks> ticks{};
  if (vkGetQueryPoolResults(context_->device(), queries_, 0, count, count * sizeof(std::uint64_t),
                            ticks.data(), sizeof(std::uint64_t),
                            VK_QUERY_RESULT_64_BIT) != VK_SUCCESS) {
    return;
  }
  const double ms_per_tick = context_->properties().limits.timestampPeriod * 1e-6;
  for (std::uint32_t i = 1; i < count; ++i) {
    timings_.phases_ms.emplace_back(marks_[i - 1], double(ticks[i] - ticks[i - 1]) * ms_per_tick);
  }
  timings_.total_ms = double(ticks[count - 1] - ticks[0]) * ms_per_tick;
}

void Window::Present(const std::function<void(VkCommandBuffer)>& record, const Image* scene) {
  ImGui::Render();
  const VkDevice device = context_->device();
  std::uint32_t index = 0;
  const VkResult acquired =
      vkAcquireNextImageKHR(device, swapchain_, UINT64_MAX, acquired_, VK_NULL_HANDLE, &index);
  if (acquired == VK_ERROR_OUT_OF_DATE_KHR) {  // resized between NewFrame and now: skip a frame
    resized_ = true;
    return;
  }
  if (acquired != VK_SUBOPTIMAL_KHR) CheckVk(acquired, "vkAcquireNextImageKHR");

  CheckVk(vkResetCommandBuffer(cmd_, 0), "vkResetCommandBuffer");
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  CheckVk(vkBeginCommandBuffer(cmd_, &begin), "vkBeginCommandBuffer");
  marks_.clear();
  if (queries_ != VK_NULL_HANDLE) {
    vkCmdResetQueryPool(cmd_, queries_, 0, kMaxMarks);
    vkCmdWriteTimestamp2(cmd_, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, queries_, 0);
  }
  if (record) record(cmd_);
  RecordBlitAndOverlay(cmd_, index, scene);
  if (queries_ != VK_NULL_HANDLE) {  // Mark keeps this last slot free
    marks_.push_back("display");
    vkCmdWriteTimestamp2(cmd_, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, queries_,
                         static_cast<std::uint32_t>(marks_.size()));
  }
  CheckVk(vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");

  VkSemaphoreSubmitInfo wait{VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO};
  wait.semaphore = acquired_;
  wait.stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT;
  VkSemaphoreSubmitInfo signal{VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO};
  signal.semaphore = rendered_[index];
  signal.stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT;
  VkCommandBufferSubmitInfo cmd_info{VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO};
  cmd_info.commandBuffer = cmd_;
  VkSubmitInfo2 submit{VK_STRUCTURE_TYPE_SUBMIT_INFO_2};
  submit.waitSemaphoreInfoCount = 1;
  submit.pWaitSemaphoreInfos = &wait;
  submit.commandBufferInfoCount = 1;
  submit.pCommandBufferInfos = &cmd_info;
  submit.signalSemaphoreInfoCount = 1;
  submit.pSignalSemaphoreInfos = &signal;
  CheckVk(vkQueueSubmit2(context_->queue(), 1, &submit, fence_), "vkQueueSubmit2");

  VkPresentInfoKHR present{VK_STRUCTURE_TYPE_PRESENT_INFO_KHR};
  present.waitSemaphoreCount = 1;
  present.pWaitSemaphores = &rendered_[index];
  present.swapchainCount = 1;
  present.pSwapchains = &swapchain_;
  present.pImageIndices = &index;
  const VkResult presented = vkQueuePresentKHR(context_->queue(), &present);
  // One frame in flight: the command buffer, the scene's buffers and the acquire semaphore are
  // reused next frame.
  CheckVk(vkWaitForFences(device, 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
  CheckVk(vkResetFences(device, 1, &fence_), "vkResetFences");
  ReadTimings();
  if (presented == VK_ERROR_OUT_OF_DATE_KHR || presented == VK_SUBOPTIMAL_KHR ||
      acquired == VK_SUBOPTIMAL_KHR) {
    resized_ = true;
  } else {
    CheckVk(presented, "vkQueuePresentKHR");
  }
  ++frames_;
}

}  // namespace facet::viewer
