#include "splatting/splat_fusion.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>

#include "core/error.h"
#include "datasets/training_data.h"
#include "splatting/rasterizer.h"

namespace facet::splatting {

void SplatFusionOptions::Check() const {
  FACET_CHECK(std::isfinite(voxel_size) && voxel_size >= 0.0,
              "splat fusion: voxel size must be >= 0 (0: automatic), got {}", voxel_size);
  FACET_CHECK(std::isfinite(truncation) && truncation >= 0.0,
              "splat fusion: truncation must be >= 0 (0: 4 voxels), got {}", truncation);
  FACET_CHECK(min_alpha > 0.0f && min_alpha <= 1.0f,
              "splat fusion: min_alpha must be in (0, 1], got {}", min_alpha);
  FACET_CHECK(sh_degree >= 0 && sh_degree <= 3, "splat fusion: SH degree must be 0-3, got {}",
              sh_degree);
  FACET_CHECK(resolution >= 8, "splat fusion: resolution must be >= 8 voxels, got {}", resolution);
  FACET_CHECK(max_size >= 16, "splat fusion: max_size must be >= 16 px, got {}", max_size);
}

geometry::Bounds3 RobustBounds(const Gaussians& model) {
  FACET_CHECK(!model.empty(), "splat fusion: the model has no Gaussians");
  const std::int64_t n = model.size();
  geometry::Bounds3 bounds;
  std::vector<float> axis(static_cast<std::size_t>(n));
  for (int a = 0; a < 3; ++a) {
    for (std::int64_t i = 0; i < n; ++i) axis[std::size_t(i)] = model.means[3 * i + a];
    const auto at = [&](double q) {
      const auto k = static_cast<std::ptrdiff_t>(std::floor(q * double(n - 1)));
      std::nth_element(axis.begin(), axis.begin() + k, axis.end());
      return double(axis[std::size_t(k)]);
    };
    const double lo = at(0.01), hi = at(0.99), margin = 0.05 * (hi - lo);
    bounds.min[a] = lo - margin;
    bounds.max[a] = hi + margin;
  }
  return bounds;
}

std::vector<SplatFusionView> OrbitViews(const geometry::Bounds3& bounds, int count, int size) {
  FACET_CHECK(!bounds.IsEmpty() && count > 0 && size >= 16,
              "orbit views: need non-empty bounds, count > 0 and size >= 16 (got {}, {})", count,
              size);
  const Eigen::Vector3d center = bounds.Center();
  // Far enough that the box's bounding sphere fits in the 60 degree field of view (distance
  // >= 2 radii), with a margin.
  const double radius = 2.2 * std::max(0.5 * bounds.Extent().norm(), 1e-9);
  const double focal = 0.5 * size / std::tan(std::numbers::pi / 6.0);  // 60 degree field of view
  const geometry::Camera camera =
      geometry::Camera::Create(geometry::CameraModelId::kPinhole, focal, size, size);
  std::vector<SplatFusionView> views;
  views.reserve(std::size_t(count));
  const double golden = std::numbers::pi * (3.0 - std::sqrt(5.0));
  for (int i = 0; i < count; ++i) {
    const double z = 1.0 - 2.0 * (i + 0.5) / count, r = std::sqrt(1.0 - z * z);
    const Eigen::Vector3d dir(r * std::cos(golden * i), r * std::sin(golden * i), z);
    const Eigen::Vector3d eye = center + radius * dir;
    // Camera looking at the centre (COLMAP frame: z forward, y down), up roughly +z of the world
    // (+x at the poles).
    const Eigen::Vector3d forward = (center - eye).normalized();
    const Eigen::Vector3d up =
        std::abs(forward.z()) > 0.99 ? Eigen::Vector3d::UnitX() : Eigen::Vector3d::UnitZ();
    const Eigen::Vector3d right = forward.cross(up).normalized();
    const Eigen::Vector3d down = forward.cross(right);
    Eigen::Matrix3d cam_from_world;
    cam_from_world.row(0) = right;
    cam_from_world.row(1) = down;
    cam_from_world.row(2) = forward;
    const Eigen::Quaterniond q(cam_from_world);
    views.push_back({camera, geometry::Rigid3(q, -(cam_from_world * eye))});
  }
  return views;
}

namespace {

// The model restricted to the Gaussians whose centre is inside `box`.
Gaussians Crop(const Gaussians& model, const geometry::Bounds3& box) {
  const auto n = std::size_t(model.size());
  const auto keep = std::make_unique<bool[]>(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Eigen::Vector3d p(model.means[3 * i], model.means[3 * i + 1], model.means[3 * i + 2]);
    keep[i] = (p.array() >= box.min.array()).all() && (p.array() <= box.max.array()).all();
  }
  Gaussians out = model;
  out.Compact(std::span<const bool>(keep.get(), n));
  return out;
}

}  // namespace

geometry::TsdfVolume FuseSplats(const Gaussians& model, std::span<const SplatFusionView> views,
                                const SplatFusionOptions& options, ProgressBar* bar) {
  options.Check();
  FACET_CHECK(!model.empty(), "splat fusion: the model has no Gaussians");
  FACET_CHECK(!views.empty(), "splat fusion: no views to render");
  const Gaussians cropped = options.crop ? Crop(model, *options.crop) : Gaussians();
  const Gaussians& gaussians = options.crop ? cropped : model;
  FACET_CHECK(!gaussians.empty(), "splat fusion: no Gaussian lies inside the crop box");

  geometry::TsdfVolume::Options tsdf;
  tsdf.voxel_size = options.voxel_size > 0.0
                        ? options.voxel_size
                        : RobustBounds(gaussians).Extent().norm() / options.resolution;
  tsdf.truncation = options.truncation;
  tsdf.depth_min = 0.0;
  tsdf.depth_max = std::numeric_limits<double>::max();
  tsdf.with_color = true;
  tsdf.backend = options.backend;
  if (options.crop) tsdf.crop = options.crop;
  geometry::TsdfVolume volume(tsdf);

  RasterOptions raster;
  raster.sh_degree = std::min(options.sh_degree, gaussians.max_sh_degree);
  const GaussiansView<float> view = gaussians.View();
  RasterResult<float> result;
  for (const SplatFusionView& v : views) {
    const int longest = std::max(v.camera.width, v.camera.height);
    const double scale = longest > options.max_size ? double(options.max_size) / longest : 1.0;
    const int width = std::max(1, int(std::lround(v.camera.width * scale)));
    const int height = std::max(1, int(std::lround(v.camera.height * scale)));
    const geometry::Camera camera = datasets::ScaleCamera(v.camera, width, height);
    RasterizeForward(view, MakeRasterCamera(camera, v.cam_from_world), raster, &result);
    ImageF32 depth(width, height, 1);
    ImageU8 rgb(width, height, 3);
    for (std::size_t p = 0; p < std::size_t(width) * height; ++p) {
      const float alpha = result.alpha[p];
      if (alpha < options.min_alpha) continue;
      depth.data()[p] = result.depth[p];
      for (int c = 0; c < 3; ++c) {
        // Colour over a black background: divide by the opacity for the surface's own colour.
        const float value = std::clamp(result.rgb[3 * p + c] / alpha, 0.0f, 1.0f);
        rgb.data()[3 * p + c] = std::uint8_t(std::lround(255.0f * value));
      }
    }
    // Silhouette pixels are partly covered: their depth belongs to the surface's limb but their
    // square reaches past it, so every voxel projecting there would be carved as "behind the
    // surface" and the fused surface would grow by up to half a pixel around every view's
    // outline. Drop the pixels next to an empty one.
    ImageF32 eroded = depth;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const auto empty = [&](int xx, int yy) {
          return xx < 0 || yy < 0 || xx >= width || yy >= height || depth(xx, yy) <= 0.0f;
        };
        if (empty(x - 1, y) || empty(x + 1, y) || empty(x, y - 1) || empty(x, y + 1)) {
          eroded(x, y) = 0.0f;
        }
      }
    }
    volume.Integrate(eroded.view(), rgb.view(), camera, v.cam_from_world);
    if (bar != nullptr) bar->Add();
  }
  return volume;
}

}  // namespace facet::splatting
