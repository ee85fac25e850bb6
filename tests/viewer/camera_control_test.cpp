// The viewer's orbit and fly cameras do what the mouse and keys promise, checked by projecting
// points with geometry::Camera, and convert to and from poses without moving the view.
#include "viewer/camera_control.h"

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "geometry/camera.h"

namespace facet::viewer {
namespace {

using geometry::Camera;
using geometry::Rigid3;

Camera SquarePixelCamera() {
  return Camera::Create(geometry::CameraModelId::kPinhole, 500.0, 640, 480);
}

Eigen::Vector2d Project(const Camera& camera, const Rigid3& cam_from_world,
                        const Eigen::Vector3d& x_in_world) {
  return camera.ImgFromCam(cam_from_world * x_in_world).value();
}

double AngleBetween(const Eigen::Quaterniond& a, const Eigen::Quaterniond& b) {
  return a.angularDistance(b);
}

// Random orbit cameras around random targets with a random scene up.
class RandomCameras {
 public:
  Eigen::Vector3d Vector() { return {normal_(rng_), normal_(rng_), normal_(rng_)}; }
  double Uniform(double lo, double hi) { return std::uniform_real_distribution(lo, hi)(rng_); }
  OrbitCamera Orbit() {
    OrbitCamera orbit;
    orbit.target = Vector();
    orbit.up = Vector().normalized();
    orbit.distance = Uniform(0.5, 5.0);
    orbit.azimuth_rad = Uniform(-3.0, 3.0);
    orbit.elevation_rad = Uniform(-1.5, 1.5);
    return orbit;
  }

 private:
  std::mt19937 rng_{7};
  std::normal_distribution<double> normal_;
};

TEST(OrbitCamera, EyeAtTheDistanceTargetAtThePrincipalPointUpUpwards) {
  const Camera camera = SquarePixelCamera();
  RandomCameras random;
  for (int trial = 0; trial < 50; ++trial) {
    const OrbitCamera orbit = random.Orbit();
    const Rigid3 cam_from_world = orbit.CamFromWorld();
    EXPECT_NEAR((geometry::CameraCenter(cam_from_world) - orbit.target).norm(), orbit.distance,
                1e-9);
    EXPECT_LT((geometry::CameraCenter(cam_from_world) - orbit.Eye()).norm(), 1e-9);
    EXPECT_NEAR((orbit.Eye() - orbit.target).dot(orbit.up) / orbit.distance,
                std::sin(orbit.elevation_rad), 1e-9);
    EXPECT_LT((Project(camera, cam_from_world, orbit.target) - camera.PrincipalPoint()).norm(),
              1e-6);
    // A point above the target is straight above it in the image.
    const Eigen::Vector2d above =
        Project(camera, cam_from_world, orbit.target + 0.1 * orbit.distance * orbit.up);
    EXPECT_NEAR(above.x(), camera.PrincipalPoint().x(), 1e-6);
    EXPECT_LT(above.y(), camera.PrincipalPoint().y() - 1.0);
  }
}

TEST(OrbitCamera, DragTurnsTheSceneWithTheCursorAndClampsTheElevation) {
  OrbitCamera orbit;
  orbit.target = Eigen::Vector3d(1.0, 2.0, 0.5);
  orbit.distance = 3.0;
  orbit.azimuth_rad = 0.3;
  orbit.elevation_rad = 0.2;
  const Rigid3 before = orbit.CamFromWorld();

  OrbitCamera right = orbit;
  right.Rotate(100.0, 0.0);  // 0.5 rad
  EXPECT_NEAR(right.azimuth_rad, 0.3 - 0.5, 1e-12);
  EXPECT_EQ(right.elevation_rad, 0.2);
  // The eye went to the old camera's left at the same height, so the scene turned right.
  const Eigen::Vector3d eye_in_old_cam = before * right.Eye();
  EXPECT_LT(eye_in_old_cam.x(), -0.5);
  EXPECT_NEAR((right.Eye() - orbit.Eye()).dot(orbit.up), 0.0, 1e-9);
  EXPECT_EQ(right.target, orbit.target);

  OrbitCamera down = orbit;
  down.Rotate(0.0, 100.0);
  EXPECT_NEAR(down.elevation_rad, 0.7, 1e-12);
  EXPECT_GT((down.Eye() - orbit.Eye()).dot(orbit.up), 0.5);  // the camera rose

  down.Rotate(0.0, 1e5);
  EXPECT_EQ(down.elevation_rad, kMaxElevationRad);
  EXPECT_NO_THROW(down.CamFromWorld());
  down.Rotate(0.0, -1e6);
  EXPECT_EQ(down.elevation_rad, -kMaxElevationRad);
  EXPECT_NO_THROW(down.CamFromWorld());
}

TEST(OrbitCamera, PanMovesTheTargetByTheDraggedPixels) {
  RandomCameras random;
  for (const double fx : {500.0, 650.0}) {
    Camera camera = SquarePixelCamera();
    camera.params = {fx, 500.0, 320.0, 240.0};
    for (int trial = 0; trial < 20; ++trial) {
      OrbitCamera orbit = random.Orbit();
      const Eigen::Vector3d old_target = orbit.target;
      const Eigen::Vector2d drag(random.Uniform(-50, 50), random.Uniform(-50, 50));
      const OrbitCamera before = orbit;
      orbit.Pan(drag.x(), drag.y(), camera.FocalY());
      const Eigen::Vector2d moved = Project(camera, orbit.CamFromWorld(), old_target);
      const Eigen::Vector2d expected =
          camera.PrincipalPoint() + Eigen::Vector2d(drag.x() * fx / 500.0, drag.y());
      EXPECT_LT((moved - expected).norm(), 1e-6) << "fx " << fx;
      // Panning translates: the view direction and the distance stay.
      EXPECT_EQ(orbit.distance, before.distance);
      EXPECT_LT(AngleBetween(orbit.CamFromWorld().rotation, before.CamFromWorld().rotation), 1e-9);
    }
  }
  OrbitCamera orbit;
  EXPECT_THROW(orbit.Pan(1.0, 1.0, 0.0), Error);
}

TEST(OrbitCamera, ZoomScalesTheDistanceAndStaysPositive) {
  OrbitCamera orbit;
  orbit.distance = 2.0;
  orbit.Zoom(2.0);
  EXPECT_NEAR(orbit.distance, 2.0 * 0.81, 1e-12);
  orbit.Zoom(-2.0);
  EXPECT_NEAR(orbit.distance, 2.0, 1e-12);
  const Eigen::Vector3d target = orbit.target;
  orbit.Zoom(1e4);
  EXPECT_EQ(orbit.distance, kMinOrbitDistance);
  EXPECT_EQ(orbit.target, target);
  EXPECT_NO_THROW(orbit.CamFromWorld());
}

TEST(OrbitCamera, FromPoseReproducesTheEyeAndViewDirection) {
  RandomCameras random;
  for (int trial = 0; trial < 50; ++trial) {
    const OrbitCamera source = random.Orbit();
    // A rolled pose: orbiting drops the roll but keeps eye and viewing direction.
    const Rigid3 upright = source.CamFromWorld();
    const Rigid3 rolled(
        Eigen::Quaterniond(Eigen::AngleAxisd(random.Uniform(-1, 1), Eigen::Vector3d::UnitZ())) *
            upright.rotation,
        Eigen::Vector3d::Zero());
    const Rigid3 pose(rolled.rotation, -(rolled.rotation * source.Eye()));
    const double distance = random.Uniform(0.1, 10.0);
    const OrbitCamera orbit = OrbitCamera::FromPose(pose, source.up, distance);
    const Rigid3 back = orbit.CamFromWorld();
    EXPECT_LT((geometry::CameraCenter(back) - source.Eye()).norm(), 1e-9);
    EXPECT_LT((back.rotation.inverse() * Eigen::Vector3d::UnitZ() -
               pose.rotation.inverse() * Eigen::Vector3d::UnitZ())
                  .norm(),
              1e-9);
    EXPECT_NEAR(orbit.distance, distance, 0.0);
    EXPECT_NEAR((orbit.target - source.Eye()).norm(), distance, 1e-9);
    // Without roll the pose itself comes back.
    const Rigid3 upright_back = OrbitCamera::FromPose(upright, source.up, 1.0).CamFromWorld();
    EXPECT_LT(AngleBetween(upright_back.rotation, upright.rotation), 1e-9);
    EXPECT_LT((upright_back.translation - upright.translation).norm(), 1e-9);
  }
  EXPECT_THROW(OrbitCamera::FromPose(Rigid3(), Eigen::Vector3d::UnitZ(), 0.0), Error);
  EXPECT_THROW(OrbitCamera::FromPose(Rigid3(), Eigen::Vector3d::Zero(), 1.0), Error);
}

TEST(OrbitCamera, FromPoseClampsAStraightDownViewButKeepsTheEye) {
  // Identity pose looks along +z; with up = -z it looks straight down.
  const Rigid3 pose(Eigen::Quaterniond::Identity(), Eigen::Vector3d(0.0, 0.0, -4.0));
  const OrbitCamera orbit = OrbitCamera::FromPose(pose, -Eigen::Vector3d::UnitZ(), 2.0);
  EXPECT_EQ(orbit.elevation_rad, kMaxElevationRad);
  EXPECT_LT((geometry::CameraCenter(orbit.CamFromWorld()) - geometry::CameraCenter(pose)).norm(),
            1e-9);
}

TEST(FlyCamera, LookTurnsTowardsTheCursorAndMoveFollowsTheKeys) {
  FlyCamera fly;
  fly.position = Eigen::Vector3d(1.0, -2.0, 0.5);
  fly.yaw_rad = 0.4;
  fly.pitch_rad = -0.1;
  const Rigid3 before = fly.CamFromWorld();

  FlyCamera turned = fly;
  turned.Look(100.0, 0.0);
  EXPECT_GT((before.rotation * turned.Forward()).x(), 0.4);  // now looks to the old right
  turned = fly;
  turned.Look(0.0, 100.0);
  EXPECT_GT((before.rotation * turned.Forward()).y(), 0.4);  // now looks to the old down
  turned.Look(0.0, 1e5);
  EXPECT_EQ(turned.pitch_rad, -kMaxElevationRad);
  EXPECT_NO_THROW(turned.CamFromWorld());

  // The camera's own axes: Forward is z, Right is x.
  EXPECT_LT((before.rotation * fly.Forward() - Eigen::Vector3d::UnitZ()).norm(), 1e-12);
  EXPECT_LT((before.rotation * fly.Right() - Eigen::Vector3d::UnitX()).norm(), 1e-12);

  FlyCamera moved = fly;
  moved.Move(1.0, 0.0, 0.0, 0.5, 4.0);
  EXPECT_LT((moved.position - (fly.position + 2.0 * fly.Forward())).norm(), 1e-12);
  moved = fly;
  moved.Move(0.0, -1.0, 1.0, 0.25, 4.0);
  EXPECT_LT((moved.position - (fly.position - fly.Right() + fly.up)).norm(), 1e-12);
  EXPECT_EQ(moved.yaw_rad, fly.yaw_rad);
}

TEST(FlyCamera, FromPoseAndConversionsKeepThePose) {
  RandomCameras random;
  for (int trial = 0; trial < 50; ++trial) {
    const OrbitCamera orbit = random.Orbit();
    const Rigid3 pose = orbit.CamFromWorld();
    const FlyCamera fly = FlyCamera::FromPose(pose, orbit.up);
    const Rigid3 fly_pose = fly.CamFromWorld();
    EXPECT_LT(AngleBetween(fly_pose.rotation, pose.rotation), 1e-9);
    EXPECT_LT((fly_pose.translation - pose.translation).norm(), 1e-9);

    const Rigid3 via_fly = orbit.ToFly().CamFromWorld();
    EXPECT_LT(AngleBetween(via_fly.rotation, pose.rotation), 1e-9);
    EXPECT_LT((via_fly.translation - pose.translation).norm(), 1e-9);

    const OrbitCamera back = fly.ToOrbit(orbit.distance);
    EXPECT_LT((back.target - orbit.target).norm(), 1e-9);
    EXPECT_NEAR(back.elevation_rad, orbit.elevation_rad, 1e-9);
    const Rigid3 back_pose = back.CamFromWorld();
    EXPECT_LT(AngleBetween(back_pose.rotation, pose.rotation), 1e-9);
    EXPECT_LT((back_pose.translation - pose.translation).norm(), 1e-9);
  }
}

TEST(InterpolatePose, EndpointsAndMidpoint) {
  const Rigid3 a(Eigen::Quaterniond(Eigen::AngleAxisd(0.3, Eigen::Vector3d(1, 2, 3).normalized())),
                 Eigen::Vector3d(0.5, -1.0, 2.0));
  const Rigid3 b(
      Eigen::Quaterniond(Eigen::AngleAxisd(-1.1, Eigen::Vector3d(-2, 1, 0.5).normalized())),
      Eigen::Vector3d(-3.0, 0.2, 1.0));
  for (const double t : {0.0, 1.0}) {
    const Rigid3 end = InterpolatePose(a, b, t);
    const Rigid3& expected = t == 0.0 ? a : b;
    EXPECT_LT(AngleBetween(end.rotation, expected.rotation), 1e-9);
    EXPECT_LT((end.translation - expected.translation).norm(), 1e-9);
  }
  const double full = AngleBetween(a.rotation, b.rotation);
  // The quaternion's sign does not matter: -q is the same rotation, and the arc is the shorter.
  const Rigid3 b_flipped(Eigen::Quaterniond(-b.rotation.coeffs()), b.translation);
  for (const Rigid3& end : {b, b_flipped}) {
    const Rigid3 mid = InterpolatePose(a, end, 0.5);
    EXPECT_LT((geometry::CameraCenter(mid) -
               0.5 * (geometry::CameraCenter(a) + geometry::CameraCenter(b)))
                  .norm(),
              1e-9);
    EXPECT_NEAR(AngleBetween(mid.rotation, a.rotation), 0.5 * full, 1e-9);
    EXPECT_NEAR(AngleBetween(mid.rotation, b.rotation), 0.5 * full, 1e-9);
  }
}

TEST(CameraTransition, EasesFromStartToEndOverTheDuration) {
  const Rigid3 a(Eigen::Quaterniond::Identity(), Eigen::Vector3d(0.0, 0.0, 0.0));
  const Rigid3 b(Eigen::Quaterniond(Eigen::AngleAxisd(0.8, Eigen::Vector3d::UnitY())),
                 Eigen::Vector3d(2.0, 0.0, 0.0));
  CameraTransition transition{.from = a, .to = b, .duration_s = 1.0};
  const Rigid3 start = transition.Advance(0.0);
  EXPECT_LT((start.translation - a.translation).norm(), 1e-12);
  const Rigid3 quarter = transition.Advance(0.25);  // smoothstep(0.25) = 0.15625
  const Rigid3 expected_quarter = InterpolatePose(a, b, 0.15625);
  EXPECT_LT((quarter.translation - expected_quarter.translation).norm(), 1e-12);
  const Rigid3 half = transition.Advance(0.25);
  EXPECT_LT((half.translation - InterpolatePose(a, b, 0.5).translation).norm(), 1e-12);
  EXPECT_FALSE(transition.Done());
  const Rigid3 end = transition.Advance(0.75);  // past the end: stays at b
  EXPECT_TRUE(transition.Done());
  EXPECT_LT(AngleBetween(end.rotation, b.rotation), 1e-12);
  EXPECT_LT((end.translation - b.translation).norm(), 1e-12);
  transition.duration_s = 0.0;
  EXPECT_THROW(transition.Advance(0.1), Error);
}

}  // namespace
}  // namespace facet::viewer
