#include "geometry/tsdf_raycast.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "geometry/kernels/tsdf_raycast.h"

namespace facet::geometry {

void RaycastOptions::Check() const {
  FACET_CHECK(std::isfinite(depth_min) && depth_min >= 0.0,
              "RaycastOptions::depth_min must be >= 0 and finite (got {})", depth_min);
  FACET_CHECK(std::isfinite(depth_max) && depth_max > depth_min,
              "RaycastOptions::depth_max must be finite and > depth_min = {} (got {})", depth_min,
              depth_max);
  FACET_CHECK(step_fraction > 0.0 && step_fraction <= 1.0,
              "RaycastOptions::step_fraction must be in (0, 1] (got {})", step_fraction);
}

namespace {

constexpr int kTile = 16;  // pixels per range tile edge

// Per tile of kTile x kTile pixels: the depth range [min, max] of the allocated blocks projecting
// onto it (min > max: none).
struct RangeImage {
  int tiles_x = 0, tiles_y = 0;
  std::vector<float> min, max;
};

RangeImage ComputeRanges(const VoxelBlockGrid& grid, const kernels::RaycastView& view,
                         const Eigen::Matrix3f& r_cw, const Eigen::Vector3f& t_cw, float depth_min,
                         float depth_max) {
  RangeImage ranges;
  ranges.tiles_x = (view.width + kTile - 1) / kTile;
  ranges.tiles_y = (view.height + kTile - 1) / kTile;
  const std::size_t tiles = std::size_t(ranges.tiles_x) * ranges.tiles_y;
  const float block = float(grid.block_size());
  // Blocks are clipped by the plane z = near in front of the camera.
  const float near = std::max(depth_min, 1e-3f);
  const std::int64_t blocks = grid.block_count();
  using Ranges = std::vector<float>;  // min then max, per tile
  // Min and max are exact whatever the order, so the reduction is deterministic.
  const Ranges combined = oneapi::tbb::parallel_reduce(
      oneapi::tbb::blocked_range<std::int64_t>(0, blocks, 4096), Ranges(),
      [&](const oneapi::tbb::blocked_range<std::int64_t>& range, Ranges local) {
        if (local.empty()) {
          local.assign(2 * tiles, 0.0f);
          std::fill(local.begin(), local.begin() + tiles, std::numeric_limits<float>::max());
        }
        for (std::int64_t b = range.begin(); b != range.end(); ++b) {
          const kernels::BlockKey& key = grid.key(std::int32_t(b));
          const Eigen::Vector3f corner0(float(key.x) * block, float(key.y) * block,
                                        float(key.z) * block);
          const Eigen::Vector3f c0 = r_cw * corner0 + t_cw;
          Eigen::Vector3f corners[8];
          float zmin = std::numeric_limits<float>::max(), zmax = -zmin;
          for (int c = 0; c < 8; ++c) {
            corners[c] = c0 + r_cw.col(0) * ((c & 1) ? block : 0.0f) +
                         r_cw.col(1) * (((c >> 1) & 1) ? block : 0.0f) +
                         r_cw.col(2) * ((c >> 2) ? block : 0.0f);
            zmin = std::min(zmin, corners[c].z());
            zmax = std::max(zmax, corners[c].z());
          }
          if (zmax < near || zmin > depth_max) continue;
          float umin = std::numeric_limits<float>::max(), umax = -umin, vmin = umin, vmax = -umin;
          const auto extend = [&](const Eigen::Vector3f& x) {
            const float u = view.fx * x.x() / x.z() + view.cx;
            const float v = view.fy * x.y() / x.z() + view.cy;
            umin = std::min(umin, u);
            umax = std::max(umax, u);
            vmin = std::min(vmin, v);
            vmax = std::max(vmax, v);
          };
          for (int c = 0; c < 8; ++c) {
            if (corners[c].z() >= near) extend(corners[c]);
          }
          if (zmin < near) {
            // The part of the block in front of the near plane: its corners there and the points
            // where its 12 edges cross the plane.
            for (int c = 0; c < 8; ++c) {
              for (int axis = 0; axis < 3; ++axis) {
                if (c & (1 << axis)) continue;
                const Eigen::Vector3f& e0 = corners[c];
                const Eigen::Vector3f& e1 = corners[c | (1 << axis)];
                if ((e0.z() < near) == (e1.z() < near)) continue;
                extend(e0 + (e1 - e0) * ((near - e0.z()) / (e1.z() - e0.z())));
              }
            }
            zmin = near;
          }
          if (umax < 0.0f || vmax < 0.0f || umin >= float(view.width) ||
              vmin >= float(view.height)) {
            continue;
          }
          const int tx0 = std::max(0, int(std::max(umin, 0.0f)) / kTile);
          const int ty0 = std::max(0, int(std::max(vmin, 0.0f)) / kTile);
          const int tx1 =
              std::min(ranges.tiles_x - 1, int(std::min(umax, float(view.width))) / kTile);
          const int ty1 =
              std::min(ranges.tiles_y - 1, int(std::min(vmax, float(view.height))) / kTile);
          for (int ty = ty0; ty <= ty1; ++ty) {
            for (int tx = tx0; tx <= tx1; ++tx) {
              const std::size_t t = std::size_t(ty) * ranges.tiles_x + tx;
              local[t] = std::min(local[t], zmin);
              local[tiles + t] = std::max(local[tiles + t], zmax);
            }
          }
        }
        return local;
      },
      [&](Ranges a, const Ranges& b) {
        if (a.empty()) return b;
        if (b.empty()) return a;
        for (std::size_t t = 0; t < tiles; ++t) {
          a[t] = std::min(a[t], b[t]);
          a[tiles + t] = std::max(a[tiles + t], b[tiles + t]);
        }
        return a;
      });
  ranges.min.assign(tiles, std::numeric_limits<float>::max());
  ranges.max.assign(tiles, 0.0f);
  if (!combined.empty()) {
    std::copy(combined.begin(), combined.begin() + tiles, ranges.min.begin());
    std::copy(combined.begin() + tiles, combined.end(), ranges.max.begin());
  }
  return ranges;
}

// sRGB encoding of linear [0, 1] values, 4096 steps.
const std::array<std::uint8_t, 4096>& LinearToSrgbTable() {
  static const std::array<std::uint8_t, 4096> table = [] {
    std::array<std::uint8_t, 4096> t{};
    for (int i = 0; i < 4096; ++i) {
      const double x = (i + 0.5) / 4096.0;
      const double e = x <= 0.0031308 ? 12.92 * x : 1.055 * std::pow(x, 1.0 / 2.4) - 0.055;
      t[i] = std::uint8_t(std::clamp(std::lround(e * 255.0), 0L, 255L));
    }
    return t;
  }();
  return table;
}

}  // namespace

RaycastMaps RaycastTsdf(const VoxelBlockGrid& grid, double truncation, const Camera& camera,
                        const Rigid3& cam_from_world, const RaycastOptions& options) {
  options.Check();
  camera.Check();
  FACET_CHECK(
      camera.model == CameraModelId::kPinhole || camera.model == CameraModelId::kSimplePinhole,
      "RaycastTsdf needs a PINHOLE or SIMPLE_PINHOLE camera (got {}); undistort first",
      camera.ModelName());
  FACET_CHECK(std::isfinite(truncation) && truncation > 0.0,
              "RaycastTsdf: truncation must be > 0 and finite (got {})", truncation);
  FACET_CHECK(
      cam_from_world.rotation.coeffs().allFinite() && cam_from_world.translation.allFinite(),
      "RaycastTsdf: cam_from_world is not finite");
  FACET_CHECK(!options.colors || grid.has_color(),
              "RaycastTsdf: colours asked of a grid without colour");

  const int width = camera.width, height = camera.height;
  RaycastMaps maps;
  maps.depth_m.Reset(width, height, 1, 0.0f);
  maps.normals_in_cam.Reset(width, height, 3, 0.0f);
  if (options.colors) maps.rgb.Reset(width, height, 3, 0);

  const Rigid3 world_from_cam = cam_from_world.Inverse();
  const Eigen::Matrix3d r_wc = world_from_cam.rotation.toRotationMatrix();
  kernels::RaycastView view;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) view.world_from_cam[4 * r + c] = float(r_wc(r, c));
    view.world_from_cam[4 * r + 3] = float(world_from_cam.translation[r]);
  }
  const Eigen::Vector2d principal = camera.PrincipalPoint();
  view.fx = float(camera.FocalX());
  view.fy = float(camera.FocalY());
  view.cx = float(principal.x());
  view.cy = float(principal.y());
  view.width = width;
  view.height = height;
  view.step_fraction = float(options.step_fraction);
  kernels::RaycastGrid g;
  g.hash = grid.hash_view();
  g.sdf = grid.sdf_data().data();
  g.weight = grid.weight_data().data();
  g.color = grid.has_color() ? grid.color_data().data() : nullptr;
  g.voxel_size = float(grid.voxel_size());
  g.truncation = float(truncation);
  if (grid.block_count() == 0) return maps;

  const Eigen::Matrix3f r_cw = r_wc.transpose().cast<float>();
  const Eigen::Vector3f t_cw = cam_from_world.translation.cast<float>();
  const float depth_min = float(options.depth_min), depth_max = float(options.depth_max);
  const RangeImage ranges = ComputeRanges(grid, view, r_cw, t_cw, depth_min, depth_max);
  const auto& srgb = LinearToSrgbTable();
  const bool colors = options.colors;

  oneapi::tbb::parallel_for(
      oneapi::tbb::blocked_range<int>(0, height, 4),
      [&](const oneapi::tbb::blocked_range<int>& rows) {
        for (int y = rows.begin(); y != rows.end(); ++y) {
          float* depth_row = maps.depth_m.view().Row(y);
          float* normal_row = maps.normals_in_cam.view().Row(y);
          std::uint8_t* rgb_row = colors ? maps.rgb.view().Row(y) : nullptr;
          const std::size_t tile_row = std::size_t(y / kTile) * ranges.tiles_x;
          for (int x = 0; x < width; ++x) {
            const std::size_t tile = tile_row + x / kTile;
            const float t_begin = std::max(depth_min, ranges.min[tile]);
            const float t_end = std::min(depth_max, ranges.max[tile]);
            if (!(t_begin <= t_end)) continue;
            const kernels::RayHit hit = kernels::CastRay(g, view, x, y, t_begin, t_end, colors);
            if (!(hit.depth > 0.0f)) continue;
            depth_row[x] = hit.depth;
            const Eigen::Vector3f n =
                r_cw * Eigen::Vector3f(hit.normal[0], hit.normal[1], hit.normal[2]);
            for (int k = 0; k < 3; ++k) normal_row[3 * x + k] = n[k];
            if (colors) {
              for (int k = 0; k < 3; ++k) {
                const float c = std::clamp(hit.rgb[k], 0.0f, 1.0f);
                rgb_row[3 * x + k] = srgb[std::min(4095, int(c * 4096.0f))];
              }
            }
          }
        }
      });
  return maps;
}

}  // namespace facet::geometry
