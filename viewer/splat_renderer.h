// Gaussian splats drawn as facet's CPU rasterizer (splatting/rasterizer.h) renders them, so the
// viewer shows what training optimised: (1) splat_preprocess.comp projects every Gaussian (EWA,
// Kerbl et al. 2023, eq. 5; the CPU's culling, low-pass, opacity-aware radius and SH colour) into
// a shader::SplatRecord and a depth key; (2) SplatSort (viewer/splat_view.h) orders the splats
// back to front from the keys with the GPU radix sort; (3) splat.{vert,frag} draw one screen-space
// rectangle per splat, evaluating the Gaussian at each pixel centre, with the premultiplied "over"
// blend src + (1 - src_alpha) dst. Back to front, over a colour target cleared to the background,
// that is the CPU's front-to-back C = sum_i c_i alpha_i T_i + T_final background (its early stop at
// T < 1e-4 changes a pixel by at most 1e-4). The colour target must not be SRGB (the CPU writes SH
// colours as is), and is best half-float (OffscreenTarget::kHdrColorFormat): an RGBA8 UNORM target
// rounds every blend to 8 bits and clamps SH colours above 1 per layer, which on splats-small (9k
// Gaussians, ~100 layers a pixel) costs 39 dB against the CPU image where half floats give 47 dB
// (the 2000-Gaussian test: 51 vs 58 dB; tests/viewer/splat_renderer_test.cpp). The colour mode
// draws by default with SplatTileRasterizer (splat_tiles.h) instead: the CPU's own tile
// algorithm in compute, front to back, 59-60 dB on either target; the quads remain for the other
// modes and for SplatRaster::kQuads.
//
// SplatDrawOptions adds the viewer's inspection tools: render modes besides the colour image
// (centres, ellipsoids, depth, alpha), a factor on every splat's size, an opacity threshold and a
// crop box; datasets::CropSplats (datasets/gaussian_splats.h) keeps the same splats on the CPU.
#pragma once

#include <Eigen/Core>
#include <vulkan/vulkan.h>

#include <cstdint>
#include <vector>

#include "datasets/gaussian_splats.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "viewer/shaders/shader_io.h"
#include "viewer/vulkan_context.h"
#include "viewer/vulkan_resources.h"

namespace facet::viewer {

// Splats in the GPU's layout, made on the CPU (multi-threaded): shader::SplatGaussian records and
// coefficient-major SH floats. A loader thread packs a big scene while the window keeps drawing;
// GpuSplats then only copies. Throws facet::Error when an attribute array of `splats` is not one
// per splat, the degree is not 0-3, or there are 2^31 splats or more.
struct PackedSplats {
  std::vector<shader::SplatGaussian> gaussians;
  std::vector<float> sh;  // [count * 3 * (degree + 1)^2]
  int sh_degree = 0;
  static PackedSplats Pack(const datasets::GaussianSplats& splats);
};

// Gaussians copied to the GPU (shader::SplatGaussian + coefficient-major SH floats), with the
// per-view outputs of the preprocess pass: one shader::SplatRecord and one depth key per Gaussian,
// and a shader::SplatModel holding the addresses of all four.
class GpuSplats {
 public:
  GpuSplats() = default;
  // Throws facet::Error when an attribute array of `splats` is not one per splat. 0 splats give an
  // empty object that draws nothing.
  GpuSplats(const VulkanContext& context, const datasets::GaussianSplats& splats);
  GpuSplats(const VulkanContext& context, const PackedSplats& packed);
  // Room for `capacity` splats of `sh_degree` holding none yet: Append fills it a range at a time
  // (the window uploads a big scene over several frames and draws what has arrived).
  GpuSplats(const VulkanContext& context, std::uint32_t capacity, int sh_degree);
  // Uploads packed splats [count(), count() + n) (n clamped to what is left of both) and makes
  // them drawable; returns how many were added. Throws facet::Error on a degree mismatch.
  std::uint32_t Append(const PackedSplats& packed, std::uint32_t n);
  std::uint32_t capacity() const { return capacity_; }

  std::uint32_t count() const { return count_; }
  int sh_degree() const { return sh_degree_; }  // stored SH degree, 0-3
  const Buffer& gaussians() const { return gaussians_; }
  const Buffer& sh() const { return sh_; }
  // Written by SplatRenderer::Preprocess: [count] shader::SplatRecord.
  const Buffer& records() const { return records_; }
  // Written by SplatRenderer::Preprocess: [count] uint32 depth keys, ~floatBitsToUint(z_in_cam)
  // for a visible splat (ascending = back to front), FACET_SPLAT_CULLED_KEY (above every visible
  // key) for a culled one; SplatSort sorts them in place.
  // Vertex-shader and transfer reads after Preprocess are synchronised by it.
  const Buffer& sort_keys() const { return sort_keys_; }
  // One shader::SplatModel: the buffers above, the count and the SH stride.
  const Buffer& model() const { return model_; }

 private:
  Buffer gaussians_;
  Buffer sh_;
  Buffer records_;
  Buffer sort_keys_;
  Buffer model_;
  std::uint32_t count_ = 0;
  std::uint32_t capacity_ = 0;
  int sh_degree_ = 0;
};

// What each splat draws (shader_io.h's FACET_SPLAT_MODE_* hold the same values). kDepth and kAlpha
// blend like kSplats, so over a background b a pixel shows v + (1 - alpha) b: clear the target to
// black to see v alone (the shaders cannot remove a background already in the target).
enum class SplatRenderMode {
  kSplats,      // the Gaussians in their colours: the CPU rasterizer's rgb
  kCentres,     // an opaque dot (centre_radius_px) of each visible splat's colour at its 2D mean
  kEllipsoids,  // each splat of opacity >= ellipsoid_min_opacity opaque in its colour inside its
                // 1-sigma ellipse (the conic, low-pass included: d^T conic d <= 1)
  kDepth,       // the Gaussians in grey clamp((z - near) / (far - near), 0, 1) of their
                // camera-space z: alpha x the normalised expected depth (the CPU's depth)
  kAlpha,       // the Gaussians in white: the accumulated opacity (the CPU's alpha)
};
// kCentres and kEllipsoids draw back to front like the Gaussians, so the nearest is on top.

// How the kSplats mode is drawn; the other modes always draw quads.
enum class SplatRaster {
  kCompute,  // SplatTileRasterizer (splat_tiles.h): per-tile lists blended front to back in a
             // compute shader, as the CPU rasterizer; what the viewer draws
  kQuads,    // SplatRenderer::Draw: one blended screen rectangle per splat, back to front (kept
             // for comparison: the fragment work makes it slow on compute GPUs)
};

// The projection tunables, whose defaults are splatting::RasterOptions' (keep them equal to
// compare), then the viewer's render mode and filters, whose defaults draw every splat as trained.
struct SplatDrawOptions {
  int sh_degree = 3;          // SH degree evaluated, 0-3 (capped at the model's stored degree)
  double near_m = 0.01;       // camera-space z below which a splat is culled; > 0
  float low_pass = 0.3f;      // px^2 added to the 2D covariance; >= 0
  float clamp_factor = 1.3f;  // Jacobian tangent clamp, multiple of the half field of view; > 0

  SplatRenderMode mode = SplatRenderMode::kSplats;
  SplatRaster raster = SplatRaster::kCompute;  // how kSplats draws
  float scale = 1.0f;              // factor on every standard deviation (splat size); > 0
  float opacity_threshold = 0.0f;  // splats with sigmoid(opacity) below it are culled; [0, 1)
  // When set, splats whose mean lies outside the world-space box [crop_min, crop_max] (bounds
  // included) are culled; crop_min <= crop_max componentwise.
  bool crop = false;
  Eigen::Vector3f crop_min = Eigen::Vector3f::Zero();
  Eigen::Vector3f crop_max = Eigen::Vector3f::Zero();
  // kDepth: the camera-space depths (scene units) drawn black and white; near < far.
  Eigen::Vector2f depth_range{0.0f, 10.0f};
  float centre_radius_px = 1.5f;       // kCentres: dot radius; > 0
  float ellipsoid_min_opacity = 0.1f;  // kEllipsoids: fainter splats are not drawn; [0, 1]

  // Throws facet::Error naming the field out of range.
  void Check() const;
  // Whether these options draw with SplatTileRasterizer (kSplats with kCompute): Preprocess then
  // writes front-to-back keys, and SplatRenderer::Draw refuses them.
  bool UsesTiles() const {
    return mode == SplatRenderMode::kSplats && raster == SplatRaster::kCompute;
  }
};

class SplatRenderer {
 public:
  // A compute pipeline (preprocess) and a graphics pipeline for dynamic rendering into
  // `color_format` + `depth_format`: depth test GREATER_OR_EQUAL against reversed Z (meshes drawn
  // first occlude splats), no depth writes.
  SplatRenderer(const VulkanContext& context, VkFormat color_format, VkFormat depth_format);
  ~SplatRenderer();
  SplatRenderer(const SplatRenderer&) = delete;
  SplatRenderer& operator=(const SplatRenderer&) = delete;

  VkFormat color_format() const { return color_format_; }

  // Records, outside a rendering pass, the preprocess dispatch of all of `splats` for the view
  // (PINHOLE or SIMPLE_PINHOLE; other models use their pinhole part) and a barrier making records
  // and keys visible to vertex shaders, compute shaders and transfers that follow. The keys sort
  // back to front, or front to back when options.UsesTiles().
  void Preprocess(VkCommandBuffer cmd, const GpuSplats& splats, const geometry::Camera& camera,
                  const geometry::Rigid3& cam_from_world, const SplatDrawOptions& options) const;

  // Records, inside a rendering pass whose viewport is the camera's image, the draw of the first
  // `count` splats of `order` (a storage buffer of uint32 Gaussian indices, back to front) from
  // the records of the last Preprocess. count 0 records nothing. Throws facet::Error when
  // options.UsesTiles() (those draw with SplatTileRasterizer).
  void Draw(VkCommandBuffer cmd, const GpuSplats& splats, const Buffer& order, std::uint32_t count,
            const geometry::Camera& camera, const SplatDrawOptions& options) const;

 private:
  void Destroy();

  const VulkanContext& context_;
  VkFormat color_format_ = VK_FORMAT_UNDEFINED;
  VkPipelineLayout preprocess_layout_ = VK_NULL_HANDLE;
  VkPipeline preprocess_ = VK_NULL_HANDLE;
  VkPipelineLayout draw_layout_ = VK_NULL_HANDLE;
  VkPipeline draw_ = VK_NULL_HANDLE;
};

}  // namespace facet::viewer
