#include "datasets/scene.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace facet::datasets {
namespace {

// Two images of one camera observing one 3D point.
Scene TwoViewScene() {
  Scene scene;
  scene.cameras[CameraId(1)] =
      geometry::Camera::Create(geometry::CameraModelId::kSimpleRadial, 500.0, 640, 480);
  for (std::uint32_t i = 1; i <= 2; ++i) {
    Image image;
    image.id = ImageId(i);
    image.name = "view" + std::to_string(i) + ".png";
    image.camera_id = CameraId(1);
    image.cam_from_world = geometry::Rigid3();
    image.points2d.push_back({Eigen::Vector2d(100.0, 200.0), Point3DId(7)});
    scene.images[image.id] = image;
  }
  Point3D point;
  point.track = {{ImageId(1), 0}, {ImageId(2), 0}};
  scene.points3d[Point3DId(7)] = point;
  return scene;
}

TEST(Scene, ConsistentSceneChecks) {
  const Scene scene = TwoViewScene();
  EXPECT_NO_THROW(scene.Check());
  EXPECT_EQ(scene.NumRegisteredImages(), 2u);
  ASSERT_NE(scene.FindImage("view2.png"), nullptr);
  EXPECT_EQ(scene.FindImage("view2.png")->id, ImageId(2));
  EXPECT_EQ(scene.FindImage("nope.png"), nullptr);
}

TEST(Scene, CheckFindsBrokenReferences) {
  Scene scene = TwoViewScene();
  scene.images[ImageId(2)].camera_id = CameraId(9);
  EXPECT_THROW(scene.Check(), Error);

  scene = TwoViewScene();
  scene.points3d[Point3DId(7)].track.push_back({ImageId(1), 5});
  EXPECT_THROW(scene.Check(), Error);

  scene = TwoViewScene();
  scene.images[ImageId(1)].points2d[0].point3d_id = Point3DId(8);
  EXPECT_THROW(scene.Check(), Error);
}

}  // namespace
}  // namespace facet::datasets
