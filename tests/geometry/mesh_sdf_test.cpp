#include "geometry/mesh_sdf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <numbers>
#include <numeric>
#include <random>
#include <unordered_map>

#include "common/mesh_checks.h"
#include "core/error.h"
#include "datasets/ply.h"
#include "geometry/kernels/mesh_sdf.h"
#include "geometry/mesh_checks.h"
#include "geometry/winding_number.h"
#include "mesh_test_shapes.h"

namespace facet::geometry {
namespace {

using Tri = Eigen::Matrix<std::uint32_t, 3, 1>;
using kernels::mesh_sdf::Point3;

Point3 P(const Eigen::Vector3d& v) { return {v.x(), v.y(), v.z()}; }

// The box [lo, hi], 12 outward triangles.
TriangleMesh Box(const Eigen::Vector3d& lo, const Eigen::Vector3d& hi) {
  TriangleMesh mesh;
  for (int i = 0; i < 8; ++i) {
    mesh.vertices.emplace_back(i & 1 ? hi.x() : lo.x(), i & 2 ? hi.y() : lo.y(),
                               i & 4 ? hi.z() : lo.z());
  }
  const int quads[6][4] = {{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4},
                           {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}};
  for (const auto& q : quads) {
    mesh.triangles.push_back(Tri(q[0], q[1], q[2]));
    mesh.triangles.push_back(Tri(q[0], q[2], q[3]));
  }
  return mesh;
}

double BoxSdf(const Eigen::Vector3d& p, const Eigen::Vector3d& lo, const Eigen::Vector3d& hi) {
  const Eigen::Vector3d c = 0.5 * (lo + hi), e = 0.5 * (hi - lo);
  const Eigen::Vector3d q = (p - c).cwiseAbs() - e;
  return q.cwiseMax(0.0).norm() + std::min(q.maxCoeff(), 0.0);
}

using test::Icosphere;

TriangleMesh Merge(TriangleMesh a, const TriangleMesh& b) {
  const auto offset = std::uint32_t(a.vertices.size());
  a.vertices.insert(a.vertices.end(), b.vertices.begin(), b.vertices.end());
  for (const auto& t : b.triangles) a.triangles.push_back(t + Tri::Constant(offset));
  return a;
}

// Drops the triangles with a corner for which `remove` is true (vertices are kept).
template <typename Pred>
TriangleMesh RemoveTriangles(TriangleMesh mesh, Pred remove) {
  std::vector<Tri> kept;
  for (const auto& t : mesh.triangles) {
    if (!remove(mesh.vertices[t[0]]) && !remove(mesh.vertices[t[1]]) &&
        !remove(mesh.vertices[t[2]])) {
      kept.push_back(t);
    }
  }
  mesh.triangles = std::move(kept);
  return mesh;
}

// Exact distance from a point to the nearest triangle of a mesh, for distances below `cell`
// (triangles binned in a hash grid of that cell size; larger distances come back >= cell).
class NearestTriangle {
 public:
  NearestTriangle(const TriangleMesh& mesh, double cell) : mesh_(mesh), cell_(cell) {
    for (std::size_t i = 0; i < mesh.triangles.size(); ++i) {
      const auto& t = mesh.triangles[i];
      const Eigen::Vector3d& a = mesh.vertices[t[0]];
      const Eigen::Vector3d& b = mesh.vertices[t[1]];
      const Eigen::Vector3d& c = mesh.vertices[t[2]];
      const Eigen::Vector3i lo = Cell(a.cwiseMin(b).cwiseMin(c)),
                            hi = Cell(a.cwiseMax(b).cwiseMax(c));
      for (int z = lo.z(); z <= hi.z(); ++z)
        for (int y = lo.y(); y <= hi.y(); ++y)
          for (int x = lo.x(); x <= hi.x(); ++x) cells_[Key({x, y, z})].push_back(i);
    }
  }
  double Distance(const Eigen::Vector3d& p) const {
    double best = INFINITY;
    const Eigen::Vector3i c = Cell(p);
    for (int dz = -1; dz <= 1; ++dz)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const auto it = cells_.find(Key(c + Eigen::Vector3i(dx, dy, dz)));
          if (it == cells_.end()) continue;
          for (std::size_t i : it->second) {
            const auto& t = mesh_.triangles[i];
            best = std::min(best, kernels::PointTriangleSquaredDistance(
                                      P(p), P(mesh_.vertices[t[0]]), P(mesh_.vertices[t[1]]),
                                      P(mesh_.vertices[t[2]])));
          }
        }
    return std::sqrt(best);
  }

 private:
  Eigen::Vector3i Cell(const Eigen::Vector3d& p) const {
    return (p / cell_).array().floor().cast<int>();
  }
  static std::int64_t Key(const Eigen::Vector3i& c) {
    return (std::int64_t(c.x() & 0x1fffff) << 42) | (std::int64_t(c.y() & 0x1fffff) << 21) |
           std::int64_t(c.z() & 0x1fffff);
  }
  const TriangleMesh& mesh_;
  double cell_;
  std::unordered_map<std::int64_t, std::vector<std::size_t>> cells_;
};

// Calls fn(voxel, sdf) for every allocated voxel.
template <typename Fn>
void ForEachVoxel(const VoxelBlockGrid& grid, Fn&& fn) {
  for (std::int32_t b = 0; b < std::int32_t(grid.block_count()); ++b) {
    const auto& k = grid.key(b);
    for (int i = 0; i < VoxelBlockGrid::kBlockVoxels; ++i) {
      const Eigen::Vector3i v(8 * k.x + i % 8, 8 * k.y + (i / 8) % 8, 8 * k.z + i / 64);
      fn(v, grid.sdf(b)[i]);
    }
  }
}

TEST(MeshSdfKernels, ClosestPointInEveryVoronoiRegion) {
  const Point3 a{0, 0, 0}, b{2, 0, 0}, c{0, 2, 0};
  auto dist_sq = [&](Point3 p) { return kernels::PointTriangleSquaredDistance(p, a, b, c); };
  EXPECT_NEAR(dist_sq({0.5, 0.5, 3}), 9.0, 1e-12);     // face
  EXPECT_NEAR(dist_sq({-1, -1, 0}), 2.0, 1e-12);       // vertex a
  EXPECT_NEAR(dist_sq({3, -1, 1}), 1 + 1 + 1, 1e-12);  // vertex b
  EXPECT_NEAR(dist_sq({1, -2, 0}), 4.0, 1e-12);        // edge ab
  EXPECT_NEAR(dist_sq({2, 2, 0}), 2.0, 1e-12);         // edge bc, at distance sqrt(2)
  EXPECT_NEAR(dist_sq({-3, 1, 4}), 9 + 16, 1e-12);     // edge ca
  // Degenerate triangles: collinear corners and a single point.
  EXPECT_NEAR(kernels::PointTriangleSquaredDistance({1, 1, 0}, a, b, {1, 0, 0}), 1.0, 1e-12);
  EXPECT_NEAR(kernels::PointTriangleSquaredDistance({0, 3, 4}, a, a, a), 25.0, 1e-12);
}

TEST(MeshSdfKernels, SolidAngleOfAnOctantTriangleIsAnEighthOfTheSphere) {
  const Point3 x{1, 0, 0}, y{0, 1, 0}, z{0, 0, 1};
  // Counter-clockwise seen from outside (away from the origin): the origin is "inside".
  EXPECT_NEAR(kernels::mesh_sdf::TriangleSolidAngle({0, 0, 0}, x, y, z), std::numbers::pi / 2,
              1e-12);
  EXPECT_NEAR(kernels::mesh_sdf::TriangleSolidAngle({0, 0, 0}, x, z, y), -std::numbers::pi / 2,
              1e-12);
  EXPECT_EQ(kernels::mesh_sdf::TriangleSolidAngle(x, x, y, z), 0.0);  // at a corner
}

TEST(WindingNumber, ClosedMeshIsOneInsideAndZeroOutside) {
  const TriangleMesh sphere = Icosphere(4, 1.0);
  const WindingNumberTree tree(sphere);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  double max_error = 0.0;
  for (int i = 0; i < 400; ++i) {
    const Eigen::Vector3d dir = Eigen::Vector3d(u(rng), u(rng), u(rng)).normalized();
    const double r = i % 2 ? 0.97 * std::abs(u(rng)) : 1.03 + 3.0 * std::abs(u(rng));
    const Eigen::Vector3d q = r * dir;
    const double expected = r < 1.0 ? 1.0 : 0.0;
    // The direct sum of solid angles is exact up to rounding for a closed mesh.
    EXPECT_NEAR(tree.Exact(q), expected, 1e-9);
    max_error = std::max(max_error, std::abs(tree(q) - expected));
  }
  // The expansion's error falls as (1 / beta)^2 per far node; a few thousandths at beta = 2.
  EXPECT_LT(max_error, 0.01);
  const WindingNumberTree precise(sphere, 4.0);
  for (int i = 0; i < 50; ++i) {
    const Eigen::Vector3d q(0.3 * u(rng), 0.3 * u(rng), 1.5 + u(rng));
    EXPECT_NEAR(precise(q), precise.Exact(q), 2.5e-3);
  }
}

TEST(WindingNumber, OpenAndOverlappingMeshesDegradeGracefully) {
  // A unit sphere without its cap z > 0.8: from the centre the missing cap covers a fraction
  // (1 - 0.8) / 2 = 0.1 of the directions, so w(0) ~ 0.9 (the polygonal rim differs slightly).
  const TriangleMesh open =
      RemoveTriangles(Icosphere(4, 1.0), [](const Eigen::Vector3d& v) { return v.z() > 0.8; });
  const WindingNumberTree tree(open);
  EXPECT_NEAR(tree.Exact({0, 0, 0}), 0.9, 0.02);
  EXPECT_NEAR(tree({0, 0, 0}), tree.Exact({0, 0, 0}), 0.01);
  // Still clearly inside under the cap and outside above it.
  EXPECT_GT(tree({0, 0, 0.7}), 0.5);
  EXPECT_LT(tree({0, 0, 1.1}), 0.5);
  EXPECT_NEAR(tree({0, 0, -3}), 0.0, 0.01);
  // Two overlapping spheres: the overlap is covered twice.
  const TriangleMesh two = Merge(Icosphere(3, 1.0), Icosphere(3, 1.0, {1, 0, 0}));
  const WindingNumberTree both(two);
  EXPECT_NEAR(both({0.5, 0, 0}), 2.0, 0.01);
  EXPECT_NEAR(both({-0.5, 0, 0}), 1.0, 0.01);
  EXPECT_NEAR(both({0.5, 2, 0}), 0.0, 0.01);
}

TEST(MeshSdf, BoxDistancesAreExactInTheBandAndSignsCorrectEverywhere) {
  const Eigen::Vector3d lo(-0.31, -0.22, -0.17), hi(0.27, 0.19, 0.33);
  MeshSdfOptions options;
  options.voxel_size = 0.02;
  const VoxelBlockGrid grid = MeshToSdf(Box(lo, hi), options);
  const double truncation = options.band * options.voxel_size;
  std::int64_t band = 0;
  ForEachVoxel(grid, [&](const Eigen::Vector3i& v, float sdf) {
    const double exact = BoxSdf(grid.VoxelCenter(v), lo, hi);
    if (std::abs(exact) < truncation - 1e-6) {
      ++band;
      ASSERT_NEAR(sdf, exact, 1e-6) << v.transpose();
    } else {
      ASSERT_EQ(sdf < 0.0f, exact < 0.0) << v.transpose();
    }
  });
  EXPECT_GT(band, 10000);
  // The interior far from the faces is allocated (and negative), so no flood fill leaks in.
  EXPECT_LT(grid.At(grid.NearestVoxel({0, 0, 0})).sdf, 0.0f);
  EXPECT_EQ(grid.At(grid.NearestVoxel({0, 0, 0})).weight, 1.0f);
}

TEST(MeshSdf, SphereDistancesMatchTheFacetedSphere) {
  const double r = 0.5;
  const TriangleMesh sphere = Icosphere(4, r);
  // Vertices lie on the sphere and faces inside it: the distance to the mesh differs from
  // |p| - r by at most the largest gap between a face and the sphere.
  double gap = 0.0;
  for (const auto& t : sphere.triangles) {
    const double d = std::sqrt(kernels::PointTriangleSquaredDistance(
        {0, 0, 0}, P(sphere.vertices[t[0]]), P(sphere.vertices[t[1]]), P(sphere.vertices[t[2]])));
    gap = std::max(gap, r - d);
  }
  MeshSdfOptions options;
  options.voxel_size = 0.02;
  const VoxelBlockGrid grid = MeshToSdf(sphere, options);
  const double truncation = options.band * options.voxel_size;
  std::int64_t band = 0;
  ForEachVoxel(grid, [&](const Eigen::Vector3i& v, float sdf) {
    const double analytic = grid.VoxelCenter(v).norm() - r;
    if (std::abs(analytic) < truncation - gap) {
      ++band;
      ASSERT_NEAR(sdf, analytic, gap + 1e-6) << v.transpose();
    } else if (std::abs(analytic) > gap) {
      ASSERT_EQ(sdf < 0.0f, analytic < 0.0) << v.transpose();
    }
  });
  EXPECT_GT(band, 20000);
  // Every voxel of the band is allocated.
  for (int i = 0; i < 2000; ++i) {
    const double t = i * 0.37, z = -1.0 + 2.0 * (i + 0.5) / 2000;
    const Eigen::Vector3d dir(std::sqrt(1 - z * z) * std::cos(t),
                              std::sqrt(1 - z * z) * std::sin(t), z);
    ASSERT_EQ(grid.At(grid.NearestVoxel((r + 0.02) * dir)).weight, 1.0f);
  }
}

TEST(MeshSdf, RemeshingAnOpenSphereClosesTheHole) {
  const double r = 0.5, h = 0.02;
  const TriangleMesh open = RemoveTriangles(Icosphere(4, r), [&](const Eigen::Vector3d& v) {
    return v.z() > 0.6 * r;  // a hole of radius about 0.8 r
  });
  // The rim: the corners of the edges used by one triangle.
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> edges;
  for (const auto& t : open.triangles) {
    for (int k = 0; k < 3; ++k) ++edges[std::minmax(t[k], t[(k + 1) % 3])];
  }
  double rim_radius = 0.0, rim_bottom = r;
  for (const auto& [edge, count] : edges) {
    if (count != 1) continue;
    for (std::uint32_t v : {edge.first, edge.second}) {
      rim_radius = std::max(rim_radius, std::hypot(open.vertices[v].x(), open.vertices[v].y()));
      rim_bottom = std::min(rim_bottom, open.vertices[v].z());
    }
  }
  const TriangleMesh out = RemeshWatertight(open, h);
  const WatertightReport report = CheckWatertight(out);
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 1);
  EXPECT_EQ(report.genus, 0);
  // Within a voxel of the input, or on the patch spanning the rim.
  const NearestTriangle input(open, 4 * h);
  std::size_t on_patch = 0;
  for (const auto& v : out.vertices) {
    if (input.Distance(v) < h) continue;
    ++on_patch;
    ASSERT_GT(v.z(), rim_bottom - h) << v.transpose();
    ASSERT_LT(std::hypot(v.x(), v.y()), rim_radius + h) << v.transpose();
  }
  // The patch covers the hole, about pi (0.8 r)^2 / h^2 ~ 1250 vertices.
  EXPECT_GT(on_patch, 600u);
}

TEST(MeshSdf, InterpenetratingBoxesBecomeTheirUnion) {
  const Eigen::Vector3d lo_a(0, 0, 0), hi_a(1, 1, 1), lo_b(0.5, 0.25, 0.3), hi_b(1.5, 0.75, 0.8);
  const double h = 0.04;
  const TriangleMesh out = RemeshWatertight(Merge(Box(lo_a, hi_a), Box(lo_b, hi_b)), h);
  const WatertightReport report = CheckWatertight(out);
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 1);
  EXPECT_EQ(report.genus, 0);
  // On the union's surface: no vertex on the walls inside the other box.
  for (const auto& v : out.vertices) {
    ASSERT_LT(std::abs(std::min(BoxSdf(v, lo_a, hi_a), BoxSdf(v, lo_b, hi_b))), h) << v.transpose();
  }
  // Union volume 1 + 0.25 - 0.125. The distances are exact, so the faces are too; marching
  // cubes only cuts (or fills) the edges, by less than one cell's cross-section h^2 per unit
  // length, along about 20 units of edges.
  EXPECT_NEAR(testing::SignedVolume(out), 1.125, 20 * h * h);
}

TEST(MeshSdf, ColoursComeFromTheNearestInputVertex) {
  TriangleMesh sphere = Icosphere(3, 0.5);
  for (const auto& v : sphere.vertices) {
    sphere.vertex_colors.push_back(v.z() > 0 ? Eigen::Vector3f(1, 0, 0) : Eigen::Vector3f(0, 0, 1));
  }
  const TriangleMesh out = RemeshWatertight(sphere, 0.04);
  ASSERT_EQ(out.vertex_colors.size(), out.vertices.size());
  for (std::size_t i = 0; i < out.vertices.size(); ++i) {
    if (std::abs(out.vertices[i].z()) < 0.1) continue;
    const Eigen::Vector3f expected =
        out.vertices[i].z() > 0 ? Eigen::Vector3f(1, 0, 0) : Eigen::Vector3f(0, 0, 1);
    EXPECT_EQ(out.vertex_colors[i], expected) << out.vertices[i].transpose();
  }
}

TEST(MeshSdf, AHollowShellKeepsItsCavity) {
  // Outer sphere outward, inner sphere inward: w = 1 in the shell, 0 in the cavity.
  TriangleMesh inner = Icosphere(3, 0.25);
  for (auto& t : inner.triangles) std::swap(t[1], t[2]);
  const TriangleMesh out = RemeshWatertight(Merge(Icosphere(3, 0.6), inner), 0.03);
  const WatertightReport report = CheckWatertight(out);
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 2);
  const double ball = 4.0 / 3.0 * std::numbers::pi;
  EXPECT_NEAR(testing::SignedVolume(out), ball * (0.6 * 0.6 * 0.6 - 0.25 * 0.25 * 0.25),
              0.05 * ball * 0.6 * 0.6 * 0.6);
}

std::filesystem::path BunnyPath() {
  return FACET_SOURCE_DIR "/../shared/data/stanford-bunny/bun_zipper.ply";
}

// Boundary loops of a mesh (edges used by one triangle, grouped by shared vertices), each as
// its centroid and the largest distance of its vertices from it.
std::vector<std::pair<Eigen::Vector3d, double>> HoleRims(const TriangleMesh& mesh) {
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> edges;
  for (const auto& t : mesh.triangles) {
    for (int k = 0; k < 3; ++k) ++edges[std::minmax(t[k], t[(k + 1) % 3])];
  }
  std::vector<std::uint32_t> parent(mesh.vertices.size());
  std::iota(parent.begin(), parent.end(), 0u);
  auto find = [&](std::uint32_t v) {
    while (parent[v] != v) v = parent[v] = parent[parent[v]];
    return v;
  };
  std::map<std::uint32_t, std::vector<std::uint32_t>> loops;
  for (const auto& [edge, count] : edges) {
    if (count == 1) parent[find(edge.first)] = find(edge.second);
  }
  for (const auto& [edge, count] : edges) {
    if (count == 1) loops[find(edge.first)].push_back(edge.first);
  }
  std::vector<std::pair<Eigen::Vector3d, double>> rims;
  for (const auto& [root, vertices] : loops) {
    Eigen::Vector3d centre = Eigen::Vector3d::Zero();
    for (std::uint32_t v : vertices) centre += mesh.vertices[v];
    centre /= double(vertices.size());
    double radius = 0.0;
    for (std::uint32_t v : vertices) radius = std::max(radius, (mesh.vertices[v] - centre).norm());
    rims.emplace_back(centre, radius);
  }
  return rims;
}

TEST(MeshSdf, BunnyWithHolesPunchedBecomesWatertightAndStaysOnTheInput) {
  if (!std::filesystem::exists(BunnyPath())) GTEST_SKIP() << "no " << BunnyPath();
  const TriangleMesh bunny = datasets::ReadMeshPly(BunnyPath());
  const std::size_t original_rims = HoleRims(bunny).size();
  ASSERT_GT(original_rims, 0u);  // the scan is open at its base
  // Punch holes of radius 6 mm around a few vertices, on top of the scan's own (at the base;
  // the scan is also oriented inwards, clockwise seen from outside).
  const double hole = 0.006, h = 0.002;
  std::vector<Eigen::Vector3d> centres;
  for (std::size_t i : {1000u, 9000u, 17000u, 25000u, 29000u}) centres.push_back(bunny.vertices[i]);
  const TriangleMesh holed = RemoveTriangles(bunny, [&](const Eigen::Vector3d& v) {
    for (const auto& c : centres) {
      if ((v - c).norm() < hole) return true;
    }
    return false;
  });
  const auto rims = HoleRims(holed);
  ASSERT_GE(rims.size(), original_rims + centres.size());

  const TriangleMesh out = RemeshWatertight(holed, h);
  const WatertightReport report = CheckWatertight(out);
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 1);
  EXPECT_EQ(report.genus, 0);  // a sphere, once its holes are closed
  // Every output point within a voxel of the input surface, or on a patch across a hole (within
  // its rim's radius of its centre, plus a voxel).
  const NearestTriangle input(holed, 2 * h);
  const std::vector<Eigen::Vector3d> samples = SampleSurface(out, 30000, 7);
  std::size_t off_input = 0;
  for (const Eigen::Vector3d& p : samples) {
    if (input.Distance(p) <= h) continue;
    ++off_input;
    bool in_hole = false;
    for (const auto& [centre, radius] : rims) in_hole |= (p - centre).norm() <= radius + h;
    ASSERT_TRUE(in_hole) << "sample " << p.transpose() << " is " << input.Distance(p)
                         << " from the input and in no hole";
  }
  EXPECT_GT(off_input, 0u);  // the holes are closed by patches
  // The input is covered: every input vertex within a voxel of the output.
  const NearestTriangle output(out, 2 * h);
  double farthest = 0.0;
  for (const auto& t : holed.triangles) {
    for (int k = 0; k < 3; ++k)
      farthest = std::max(farthest, output.Distance(holed.vertices[t[k]]));
  }
  EXPECT_LT(farthest, h);
}

TEST(MeshSdf, AnOpenSheetEnclosesNothing) {
  // A lone square: w is +-1/2 just beside it and less elsewhere, never inside.
  TriangleMesh sheet;
  sheet.vertices = {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}};
  sheet.triangles = {Tri(0, 1, 2), Tri(0, 2, 3)};
  EXPECT_TRUE(RemeshWatertight(sheet, 0.05).triangles.empty());
}

TEST(MeshSdf, BadInputsThrow) {
  const TriangleMesh box = Box({0, 0, 0}, {1, 1, 1});
  EXPECT_THROW(MeshToSdf(TriangleMesh{}, MeshSdfOptions{}), Error);
  EXPECT_THROW(RemeshWatertight(box, 0.0), Error);
  EXPECT_THROW(RemeshWatertight(box, -0.1), Error);
  EXPECT_THROW(RemeshWatertight(box, NAN), Error);
  TriangleMesh nan = box;
  nan.vertices[3].y() = NAN;
  EXPECT_THROW(RemeshWatertight(nan, 0.1), Error);
  TriangleMesh bad_index = box;
  bad_index.triangles[0][1] = 99;
  EXPECT_THROW(RemeshWatertight(bad_index, 0.1), Error);
  MeshSdfOptions options;
  options.voxel_size = 0.1;
  options.band = 0;
  EXPECT_THROW(MeshToSdf(box, options), Error);
  options.band = 3;
  options.winding_threshold = 1.0;
  EXPECT_THROW(MeshToSdf(box, options), Error);
  options.winding_threshold = 0.5;
  options.max_blocks = 10;
  options.voxel_size = 0.01;  // ~100^2 * 6 / 64 band blocks
  EXPECT_THROW(MeshToSdf(box, options), Error);
  EXPECT_THROW(WindingNumberTree(box, 0.0), Error);
}

}  // namespace
}  // namespace facet::geometry
