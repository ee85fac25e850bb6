#include "datasets/synthetic/world.h"

#include <algorithm>
#include <cmath>

#include "datasets/synthetic/noise.h"
#include "geometry/isosurface.h"

namespace facet::datasets::synthetic {
namespace {

// Signed distance primitives (Quilez, "distance functions", iquilezles.org).
double RoundBox(const Eigen::Vector3d& p, const Eigen::Vector3d& half, double radius) {
  const Eigen::Vector3d q = p.cwiseAbs() - half + Eigen::Vector3d::Constant(radius);
  return q.cwiseMax(0.0).norm() + std::min(q.maxCoeff(), 0.0) - radius;
}
double VerticalCylinder(const Eigen::Vector3d& p, double radius, double half_height) {
  const Eigen::Vector2d d(std::hypot(p.x(), p.y()) - radius, std::abs(p.z()) - half_height);
  return std::min(std::max(d.x(), d.y()), 0.0) + d.cwiseMax(0.0).norm();
}
// Torus whose axis is the y axis (ring in the xz plane).
double TorusY(const Eigen::Vector3d& p, double major, double minor) {
  return std::hypot(std::hypot(p.x(), p.z()) - major, p.y()) - minor;
}
double Sphere(const Eigen::Vector3d& p, double radius) { return p.norm() - radius; }

// The parts, in metres; the tray's top is at z = 0.05 and every part sinks 1-2 cm into it, so the
// object is one solid. Plain constants (no Eigen objects at namespace scope: their dynamic
// initialisation would race other translation units' static initialisers).
constexpr double kTrayCenter[3] = {0.0, 0.0, 0.025}, kTrayHalf[3] = {0.55, 0.40, 0.025};
constexpr double kMugCenter[3] = {0.17, 0.05, 0.29};  // radius 0.20, height 0.50
constexpr double kHandleCenter[3] = {0.42, 0.05, 0.30};
constexpr double kBallCenter[3] = {-0.30, -0.17, 0.16};
constexpr double kBlockCenter[3] = {-0.30, 0.20, 0.14}, kBlockHalf[3] = {0.13, 0.11, 0.10};
constexpr double kDentCenter[3] = {-0.30, 0.20, 0.29};

Eigen::Vector3d V(const double (&v)[3]) { return {v[0], v[1], v[2]}; }

enum Part { kTray, kMug, kHandle, kBall, kBlock };

struct Distances {
  double tray, mug, handle, ball, block;
};

Distances PartDistances(const Eigen::Vector3d& p) {
  Distances d{};
  d.tray = RoundBox(p - V(kTrayCenter), V(kTrayHalf), 0.012);
  d.mug = VerticalCylinder(p - V(kMugCenter), 0.20, 0.25);
  d.handle = TorusY(p - V(kHandleCenter), 0.11, 0.03);
  d.ball = Sphere(p - V(kBallCenter), 0.13);
  // Block with a spherical dent in its top face.
  d.block = std::max(RoundBox(p - V(kBlockCenter), V(kBlockHalf), 0.01),
                     -Sphere(p - V(kDentCenter), 0.09));
  return d;
}

// Material of the part nearest to the point.
Part NearestPart(const Eigen::Vector3d& p) {
  const Distances d = PartDistances(p);
  const double values[] = {d.tray, d.mug, d.handle, d.ball, d.block};
  return static_cast<Part>(std::min_element(std::begin(values), std::end(values)) - values);
}

Eigen::Vector3f Mix(const Eigen::Vector3f& a, const Eigen::Vector3f& b, double t) {
  return a + static_cast<float>(std::clamp(t, 0.0, 1.0)) * (b - a);
}

// Sharp-edged pattern in {0, 1} from a smooth value: creates the corners SIFT likes.
double Step(double value, double threshold) { return value > threshold ? 1.0 : 0.0; }

}  // namespace

double ObjectSdf(const Eigen::Vector3d& p) {
  const Distances d = PartDistances(p);
  const double solid = std::min({d.tray, d.mug, d.handle, d.ball, d.block});
  // The mug's cavity (radius 0.16, from z = 0.10 up through the rim) is carved from everything.
  const double cavity =
      VerticalCylinder(p - Eigen::Vector3d(kMugCenter[0], kMugCenter[1], 0.40), 0.16, 0.30);
  return std::max(solid, -cavity);
}

Eigen::Vector3d ObjectNormal(const Eigen::Vector3d& p) {
  constexpr double h = 1e-4;
  const Eigen::Vector3d g(
      ObjectSdf(p + Eigen::Vector3d(h, 0, 0)) - ObjectSdf(p - Eigen::Vector3d(h, 0, 0)),
      ObjectSdf(p + Eigen::Vector3d(0, h, 0)) - ObjectSdf(p - Eigen::Vector3d(0, h, 0)),
      ObjectSdf(p + Eigen::Vector3d(0, 0, h)) - ObjectSdf(p - Eigen::Vector3d(0, 0, h)));
  const double n = g.norm();
  return n > 0.0 ? Eigen::Vector3d(g / n) : Eigen::Vector3d::UnitZ();
}

geometry::Bounds3 ObjectBounds() {
  geometry::Bounds3 bounds;
  bounds.Extend(Eigen::Vector3d(-0.56, -0.41, 0.0));
  bounds.Extend(Eigen::Vector3d(0.56, 0.41, 0.56));
  return bounds;
}

Eigen::Vector3d ObjectCenter() { return {0.0, 0.0, 0.22}; }

geometry::TriangleMesh MakeObjectMesh(double voxel_size) {
  const geometry::Bounds3 bounds = ObjectBounds();
  const Eigen::Vector3d margin = Eigen::Vector3d::Constant(2.0 * voxel_size);
  const geometry::ScalarGrid grid = geometry::SampleGrid(
      [](const Eigen::Vector3d& p) { return static_cast<float>(ObjectSdf(p)); },
      bounds.min - margin, bounds.max + margin, voxel_size);
  geometry::TriangleMesh mesh = geometry::ExtractIsosurface(grid, 0.0f);
  // Shading normals from the exact field rather than from the facets.
  mesh.vertex_normals.resize(mesh.vertices.size());
  for (std::size_t i = 0; i < mesh.vertices.size(); ++i) {
    mesh.vertex_normals[i] = ObjectNormal(mesh.vertices[i]);
  }
  return mesh;
}

Eigen::Vector3f ObjectAlbedo(const Eigen::Vector3d& p, std::uint32_t seed) {
  const double fine = Fbm(p * 60.0, 3, seed + 1);    // ~1-2 cm grain
  const double medium = Fbm(p * 14.0, 3, seed + 2);  // ~5-10 cm blotches
  // Multiplicative grain plus dark and light dots at two scales (about 1 and 2.5 cm across).
  const double spots =
      0.55 * Speckle(p, 0.02, 0.35, seed + 5) - 0.45 * Speckle(p, 0.05, 0.3, seed + 6);
  const double detail = (0.55 + 0.6 * fine) * (1.0 - spots);
  switch (NearestPart(p)) {
    case kTray: {  // wood-like: stripes along x warped by noise, dark knots
      const double stripes = 0.5 + 0.5 * std::sin(90.0 * p.y() + 8.0 * medium);
      const Eigen::Vector3f c = Mix({0.45f, 0.28f, 0.12f}, {0.75f, 0.55f, 0.30f}, stripes);
      return c * static_cast<float>(detail * (1.0 - 0.5 * Step(medium, 0.68)));
    }
    case kMug:
    case kHandle: {  // glazed: coloured dots on a mottled base
      const double dots = Step(Fbm(p * 35.0, 2, seed + 3), 0.62);
      const Eigen::Vector3f base = Mix({0.15f, 0.35f, 0.65f}, {0.85f, 0.85f, 0.80f}, medium);
      return Mix(base, {0.90f, 0.25f, 0.15f}, dots) * static_cast<float>(detail);
    }
    case kBall: {  // 3D checker with noise
      const Eigen::Vector3d q = (p - V(kBallCenter)) * 18.0;
      const int parity =
          (static_cast<int>(std::floor(q.x())) + static_cast<int>(std::floor(q.y())) +
           static_cast<int>(std::floor(q.z()))) &
          1;
      const Eigen::Vector3f c =
          parity ? Eigen::Vector3f(0.9f, 0.8f, 0.2f) : Eigen::Vector3f(0.1f, 0.5f, 0.3f);
      return Mix(c, {0.2f, 0.2f, 0.25f}, 0.4 * medium) * static_cast<float>(detail);
    }
    case kBlock:
    default: {  // stone: two-tone noise with sharp veins
      const double veins = Step(std::abs(Fbm(p * 10.0, 4, seed + 4) - 0.5), 0.04);
      const Eigen::Vector3f c = Mix({0.55f, 0.52f, 0.50f}, {0.80f, 0.70f, 0.60f}, medium);
      return Mix({0.15f, 0.12f, 0.12f}, c, veins) * static_cast<float>(detail);
    }
  }
}

geometry::Bounds3 RoomBounds() {
  geometry::Bounds3 bounds;
  bounds.Extend(Eigen::Vector3d(-3.2, -2.9, 0.0));
  bounds.Extend(Eigen::Vector3d(3.4, 3.1, 2.8));
  return bounds;
}

RoomHit IntersectRoom(const Eigen::Vector3d& o, const Eigen::Vector3d& d, std::uint32_t seed) {
  const geometry::Bounds3 room = RoomBounds();
  // From inside, the exit face is the nearest of the three faces the ray moves towards.
  RoomHit hit;
  hit.t = std::numeric_limits<double>::infinity();
  int axis = 2;
  for (int a = 0; a < 3; ++a) {
    if (d[a] == 0.0) continue;
    const double plane = d[a] > 0.0 ? room.max[a] : room.min[a];
    const double t = (plane - o[a]) / d[a];
    if (t > 0.0 && t < hit.t) {
      hit.t = t;
      axis = a;
    }
  }
  hit.normal = Eigen::Vector3d::Zero();
  hit.normal[axis] = d[axis] > 0.0 ? -1.0 : 1.0;
  const Eigen::Vector3d p = o + hit.t * d;
  const double fine = Fbm(p * 25.0, 3, seed + 11);
  const double medium = Fbm(p * 4.0, 3, seed + 12);
  // Grain, and dots at two scales (about 3 and 8 cm across), as terrazzo and plaster have. The
  // dots are laid out in the face's own coordinates, mid-cell across it, so that every face gets
  // them whatever its position on the lattice.
  const Eigen::Vector2d on_face = axis == 0   ? Eigen::Vector2d(p.y(), p.z())
                                  : axis == 1 ? Eigen::Vector2d(p.x(), p.z())
                                              : Eigen::Vector2d(p.x(), p.y());
  auto face_speckle = [&](double cell, double density, std::uint32_t stream) {
    return Speckle(Eigen::Vector3d(on_face.x(), on_face.y(), 0.5 * cell), cell, density,
                   seed + stream + 97u * static_cast<std::uint32_t>(axis));
  };
  const double spots = 0.5 * face_speckle(0.06, 0.35, 14) - 0.45 * face_speckle(0.16, 0.3, 15);
  const double detail = (0.45 + 0.9 * fine) * (1.0 - spots);
  if (axis == 2 && d.z() < 0.0) {  // floor: 0.4 m tiles with grout and speckles
    const double u = p.x() / 0.4, v = p.y() / 0.4;
    const double grout = Step(std::min(u - std::floor(u), v - std::floor(v)), 0.04);
    // Each tile its own tone, so tile corners are distinctive.
    const double tone = HashToUnit(HashLattice(static_cast<int>(std::floor(u)),
                                               static_cast<int>(std::floor(v)), 0, seed + 16));
    const Eigen::Vector3f tile =
        Mix({0.60f, 0.52f, 0.42f}, {0.25f, 0.32f, 0.45f}, 0.5 * medium + 0.7 * tone);
    hit.albedo = Mix({0.12f, 0.12f, 0.12f}, tile, grout) * static_cast<float>(detail);
  } else if (axis == 2) {  // ceiling: plain with soft noise
    hit.albedo = Eigen::Vector3f::Constant(static_cast<float>(0.5 + 0.4 * fine));
  } else {  // walls: bricks 0.24 x 0.08 m in running bond, a colour per wall, poster blobs
    const double u = (axis == 0 ? p.y() : p.x()) / 0.24, v = p.z() / 0.08;
    const double row = std::floor(v);
    const double shifted = u + 0.5 * (static_cast<int>(row) & 1);
    const double mortar = Step(std::min(shifted - std::floor(shifted), v - row), 0.06);
    const int wall = axis * 2 + (d[axis] > 0.0);
    const Eigen::Vector3f colors[4] = {
        {0.60f, 0.25f, 0.18f}, {0.35f, 0.40f, 0.55f}, {0.50f, 0.45f, 0.30f}, {0.30f, 0.50f, 0.35f}};
    const double brick_tone = HashToUnit(
        HashLattice(static_cast<int>(std::floor(shifted)), static_cast<int>(row), wall, seed + 13));
    Eigen::Vector3f brick = colors[wall % 4] * static_cast<float>(0.7 + 0.6 * brick_tone);
    brick = Mix(brick, {0.9f, 0.85f, 0.7f}, Step(medium, 0.66));  // posters
    hit.albedo = Mix({0.75f, 0.75f, 0.72f}, brick, mortar) * static_cast<float>(detail);
  }
  hit.albedo = hit.albedo.cwiseMin(1.0f).cwiseMax(0.0f);
  return hit;
}

Eigen::Vector3f Shade(const Eigen::Vector3f& albedo, const Eigen::Vector3d& normal) {
  const Eigen::Vector3d light = Eigen::Vector3d(0.45, 0.3, 0.84).normalized();
  const double lambert = std::max(0.0, normal.dot(light));
  return (albedo * static_cast<float>(0.38 + 0.62 * lambert)).cwiseMin(1.0f);
}

}  // namespace facet::datasets::synthetic
