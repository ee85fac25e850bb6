// GpuScene, the frame both `facet view --offscreen` and the window draw: its splats are
// RenderSplatsOffscreen's pixel for pixel, its layers switch on and off, depth and alpha modes
// are values over black whatever the background, and a mesh in front hides the splats behind it.
// Also the scene framing (RobustBounds, SceneUp, SceneLines).
#include "viewer/scene_renderer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "splat_test_util.h"
#include "splatting/gaussians.h"
#include "viewer/scene.h"
#include "viewer/splat_view.h"
#include "vulkan_test_context.h"

namespace facet::viewer {
namespace {

using geometry::Rigid3;

int MaxDifference(const ImageU8& a, const ImageU8& b) {
  int worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
  return worst;
}

class SceneRendererTest : public test::VulkanTest {
 protected:
  void SetUp() override {
    VulkanTest::SetUp();
    if (context_ == nullptr) return;
    scene_.splats = splatting::ToSplats(test::RandomGaussians(300, 7));
    scene_.layers.splats = true;
  }
  SceneData scene_;
  const geometry::Camera camera_ = test::TestCamera(96, 72);
  const Rigid3 pose_ = Rigid3();
};

TEST_F(SceneRendererTest, SplatsMatchRenderSplatsOffscreen) {
  const GpuScene gpu(*context_, scene_, GpuScene::ChooseColorFormat(scene_));
  EXPECT_EQ(gpu.color_format(), OffscreenTarget::kHdrColorFormat);
  EXPECT_EQ(gpu.splat_count(), 300u);
  EXPECT_GT(gpu.gpu_bytes(), 300u * 48u);
  SceneDrawSettings settings;
  settings.layers = scene_.layers;
  settings.background = Eigen::Vector3f(0.1f, 0.2f, 0.3f);
  const ImageU8 image = gpu.Render(camera_, pose_, settings);

  const GpuSplats splats(*context_, *scene_.splats);
  const SplatRenderer renderer(*context_, OffscreenTarget::kHdrColorFormat,
                               OffscreenTarget::kDepthFormat);
  const SplatImage reference = RenderSplatsOffscreen(*context_, renderer, splats, camera_, pose_,
                                                     settings.splats, settings.background);
  EXPECT_EQ(MaxDifference(image, reference.rgb), 0);

  // The layer off: the background only.
  settings.layers.splats = false;
  const ImageU8 empty = gpu.Render(camera_, pose_, settings);
  // The clear colour through a half-float target: 0.1 and 0.3 times 255, within a level.
  EXPECT_NEAR(empty(0, 0, 0), 25.5, 1.0);
  EXPECT_NEAR(empty(50, 40, 2), 76.5, 1.0);
  EXPECT_EQ(MaxDifference(empty, gpu.Render(camera_, pose_, settings)), 0);
}

TEST_F(SceneRendererTest, ProgressiveUploadEndsAsTheWholeScene) {
  PackForGpu(scene_);
  ASSERT_NE(scene_.packed_splats, nullptr);
  SceneDrawSettings settings;
  settings.layers = scene_.layers;
  const GpuScene whole(*context_, scene_, OffscreenTarget::kHdrColorFormat);
  EXPECT_EQ(whole.splats_pending(), 0u);
  GpuScene progressive(*context_, scene_, OffscreenTarget::kHdrColorFormat, true);
  EXPECT_EQ(progressive.splat_count(), 0u);
  EXPECT_EQ(progressive.splats_pending(), 300u);
  const ImageU8 nothing = progressive.Render(camera_, pose_, settings);  // the background only
  EXPECT_EQ(nothing(48, 36, 0), 0);
  EXPECT_EQ(progressive.UploadMore(128), 128u);
  const ImageU8 part = progressive.Render(camera_, pose_, settings);
  EXPECT_EQ(progressive.UploadMore(128), 128u);
  EXPECT_EQ(progressive.UploadMore(128), 44u);  // what is left
  EXPECT_EQ(progressive.UploadMore(128), 0u);
  EXPECT_EQ(progressive.splats_pending(), 0u);
  const ImageU8 done = progressive.Render(camera_, pose_, settings);
  EXPECT_EQ(MaxDifference(done, whole.Render(camera_, pose_, settings)), 0);
  EXPECT_GT(MaxDifference(part, done), 0);  // a third of the splats is not the scene
}

TEST_F(SceneRendererTest, AlphaModeIgnoresTheBackground) {
  const GpuScene gpu(*context_, scene_, OffscreenTarget::kHdrColorFormat);
  SceneDrawSettings settings;
  settings.layers = scene_.layers;
  settings.splats.mode = SplatRenderMode::kAlpha;
  settings.background = Eigen::Vector3f::Zero();
  const ImageU8 over_black = gpu.Render(camera_, pose_, settings);
  settings.background = Eigen::Vector3f(1.0f, 0.5f, 0.0f);
  EXPECT_EQ(MaxDifference(over_black, gpu.Render(camera_, pose_, settings)), 0);
  // Alpha is grey.
  EXPECT_EQ(over_black(48, 36, 0), over_black(48, 36, 2));
}

TEST_F(SceneRendererTest, MeshInFrontHidesTheSplats) {
  // A white square at z = 1.5, in front of every splat (z in [2, 6]), covering the image centre.
  geometry::TriangleMesh mesh;
  mesh.vertices = {{-0.5, -0.5, 1.5}, {0.5, -0.5, 1.5}, {0.5, 0.5, 1.5}, {-0.5, 0.5, 1.5}};
  mesh.triangles = {{0, 1, 2}, {0, 2, 3}};
  mesh.vertex_colors.assign(4, Eigen::Vector3f::Ones());
  scene_.mesh = mesh;
  scene_.layers.mesh = true;
  const GpuScene gpu(*context_, scene_, OffscreenTarget::kHdrColorFormat);
  SceneDrawSettings settings;
  settings.layers = scene_.layers;
  settings.mesh.lit = false;
  const ImageU8 image = gpu.Render(camera_, pose_, settings);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(image(47, 37, c), 255);
  settings.layers.mesh = false;
  EXPECT_NE(gpu.Render(camera_, pose_, settings)(47, 37, 0), 255);
}

TEST(SceneFraming, BoundsUpAndLines) {
  SceneData scene;
  EXPECT_EQ(RobustBounds(scene).radius, 1.0);  // nothing: the unit sphere
  geometry::PointCloud cloud;
  for (int i = 0; i <= 100; ++i) cloud.points.emplace_back(0.01 * i, 0.0, 0.0);
  cloud.points.emplace_back(1000.0, 0.0, 0.0);  // an outlier the percentiles ignore
  scene.points = cloud;
  scene.layers.points = true;
  const SceneBounds bounds = RobustBounds(scene);
  EXPECT_NEAR(bounds.centre.x(), 0.5, 0.02);
  EXPECT_NEAR(bounds.radius, 0.45, 0.02);
  EXPECT_TRUE(SceneUp(scene).isApprox(Eigen::Vector3d::UnitZ()));  // no cameras: +z
  SceneLayers layers;
  layers.cameras = layers.trajectory = true;
  EXPECT_TRUE(SceneLines(scene, bounds, layers).points.empty());  // no model, no trajectory
  layers = {};
  layers.grid = true;
  const geometry::PointCloud grid = SceneLines(scene, bounds, layers);
  EXPECT_EQ(grid.points.size() % 2, 0u);
  EXPECT_GE(grid.points.size(), 44u);  // 11 + 11 lines
  for (const Eigen::Vector3d& p : grid.points) EXPECT_NEAR(p.z(), 0.0, 1e-9);

  // A trajectory of 40 poses along +x looking along +y: 39 path segments from blue to red, a
  // tick every 2 poses along the viewing direction; its centres widen the bounds.
  const Eigen::Quaterniond look_y(Eigen::AngleAxisd(M_PI / 2, Eigen::Vector3d::UnitX()));
  for (int i = 0; i < 40; ++i) {
    const Eigen::Vector3d centre(0.1 * i, -2.0, 0.5);
    scene.trajectory.emplace_back(look_y, -(look_y * centre));
  }
  layers = {};
  layers.trajectory = true;
  scene.layers.trajectory = true;
  const SceneBounds wide = RobustBounds(scene);
  EXPECT_GT(wide.radius, bounds.radius);
  const geometry::PointCloud path = SceneLines(scene, wide, layers);
  ASSERT_EQ(path.points.size(), 2u * (39 + 20));
  EXPECT_TRUE(path.points[0].isApprox(Eigen::Vector3d(0.0, -2.0, 0.5), 1e-9));
  EXPECT_TRUE(path.colors[0].isApprox(Eigen::Vector3f(0.0f, 0.3f, 1.0f)));   // blue start
  EXPECT_TRUE(path.colors[77].isApprox(Eigen::Vector3f(1.0f, 0.3f, 0.0f)));  // red end
  const Eigen::Vector3d tick = path.points[79] - path.points[78];
  EXPECT_NEAR(tick.normalized().dot(Eigen::Vector3d::UnitY()), 1.0, 1e-9);  // viewing direction
  EXPECT_NEAR(tick.norm(), 0.03 * wide.radius, 1e-9);
}

}  // namespace
}  // namespace facet::viewer
