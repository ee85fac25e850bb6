#include "viewer/projection.h"

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include "core/error.h"
#include "viewer/embedded_shaders.h"

namespace facet::viewer {
namespace {

// Vulkan's viewport transform for the viewport (0, 0, W, H) with depth range [0, 1].
Eigen::Vector3d FramebufferFromClip(const Eigen::Vector4d& clip, int width, int height) {
  const Eigen::Vector3d ndc = clip.head<3>() / clip.w();
  return {(ndc.x() + 1.0) * 0.5 * width, (ndc.y() + 1.0) * 0.5 * height, ndc.z()};
}

TEST(Projection, ClipSpaceLandsOnTheCameraPixel) {
  geometry::Camera camera;
  camera.model = geometry::CameraModelId::kPinhole;
  camera.width = 320;
  camera.height = 200;
  camera.params = {250.0, 270.0, 150.3, 110.7};  // fx != fy, off-centre principal point
  const geometry::Rigid3 cam_from_world(
      Eigen::Quaterniond(Eigen::AngleAxisd(0.3, Eigen::Vector3d(1, 2, 3).normalized())),
      Eigen::Vector3d(0.2, -0.1, 1.5));
  const double near_m = 0.05;
  const Eigen::Matrix4d clip_from_world = ClipFromWorld(camera, cam_from_world, near_m);
  for (const Eigen::Vector3d& x_in_world :
       {Eigen::Vector3d(0.1, 0.2, 0.3), Eigen::Vector3d(-0.4, 0.1, 2.0),
        Eigen::Vector3d(0.5, -0.3, -0.2)}) {
    const Eigen::Vector3d x_in_cam = cam_from_world * x_in_world;
    const Eigen::Vector2d pixel = *camera.ImgFromCam(x_in_cam);
    const Eigen::Vector3d fb = FramebufferFromClip(clip_from_world * x_in_world.homogeneous(),
                                                   camera.width, camera.height);
    EXPECT_NEAR(fb.x(), pixel.x(), 1e-9);
    EXPECT_NEAR(fb.y(), pixel.y(), 1e-9);
    EXPECT_NEAR(fb.z(), near_m / x_in_cam.z(), 1e-12);  // reversed, infinite far plane
  }
}

TEST(Projection, RejectsANonPositiveNearPlane) {
  const geometry::Camera camera =
      geometry::Camera::Create(geometry::CameraModelId::kPinhole, 100, 64, 48);
  EXPECT_THROW(ClipFromCam(camera, 0.0), Error);
}

TEST(EmbeddedShaders, HoldSpirvAndRejectUnknownNames) {
  for (const char* name : {"mesh.vert", "mesh.frag"}) {
    const auto words = EmbeddedShader(name);
    ASSERT_GT(words.size(), 5u) << name;
    EXPECT_EQ(words[0], 0x07230203u) << name;  // the SPIR-V magic number
  }
  EXPECT_THROW(EmbeddedShader("missing.comp"), Error);
}

}  // namespace
}  // namespace facet::viewer
