// The ray through an image point of a PINHOLE camera (facet's pixel convention: the first pixel's
// centre is (0.5, 0.5)), shared by the CPU (nerf/render.cpp's PixelRayDirection) and the CUDA
// batch and render kernels (nerf/cuda/).
#pragma once

#include <cmath>

#include "core/host_device.h"

namespace facet::nerf::kernels {

// A posed PINHOLE camera as the per-ray code sees it.
struct PinholeView {
  float world_from_cam[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};  // rotation, row-major
  float origin[3] = {0.0f, 0.0f, 0.0f};                   // camera centre, scene coordinates
  float fx = 1.0f, fy = 1.0f, cx = 0.0f, cy = 0.0f;       // pixels
};

// The unit world direction through image point (x, y) (pixels): world_from_cam applied to
// ((x - cx) / fx, (y - cy) / fy, 1), normalised.
FACET_HOST_DEVICE inline void PixelRay(const PinholeView& v, float x, float y, float d[3]) {
  const float c[3] = {(x - v.cx) / v.fx, (y - v.cy) / v.fy, 1.0f};
  float squared = 0.0f;
  for (int i = 0; i < 3; ++i) {
    d[i] = v.world_from_cam[3 * i] * c[0] + v.world_from_cam[3 * i + 1] * c[1] +
           v.world_from_cam[3 * i + 2] * c[2];
    squared += d[i] * d[i];
  }
  const float norm = sqrtf(squared);
  for (int i = 0; i < 3; ++i) d[i] /= norm;
}

}  // namespace facet::nerf::kernels
