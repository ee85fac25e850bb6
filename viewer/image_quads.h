// Photo thumbnails drawn as textured quads, typically on the far rectangles of the camera
// frustums (scene_lines.h's FrustumImagePlaneCorners), so each training camera shows what it saw.
// The thumbnails share one 2D-array texture (one layer each, RGBA8 UNORM: photo values pass
// through unchanged, like the mesh pipeline's vertex colours); the quads live in a storage buffer
// of shader::ImageQuad read through its device address (shaders/image_quad.{vert,frag}).
#pragma once

#include <Eigen/Core>
#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/image.h"
#include "datasets/scene.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "viewer/vulkan_context.h"
#include "viewer/vulkan_resources.h"

namespace facet::viewer {

inline constexpr int kDefaultThumbnailSidePx = 256;

// `image` shrunk so that its longer side is at most `max_side_px` (>= 1), keeping the aspect
// ratio (each side at least 1 px); each output pixel is the mean of the input pixels its
// footprint covers (area averaging, so fine detail does not alias). Smaller images are copied.
ImageU8 DownscaleToFit(ImageView<const std::uint8_t> image, int max_side_px);

// Thumbnails and their quads on the GPU. The texture's layers are as large as the largest
// thumbnail; each thumbnail fills the top-left corner of its layer.
class GpuImageQuads {
 public:
  // `thumbnails`: RGB images (3 channels), downscaled with DownscaleToFit(max_side_px) when
  // larger; `corners`: one quad per thumbnail, world-space corners (top-left, top-right,
  // bottom-right, bottom-left: the thumbnail's own corners). No thumbnails: nothing to draw.
  // Throws facet::Error when the counts differ, a thumbnail is empty or not RGB, or there are
  // more than the device's maxImageArrayLayers (at least 256).
  GpuImageQuads(const VulkanContext& context, const std::vector<ImageU8>& thumbnails,
                const std::vector<std::array<Eigen::Vector3d, 4>>& corners,
                int max_side_px = kDefaultThumbnailSidePx);
  ~GpuImageQuads();
  GpuImageQuads(const GpuImageQuads&) = delete;
  GpuImageQuads& operator=(const GpuImageQuads&) = delete;

  std::uint32_t count() const { return count_; }
  int layer_width() const { return layer_width_; }
  int layer_height() const { return layer_height_; }
  const Buffer& quads() const { return quads_; }
  // Binding 0: the combined image sampler of the thumbnails (ImageQuadPipeline's set 0).
  VkDescriptorSet descriptor_set() const { return set_; }

 private:
  void Destroy();

  const VulkanContext& context_;
  std::uint32_t count_ = 0;
  int layer_width_ = 0;
  int layer_height_ = 0;
  Buffer quads_;
  Image texture_;  // count_ layers of layer_width_ x layer_height_, a 2D-array view
  VkSampler sampler_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
  VkDescriptorSet set_ = VK_NULL_HANDLE;
};

class ImageQuadPipeline {
 public:
  // A pipeline for dynamic rendering into `color_format` + `depth_format`, reversed-Z depth test
  // and write (GREATER, as MeshPipelines), premultiplied "over" blending, no culling (quads are
  // seen from both sides; from behind, the photo is mirrored).
  ImageQuadPipeline(const VulkanContext& context, VkFormat color_format, VkFormat depth_format);
  ~ImageQuadPipeline();
  ImageQuadPipeline(const ImageQuadPipeline&) = delete;
  ImageQuadPipeline& operator=(const ImageQuadPipeline&) = delete;

  // Records the quads inside a dynamic rendering pass whose viewport is the camera's image. With
  // opacity < 1 they blend over what is already drawn, so draw them after the opaque content.
  // Throws facet::Error when opacity is outside [0, 1] or near_m <= 0.
  void Draw(VkCommandBuffer cmd, const GpuImageQuads& quads, const geometry::Camera& camera,
            const geometry::Rigid3& cam_from_world, float opacity = 1.0f,
            double near_m = 0.01) const;

 private:
  void Destroy();

  const VulkanContext& context_;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
};

// Thumbnails of a model's registered photos with their frustums' far rectangles.
struct FrustumThumbnails {
  std::vector<datasets::ImageId> image_ids;
  std::vector<ImageU8> thumbnails;                      // RGB, downscaled
  std::vector<std::array<Eigen::Vector3d, 4>> corners;  // FrustumImagePlaneCorners' corners
};

struct FrustumThumbnailOptions {
  double depth = 1.0;                         // frustum depth, scene units; > 0
  int max_side_px = kDefaultThumbnailSidePx;  // thumbnail's longer side; >= 1
  int max_images = 256;  // >= 1; more registered images are subsampled evenly (texture layers)

  // Throws facet::Error naming the field out of range.
  void Check() const;
};

// Reads each registered image's photo from `image_dir` / Image::name (core/image_io.h, as RGB)
// and downscales it. Photos that are missing or unreadable are skipped with a warning. Throws
// facet::Error when the options fail Check() or an image's camera is missing.
FrustumThumbnails LoadFrustumThumbnails(const datasets::Scene& scene,
                                        const std::filesystem::path& image_dir,
                                        const FrustumThumbnailOptions& options = {});

}  // namespace facet::viewer
