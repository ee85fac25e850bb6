#include "geometry/mesh_photo_colors.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"

namespace facet::geometry {
namespace {

// A vertex projected into one view: pixel in the photo (facet's convention, first pixel's centre at
// 0.5) and depth along the optical axis; depth <= 0 means "no usable projection".
struct Projected {
  double x = 0.0;
  double y = 0.0;
  double depth = 0.0;
};

// IEC 61966-2-1 decoding of every 8-bit code (geometry may not depend on datasets' srgb.h).
const std::array<float, 256>& SrgbToLinearTable() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) {
      const double e = i / 255.0;
      t[std::size_t(i)] =
          static_cast<float>(e <= 0.04045 ? e / 12.92 : std::pow((e + 0.055) / 1.055, 2.4));
    }
    return t;
  }();
  return table;
}

void CheckView(const PhotoView& view, std::size_t index) {
  view.camera.Check();
  FACET_CHECK(view.rgb.data() != nullptr && view.rgb.channels() == 3,
              "photo colours: view {} must have an RGB photo (3 channels), got {} channels", index,
              view.rgb.data() == nullptr ? 0 : view.rgb.channels());
  FACET_CHECK(view.rgb.width() == view.camera.width && view.rgb.height() == view.camera.height,
              "photo colours: view {}'s photo is {}x{} but its camera is {}x{}; pass the photo the "
              "camera was calibrated at",
              index, view.rgb.width(), view.rgb.height(), view.camera.width, view.camera.height);
}

// Projects every vertex. With distortion, a point far outside the field of view can fold back
// into the image (the distortion polynomial is not monotonic there); such projections are
// detected by undistorting the pixel again and dropped.
std::vector<Projected> ProjectVertices(const TriangleMesh& mesh, const PhotoView& view) {
  std::vector<Projected> projected(mesh.vertices.size());
  const bool distorted = view.camera.HasDistortion();
  const double width = view.camera.width;
  const double height = view.camera.height;
  ParallelFor(
      std::int64_t(mesh.vertices.size()),
      [&](std::int64_t v) {
        const Eigen::Vector3d x_in_cam = view.cam_from_world * mesh.vertices[std::size_t(v)];
        if (!(x_in_cam.z() > 0.0)) return;
        const auto pixel = view.camera.ImgFromCam(x_in_cam);
        if (!pixel || !pixel->allFinite()) return;
        if (distorted && pixel->x() >= 0.0 && pixel->x() <= width && pixel->y() >= 0.0 &&
            pixel->y() <= height) {
          const Eigen::Vector2d uv = x_in_cam.head<2>() / x_in_cam.z();
          const auto back = view.camera.CamFromImg(*pixel);
          if (!back || (*back - uv).norm() > 1e-4 * (1.0 + uv.norm())) return;
        }
        projected[std::size_t(v)] = {pixel->x(), pixel->y(), x_in_cam.z()};
      },
      256);
  return projected;
}

// Lowers the z-buffer value at `index` to `depth` (positive floats order as their bit patterns).
void AtomicMinDepth(std::uint32_t& cell, float depth) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(depth);
  std::atomic_ref<std::uint32_t> ref(cell);
  std::uint32_t current = ref.load(std::memory_order_relaxed);
  while (bits < current && !ref.compare_exchange_weak(current, bits, std::memory_order_relaxed)) {
  }
}

// Rasterises every triangle with all corners in front of the camera: a pixel whose centre lies in
// the projected triangle takes the perspective-correct depth there (1/z is affine in the image).
void RasteriseDepth(const TriangleMesh& mesh, const std::vector<Projected>& projected,
                    double scale_x, double scale_y, int zb_width, int zb_height,
                    std::vector<std::uint32_t>& zbuffer) {
  ParallelFor(
      std::int64_t(mesh.triangles.size()),
      [&](std::int64_t t) {
        const auto& tri = mesh.triangles[std::size_t(t)];
        std::array<Eigen::Vector2d, 3> p;
        std::array<double, 3> inv_depth{};
        for (int k = 0; k < 3; ++k) {
          const Projected& q = projected[tri[k]];
          if (!(q.depth > 0.0)) return;
          p[std::size_t(k)] = {q.x * scale_x, q.y * scale_y};
          inv_depth[std::size_t(k)] = 1.0 / q.depth;
        }
        const auto edge = [](const Eigen::Vector2d& a, const Eigen::Vector2d& b,
                             const Eigen::Vector2d& c) {
          return (b.x() - a.x()) * (c.y() - a.y()) - (b.y() - a.y()) * (c.x() - a.x());
        };
        const double area = edge(p[0], p[1], p[2]);
        if (!(std::abs(area) > 1e-12)) return;
        // Pixel i's centre is at i + 0.5; clamp in double before converting to int.
        const auto first = [](double lo, int size) {
          return int(std::clamp(std::ceil(lo - 0.5), 0.0, double(size)));
        };
        const auto last = [](double hi, int size) {
          return int(std::clamp(std::floor(hi - 0.5), -1.0, double(size - 1)));
        };
        const int x0 = first(std::min({p[0].x(), p[1].x(), p[2].x()}), zb_width);
        const int x1 = last(std::max({p[0].x(), p[1].x(), p[2].x()}), zb_width);
        const int y0 = first(std::min({p[0].y(), p[1].y(), p[2].y()}), zb_height);
        const int y1 = last(std::max({p[0].y(), p[1].y(), p[2].y()}), zb_height);
        const double inv_area = 1.0 / area;
        constexpr double kInside = -1e-9;  // barycentric slack: shared edges leave no gaps
        for (int y = y0; y <= y1; ++y) {
          for (int x = x0; x <= x1; ++x) {
            const Eigen::Vector2d c(x + 0.5, y + 0.5);
            const double w0 = edge(p[1], p[2], c) * inv_area;
            const double w1 = edge(p[2], p[0], c) * inv_area;
            const double w2 = 1.0 - w0 - w1;
            if (w0 < kInside || w1 < kInside || w2 < kInside) continue;
            const double inv = w0 * inv_depth[0] + w1 * inv_depth[1] + w2 * inv_depth[2];
            if (!(inv > 0.0)) continue;
            AtomicMinDepth(zbuffer[std::size_t(y) * std::size_t(zb_width) + std::size_t(x)],
                           static_cast<float>(1.0 / inv));
          }
        }
      },
      64);
}

// Bilinear sample of the photo at `pixel` (facet's convention), in linear RGB; taps outside the
// image repeat the border.
Eigen::Vector3d SampleLinear(const ImageView<const std::uint8_t>& rgb, double px, double py) {
  const auto& lut = SrgbToLinearTable();
  const double x = px - 0.5;
  const double y = py - 0.5;
  const double fx0 = std::floor(x);
  const double fy0 = std::floor(y);
  const double ax = x - fx0;
  const double ay = y - fy0;
  const int xa = std::clamp(int(fx0), 0, rgb.width() - 1);
  const int xb = std::clamp(int(fx0) + 1, 0, rgb.width() - 1);
  const int ya = std::clamp(int(fy0), 0, rgb.height() - 1);
  const int yb = std::clamp(int(fy0) + 1, 0, rgb.height() - 1);
  Eigen::Vector3d sum = Eigen::Vector3d::Zero();
  const auto tap = [&](int xi, int yi, double w) {
    for (int c = 0; c < 3; ++c) sum[c] += w * lut[rgb(xi, yi, c)];
  };
  tap(xa, ya, (1 - ax) * (1 - ay));
  tap(xb, ya, ax * (1 - ay));
  tap(xa, yb, (1 - ax) * ay);
  tap(xb, yb, ax * ay);
  return sum;
}

}  // namespace

void PhotoColorOptions::Check() const {
  FACET_CHECK(std::isfinite(relative_depth_tolerance) && relative_depth_tolerance >= 0.0,
              "PhotoColorOptions::relative_depth_tolerance must be finite and >= 0, got {}",
              relative_depth_tolerance);
  FACET_CHECK(std::isfinite(min_depth_tolerance) && min_depth_tolerance >= 0.0,
              "PhotoColorOptions::min_depth_tolerance must be finite and >= 0, got {}",
              min_depth_tolerance);
  FACET_CHECK(max_size >= 16, "PhotoColorOptions::max_size must be >= 16 pixels, got {}", max_size);
  FACET_CHECK(min_cos >= 0.0 && min_cos < 1.0,
              "PhotoColorOptions::min_cos must be in [0, 1), got {}", min_cos);
}

std::size_t ColorVerticesFromPhotos(TriangleMesh& mesh, std::span<const PhotoView> views,
                                    const PhotoColorOptions& options) {
  options.Check();
  mesh.Check();
  FACET_CHECK(!views.empty(),
              "photo colours: no views given; pass the photos with their cameras and poses");
  for (std::size_t i = 0; i < views.size(); ++i) CheckView(views[i], i);

  const std::size_t n = mesh.vertices.size();
  std::vector<Eigen::Vector3d> normals;
  if (mesh.HasVertexNormals()) {
    normals = mesh.vertex_normals;
  } else {
    mesh.ComputeVertexNormals();
    normals.swap(mesh.vertex_normals);  // leaves the mesh without normals, as it came
  }

  std::vector<Eigen::Vector3d> color_sum(n, Eigen::Vector3d::Zero());
  std::vector<double> weight_sum(n, 0.0);
  std::vector<std::uint32_t> zbuffer;
  for (const PhotoView& view : views) {
    const int width = view.camera.width;
    const int height = view.camera.height;
    const double scale = std::min(1.0, double(options.max_size) / double(std::max(width, height)));
    const int zb_width = std::max(1, int(std::lround(width * scale)));
    const int zb_height = std::max(1, int(std::lround(height * scale)));
    const double scale_x = double(zb_width) / width;
    const double scale_y = double(zb_height) / height;

    const std::vector<Projected> projected = ProjectVertices(mesh, view);
    zbuffer.assign(std::size_t(zb_width) * std::size_t(zb_height),
                   std::bit_cast<std::uint32_t>(std::numeric_limits<float>::infinity()));
    RasteriseDepth(mesh, projected, scale_x, scale_y, zb_width, zb_height, zbuffer);

    const Eigen::Vector3d center = CameraCenter(view.cam_from_world);
    ParallelFor(
        std::int64_t(n),
        [&](std::int64_t vi) {
          const auto v = std::size_t(vi);
          const Projected& q = projected[v];
          if (!(q.depth > 0.0) || q.x < 0.0 || q.x >= width || q.y < 0.0 || q.y >= height) return;
          const Eigen::Vector3d to_camera = (center - mesh.vertices[v]).normalized();
          const double facing = normals[v].dot(to_camera);
          const double cos = options.two_sided ? std::abs(facing) : facing;
          if (!(cos >= options.min_cos) || cos <= 0.0) return;
          // The farthest depth around the vertex: its own triangles cover its pixel at depths
          // a little in front of it, which must not hide it.
          const int zx = std::min(int(q.x * scale_x), zb_width - 1);
          const int zy = std::min(int(q.y * scale_y), zb_height - 1);
          float farthest = 0.0f;
          for (int y = std::max(zy - 1, 0); y <= std::min(zy + 1, zb_height - 1); ++y) {
            for (int x = std::max(zx - 1, 0); x <= std::min(zx + 1, zb_width - 1); ++x) {
              // Empty (infinite) pixels beside a silhouette must not let hidden points through.
              const float depth = std::bit_cast<float>(
                  zbuffer[std::size_t(y) * std::size_t(zb_width) + std::size_t(x)]);
              if (std::isfinite(depth)) farthest = std::max(farthest, depth);
            }
          }
          const double tolerance =
              std::max(options.relative_depth_tolerance * q.depth, options.min_depth_tolerance);
          if (q.depth > double(farthest) + tolerance) return;
          // An empty pixel among the 2x2 whose centres surround the projection puts the vertex on
          // the silhouette against the background, which the photo's pixels there mix in.
          const int bx = int(std::floor(q.x * scale_x - 0.5));
          const int by = int(std::floor(q.y * scale_y - 0.5));
          for (int y = std::max(by, 0); y <= std::min(by + 1, zb_height - 1); ++y) {
            for (int x = std::max(bx, 0); x <= std::min(bx + 1, zb_width - 1); ++x) {
              if (std::isinf(std::bit_cast<float>(
                      zbuffer[std::size_t(y) * std::size_t(zb_width) + std::size_t(x)])))
                return;
            }
          }
          color_sum[v] += cos * SampleLinear(view.rgb, q.x, q.y);
          weight_sum[v] += cos;
        },
        256);
  }

  // Mid grey on screen: sRGB code 128 in linear light.
  const float grey = SrgbToLinearTable()[128];
  if (!mesh.HasVertexColors()) mesh.vertex_colors.assign(n, Eigen::Vector3f::Constant(grey));
  std::size_t seen = 0;
  for (std::size_t v = 0; v < n; ++v) {
    if (weight_sum[v] <= 0.0) continue;
    mesh.vertex_colors[v] = (color_sum[v] / weight_sum[v]).cast<float>();
    ++seen;
  }
  return seen;
}

}  // namespace facet::geometry
