#include "datasets/synthetic/renderer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/parallel_for.h"
#include "datasets/detail/srgb.h"
#include "datasets/synthetic/noise.h"
#include "datasets/synthetic/world.h"

namespace facet::datasets::synthetic {
namespace {

constexpr int kBandRows = 16;
constexpr double kNearZ = 1e-3;

struct Hit {
  double depth = 0.0;  // camera-frame z
  Eigen::Vector3d point{};
  Eigen::Vector3d normal{};
  bool object = false;
};

// Standard normal deviate from a hash of (seed, index), by Box-Muller.
float GaussianFromHash(std::uint32_t seed, std::uint32_t index) {
  const double u1 =
      std::max(HashToUnit(HashLattice(static_cast<std::int32_t>(index), 1, 0, seed)), 1e-12);
  const double u2 = HashToUnit(HashLattice(static_cast<std::int32_t>(index), 2, 0, seed));
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

// Normalised coordinates of pixel (x, y); the renderer needs every pixel to have a ray.
Eigen::Vector2d UnprojectOrThrow(const geometry::Camera& camera, double x, double y) {
  const auto uv = camera.CamFromImg(Eigen::Vector2d(x, y));
  FACET_CHECK(uv.has_value(),
              "the synthetic camera's distortion is not invertible at pixel ({}, {}); use a "
              "smaller distortion",
              x, y);
  return *uv;
}

}  // namespace

void RenderOptions::Check() const {
  FACET_CHECK(supersampling >= 1 && supersampling <= 4,
              "supersampling must be 1-4 samples per axis (got {})", supersampling);
  FACET_CHECK(noise_sigma >= 0.0 && noise_sigma <= 0.5, "noise sigma must be in [0, 0.5] (got {})",
              noise_sigma);
}

Renderer::Renderer(const geometry::TriangleMesh& object, const geometry::Camera& camera,
                   const RenderOptions& options)
    : object_(object), camera_(camera), options_(options) {
  options_.Check();
  camera_.Check();
  const int s = options_.supersampling;
  const int width = camera_.width, height = camera_.height;

  // The canvas must cover every ray the output camera sees: unproject its border.
  double umin = 1e300, umax = -1e300, vmin = 1e300, vmax = -1e300;
  auto cover = [&](double x, double y) {
    const Eigen::Vector2d uv = UnprojectOrThrow(camera_, x, y);
    umin = std::min(umin, uv.x());
    umax = std::max(umax, uv.x());
    vmin = std::min(vmin, uv.y());
    vmax = std::max(vmax, uv.y());
  };
  for (int x = 0; x <= width; ++x) {
    cover(x, 0.0);
    cover(x, height);
  }
  for (int y = 0; y <= height; ++y) {
    cover(0.0, y);
    cover(width, y);
  }
  canvas_.fx = s * camera_.FocalX();
  canvas_.fy = s * camera_.FocalY();
  canvas_.cx = -canvas_.fx * umin + 1.0;  // one pixel of padding for bilinear sampling
  canvas_.cy = -canvas_.fy * vmin + 1.0;
  canvas_.width = static_cast<int>(std::ceil(canvas_.fx * (umax - umin))) + 2;
  canvas_.height = static_cast<int>(std::ceil(canvas_.fy * (vmax - vmin))) + 2;

  const std::size_t pixels = std::size_t(width) * height;
  sample_map_.resize(pixels * s * s);
  center_map_.resize(pixels);
  ParallelFor(height, [&](std::int64_t y) {
    for (int x = 0; x < width; ++x) {
      const std::size_t pixel = std::size_t(y) * width + x;
      auto to_canvas = [&](double px, double py) {
        const Eigen::Vector2d uv = UnprojectOrThrow(camera_, px, py);
        return Eigen::Vector2f(static_cast<float>(canvas_.fx * uv.x() + canvas_.cx),
                               static_cast<float>(canvas_.fy * uv.y() + canvas_.cy));
      };
      center_map_[pixel] = to_canvas(x + 0.5, y + 0.5);
      for (int j = 0; j < s; ++j) {
        for (int i = 0; i < s; ++i) {
          sample_map_[pixel * s * s + j * s + i] =
              to_canvas(x + (i + 0.5) / s, static_cast<double>(y) + (j + 0.5) / s);
        }
      }
    }
  });

  face_normals_.resize(object_.triangles.size());
  for (std::size_t t = 0; t < object_.triangles.size(); ++t) {
    const auto& tri = object_.triangles[t];
    const Eigen::Vector3d n = (object_.vertices[tri[1]] - object_.vertices[tri[0]])
                                  .cross(object_.vertices[tri[2]] - object_.vertices[tri[0]]);
    face_normals_[t] = n.norm() > 0.0 ? Eigen::Vector3d(n.normalized()) : Eigen::Vector3d::Zero();
  }
}

Renderer::GBuffer Renderer::Rasterize(const geometry::Rigid3& cam_from_world) const {
  const std::size_t n = object_.vertices.size();
  std::vector<Eigen::Vector3d> screen(n);  // canvas x, y and 1/z; 1/z <= 0 when behind
  const Eigen::Matrix3d r = cam_from_world.rotation.toRotationMatrix();
  ParallelFor(
      static_cast<std::int64_t>(n),
      [&](std::int64_t i) {
        const Eigen::Vector3d x = r * object_.vertices[i] + cam_from_world.translation;
        screen[i] = x.z() > kNearZ
                        ? Eigen::Vector3d(canvas_.fx * x.x() / x.z() + canvas_.cx,
                                          canvas_.fy * x.y() / x.z() + canvas_.cy, 1.0 / x.z())
                        : Eigen::Vector3d(0, 0, -1);
      },
      4096);

  // Bin front-facing triangles into bands of rows; each band is then drawn by one task.
  const Eigen::Vector3d center = geometry::CameraCenter(cam_from_world);
  const int bands = (canvas_.height + kBandRows - 1) / kBandRows;
  std::vector<std::vector<std::int32_t>> binned(static_cast<std::size_t>(bands));
  for (std::size_t t = 0; t < object_.triangles.size(); ++t) {
    const auto& tri = object_.triangles[t];
    if (screen[tri[0]].z() <= 0 || screen[tri[1]].z() <= 0 || screen[tri[2]].z() <= 0) continue;
    if (face_normals_[t].dot(object_.vertices[tri[0]] - center) >= 0.0) continue;  // back face
    const double ymin = std::min({screen[tri[0]].y(), screen[tri[1]].y(), screen[tri[2]].y()});
    const double ymax = std::max({screen[tri[0]].y(), screen[tri[1]].y(), screen[tri[2]].y()});
    const int b0 = std::max(0, static_cast<int>(std::floor(ymin - 0.5)) / kBandRows);
    const int b1 = std::min(bands - 1, static_cast<int>(std::ceil(ymax)) / kBandRows);
    for (int b = b0; b <= b1; ++b)
      binned[static_cast<std::size_t>(b)].push_back(static_cast<std::int32_t>(t));
  }

  GBuffer g;
  const std::size_t canvas_pixels = std::size_t(canvas_.width) * canvas_.height;
  g.inv_z.assign(canvas_pixels, 0.0f);
  g.triangle.assign(canvas_pixels, -1);
  ParallelFor(bands, [&](std::int64_t band) {
    const int row0 = static_cast<int>(band) * kBandRows;
    const int row1 = std::min(canvas_.height, row0 + kBandRows);
    for (const std::int32_t t : binned[static_cast<std::size_t>(band)]) {
      const auto& tri = object_.triangles[static_cast<std::size_t>(t)];
      const Eigen::Vector3d& a = screen[tri[0]];
      const Eigen::Vector3d& b = screen[tri[1]];
      const Eigen::Vector3d& c = screen[tri[2]];
      const double area = (b.x() - a.x()) * (c.y() - a.y()) - (b.y() - a.y()) * (c.x() - a.x());
      if (std::abs(area) < 1e-12) continue;
      const double sign = area > 0 ? 1.0 : -1.0;
      const int x0 =
          std::max(0, static_cast<int>(std::floor(std::min({a.x(), b.x(), c.x()}) - 0.5)));
      const int x1 =
          std::min(canvas_.width - 1, static_cast<int>(std::ceil(std::max({a.x(), b.x(), c.x()}))));
      const int y0 =
          std::max(row0, static_cast<int>(std::floor(std::min({a.y(), b.y(), c.y()}) - 0.5)));
      const int y1 =
          std::min(row1 - 1, static_cast<int>(std::ceil(std::max({a.y(), b.y(), c.y()}))));
      const double eps = -1e-9 * std::abs(area);  // inclusive edges: no cracks between neighbours
      for (int y = y0; y <= y1; ++y) {
        const double py = y + 0.5;
        for (int x = x0; x <= x1; ++x) {
          const double px = x + 0.5;
          const double w0 = sign * ((b.x() - px) * (c.y() - py) - (b.y() - py) * (c.x() - px));
          const double w1 = sign * ((c.x() - px) * (a.y() - py) - (c.y() - py) * (a.x() - px));
          const double w2 = sign * ((a.x() - px) * (b.y() - py) - (a.y() - py) * (b.x() - px));
          if (w0 < eps || w1 < eps || w2 < eps) continue;
          const double inv_z = (w0 * a.z() + w1 * b.z() + w2 * c.z()) / (w0 + w1 + w2);
          const std::size_t index = std::size_t(y) * canvas_.width + x;
          if (inv_z > g.inv_z[index]) {
            g.inv_z[index] = static_cast<float>(inv_z);
            g.triangle[index] = t;
          }
        }
      }
    }
  });
  return g;
}

namespace {

// Exact intersection of the canvas ray through (x, y) with triangle `t` (or the room when t < 0).
Hit IntersectRay(const geometry::TriangleMesh& mesh, const std::vector<Eigen::Vector3d>& normals,
                 const Eigen::Vector3d& origin, const Eigen::Vector3d& direction, std::int32_t t,
                 std::uint32_t seed, Eigen::Vector3f* room_albedo) {
  Hit hit;
  if (t >= 0) {
    const auto& tri = mesh.triangles[static_cast<std::size_t>(t)];
    const Eigen::Vector3d& n = normals[static_cast<std::size_t>(t)];
    const double denominator = n.dot(direction);
    if (std::abs(denominator) > 1e-12) {
      hit.object = true;
      hit.depth = n.dot(mesh.vertices[tri[0]] - origin) / denominator;
      hit.point = origin + hit.depth * direction;
      // Barycentric weights of the hit, for smooth shading normals.
      const Eigen::Vector3d& a = mesh.vertices[tri[0]];
      const Eigen::Vector3d& b = mesh.vertices[tri[1]];
      const Eigen::Vector3d& c = mesh.vertices[tri[2]];
      const double area = n.dot((b - a).cross(c - a));
      const double wa = n.dot((b - hit.point).cross(c - hit.point)) / area;
      const double wb = n.dot((c - hit.point).cross(a - hit.point)) / area;
      const double wc = 1.0 - wa - wb;
      hit.normal = mesh.HasVertexNormals() ? Eigen::Vector3d(wa * mesh.vertex_normals[tri[0]] +
                                                             wb * mesh.vertex_normals[tri[1]] +
                                                             wc * mesh.vertex_normals[tri[2]])
                                                 .normalized()
                                           : n;
      return hit;
    }
  }
  const RoomHit room = IntersectRoom(origin, direction, seed);
  hit.depth = room.t;
  hit.point = origin + room.t * direction;
  hit.normal = room.normal;
  if (room_albedo != nullptr) *room_albedo = room.albedo;
  return hit;
}

// Closest point to p on triangle (a, b, c) (Ericson, Real-Time Collision Detection, 5.1.5).
Eigen::Vector3d ClosestPointOnTriangle(const Eigen::Vector3d& p, const Eigen::Vector3d& a,
                                       const Eigen::Vector3d& b, const Eigen::Vector3d& c) {
  const Eigen::Vector3d ab = b - a, ac = c - a, ap = p - a;
  const double d1 = ab.dot(ap), d2 = ac.dot(ap);
  if (d1 <= 0 && d2 <= 0) return a;
  const Eigen::Vector3d bp = p - b;
  const double d3 = ab.dot(bp), d4 = ac.dot(bp);
  if (d3 >= 0 && d4 <= d3) return b;
  const double vc = d1 * d4 - d3 * d2;
  if (vc <= 0 && d1 >= 0 && d3 <= 0) return a + d1 / (d1 - d3) * ab;
  const Eigen::Vector3d cp = p - c;
  const double d5 = ab.dot(cp), d6 = ac.dot(cp);
  if (d6 >= 0 && d5 <= d6) return c;
  const double vb = d5 * d2 - d1 * d6;
  if (vb <= 0 && d2 >= 0 && d6 <= 0) return a + d2 / (d2 - d6) * ac;
  const double va = d3 * d6 - d5 * d4;
  if (va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0) {
    return b + (d4 - d3) / ((d4 - d3) + (d5 - d6)) * (c - b);
  }
  const double denom = 1.0 / (va + vb + vc);
  return a + ab * (vb * denom) + ac * (vc * denom);
}

// Depth of the ray's intersection with triangle t's plane, and how far (metres) that point is
// from the triangle itself; infinite when the ray is parallel to the plane or meets it behind.
double IntersectTrianglePlane(const geometry::TriangleMesh& mesh,
                              const std::vector<Eigen::Vector3d>& normals,
                              const Eigen::Vector3d& origin, const Eigen::Vector3d& direction,
                              std::int32_t t, double* distance) {
  const auto& tri = mesh.triangles[static_cast<std::size_t>(t)];
  const Eigen::Vector3d& n = normals[static_cast<std::size_t>(t)];
  const double denominator = n.dot(direction);
  *distance = std::numeric_limits<double>::infinity();
  if (std::abs(denominator) < 1e-12) return 0.0;
  const double depth = n.dot(mesh.vertices[tri[0]] - origin) / denominator;
  if (depth <= 0.0) return 0.0;
  const Eigen::Vector3d p = origin + depth * direction;
  *distance = (p - ClosestPointOnTriangle(p, mesh.vertices[tri[0]], mesh.vertices[tri[1]],
                                          mesh.vertices[tri[2]]))
                  .norm();
  return depth;
}

}  // namespace

RenderedView Renderer::Render(const geometry::Rigid3& cam_from_world, bool with_depth,
                              std::uint32_t noise_seed) const {
  const GBuffer g = Rasterize(cam_from_world);
  const geometry::Rigid3 world_from_cam = cam_from_world.Inverse();
  const Eigen::Matrix3d world_from_cam_r = world_from_cam.rotation.toRotationMatrix();
  const Eigen::Vector3d origin = world_from_cam.translation;
  // Direction (with camera-frame z = 1, so the ray parameter is the depth) through canvas (x, y).
  auto direction = [&](double x, double y) {
    return Eigen::Vector3d(world_from_cam_r * Eigen::Vector3d((x - canvas_.cx) / canvas_.fx,
                                                              (y - canvas_.cy) / canvas_.fy, 1.0));
  };

  // Shade every canvas sample.
  std::vector<Eigen::Vector3f> color(std::size_t(canvas_.width) * canvas_.height);
  ParallelFor(canvas_.height, [&](std::int64_t y) {
    for (int x = 0; x < canvas_.width; ++x) {
      const std::size_t index = std::size_t(y) * canvas_.width + x;
      Eigen::Vector3f room_albedo;
      const Hit hit = IntersectRay(object_, face_normals_, origin, direction(x + 0.5, y + 0.5),
                                   g.triangle[index], options_.texture_seed, &room_albedo);
      const Eigen::Vector3f albedo =
          hit.object ? ObjectAlbedo(hit.point, options_.texture_seed) : room_albedo;
      color[index] = Shade(albedo, hit.normal);
    }
  });

  auto bilinear = [&](const Eigen::Vector2f& p) -> Eigen::Vector3f {
    const float fx = std::clamp(p.x() - 0.5f, 0.0f, static_cast<float>(canvas_.width - 1));
    const float fy = std::clamp(p.y() - 0.5f, 0.0f, static_cast<float>(canvas_.height - 1));
    const int x0 = std::min(static_cast<int>(fx), canvas_.width - 2);
    const int y0 = std::min(static_cast<int>(fy), canvas_.height - 2);
    const float tx = fx - x0, ty = fy - y0;
    const auto at = [&](int x, int y) -> const Eigen::Vector3f& {
      return color[std::size_t(y) * canvas_.width + x];
    };
    return ((1 - tx) * (1 - ty)) * at(x0, y0) + (tx * (1 - ty)) * at(x0 + 1, y0) +
           ((1 - tx) * ty) * at(x0, y0 + 1) + (tx * ty) * at(x0 + 1, y0 + 1);
  };

  const int width = camera_.width, height = camera_.height, s = options_.supersampling;
  RenderedView view;
  view.rgb.Reset(width, height, 3);
  if (with_depth) view.depth.Reset(width, height, 1);
  ParallelFor(height, [&](std::int64_t y) {
    for (int x = 0; x < width; ++x) {
      const std::size_t pixel = std::size_t(y) * width + x;
      Eigen::Vector3f sum = Eigen::Vector3f::Zero();
      for (int k = 0; k < s * s; ++k) sum += bilinear(sample_map_[pixel * s * s + k]);
      sum /= static_cast<float>(s * s);
      for (int c = 0; c < 3; ++c) {
        float v = detail::LinearToSrgb(std::clamp(sum[c], 0.0f, 1.0f));
        if (options_.noise_sigma > 0.0) {
          v += static_cast<float>(options_.noise_sigma) *
               GaussianFromHash(noise_seed, static_cast<std::uint32_t>(pixel * 3 + c));
        }
        view.rgb(x, static_cast<int>(y), c) =
            static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
      }
      if (with_depth) {
        // The ray through the pixel centre, against the planes of the triangles seen by the 4x4
        // canvas samples around it. Triangles can be smaller than a sample's footprint, so the
        // one the ray crosses may not have been sampled; a neighbour's plane then gives the depth
        // to second order, provided the point is within a footprint of that neighbour. Of such
        // planes the nearest wins (it occludes the rest). At a silhouette no plane passes the
        // test and the ray goes on to the room.
        const Eigen::Vector2f& p = center_map_[pixel];
        const Eigen::Vector3d d = direction(p.x(), p.y());
        const int bx = static_cast<int>(std::floor(p.x() - 0.5f)) - 1;
        const int by = static_cast<int>(std::floor(p.y() - 0.5f)) - 1;
        double depth = std::numeric_limits<double>::infinity();
        for (int dy = 0; dy < 4; ++dy) {
          for (int dx = 0; dx < 4; ++dx) {
            const int cx = std::clamp(bx + dx, 0, canvas_.width - 1);
            const int cy = std::clamp(by + dy, 0, canvas_.height - 1);
            const std::int32_t t = g.triangle[std::size_t(cy) * canvas_.width + cx];
            if (t < 0) continue;
            double distance = 0.0;
            const double z =
                IntersectTrianglePlane(object_, face_normals_, origin, d, t, &distance);
            const double footprint = z / std::min(canvas_.fx, canvas_.fy);
            if (distance <= footprint && z < depth) depth = z;
          }
        }
        if (!std::isfinite(depth)) depth = IntersectRoom(origin, d, options_.texture_seed).t;
        view.depth(x, static_cast<int>(y)) = static_cast<float>(depth);
      }
    }
  });
  return view;
}

}  // namespace facet::datasets::synthetic
