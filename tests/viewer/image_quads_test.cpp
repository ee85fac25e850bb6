// Photo thumbnails on quads: the texture lands on the pixels the corners project to, in the right
// orientation, depth-tested against meshes; the loader pairs photos with frustum rectangles.
#include "viewer/image_quads.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/temp_dir.h"
#include "core/error.h"
#include "core/image_io.h"
#include "viewer/mesh_pipeline.h"
#include "viewer/offscreen.h"
#include "viewer/scene_lines.h"
#include "vulkan_test_context.h"

namespace facet::viewer {
namespace {

using geometry::Camera;
using geometry::Rigid3;
using Corners = std::array<Eigen::Vector3d, 4>;

const Eigen::Vector3f kClear(0.2f, 0.2f, 0.2f);  // 51 in 8 bits
const std::array<Eigen::Vector3i, 4> kQuadrantColors = {
    Eigen::Vector3i(255, 0, 0), Eigen::Vector3i(0, 255, 0),     // top-left, top-right
    Eigen::Vector3i(0, 0, 255), Eigen::Vector3i(255, 255, 0)};  // bottom-right, bottom-left

// 16 x 16 texels in four 8 x 8 blocks of kQuadrantColors: bilinear filtering returns the block's
// colour exactly away from the block borders.
ImageU8 Checker() {
  ImageU8 image(16, 16, 3);
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 16; ++x) {
      const int quadrant = y < 8 ? (x < 8 ? 0 : 1) : (x < 8 ? 3 : 2);
      for (int c = 0; c < 3; ++c) image(x, y, c) = std::uint8_t(kQuadrantColors[quadrant][c]);
    }
  }
  return image;
}

ImageU8 Solid(int width, int height, const Eigen::Vector3i& rgb) {
  ImageU8 image(width, height, 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) image(x, y, c) = std::uint8_t(rgb[c]);
    }
  }
  return image;
}

// An axis-aligned rectangle at depth z in the camera frame (identity pose: world = camera).
Corners Rectangle(double x0, double x1, double y0, double y1, double z) {
  return {Eigen::Vector3d(x0, y0, z), Eigen::Vector3d(x1, y0, z), Eigen::Vector3d(x1, y1, z),
          Eigen::Vector3d(x0, y1, z)};
}

Eigen::Vector3i Rgb(const OffscreenFrame& frame, int x, int y) {
  return {frame.rgb(x, y, 0), frame.rgb(x, y, 1), frame.rgb(x, y, 2)};
}

class ImageQuadsTest : public test::VulkanTest {
 protected:
  void SetUp() override {
    VulkanTest::SetUp();
    if (context_ == nullptr) return;
    pipeline_ = std::make_unique<ImageQuadPipeline>(*context_, OffscreenTarget::kColorFormat,
                                                    OffscreenTarget::kDepthFormat);
  }
  void TearDown() override {
    pipeline_.reset();
    VulkanTest::TearDown();
  }

  std::unique_ptr<ImageQuadPipeline> pipeline_;
  const Camera camera_ = Camera::Create(geometry::CameraModelId::kPinhole, 100.0, 160, 120);
};

TEST_F(ImageQuadsTest, CheckerLandsOnTheProjectedCornersTheRightWayUp) {
  // The checker's quad spans pixels [49.35, 109.35] x [40.45, 81.35] (not pixel-aligned); a
  // 12 x 6 cyan thumbnail, smaller than the 16 x 16 layers, sits on a second quad to the right.
  const Corners checker = Rectangle(-0.613, 0.587, -0.391, 0.427, 2.0);
  const Corners cyan = Rectangle(0.65, 1.45, -0.2, 0.2, 2.0);
  const GpuImageQuads quads(*context_, {Checker(), Solid(12, 6, {0, 255, 255})}, {checker, cyan});
  ASSERT_EQ(quads.count(), 2u);
  EXPECT_EQ(quads.layer_width(), 16);
  EXPECT_EQ(quads.layer_height(), 16);
  const OffscreenTarget target(*context_, camera_.width, camera_.height);
  const OffscreenFrame frame = target.Render(
      kClear, [&](VkCommandBuffer cmd) { pipeline_->Draw(cmd, quads, camera_, Rigid3()); });

  // Each quadrant's centre has its colour.
  const Eigen::Vector2d uv[4] = {{0.25, 0.25}, {0.75, 0.25}, {0.75, 0.75}, {0.25, 0.75}};
  for (int q = 0; q < 4; ++q) {
    const Eigen::Vector3d point =
        checker[0] + uv[q].x() * (checker[1] - checker[0]) + uv[q].y() * (checker[3] - checker[0]);
    const Eigen::Vector2d pixel = camera_.ImgFromCam(point).value();
    const Eigen::Vector3i rgb = Rgb(frame, int(pixel.x()), int(pixel.y()));
    EXPECT_LE((rgb - kQuadrantColors[q]).cwiseAbs().maxCoeff(), 1)
        << "quadrant " << q << ": " << rgb.transpose();
  }

  // Outlines: pixel centres more than 1 px inside a projected rectangle are covered (the cyan
  // one entirely cyan: no texels from the unused part of its layer), more than 1 px outside both
  // are the background.
  auto projected = [&](const Corners& corners) {
    return std::pair(camera_.ImgFromCam(corners[0]).value(),
                     camera_.ImgFromCam(corners[2]).value());
  };
  const auto [checker_min, checker_max] = projected(checker);
  const auto [cyan_min, cyan_max] = projected(cyan);
  auto distance_inside = [](const Eigen::Vector2d& p, const Eigen::Vector2d& lo,
                            const Eigen::Vector2d& hi) {
    return std::min({p.x() - lo.x(), hi.x() - p.x(), p.y() - lo.y(), hi.y() - p.y()});
  };
  int covered = 0;
  for (int y = 0; y < camera_.height; ++y) {
    for (int x = 0; x < camera_.width; ++x) {
      const Eigen::Vector2d centre(x + 0.5, y + 0.5);
      const Eigen::Vector3i rgb = Rgb(frame, x, y);
      const bool background = rgb == Eigen::Vector3i(51, 51, 51);
      const double in_checker = distance_inside(centre, checker_min, checker_max);
      const double in_cyan = distance_inside(centre, cyan_min, cyan_max);
      if (in_checker > 1.0) {
        EXPECT_FALSE(background) << x << ", " << y;
        ++covered;
      } else if (in_cyan > 1.0) {
        EXPECT_LE((rgb - Eigen::Vector3i(0, 255, 255)).cwiseAbs().maxCoeff(), 1) << x << ", " << y;
        ++covered;
      } else if (in_checker < -1.0 && in_cyan < -1.0) {
        EXPECT_TRUE(background) << x << ", " << y << ": " << rgb.transpose();
      }
    }
  }
  EXPECT_GT(covered, 2500);
}

TEST_F(ImageQuadsTest, OpacityBlendsOverTheBackground) {
  const GpuImageQuads quads(*context_, {Solid(4, 4, {255, 0, 0})},
                            {Rectangle(-1.0, 1.0, -1.0, 1.0, 2.0)});
  const OffscreenTarget target(*context_, camera_.width, camera_.height);
  const OffscreenFrame frame = target.Render(
      kClear, [&](VkCommandBuffer cmd) { pipeline_->Draw(cmd, quads, camera_, Rigid3(), 0.5f); });
  // 0.5 * (255, 0, 0) + 0.5 * (51, 51, 51)
  EXPECT_LE((Rgb(frame, 80, 60) - Eigen::Vector3i(153, 26, 26)).cwiseAbs().maxCoeff(), 1)
      << Rgb(frame, 80, 60).transpose();
  EXPECT_THROW(target.Render(kClear,
                             [&](VkCommandBuffer cmd) {
                               pipeline_->Draw(cmd, quads, camera_, Rigid3(), 1.5f);
                             }),
               Error);
}

TEST_F(ImageQuadsTest, MeshInFrontOccludesTheQuadWhateverTheDrawOrder) {
  const MeshPipelines meshes(*context_, OffscreenTarget::kColorFormat,
                             OffscreenTarget::kDepthFormat);
  geometry::TriangleMesh triangle;
  triangle.vertices = {{-0.3, -0.3, 1.5}, {0.3, -0.3, 1.5}, {0.0, 0.3, 1.5}};
  triangle.triangles = {{0, 1, 2}};
  triangle.vertex_colors.assign(3, Eigen::Vector3f(0.0f, 1.0f, 0.0f));
  const GpuMesh mesh(*context_, triangle);
  const GpuImageQuads quads(*context_, {Solid(4, 4, {255, 0, 0})},
                            {Rectangle(-1.0, 1.0, -1.0, 1.0, 2.0)});
  MeshDrawOptions options;
  options.lit = false;
  const OffscreenTarget target(*context_, camera_.width, camera_.height);
  for (const bool quad_first : {true, false}) {
    const OffscreenFrame frame = target.Render(kClear, [&](VkCommandBuffer cmd) {
      if (quad_first) pipeline_->Draw(cmd, quads, camera_, Rigid3(), 1.0f, options.near_m);
      meshes.DrawTriangles(cmd, mesh, camera_, Rigid3(), options);
      if (!quad_first) pipeline_->Draw(cmd, quads, camera_, Rigid3(), 1.0f, options.near_m);
    });
    EXPECT_EQ(Rgb(frame, 80, 60), Eigen::Vector3i(0, 255, 0)) << "quad first " << quad_first;
    EXPECT_NEAR(frame.depth_ndc(80, 60), options.near_m / 1.5, 1e-6);
    // Beside the triangle (pixels 60..100 x 40..80), the quad at depth 2 (30..130 x 10..110).
    EXPECT_EQ(Rgb(frame, 40, 30), Eigen::Vector3i(255, 0, 0)) << "quad first " << quad_first;
    EXPECT_NEAR(frame.depth_ndc(40, 30), options.near_m / 2.0, 1e-6);
  }
}

TEST_F(ImageQuadsTest, RejectsMismatchedInputs) {
  EXPECT_THROW(GpuImageQuads(*context_, {Checker()}, {}), Error);
  EXPECT_THROW(GpuImageQuads(*context_, {ImageU8(4, 4, 1)}, {Rectangle(0, 1, 0, 1, 1)}), Error);
  const GpuImageQuads empty(*context_, {}, {});
  EXPECT_EQ(empty.count(), 0u);
}

TEST(DownscaleToFit, AveragesTheFootprintAndKeepsTheAspect) {
  // 6 x 4 in 2 x 2 blocks of value 10 * (block index): halving gives the block values.
  ImageU8 image(6, 4, 1);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 6; ++x) image(x, y) = std::uint8_t(10 * (y / 2 * 3 + x / 2) + (x + y) % 2);
  }
  const ImageU8 half = DownscaleToFit(image, 3);
  ASSERT_EQ(half.width(), 3);
  ASSERT_EQ(half.height(), 2);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 3; ++x) EXPECT_EQ(half(x, y), 10 * (y * 3 + x) + 1) << x << ", " << y;
  }
  const ImageU8 same = DownscaleToFit(image, 6);
  EXPECT_EQ(same.width(), 6);
  EXPECT_EQ(same(5, 3), image(5, 3));
  const ImageU8 strip = DownscaleToFit(ImageU8(1000, 3, 3), 100);
  EXPECT_EQ(strip.width(), 100);
  EXPECT_EQ(strip.height(), 1);  // never 0
}

TEST(LoadFrustumThumbnails, PairsEachReadablePhotoWithItsFrustumRectangle) {
  testing::TempDir dir;
  datasets::Scene scene;
  scene.cameras[datasets::CameraId(1)] =
      Camera::Create(geometry::CameraModelId::kPinhole, 100.0, 300, 240);
  for (int i = 1; i <= 3; ++i) {
    datasets::Image image;
    image.id = datasets::ImageId(i);
    image.name = "sub/" + std::to_string(i) + ".png";
    image.camera_id = datasets::CameraId(1);
    image.cam_from_world = Rigid3(Eigen::Quaterniond::Identity(), Eigen::Vector3d(i, 0.0, 0.0));
    scene.images[image.id] = image;
  }
  std::filesystem::create_directories(dir.path() / "sub");
  WriteImage(dir.path() / "sub/1.png", Solid(300, 240, {10, 20, 30}));
  WriteImage(dir.path() / "sub/3.png", Solid(300, 240, {40, 50, 60}));  // 2.png is missing

  const FrustumThumbnails loaded =
      LoadFrustumThumbnails(scene, dir.path(), {.depth = 0.7, .max_side_px = 64});
  ASSERT_EQ(loaded.image_ids.size(), 2u);
  EXPECT_EQ(loaded.image_ids[0], datasets::ImageId(1));
  EXPECT_EQ(loaded.image_ids[1], datasets::ImageId(3));
  ASSERT_EQ(loaded.thumbnails.size(), 2u);
  ASSERT_EQ(loaded.corners.size(), 2u);
  EXPECT_EQ(loaded.thumbnails[1].width(), 64);
  EXPECT_EQ(loaded.thumbnails[1].height(), 51);  // 240 * 64 / 300 = 51.2
  EXPECT_EQ(loaded.thumbnails[1](10, 10, 2), 60);
  const std::vector<FrustumImagePlane> planes = FrustumImagePlaneCorners(scene, 0.7);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(loaded.corners[0][k], planes[0].corners[k]);
    EXPECT_EQ(loaded.corners[1][k], planes[2].corners[k]);
  }

  // max_images subsamples evenly: 1 of 3 keeps the first.
  const FrustumThumbnails one =
      LoadFrustumThumbnails(scene, dir.path(), {.depth = 0.7, .max_images = 1});
  ASSERT_EQ(one.image_ids.size(), 1u);
  EXPECT_EQ(one.image_ids[0], datasets::ImageId(1));
  EXPECT_THROW(LoadFrustumThumbnails(scene, dir.path(), {.depth = 0.0}), Error);
}

}  // namespace
}  // namespace facet::viewer
