#include "viewer/projection.h"

#include "core/error.h"

namespace facet::viewer {

Eigen::Matrix4d ClipFromCam(const geometry::Camera& camera, double near_m) {
  camera.Check();
  FACET_CHECK(near_m > 0.0, "the near plane must be positive (got {} m)", near_m);
  const double w = camera.width;
  const double h = camera.height;
  const Eigen::Vector2d c = camera.PrincipalPoint();
  // x_clip = (2 fx / W) x + (2 cx / W - 1) z, w_clip = z  =>  x_ndc = 2 (fx x / z + cx) / W - 1.
  Eigen::Matrix4d clip_from_cam = Eigen::Matrix4d::Zero();
  clip_from_cam(0, 0) = 2.0 * camera.FocalX() / w;
  clip_from_cam(0, 2) = 2.0 * c.x() / w - 1.0;
  clip_from_cam(1, 1) = 2.0 * camera.FocalY() / h;
  clip_from_cam(1, 2) = 2.0 * c.y() / h - 1.0;
  clip_from_cam(2, 3) = near_m;  // z_ndc = near / z (reversed, infinite far plane)
  clip_from_cam(3, 2) = 1.0;
  return clip_from_cam;
}

Eigen::Matrix4d ClipFromWorld(const geometry::Camera& camera,
                              const geometry::Rigid3& cam_from_world, double near_m) {
  return ClipFromCam(camera, near_m) * cam_from_world.ToMatrix4();
}

}  // namespace facet::viewer
