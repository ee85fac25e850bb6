// Window: the interactive `facet view` surface. A GLFW window, a VulkanContext able to present to
// it, a swapchain (recreated on resize), and a Dear ImGui 1.86 overlay (its GLFW and Vulkan
// backends). Each frame the caller records its scene into an image of the swapchain's size (an
// OffscreenTarget made without readback), Window blits that image into the swapchain image on the
// GPU (no CPU round trip; the blit converts half floats to the display's 8-bit UNORM and swaps
// channels as needed), draws the overlay over it in a render pass (what ImGui 1.86's Vulkan
// backend needs) and presents. One frame in flight: the scene's buffers are reused frame to frame.
//
// Without a display (no X server, no Wayland compositor) the constructor throws NoDisplayError;
// `facet view` then says to use --offscreen or xvfb-run.
#pragma once

#include <vulkan/vulkan.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "viewer/vulkan_context.h"
#include "viewer/vulkan_resources.h"

struct GLFWwindow;

namespace facet::viewer {

// Thrown when GLFW finds no display to open a window on.
class NoDisplayError : public Error {
 public:
  using Error::Error;
};

struct WindowOptions {
  int width = 1280;  // window size in screen coordinates (HiDPI displays have more pixels)
  int height = 720;
  std::string title = "facet view";
  bool validation = false;  // VulkanContextOptions::validation
  bool vsync = true;        // FIFO presentation; false: MAILBOX or IMMEDIATE when offered

  // Throws facet::Error naming the field out of range.
  void Check() const;
};

// GPU time of the last frame's phases, from timestamp queries (empty when the queue has none).
struct FrameTimings {
  // (phase, milliseconds) in order: the phases the caller marked (Window::Mark), then "display"
  // (blit and overlay).
  std::vector<std::pair<std::string, double>> phases_ms;
  double total_ms = 0.0;
};

class Window {
 public:
  // Opens the window and creates the context, swapchain and overlay. Throws NoDisplayError
  // without a display, facet::Error when Vulkan cannot present to it.
  explicit Window(const WindowOptions& options);
  ~Window();
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  const VulkanContext& context() const { return *context_; }
  GLFWwindow* glfw() const { return window_; }

  bool ShouldClose() const;
  void RequestClose();
  void SetTitle(const std::string& title);

  // Polls events, waits while the window is minimised, recreates the swapchain when the window
  // was resized, and starts an ImGui frame (ImGui:: calls are allowed until Present). Returns
  // false when the window was asked to close while waiting.
  bool NewFrame();
  // The swapchain's size in pixels (the framebuffer: larger than the window's size on HiDPI).
  int width() const { return static_cast<int>(extent_.width); }
  int height() const { return static_cast<int>(extent_.height); }
  // The display's content scale (1 on a standard display, 2 on a typical HiDPI one).
  float content_scale() const { return content_scale_; }
  // Paths dropped on the window since the last call.
  std::vector<std::string> TakeDroppedPaths();
  // GLFW key codes pressed (or repeated) since the last call, in order: a press and release
  // between two frames (a slow frame) is still seen, unlike ImGui::IsKeyPressed.
  std::vector<int> TakeKeyPresses();

  // Ends the ImGui frame, acquires a swapchain image, records `record` (the scene into `scene`,
  // ending with scene in COLOR_ATTACHMENT_OPTIMAL; may be empty: a cleared frame), the blit of
  // scene's colour to the swapchain image and the overlay, submits, presents and waits for the
  // frame to finish. Throws facet::Error on a Vulkan failure.
  void Present(const std::function<void(VkCommandBuffer)>& record, const Image* scene);

  // Inside Present's `record`: ends a phase named `phase` (from the previous mark, or the frame's
  // start) with a timestamp; up to kMaxMarks - 2 a frame, the rest are ignored.
  void Mark(VkCommandBuffer cmd, const std::string& phase);
  static constexpr std::uint32_t kMaxMarks = 16;

  const FrameTimings& timings() const { return timings_; }
  int frames() const { return frames_; }

 private:
  void CreateSwapchain();
  void DestroySwapchain();
  void InitImGui();
  void Destroy();
  void RecordBlitAndOverlay(VkCommandBuffer cmd, std::uint32_t index, const Image* scene);
  void ReadTimings();

  WindowOptions options_;
  GLFWwindow* window_ = nullptr;
  bool glfw_initialised_ = false;
  std::unique_ptr<VulkanContext> context_;
  VkSurfaceKHR surface_ = VK_NULL_HANDLE;

  VkSwapchainKHR swapchain_ = VK_NULL_HANDLE;
  VkFormat format_ = VK_FORMAT_UNDEFINED;
  VkExtent2D extent_{};
  std::vector<VkImage> images_;
  std::vector<VkImageView> views_;
  std::vector<VkFramebuffer> framebuffers_;
  std::vector<VkSemaphore> rendered_;  // one per swapchain image: presentation waits on it
  bool resized_ = false;

  VkRenderPass render_pass_ = VK_NULL_HANDLE;  // the overlay's: loads the blitted scene
  VkDescriptorPool descriptor_pool_ = VK_NULL_HANDLE;
  VkCommandPool command_pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkSemaphore acquired_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  VkQueryPool queries_ = VK_NULL_HANDLE;  // kMaxMarks timestamps; null without timestamps
  std::vector<std::string> marks_;        // this frame's phases, in order
  bool imgui_context_ = false, imgui_glfw_ = false, imgui_vulkan_ = false;

  float content_scale_ = 1.0f;
  std::vector<std::string> dropped_;
  std::vector<int> key_presses_;
  FrameTimings timings_;
  int frames_ = 0;
};

}  // namespace facet::viewer
