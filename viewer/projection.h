// The Vulkan clip-space projection of a facet camera, written so that the GPU image matches
// facet's CPU conventions (geometry/camera.h): COLMAP camera frame (x right, y down, z forward),
// pixel (0, 0) is the top-left corner and the first pixel's centre is (0.5, 0.5).
//
// Vulkan's framebuffer uses the same corner convention, and its NDC y axis points down, so with
// the viewport (0, 0, W, H) a pixel u = fx * x / z + cx maps to x_ndc = 2 u / W - 1 without any
// flip. Depth is reversed and infinite: z_ndc = near / z (1 at the near plane, -> 0 at infinity),
// so clear depth to 0 and test with VK_COMPARE_OP_GREATER; floats then keep precision far away.
#pragma once

#include <Eigen/Core>

#include "geometry/camera.h"
#include "geometry/rigid3.h"

namespace facet::viewer {

// clip_from_cam for a PINHOLE or SIMPLE_PINHOLE camera (others: distortion is ignored, i.e. the
// pinhole part of the model is used). Throws facet::Error when the camera fails Check() or
// `near_m` is not positive.
Eigen::Matrix4d ClipFromCam(const geometry::Camera& camera, double near_m);

// ClipFromCam(camera, near_m) * cam_from_world.
Eigen::Matrix4d ClipFromWorld(const geometry::Camera& camera,
                              const geometry::Rigid3& cam_from_world, double near_m);

}  // namespace facet::viewer
