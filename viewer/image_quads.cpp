#include "viewer/image_quads.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/image_io.h"
#include "viewer/embedded_shaders.h"
#include "viewer/graphics_pipeline.h"
#include "viewer/projection.h"
#include "viewer/scene_lines.h"
#include "viewer/shaders/shader_io.h"

namespace facet::viewer {
namespace {

// Set 0 of the pipeline: the thumbnails. GpuImageQuads allocates its set from an identically
// defined layout, which Vulkan treats as compatible.
VkDescriptorSetLayout CreateThumbnailSetLayout(VkDevice device) {
  VkDescriptorSetLayoutBinding binding{};
  binding.binding = 0;
  binding.descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;
  binding.descriptorCount = 1;
  binding.stageFlags = VK_SHADER_STAGE_FRAGMENT_BIT;
  VkDescriptorSetLayoutCreateInfo info{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  info.bindingCount = 1;
  info.pBindings = &binding;
  VkDescriptorSetLayout layout = VK_NULL_HANDLE;
  CheckVk(vkCreateDescriptorSetLayout(device, &info, nullptr, &layout),
          "vkCreateDescriptorSetLayout (image quads)");
  return layout;
}

void LayerBarrier(VkCommandBuffer cmd, VkImage image, std::uint32_t layers, VkImageLayout from,
                  VkImageLayout to, VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access,
                  VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access) {
  ImageBarrier(cmd, image, {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, layers}, from, to, src_stage,
               src_access, dst_stage, dst_access);
}

shader::vec4 ToShader(const Eigen::Vector3d& p, float w) {
  return {float(p.x()), float(p.y()), float(p.z()), w};
}

}  // namespace

ImageU8 DownscaleToFit(ImageView<const std::uint8_t> image, int max_side_px) {
  FACET_CHECK(max_side_px >= 1, "viewer: thumbnail size must be at least 1 px (got {})",
              max_side_px);
  const int w = image.width(), h = image.height(), channels = image.channels();
  if (std::max(w, h) <= max_side_px) return ImageU8::FromView(image);
  const double scale = double(max_side_px) / std::max(w, h);
  const int out_w = std::clamp(int(std::lround(w * scale)), 1, max_side_px);
  const int out_h = std::clamp(int(std::lround(h * scale)), 1, max_side_px);
  ImageU8 out(out_w, out_h, channels);
  std::vector<double> sum(channels);
  for (int y = 0; y < out_h; ++y) {
    // Output pixel (x, y) covers input [x w / out_w, (x + 1) w / out_w) (integer bounds).
    const int y0 = int(std::int64_t(y) * h / out_h);
    const int y1 = std::max(y0 + 1, int(std::int64_t(y + 1) * h / out_h));
    for (int x = 0; x < out_w; ++x) {
      const int x0 = int(std::int64_t(x) * w / out_w);
      const int x1 = std::max(x0 + 1, int(std::int64_t(x + 1) * w / out_w));
      std::fill(sum.begin(), sum.end(), 0.0);
      for (int v = y0; v < y1; ++v) {
        for (int u = x0; u < x1; ++u) {
          for (int c = 0; c < channels; ++c) sum[c] += image(u, v, c);
        }
      }
      const double n = double(y1 - y0) * (x1 - x0);
      for (int c = 0; c < channels; ++c) out(x, y, c) = std::uint8_t(std::lround(sum[c] / n));
    }
  }
  return out;
}

GpuImageQuads::GpuImageQuads(const VulkanContext& context, const std::vector<ImageU8>& thumbnails,
                             const std::vector<std::array<Eigen::Vector3d, 4>>& corners,
                             int max_side_px)
    : context_(context) {
  FACET_CHECK(thumbnails.size() == corners.size(),
              "viewer: {} thumbnails for {} quads (give one per quad)", thumbnails.size(),
              corners.size());
  if (thumbnails.empty()) return;
  const std::uint32_t max_layers = context.properties().limits.maxImageArrayLayers;
  FACET_CHECK(thumbnails.size() <= max_layers,
              "viewer: {} thumbnails exceed the {} texture layers of {}; show fewer photos "
              "(FrustumThumbnailOptions::max_images)",
              thumbnails.size(), max_layers, context.DeviceName());
  std::vector<ImageU8> layers;
  layers.reserve(thumbnails.size());
  for (const ImageU8& thumbnail : thumbnails) {
    FACET_CHECK(!thumbnail.empty() && thumbnail.channels() == 3,
                "viewer: a thumbnail is {}x{} with {} channels; it must be a non-empty RGB image",
                thumbnail.width(), thumbnail.height(), thumbnail.channels());
    layers.push_back(DownscaleToFit(thumbnail, max_side_px));
    layer_width_ = std::max(layer_width_, layers.back().width());
    layer_height_ = std::max(layer_height_, layers.back().height());
  }
  count_ = static_cast<std::uint32_t>(layers.size());

  // The quads.
  std::vector<shader::ImageQuad> quads(count_);
  for (std::uint32_t i = 0; i < count_; ++i) {
    for (int k = 0; k < 4; ++k) quads[i].corners_in_world[k] = ToShader(corners[i][k], 1.0f);
    quads[i].uv_max_layer = {float(layers[i].width()) / layer_width_,
                             float(layers[i].height()) / layer_height_, float(i), 0.0f};
  }
  quads_ = Buffer(context, quads.size() * sizeof(shader::ImageQuad),
                  VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, Buffer::Memory::kDevice);
  quads_.Upload(std::as_bytes(std::span(quads)));

  // Pixels, RGBA, layer after layer, each thumbnail in its layer's top-left corner.
  const std::size_t layer_bytes = std::size_t(layer_width_) * layer_height_ * 4;
  Buffer staging(context, layer_bytes * count_, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                 Buffer::Memory::kHostWrite);
  auto* pixels = static_cast<std::uint8_t*>(staging.mapped());
  std::memset(pixels, 0, layer_bytes * count_);
  for (std::uint32_t i = 0; i < count_; ++i) {
    for (int y = 0; y < layers[i].height(); ++y) {
      for (int x = 0; x < layers[i].width(); ++x) {
        std::uint8_t* texel = pixels + i * layer_bytes + (std::size_t(y) * layer_width_ + x) * 4;
        for (int c = 0; c < 3; ++c) texel[c] = layers[i](x, y, c);
        texel[3] = 255;
      }
    }
  }

  VkDevice device = context.device();
  try {
    texture_ = Image(context, layer_width_, layer_height_, VK_FORMAT_R8G8B8A8_UNORM,
                     VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                     VK_IMAGE_ASPECT_COLOR_BIT, count_);
    const VkImage image = texture_.handle();
    context.SubmitAndWait([&](VkCommandBuffer cmd) {
      LayerBarrier(cmd, image, count_, VK_IMAGE_LAYOUT_UNDEFINED,
                   VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_2_NONE, 0,
                   VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT);
      // Tightly packed layers follow each other in the buffer: one region copies them all.
      VkBufferImageCopy region{};
      region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, count_};
      region.imageExtent = {std::uint32_t(layer_width_), std::uint32_t(layer_height_), 1};
      vkCmdCopyBufferToImage(cmd, staging.handle(), image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                             &region);
      LayerBarrier(cmd, image, count_, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                   VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_PIPELINE_STAGE_2_COPY_BIT,
                   VK_ACCESS_2_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_2_FRAGMENT_SHADER_BIT,
                   VK_ACCESS_2_SHADER_SAMPLED_READ_BIT);
    });

    VkSamplerCreateInfo sampler_info{VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO};
    sampler_info.magFilter = VK_FILTER_LINEAR;
    sampler_info.minFilter = VK_FILTER_LINEAR;
    sampler_info.mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST;
    sampler_info.addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE;
    sampler_info.addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE;
    sampler_info.addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE;
    CheckVk(vkCreateSampler(device, &sampler_info, nullptr, &sampler_), "vkCreateSampler");

    set_layout_ = CreateThumbnailSetLayout(device);
    VkDescriptorPoolSize pool_size{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1};
    VkDescriptorPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    pool_info.maxSets = 1;
    pool_info.poolSizeCount = 1;
    pool_info.pPoolSizes = &pool_size;
    CheckVk(vkCreateDescriptorPool(device, &pool_info, nullptr, &pool_), "vkCreateDescriptorPool");
    VkDescriptorSetAllocateInfo set_info{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    set_info.descriptorPool = pool_;
    set_info.descriptorSetCount = 1;
    set_info.pSetLayouts = &set_layout_;
    CheckVk(vkAllocateDescriptorSets(device, &set_info, &set_), "vkAllocateDescriptorSets");
    VkDescriptorImageInfo image_info{sampler_, texture_.view(),
                                     VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL};
    VkWriteDescriptorSet write{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    write.dstSet = set_;
    write.dstBinding = 0;
    write.descriptorCount = 1;
    write.descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;
    write.pImageInfo = &image_info;
    vkUpdateDescriptorSets(device, 1, &write, 0, nullptr);
  } catch (...) {
    Destroy();  // the constructor did not finish, so the destructor will not run
    throw;
  }
}

GpuImageQuads::~GpuImageQuads() { Destroy(); }

void GpuImageQuads::Destroy() {
  VkDevice device = context_.device();
  if (pool_ != VK_NULL_HANDLE) vkDestroyDescriptorPool(device, pool_, nullptr);  // frees set_
  if (set_layout_ != VK_NULL_HANDLE) vkDestroyDescriptorSetLayout(device, set_layout_, nullptr);
  if (sampler_ != VK_NULL_HANDLE) vkDestroySampler(device, sampler_, nullptr);
  texture_.Reset();
  pool_ = VK_NULL_HANDLE;
  set_ = VK_NULL_HANDLE;
  set_layout_ = VK_NULL_HANDLE;
  sampler_ = VK_NULL_HANDLE;
}

ImageQuadPipeline::ImageQuadPipeline(const VulkanContext& context, VkFormat color_format,
                                     VkFormat depth_format)
    : context_(context) {
  VkDevice device = context.device();
  try {
    set_layout_ = CreateThumbnailSetLayout(device);
    VkPushConstantRange push{VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0,
                             sizeof(shader::ImageQuadPushConstants)};
    VkPipelineLayoutCreateInfo layout_info{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    layout_info.setLayoutCount = 1;
    layout_info.pSetLayouts = &set_layout_;
    layout_info.pushConstantRangeCount = 1;
    layout_info.pPushConstantRanges = &push;
    CheckVk(vkCreatePipelineLayout(device, &layout_info, nullptr, &layout_),
            "vkCreatePipelineLayout (image quads)");
    const ShaderModule vert(context, EmbeddedShader("image_quad.vert"));
    const ShaderModule frag(context, EmbeddedShader("image_quad.frag"));
    const GraphicsPipelineDesc desc{.layout = layout_,
                                    .vertex = vert.handle(),
                                    .fragment = frag.handle(),
                                    .color_format = color_format,
                                    .depth_format = depth_format,
                                    .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
                                    .premultiplied_blend = true};
    pipeline_ = CreateGraphicsPipeline(device, desc, "image quads");
  } catch (...) {
    Destroy();
    throw;
  }
}

ImageQuadPipeline::~ImageQuadPipeline() { Destroy(); }

void ImageQuadPipeline::Destroy() {
  VkDevice device = context_.device();
  if (pipeline_ != VK_NULL_HANDLE) vkDestroyPipeline(device, pipeline_, nullptr);
  if (layout_ != VK_NULL_HANDLE) vkDestroyPipelineLayout(device, layout_, nullptr);
  if (set_layout_ != VK_NULL_HANDLE) vkDestroyDescriptorSetLayout(device, set_layout_, nullptr);
  pipeline_ = VK_NULL_HANDLE;
  layout_ = VK_NULL_HANDLE;
  set_layout_ = VK_NULL_HANDLE;
}

void ImageQuadPipeline::Draw(VkCommandBuffer cmd, const GpuImageQuads& quads,
                             const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                             float opacity, double near_m) const {
  FACET_CHECK(opacity >= 0.0f && opacity <= 1.0f,
              "viewer: thumbnail opacity must be in [0, 1] (got {})", opacity);
  if (quads.count() == 0) return;
  shader::ImageQuadPushConstants push{};
  const Eigen::Matrix4f clip = ClipFromWorld(camera, cam_from_world, near_m).cast<float>();
  std::copy(clip.data(), clip.data() + 16, push.clip_from_world.m);  // column-major
  push.params = {opacity, 0.5f / quads.layer_width(), 0.5f / quads.layer_height(), 0.0f};
  push.quads = quads.quads().address();
  const VkDescriptorSet set = quads.descriptor_set();
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline_);
  vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, layout_, 0, 1, &set, 0, nullptr);
  vkCmdPushConstants(cmd, layout_, VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0,
                     sizeof(push), &push);
  vkCmdDraw(cmd, 6 * quads.count(), 1, 0, 0);
}

void FrustumThumbnailOptions::Check() const {
  FACET_CHECK(depth > 0.0 && std::isfinite(depth),
              "FrustumThumbnailOptions::depth must be positive (got {})", depth);
  FACET_CHECK(max_side_px >= 1, "FrustumThumbnailOptions::max_side_px must be >= 1 (got {})",
              max_side_px);
  FACET_CHECK(max_images >= 1, "FrustumThumbnailOptions::max_images must be >= 1 (got {})",
              max_images);
}

FrustumThumbnails LoadFrustumThumbnails(const datasets::Scene& scene,
                                        const std::filesystem::path& image_dir,
                                        const FrustumThumbnailOptions& options) {
  options.Check();
  const std::vector<FrustumImagePlane> planes = FrustumImagePlaneCorners(scene, options.depth);
  const std::size_t shown = std::min(planes.size(), std::size_t(options.max_images));
  if (shown < planes.size()) {
    spdlog::info("viewer: showing the photos of {} of the {} registered images", shown,
                 planes.size());
  }
  FrustumThumbnails result;
  int missing = 0;
  for (std::size_t k = 0; k < shown; ++k) {
    const FrustumImagePlane& plane = planes[k * planes.size() / shown];  // evenly spaced
    const std::filesystem::path path = image_dir / scene.images.at(plane.image_id).name;
    ImageU8 photo;
    try {
      photo = ReadImage<std::uint8_t>(path, {.channels = 3});
      const geometry::Camera& camera = scene.cameras.at(scene.images.at(plane.image_id).camera_id);
      if (photo.width() == camera.height && photo.height() == camera.width &&
          photo.width() != photo.height()) {
        // COLMAP reads pixels as stored, ignoring the EXIF orientation (as LoadPhoto in
        // datasets/training_data.cpp): the quad's corners follow the stored image.
        photo = ReadImage<std::uint8_t>(path, {.channels = 3, .apply_exif_orientation = false});
      }
    } catch (const Error& e) {
      if (++missing <= 5) spdlog::warn("viewer: no thumbnail for {}: {}", path.string(), e.what());
      continue;
    }
    result.image_ids.push_back(plane.image_id);
    result.thumbnails.push_back(DownscaleToFit(photo, options.max_side_px));
    result.corners.push_back(plane.corners);
  }
  if (missing > 5) spdlog::warn("viewer: {} photos in total could not be read", missing);
  return result;
}

}  // namespace facet::viewer
