// FrustumLines and GridLines build the segments they promise, and MeshPipelines::DrawLines puts
// them on the pixels their end points project to.
#include "viewer/scene_lines.h"

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "viewer/mesh_pipeline.h"
#include "viewer/offscreen.h"
#include "vulkan_test_context.h"

namespace facet::viewer {
namespace {

using geometry::Camera;
using geometry::Rigid3;

// One camera (100 x 80 px, f = 100) at the origin looking along +z, and an unregistered image.
datasets::Scene OneCameraScene() {
  datasets::Scene scene;
  scene.cameras[datasets::CameraId(1)] =
      Camera::Create(geometry::CameraModelId::kPinhole, 100.0, 100, 80);
  datasets::Image image;
  image.id = datasets::ImageId(1);
  image.name = "a.png";
  image.camera_id = datasets::CameraId(1);
  image.cam_from_world = Rigid3(Eigen::Quaterniond::Identity(), Eigen::Vector3d::Zero());
  scene.images[image.id] = image;
  image.id = datasets::ImageId(2);
  image.name = "unregistered.png";
  image.cam_from_world.reset();
  scene.images[image.id] = image;
  return scene;
}

TEST(FrustumImagePlaneCorners, AreTheFarRectangleOfFrustumLines) {
  datasets::Scene scene = OneCameraScene();
  scene.images.at(datasets::ImageId(1)).cam_from_world =
      Rigid3(Eigen::Quaterniond(Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized())),
             Eigen::Vector3d(0.3, -1.0, 2.0));
  datasets::Image third = scene.images.at(datasets::ImageId(1));
  third.id = datasets::ImageId(3);
  third.cam_from_world =
      Rigid3(Eigen::Quaterniond(Eigen::AngleAxisd(-0.4, Eigen::Vector3d(0, 1, 0))),
             Eigen::Vector3d(1.0, 0.5, -0.2));
  scene.images[third.id] = third;
  const std::vector<FrustumImagePlane> planes = FrustumImagePlaneCorners(scene, 0.8);
  const geometry::PointCloud lines = FrustumLines(scene, 0.8);
  ASSERT_EQ(planes.size(), 2u);  // the unregistered image has none
  ASSERT_EQ(lines.points.size(), 32u);
  EXPECT_EQ(planes[0].image_id, datasets::ImageId(1));
  EXPECT_EQ(planes[1].image_id, datasets::ImageId(3));
  for (int p = 0; p < 2; ++p) {
    for (int i = 0; i < 4; ++i) {
      // Edge i of the far rectangle runs from corner i to corner i + 1.
      EXPECT_LT((planes[p].corners[i] - lines.points[16 * p + 4 * i + 2]).norm(), 1e-12);
      EXPECT_LT((planes[p].corners[(i + 1) % 4] - lines.points[16 * p + 4 * i + 3]).norm(), 1e-12);
    }
  }
  // Top-left first: the corner projects to pixel (0, 0).
  const Rigid3& pose = *third.cam_from_world;
  const Eigen::Vector2d top_left =
      scene.cameras.at(datasets::CameraId(1)).ImgFromCam(pose * planes[1].corners[0]).value();
  EXPECT_LT(top_left.norm(), 1e-9);
  EXPECT_THROW(FrustumImagePlaneCorners(scene, -1.0), Error);
}

TEST(FrustumLines, PyramidFromTheCentreToTheImageCornersAtTheDepth) {
  datasets::Scene scene = OneCameraScene();
  // Move and turn the camera, so that the world frame and the camera frame differ.
  const Rigid3 cam_from_world(
      Eigen::Quaterniond(Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized())),
      Eigen::Vector3d(0.3, -1.0, 2.0));
  scene.images.at(datasets::ImageId(1)).cam_from_world = cam_from_world;
  const geometry::PointCloud lines = FrustumLines(scene, 0.5);
  ASSERT_EQ(lines.points.size(), 16u);  // 4 rays + 4 edges, the unregistered image none
  ASSERT_EQ(lines.colors.size(), 16u);
  const Camera& camera = scene.cameras.at(datasets::CameraId(1));
  const Eigen::Vector3d centre = cam_from_world.Inverse().translation;
  const Eigen::Vector2d corners[4] = {{0, 0}, {100, 0}, {100, 80}, {0, 80}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_LT((lines.points[4 * i] - centre).norm(), 1e-9);
    const Eigen::Vector3d far_in_cam = cam_from_world * lines.points[4 * i + 1];
    EXPECT_NEAR(far_in_cam.z(), 0.5, 1e-9);
    EXPECT_LT((camera.ImgFromCam(far_in_cam).value() - corners[i]).norm(), 1e-6) << i;
    // The edge runs from this corner to the next.
    EXPECT_LT((lines.points[4 * i + 2] - lines.points[4 * i + 1]).norm(), 1e-12);
    EXPECT_LT((lines.points[4 * i + 3] - lines.points[(4 * i + 5) % 16]).norm(), 1e-12);
  }
  EXPECT_EQ(lines.colors[5], kFrustumColor);
  EXPECT_THROW(FrustumLines(scene, 0.0), Error);
}

TEST(GridLines, SquareGridInThePlaneNormalToUp) {
  const Eigen::Vector3d centre(1, 2, 3), up(0, 1, 1);
  const geometry::PointCloud grid = GridLines(centre, up, 2.0, 4);
  ASSERT_EQ(grid.points.size(), 2u * 2u * 5u);
  double reach = 0.0;
  for (const Eigen::Vector3d& p : grid.points) {
    EXPECT_NEAR((p - centre).dot(up.normalized()), 0.0, 1e-12);
    reach = std::max(reach, (p - centre).norm());
  }
  EXPECT_NEAR(reach, 2.0 * std::sqrt(2.0), 1e-9);  // the corners
  EXPECT_THROW(GridLines(centre, up, 1.0, 0), Error);
  EXPECT_THROW(GridLines(centre, Eigen::Vector3d::Zero(), 1.0, 2), Error);
}

class DrawLinesTest : public test::VulkanTest {};

TEST_F(DrawLinesTest, FrustumLinesLandOnTheirProjectedPixels) {
  const geometry::PointCloud lines = FrustumLines(OneCameraScene(), 1.0);
  Camera camera;
  camera.model = geometry::CameraModelId::kPinhole;
  camera.width = 160, camera.height = 120;
  camera.params = {140.0, 150.0, 77.3, 63.9};
  const Rigid3 cam_from_world(
      Eigen::Quaterniond(Eigen::AngleAxisd(0.4, Eigen::Vector3d(0.3, 1.0, 0.2).normalized())),
      Eigen::Vector3d(-0.2, -0.1, 3.0));
  const GpuMesh gpu_lines(*context_, lines);
  const MeshPipelines pipelines(*context_, OffscreenTarget::kColorFormat,
                                OffscreenTarget::kDepthFormat);
  const OffscreenTarget target(*context_, camera.width, camera.height);
  const OffscreenFrame frame = target.Render(Eigen::Vector3f::Zero(), [&](VkCommandBuffer cmd) {
    pipelines.DrawLines(cmd, gpu_lines, camera, cam_from_world, MeshDrawOptions{});
  });
  const auto orange = [&](int x, int y) {
    return frame.rgb(x, y, 0) > 200 && frame.rgb(x, y, 1) > 100 && frame.rgb(x, y, 1) < 160 &&
           frame.rgb(x, y, 2) < 50;
  };
  // Points a quarter and three quarters along every segment: an orange pixel within 1 px.
  for (std::size_t i = 0; i < lines.points.size(); i += 2) {
    for (const double t : {0.25, 0.75}) {
      const Eigen::Vector3d x_in_world = (1 - t) * lines.points[i] + t * lines.points[i + 1];
      const Eigen::Vector2d pixel = camera.ImgFromCam(cam_from_world * x_in_world).value();
      const int px = int(std::floor(pixel.x())), py = int(std::floor(pixel.y()));
      ASSERT_TRUE(px >= 1 && py >= 1 && px < camera.width - 1 && py < camera.height - 1);
      bool found = false;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) found = found || orange(px + dx, py + dy);
      }
      EXPECT_TRUE(found) << "segment " << i / 2 << " at t = " << t << ": pixel " << px << ", "
                         << py;
    }
  }
  // Thin lines: most of the image stays black, and nothing but the frustum's colour is drawn.
  int drawn = 0, other = 0;
  for (int y = 0; y < camera.height; ++y) {
    for (int x = 0; x < camera.width; ++x) {
      const bool any = frame.rgb(x, y, 0) + frame.rgb(x, y, 1) + frame.rgb(x, y, 2) > 0;
      drawn += any;
      other += any && !orange(x, y);
    }
  }
  EXPECT_GT(drawn, 100);
  EXPECT_LT(drawn, camera.width * camera.height / 5);
  EXPECT_EQ(other, 0);
}

}  // namespace
}  // namespace facet::viewer
