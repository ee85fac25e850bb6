#include "pipeline/mesh_thumbnail.h"

#include <Eigen/Geometry>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"
#include "datasets/detail/srgb.h"

namespace facet::pipeline {
namespace {

using datasets::detail::LinearToSrgb8;
using datasets::detail::Srgb8ToLinear;

constexpr int kSupersample = 2;  // per axis
constexpr int kBandRows = 16;    // supersampled rows rasterised by one task

// A vertex in the supersampled image: pixel position and 1 / depth (interpolates linearly on
// screen, for the depth test and perspective-correct attributes).
struct ScreenVertex {
  double x = 0, y = 0, inv_z = 0;
};

// What the rasteriser keeps per sample: the nearest triangle and its perspective-correct
// barycentric weights of vertices 1 and 2.
struct Fragment {
  float inv_z = 0.0f;  // 0 = background (infinitely far)
  std::int32_t triangle = -1;
  float b1 = 0.0f, b2 = 0.0f;
};

}  // namespace

ImageU8 RenderMeshThumbnail(const geometry::TriangleMesh& mesh,
                            const Eigen::Vector3d& view_direction, int width, int height,
                            const Eigen::Vector3d& up) {
  FACET_CHECK(width >= 1 && width <= 8192 && height >= 1 && height <= 8192,
              "a mesh thumbnail must be 1-8192 pixels on a side (got {}x{})", width, height);
  FACET_CHECK(view_direction.allFinite() && view_direction.norm() > 0,
              "the thumbnail's view direction must be finite and non-zero");
  mesh.Check();

  // Camera frame (COLMAP's: x right, y down, z forward) looking along view_direction.
  const Eigen::Vector3d forward = view_direction.normalized();
  Eigen::Vector3d up_hint =
      up.allFinite() && up.norm() > 0 ? up.normalized() : Eigen::Vector3d::UnitZ();
  if (std::abs(up_hint.dot(forward)) > 0.99) {
    up_hint = std::abs(forward.y()) < 0.9 ? Eigen::Vector3d::UnitY() : Eigen::Vector3d::UnitX();
  }
  const Eigen::Vector3d right = forward.cross(up_hint).normalized();
  const Eigen::Vector3d down = forward.cross(right);

  Eigen::Vector3d lo = Eigen::Vector3d::Constant(std::numeric_limits<double>::infinity());
  Eigen::Vector3d hi = -lo;
  for (const auto& v : mesh.vertices) {
    lo = lo.cwiseMin(v);
    hi = hi.cwiseMax(v);
  }
  const int w = width * kSupersample;
  const int h = height * kSupersample;
  std::vector<Fragment> fragments(std::size_t(w) * h);

  std::vector<ScreenVertex> screen(mesh.vertices.size());
  if (!mesh.triangles.empty()) {
    // The eye 2.5 bounding radii back from the box centre; then the focal length and principal
    // point that centre the projected vertices and fill 90% of the tighter side.
    const Eigen::Vector3d centre = 0.5 * (lo + hi);
    const double radius = std::max(0.5 * (hi - lo).norm(), 1e-9);
    const Eigen::Vector3d eye = centre - 2.5 * radius * forward;
    double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
    for (std::size_t i = 0; i < mesh.vertices.size(); ++i) {
      const Eigen::Vector3d d = mesh.vertices[i] - eye;
      const double z = d.dot(forward);  // >= 1.5 radii
      screen[i] = {d.dot(right) / z, d.dot(down) / z, 1.0 / z};
      x_lo = std::min(x_lo, screen[i].x);
      x_hi = std::max(x_hi, screen[i].x);
      y_lo = std::min(y_lo, screen[i].y);
      y_hi = std::max(y_hi, screen[i].y);
    }
    const double focal =
        0.9 * std::min(w / std::max(x_hi - x_lo, 1e-9), h / std::max(y_hi - y_lo, 1e-9));
    const double cx = 0.5 * w - focal * 0.5 * (x_lo + x_hi);
    const double cy = 0.5 * h - focal * 0.5 * (y_lo + y_hi);
    for (auto& s : screen) {
      s.x = focal * s.x + cx;
      s.y = focal * s.y + cy;
    }

    // Triangles binned by bands of rows, so that bands rasterise in parallel without sharing
    // pixels.
    const int bands = (h + kBandRows - 1) / kBandRows;
    std::vector<std::vector<std::int32_t>> binned(bands);
    for (std::size_t t = 0; t < mesh.triangles.size(); ++t) {
      const auto& tri = mesh.triangles[t];
      const double y0 = std::min({screen[tri[0]].y, screen[tri[1]].y, screen[tri[2]].y});
      const double y1 = std::max({screen[tri[0]].y, screen[tri[1]].y, screen[tri[2]].y});
      const int b0 = std::clamp(static_cast<int>(std::floor(y0 - 0.5)) / kBandRows, 0, bands - 1);
      const int b1 = std::clamp(static_cast<int>(std::ceil(y1 - 0.5)) / kBandRows, 0, bands - 1);
      for (int b = b0; b <= b1; ++b) binned[b].push_back(static_cast<std::int32_t>(t));
    }
    ParallelFor(bands, [&](std::int64_t band) {
      const int row_begin = static_cast<int>(band) * kBandRows;
      const int row_end = std::min(h, row_begin + kBandRows);
      for (const std::int32_t t : binned[band]) {
        const auto& tri = mesh.triangles[t];
        const ScreenVertex& a = screen[tri[0]];
        const ScreenVertex& b = screen[tri[1]];
        const ScreenVertex& c = screen[tri[2]];
        const double area = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
        if (std::abs(area) < 1e-12) continue;
        const int x0 = std::max(0, static_cast<int>(std::floor(std::min({a.x, b.x, c.x}) - 0.5)));
        const int x1 =
            std::min(w - 1, static_cast<int>(std::ceil(std::max({a.x, b.x, c.x}) - 0.5)));
        const int y0 =
            std::max(row_begin, static_cast<int>(std::floor(std::min({a.y, b.y, c.y}) - 0.5)));
        const int y1 =
            std::min(row_end - 1, static_cast<int>(std::ceil(std::max({a.y, b.y, c.y}) - 0.5)));
        for (int y = y0; y <= y1; ++y) {
          const double py = y + 0.5;
          for (int x = x0; x <= x1; ++x) {
            const double px = x + 0.5;
            // Screen-space barycentrics from the edge functions (either winding).
            const double l1 = ((px - a.x) * (c.y - a.y) - (py - a.y) * (c.x - a.x)) / area;
            const double l2 = ((b.x - a.x) * (py - a.y) - (b.y - a.y) * (px - a.x)) / area;
            const double l0 = 1.0 - l1 - l2;
            if (l0 < 0 || l1 < 0 || l2 < 0) continue;
            const double inv_z = l0 * a.inv_z + l1 * b.inv_z + l2 * c.inv_z;
            Fragment& f = fragments[std::size_t(y) * w + x];
            if (inv_z <= f.inv_z) continue;
            f.inv_z = static_cast<float>(inv_z);
            f.triangle = t;
            f.b1 = static_cast<float>(l1 * b.inv_z / inv_z);  // perspective-correct
            f.b2 = static_cast<float>(l2 * c.inv_z / inv_z);
          }
        }
      }
    });
  }

  // Shading per sample, then a box filter over each pixel's samples in linear light.
  const Eigen::Vector3d light = (-forward - 0.7 * down - 0.4 * right).normalized();
  const Eigen::Vector3f default_albedo(0.40f, 0.46f, 0.56f);
  Eigen::Vector3f background;
  for (int k = 0; k < 3; ++k) background[k] = Srgb8ToLinear(kThumbnailBackground[k]);
  ImageU8 image(width, height, 3);
  ParallelFor(height, [&](std::int64_t y) {
    for (int x = 0; x < width; ++x) {
      Eigen::Vector3f sum = Eigen::Vector3f::Zero();
      for (int sy = 0; sy < kSupersample; ++sy) {
        for (int sx = 0; sx < kSupersample; ++sx) {
          const Fragment& f =
              fragments[std::size_t(y * kSupersample + sy) * w + x * kSupersample + sx];
          if (f.triangle < 0) {
            sum += background;
            continue;
          }
          const auto& tri = mesh.triangles[f.triangle];
          const float b0 = 1.0f - f.b1 - f.b2;
          Eigen::Vector3d normal;
          if (mesh.HasVertexNormals()) {
            normal = b0 * mesh.vertex_normals[tri[0]] + f.b1 * mesh.vertex_normals[tri[1]] +
                     f.b2 * mesh.vertex_normals[tri[2]];
          } else {
            const Eigen::Vector3d& p = mesh.vertices[tri[0]];
            normal = (mesh.vertices[tri[1]] - p).cross(mesh.vertices[tri[2]] - p);
          }
          normal.normalize();
          float facing = 1.0f;
          if (normal.dot(forward) > 0) {  // seen from behind: light the other side, darker
            normal = -normal;
            facing = 0.7f;
          }
          const Eigen::Vector3f albedo = mesh.HasVertexColors()
                                             ? Eigen::Vector3f(b0 * mesh.vertex_colors[tri[0]] +
                                                               f.b1 * mesh.vertex_colors[tri[1]] +
                                                               f.b2 * mesh.vertex_colors[tri[2]])
                                             : default_albedo;
          const float lambert = static_cast<float>(std::max(0.0, normal.dot(light)));
          sum += facing * (0.25f + 0.75f * lambert) * albedo;
        }
      }
      sum /= float(kSupersample * kSupersample);
      for (int c = 0; c < 3; ++c) image(x, static_cast<int>(y), c) = LinearToSrgb8(sum[c]);
    }
  });
  return image;
}

}  // namespace facet::pipeline
