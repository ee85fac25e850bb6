#include "viewer/splat_renderer.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "core/error.h"
#include "viewer/embedded_shaders.h"
#include "viewer/graphics_pipeline.h"
#include "viewer/shaders/shader_io.h"

namespace facet::viewer {
namespace {

constexpr std::uint32_t kPreprocessGroupSize = 256;  // local_size_x of splat_preprocess.comp

static_assert(std::uint32_t(SplatRenderMode::kSplats) == FACET_SPLAT_MODE_SPLATS);
static_assert(std::uint32_t(SplatRenderMode::kCentres) == FACET_SPLAT_MODE_CENTRES);
static_assert(std::uint32_t(SplatRenderMode::kEllipsoids) == FACET_SPLAT_MODE_ELLIPSOIDS);
static_assert(std::uint32_t(SplatRenderMode::kDepth) == FACET_SPLAT_MODE_DEPTH);
static_assert(std::uint32_t(SplatRenderMode::kAlpha) == FACET_SPLAT_MODE_ALPHA);

int NumShCoeffs(int degree) { return (degree + 1) * (degree + 1); }

VkPipelineLayout MakeLayout(VkDevice device, VkShaderStageFlags stages, std::uint32_t size) {
  VkPushConstantRange push{stages, 0, size};
  VkPipelineLayoutCreateInfo info{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  info.pushConstantRangeCount = 1;
  info.pPushConstantRanges = &push;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  CheckVk(vkCreatePipelineLayout(device, &info, nullptr, &layout),
          "vkCreatePipelineLayout (splat)");
  return layout;
}

}  // namespace

PackedSplats PackedSplats::Pack(const datasets::GaussianSplats& splats) {
  const std::size_t n = splats.size();
  FACET_CHECK(splats.sh_degree >= 0 && splats.sh_degree <= 3,
              "viewer: splats with SH degree {} (expected 0-3)", splats.sh_degree);
  FACET_CHECK(splats.sh_dc.size() == n && splats.opacities.size() == n &&
                  splats.log_scales.size() == n && splats.rotations.size() == n &&
                  splats.sh_rest.size() == n * std::size_t(splats.NumShRest()),
              "viewer: splat attributes are not one per splat ({} positions, {} colours, {} "
              "opacities, {} scales, {} rotations, {} SH rest floats)",
              n, splats.sh_dc.size(), splats.opacities.size(), splats.log_scales.size(),
              splats.rotations.size(), splats.sh_rest.size());
  FACET_CHECK(n < (std::size_t{1} << 31), "viewer: {} splats exceed the 2^31 limit", n);
  PackedSplats packed;
  packed.sh_degree = splats.sh_degree;
  packed.gaussians.resize(n);
  const int coeffs = NumShCoeffs(packed.sh_degree);
  packed.sh.resize(n * 3 * coeffs);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 4096), [&](const auto& range) {
    for (std::size_t i = range.begin(); i != range.end(); ++i) {
      const Eigen::Vector3f& p = splats.positions[i];
      const Eigen::Vector3f& s = splats.log_scales[i];
      const Eigen::Vector4f& q = splats.rotations[i];
      packed.gaussians[i].mean_opacity = {p.x(), p.y(), p.z(), splats.opacities[i]};
      packed.gaussians[i].log_scale = {s.x(), s.y(), s.z(), 0.0f};
      packed.gaussians[i].rotation = {q[0], q[1], q[2], q[3]};
      // The file's channel-major rest coefficients to the shader's coefficient-major layout
      // (splatting::FromSplats does the same for the CPU rasterizer).
      float* out = packed.sh.data() + i * 3 * coeffs;
      for (int c = 0; c < 3; ++c) {
        out[c] = splats.sh_dc[i][c];
        for (int k = 0; k + 1 < coeffs; ++k) out[3 * (k + 1) + c] = splats.ShRest(i, c, k);
      }
    }
  });
  return packed;
}

GpuSplats::GpuSplats(const VulkanContext& context, const datasets::GaussianSplats& splats)
    : GpuSplats(context, PackedSplats::Pack(splats)) {}

GpuSplats::GpuSplats(const VulkanContext& context, const PackedSplats& packed)
    : GpuSplats(context, static_cast<std::uint32_t>(packed.gaussians.size()), packed.sh_degree) {
  Append(packed, capacity_);
}

GpuSplats::GpuSplats(const VulkanContext& context, std::uint32_t capacity, int sh_degree)
    : capacity_(capacity), sh_degree_(sh_degree) {
  FACET_CHECK(sh_degree >= 0 && sh_degree <= 3, "viewer: splats with SH degree {} (expected 0-3)",
              sh_degree);
  FACET_CHECK(capacity < (1u << 31), "viewer: {} splats exceed the 2^31 limit", capacity);
  if (capacity == 0) return;
  const std::size_t n = capacity;
  const auto storage = [&](std::size_t bytes) {
    return Buffer(context, bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, Buffer::Memory::kDevice);
  };
  gaussians_ = storage(n * sizeof(shader::SplatGaussian));
  sh_ = storage(n * 3 * NumShCoeffs(sh_degree) * sizeof(float));
  records_ = storage(n * sizeof(shader::SplatRecord));
  sort_keys_ = storage(n * sizeof(std::uint32_t));
  model_ = storage(sizeof(shader::SplatModel));
}

std::uint32_t GpuSplats::Append(const PackedSplats& packed, std::uint32_t n) {
  const int coeffs = NumShCoeffs(sh_degree_);
  FACET_CHECK(
      packed.sh_degree == sh_degree_ && packed.sh.size() == packed.gaussians.size() * 3 * coeffs,
      "viewer: packed splats of degree {} ({} SH floats for {} splats) appended to "
      "splats of degree {}",
      packed.sh_degree, packed.sh.size(), packed.gaussians.size(), sh_degree_);
  const std::size_t available =
      packed.gaussians.size() > count_ ? packed.gaussians.size() - count_ : 0;
  n = static_cast<std::uint32_t>(std::min<std::size_t>({n, capacity_ - count_, available}));
  if (n == 0) return 0;
  const std::size_t first = count_, stride = 3 * std::size_t(coeffs);
  gaussians_.Upload(std::as_bytes(std::span(packed.gaussians).subspan(first, n)),
                    first * sizeof(shader::SplatGaussian));
  sh_.Upload(std::as_bytes(std::span(packed.sh).subspan(first * stride, n * stride)),
             first * stride * sizeof(float));
  count_ += n;
  shader::SplatModel model{};
  model.gaussians = gaussians_.address();
  model.sh = sh_.address();
  model.records = records_.address();
  model.sort_keys = sort_keys_.address();
  model.count = count_;
  model.sh_stride = static_cast<std::uint32_t>(stride);
  model_.Upload(std::as_bytes(std::span(&model, 1)));
  return n;
}

void SplatDrawOptions::Check() const {
  FACET_CHECK(sh_degree >= 0 && sh_degree <= 3, "SplatDrawOptions::sh_degree must be 0-3 (got {})",
              sh_degree);
  FACET_CHECK(near_m > 0.0, "SplatDrawOptions::near_m must be positive (got {})", near_m);
  FACET_CHECK(low_pass >= 0.0f, "SplatDrawOptions::low_pass must be >= 0 (got {})", low_pass);
  FACET_CHECK(clamp_factor > 0.0f, "SplatDrawOptions::clamp_factor must be positive (got {})",
              clamp_factor);
  FACET_CHECK(int(mode) >= 0 && int(mode) <= int(SplatRenderMode::kAlpha),
              "SplatDrawOptions::mode {} is not a SplatRenderMode", int(mode));
  FACET_CHECK(raster == SplatRaster::kCompute || raster == SplatRaster::kQuads,
              "SplatDrawOptions::raster {} is not a SplatRaster", int(raster));
  FACET_CHECK(std::isfinite(scale) && scale > 0.0f,
              "SplatDrawOptions::scale must be positive and finite (got {})", scale);
  FACET_CHECK(opacity_threshold >= 0.0f && opacity_threshold < 1.0f,
              "SplatDrawOptions::opacity_threshold must be in [0, 1) (got {})", opacity_threshold);
  if (crop) {
    FACET_CHECK(crop_min.allFinite() && crop_max.allFinite() &&
                    (crop_min.array() <= crop_max.array()).all(),
                "SplatDrawOptions: the crop box ({}, {}, {}) - ({}, {}, {}) must be finite with "
                "crop_min <= crop_max in every axis",
                crop_min.x(), crop_min.y(), crop_min.z(), crop_max.x(), crop_max.y(), crop_max.z());
  }
  FACET_CHECK(depth_range.allFinite() && depth_range.x() < depth_range.y(),
              "SplatDrawOptions::depth_range must be finite with near < far (got {} - {})",
              depth_range.x(), depth_range.y());
  FACET_CHECK(std::isfinite(centre_radius_px) && centre_radius_px > 0.0f,
              "SplatDrawOptions::centre_radius_px must be positive (got {})", centre_radius_px);
  FACET_CHECK(ellipsoid_min_opacity >= 0.0f && ellipsoid_min_opacity <= 1.0f,
              "SplatDrawOptions::ellipsoid_min_opacity must be in [0, 1] (got {})",
              ellipsoid_min_opacity);
}

SplatRenderer::SplatRenderer(const VulkanContext& context, VkFormat color_format,
                             VkFormat depth_format)
    : context_(context), color_format_(color_format) {
  VkDevice device = context.device();
  try {
    preprocess_layout_ = MakeLayout(device, VK_SHADER_STAGE_COMPUTE_BIT,
                                    sizeof(shader::SplatPreprocessPushConstants));
    const ShaderModule comp(context, EmbeddedShader("splat_preprocess.comp"));
    VkComputePipelineCreateInfo compute{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    compute.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    compute.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    compute.stage.module = comp.handle();
    compute.stage.pName = "main";
    compute.layout = preprocess_layout_;
    CheckVk(vkCreateComputePipelines(device, VK_NULL_HANDLE, 1, &compute, nullptr, &preprocess_),
            "vkCreateComputePipelines (splat preprocess)");

    draw_layout_ = MakeLayout(device, VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT,
                              sizeof(shader::SplatDrawPushConstants));
    const ShaderModule vert(context, EmbeddedShader("splat.vert"));
    const ShaderModule frag(context, EmbeddedShader("splat.frag"));
    // Splats are blended back to front with premultiplied "over" and never occlude each other.
    draw_ = CreateGraphicsPipeline(device,
                                   {.layout = draw_layout_,
                                    .vertex = vert.handle(),
                                    .fragment = frag.handle(),
                                    .color_format = color_format,
                                    .depth_format = depth_format,
                                    .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_STRIP,
                                    .depth_write = false,
                                    .depth_compare = VK_COMPARE_OP_GREATER_OR_EQUAL,
                                    .premultiplied_blend = true},
                                   "splats");
  } catch (...) {
    Destroy();  // the constructor did not finish, so the destructor will not run
    throw;
  }
}

SplatRenderer::~SplatRenderer() { Destroy(); }

void SplatRenderer::Destroy() {
  VkDevice device = context_.device();
  if (draw_ != VK_NULL_HANDLE) vkDestroyPipeline(device, draw_, nullptr);
  if (draw_layout_ != VK_NULL_HANDLE) vkDestroyPipelineLayout(device, draw_layout_, nullptr);
  if (preprocess_ != VK_NULL_HANDLE) vkDestroyPipeline(device, preprocess_, nullptr);
  if (preprocess_layout_ != VK_NULL_HANDLE) {
    vkDestroyPipelineLayout(device, preprocess_layout_, nullptr);
  }
  draw_ = preprocess_ = VK_NULL_HANDLE;
  draw_layout_ = preprocess_layout_ = VK_NULL_HANDLE;
}

void SplatRenderer::Preprocess(VkCommandBuffer cmd, const GpuSplats& splats,
                               const geometry::Camera& camera,
                               const geometry::Rigid3& cam_from_world,
                               const SplatDrawOptions& options) const {
  options.Check();
  camera.Check();
  if (splats.count() == 0) return;
  shader::SplatPreprocessPushConstants push{};
  // Float casts of the double pose, as splatting::MakeRasterCamera makes them.
  const Eigen::Matrix3d r = cam_from_world.rotation.toRotationMatrix();
  const Eigen::Vector3d& t = cam_from_world.translation;
  for (int row = 0; row < 3; ++row) {
    push.cam_from_world_rows[row] = {float(r(row, 0)), float(r(row, 1)), float(r(row, 2)),
                                     float(t(row))};
  }
  const Eigen::Vector2d pp = camera.PrincipalPoint();
  push.intrinsics = {float(camera.FocalX()), float(camera.FocalY()), float(pp.x()), float(pp.y())};
  push.image = {float(camera.width), float(camera.height), float(options.near_m), options.low_pass};
  // Without a crop the box is all of space: the test culls nothing.
  constexpr float kHuge = std::numeric_limits<float>::infinity();
  const Eigen::Vector3f lo = options.crop ? options.crop_min : Eigen::Vector3f::Constant(-kHuge);
  const Eigen::Vector3f hi = options.crop ? options.crop_max : Eigen::Vector3f::Constant(kHuge);
  push.crop_min_scale = {lo.x(), lo.y(), lo.z(), options.scale};
  push.crop_max_opacity = {hi.x(), hi.y(), hi.z(), options.opacity_threshold};
  push.model = splats.model().address();
  push.sh_degree_flags =
      static_cast<std::uint32_t>(std::min(options.sh_degree, splats.sh_degree()));
  if (options.UsesTiles()) push.sh_degree_flags |= FACET_SPLAT_KEYS_FRONT_TO_BACK;
  push.clamp_factor = options.clamp_factor;

  const std::uint32_t groups = (splats.count() + kPreprocessGroupSize - 1) / kPreprocessGroupSize;
  FACET_CHECK(groups <= context_.properties().limits.maxComputeWorkGroupCount[0],
              "viewer: {} splats need {} preprocess work groups, {} allows {} (split the model)",
              splats.count(), groups, context_.DeviceName(),
              context_.properties().limits.maxComputeWorkGroupCount[0]);
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, preprocess_);
  vkCmdPushConstants(cmd, preprocess_layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
  vkCmdDispatch(cmd, groups, 1, 1);

  MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT, VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT,
                VK_PIPELINE_STAGE_2_VERTEX_SHADER_BIT | VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT |
                    VK_PIPELINE_STAGE_2_COPY_BIT,
                VK_ACCESS_2_SHADER_STORAGE_READ_BIT | VK_ACCESS_2_TRANSFER_READ_BIT);
}

void SplatRenderer::Draw(VkCommandBuffer cmd, const GpuSplats& splats, const Buffer& order,
                         std::uint32_t count, const geometry::Camera& camera,
                         const SplatDrawOptions& options) const {
  options.Check();
  FACET_CHECK(!options.UsesTiles(),
              "SplatRenderer::Draw draws quads: set SplatDrawOptions::raster to kQuads, or draw "
              "the kSplats mode with SplatTileRasterizer");
  if (count == 0 || splats.count() == 0) return;
  FACET_CHECK(count <= splats.count() && order.size() >= count * sizeof(std::uint32_t),
              "viewer: drawing {} splats from an order of {} bytes over {} splats", count,
              order.size(), splats.count());
  shader::SplatDrawPushConstants push{};
  push.records = splats.records().address();
  push.order = order.address();
  push.image = {float(camera.width), float(camera.height), float(options.near_m),
                options.centre_radius_px};
  push.depth = {options.depth_range.x(), 1.0f / (options.depth_range.y() - options.depth_range.x()),
                0.0f, 0.0f};
  push.mode = static_cast<std::uint32_t>(options.mode);
  push.min_opacity = options.ellipsoid_min_opacity;
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, draw_);
  vkCmdPushConstants(cmd, draw_layout_, VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT,
                     0, sizeof(push), &push);
  vkCmdDraw(cmd, 4, count, 0, 0);
}

}  // namespace facet::viewer
