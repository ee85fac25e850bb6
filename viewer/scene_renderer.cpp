#include "viewer/scene_renderer.h"

#include "core/error.h"

namespace facet::viewer {
namespace {

std::uint64_t MeshBytes(const GpuMesh& mesh) {
  return mesh.vertices().size() + mesh.indices().size();
}

}  // namespace

VkFormat GpuScene::ChooseColorFormat(const SceneData& scene) {
  return scene.splats ? OffscreenTarget::kHdrColorFormat : OffscreenTarget::kColorFormat;
}

GpuScene::GpuScene(const VulkanContext& context, const SceneData& scene, VkFormat color_format,
                   bool progressive)
    : context_(context),
      color_format_(color_format),
      mesh_pipelines_(context, color_format, OffscreenTarget::kDepthFormat) {
  if (scene.splats && !scene.splats->positions.empty()) {
    packed_ = scene.packed_splats;
    if (packed_ == nullptr)
      packed_ = std::make_shared<const PackedSplats>(PackedSplats::Pack(*scene.splats));
    const auto capacity = static_cast<std::uint32_t>(packed_->gaussians.size());
    splats_ = GpuSplats(context, capacity, packed_->sh_degree);
    if (!progressive) UploadMore(capacity);
    sort_.emplace(context, capacity);
    splat_renderer_ =
        std::make_unique<SplatRenderer>(context, color_format, OffscreenTarget::kDepthFormat);
    splat_tiles_ = std::make_unique<SplatTileRasterizer>(context, color_format, capacity);
    // The tile lists: keys and values plus the sort's scratch, 16 bytes an entry.
    gpu_bytes_ += splats_.gaussians().size() + splats_.sh().size() + splats_.records().size() +
                  splats_.sort_keys().size() + 2 * sort_->order().size() +
                  16 * splat_tiles_->capacity();
  }
  if (scene.mesh && !scene.mesh->vertices.empty()) {
    mesh_.emplace(context, *scene.mesh);
    gpu_bytes_ += MeshBytes(*mesh_);
  }
  if (scene.thumbnails && !scene.thumbnails->thumbnails.empty()) {
    photos_ = std::make_unique<GpuImageQuads>(context, scene.thumbnails->thumbnails,
                                              scene.thumbnails->corners);
    photo_pipeline_ =
        std::make_unique<ImageQuadPipeline>(context, color_format, OffscreenTarget::kDepthFormat);
    gpu_bytes_ += photos_->quads().size() + std::uint64_t(photos_->layer_width()) *
                                                photos_->layer_height() * 4 * photos_->count();
  }
  if (scene.points && !scene.points->points.empty()) {
    points_.emplace(context, *scene.points);
    gpu_bytes_ += MeshBytes(*points_);
  }
}

std::uint32_t GpuScene::splats_pending() const { return splats_.capacity() - splats_.count(); }

std::uint32_t GpuScene::UploadMore(std::uint32_t max_splats) {
  if (packed_ == nullptr) return 0;
  const std::uint32_t added = splats_.Append(*packed_, max_splats);
  if (splats_pending() == 0) packed_.reset();  // the CPU copy is no longer needed here
  return added;
}

void GpuScene::SetLines(const geometry::PointCloud& lines) {
  if (lines_) gpu_bytes_ -= MeshBytes(*lines_);
  lines_.reset();
  if (lines.points.size() < 2) return;
  lines_.emplace(context_, lines);
  gpu_bytes_ += MeshBytes(*lines_);
}

void GpuScene::Record(VkCommandBuffer cmd, const OffscreenTarget& target,
                      const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                      const SceneDrawSettings& settings,
                      const std::function<void(VkCommandBuffer, const std::string&)>& mark) const {
  FACET_CHECK(camera.width == target.width() && camera.height == target.height(),
              "viewer: a {}x{} camera drawn into a {}x{} target", camera.width, camera.height,
              target.width(), target.height());
  FACET_CHECK(target.color_format() == color_format_,
              "viewer: the scene's pipelines are for another colour format than the target's");
  const bool draw_splats = settings.layers.splats && splat_renderer_ && splats_.count() > 0;
  const bool tiles = draw_splats && settings.splats.UsesTiles();
  if (draw_splats) {
    if (tiles) splat_tiles_->GrowToLastFrame();  // the last frame has completed
    RecordSplatPreprocessAndSort(cmd, *splat_renderer_, *sort_, splats_, camera, cam_from_world,
                                 settings.splats);
    if (tiles) splat_tiles_->RecordLists(cmd, splats_, sort_->order(), camera);
    if (mark) mark(cmd, "splat preprocess + sort");
  }
  // Depth and alpha images are values over black (SplatRenderMode), whatever the background.
  const bool values = settings.splats.mode == SplatRenderMode::kDepth ||
                      settings.splats.mode == SplatRenderMode::kAlpha;
  Eigen::Vector3f clear = settings.background;
  if (draw_splats && values) clear.setZero();
  target.BeginRendering(cmd, clear);
  const MeshDrawOptions& options = settings.mesh;
  bool opaque = false;  // whether any opaque layer drew
  if (settings.layers.mesh && mesh_) {
    mesh_pipelines_.DrawTriangles(cmd, *mesh_, camera, cam_from_world, options);
    opaque = true;
  }
  if (settings.layers.points && points_) {
    mesh_pipelines_.DrawPoints(cmd, *points_, camera, cam_from_world, options);
    opaque = true;
  }
  if ((settings.layers.cameras || settings.layers.grid || settings.layers.trajectory) && lines_) {
    mesh_pipelines_.DrawLines(cmd, *lines_, camera, cam_from_world, options);
    opaque = true;
  }
  if (settings.layers.photos && photos_) {
    photo_pipeline_->Draw(cmd, *photos_, camera, cam_from_world, 1.0f, options.near_m);
    opaque = true;
  }
  if (draw_splats && !tiles) {
    splat_renderer_->Draw(cmd, splats_, sort_->order(), splats_.count(), camera, settings.splats);
  }
  target.EndRendering(cmd);
  if (mark) mark(cmd, "draw");
  if (tiles) {
    // The splats' depth test is against the opaque layers' reversed Z, whose near plane is the
    // mesh options' (the quads' depth uses the splat options' near_m; both default to 0.01).
    splat_tiles_->RecordBlend(cmd, splats_, target, options.near_m, clear, opaque);
    if (mark) mark(cmd, "splat blend");
  }
}

ImageU8 GpuScene::Render(const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                         const SceneDrawSettings& settings) const {
  camera.Check();
  settings.splats.Check();
  settings.mesh.Check();
  const OffscreenTarget target(context_, camera.width, camera.height, color_format_);
  const auto record = [&](VkCommandBuffer cmd) {
    Record(cmd, target, camera, cam_from_world, settings);
  };
  ImageU8 rgb = target.Capture(record).rgb;
  // Tile lists that overflowed grow in Record: the frame is drawn again with all its splats.
  if (splat_tiles_ && settings.splats.UsesTiles() && splat_tiles_->stats().Overflowed()) {
    rgb = target.Capture(record).rgb;
  }
  return rgb;
}

}  // namespace facet::viewer
