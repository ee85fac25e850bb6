#include "geometry/mesh_processing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"
#include "geometry/mesh_checks.h"
#include "geometry/mesh_intersections.h"
#include "tests/geometry/mesh_test_shapes.h"

namespace facet::geometry {
namespace {

using test::Tri;

// Mean and largest |distance to the sphere of radius r| over the vertices.
std::pair<double, double> SphereDeviation(const TriangleMesh& mesh, double r) {
  double sum = 0.0, worst = 0.0;
  for (const auto& v : mesh.vertices) {
    const double d = std::abs(v.norm() - r);
    sum += d;
    worst = std::max(worst, d);
  }
  return {sum / static_cast<double>(mesh.vertices.size()), worst};
}

void ExpectWatertight(const TriangleMesh& mesh, std::int64_t genus) {
  const WatertightReport report = CheckWatertight(mesh);
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.genus, genus);
  EXPECT_EQ(report.self_intersections, 0);
}

TEST(RemoveUnreferencedVertices, DropsThemWithTheirAttributes) {
  TriangleMesh mesh = test::Cube();
  mesh.vertices.insert(mesh.vertices.begin(), Eigen::Vector3d(9, 9, 9));  // index 0, unused
  for (auto& t : mesh.triangles) t += Tri::Ones();
  for (const auto& v : mesh.vertices) mesh.vertex_colors.push_back(v.cast<float>() / 9.0f);
  EXPECT_EQ(RemoveUnreferencedVertices(mesh), 1u);
  ASSERT_EQ(mesh.vertices.size(), 8u);
  for (std::size_t v = 0; v < 8; ++v) {
    EXPECT_TRUE(mesh.vertex_colors[v].isApprox(mesh.vertices[v].cast<float>() / 9.0f));
  }
  ExpectWatertight(mesh, 0);
}

TEST(CropMesh, KeepsTrianglesInsideTheBoxWithTheirAttributes) {
  TriangleMesh sphere = test::Icosphere(3, 1.0);
  for (const auto& v : sphere.vertices) {
    sphere.vertex_colors.push_back(((v.array() + 1.0) / 2.0).cast<float>());
    sphere.vertex_normals.push_back(v.normalized());
  }
  Bounds3 upper;
  upper.Extend(Eigen::Vector3d(-2, -2, 0.0));
  upper.Extend(Eigen::Vector3d(2, 2, 2));
  const TriangleMesh cropped = CropMesh(sphere, upper);
  ASSERT_FALSE(cropped.triangles.empty());
  EXPECT_LT(cropped.triangles.size(), sphere.triangles.size() / 2 + 1);
  EXPECT_GT(cropped.triangles.size(), sphere.triangles.size() / 3);
  ASSERT_EQ(cropped.vertex_colors.size(), cropped.vertices.size());
  ASSERT_EQ(cropped.vertex_normals.size(), cropped.vertices.size());
  for (std::size_t v = 0; v < cropped.vertices.size(); ++v) {
    const Eigen::Vector3d& p = cropped.vertices[v];
    EXPECT_GE(p.z(), 0.0);
    EXPECT_TRUE(
        cropped.vertex_colors[v].isApprox(((p.array() + 1.0) / 2.0).cast<float>().matrix()));
    EXPECT_TRUE(cropped.vertex_normals[v].isApprox(p.normalized()));
  }
  cropped.Check();
  // Every vertex is used: none of the lower half's comes along.
  TriangleMesh copy = cropped;
  EXPECT_EQ(RemoveUnreferencedVertices(copy), 0u);
  // The whole box keeps everything; a box beside the sphere keeps nothing.
  upper.Extend(Eigen::Vector3d(-2, -2, -2));
  EXPECT_EQ(CropMesh(sphere, upper).triangles.size(), sphere.triangles.size());
  Bounds3 beside;
  beside.Extend(Eigen::Vector3d(5, 5, 5));
  beside.Extend(Eigen::Vector3d(6, 6, 6));
  EXPECT_TRUE(CropMesh(sphere, beside).triangles.empty());
}

TEST(MergeCloseVertices, WeldsATriangleSoupBackIntoAClosedSphere) {
  const TriangleMesh sphere = test::SdfSphere(0.53, 0.08);
  TriangleMesh soup;  // every triangle with its own three corners
  for (const auto& t : sphere.triangles) {
    const auto base = static_cast<std::uint32_t>(soup.vertices.size());
    for (int k = 0; k < 3; ++k) soup.vertices.push_back(sphere.vertices[t[k]]);
    soup.triangles.push_back(Tri(base, base + 1, base + 2));
  }
  EXPECT_FALSE(CheckWatertight(soup).watertight);
  TriangleMesh exact = soup;
  EXPECT_EQ(MergeCloseVertices(exact), soup.vertices.size() - sphere.vertices.size());
  EXPECT_EQ(exact.vertices.size(), sphere.vertices.size());
  ExpectWatertight(exact, 0);
  // Corners jittered by 1e-9: exact welding misses them, a tolerance of 1e-6 finds them.
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> jitter(-1e-9, 1e-9);
  for (auto& v : soup.vertices) v += Eigen::Vector3d(jitter(rng), jitter(rng), jitter(rng));
  TriangleMesh missed = soup;
  EXPECT_EQ(MergeCloseVertices(missed), 0u);
  EXPECT_EQ(MergeCloseVertices(soup, {.tolerance = 1e-6}),
            missed.vertices.size() - sphere.vertices.size());
  ExpectWatertight(soup, 0);
  EXPECT_THROW(MergeCloseVertices(soup, {.tolerance = -1.0}), Error);
}

TEST(RemoveDegenerateTriangles, RemovesRepeatedIndicesAndDuplicates) {
  TriangleMesh mesh = test::Cube();
  mesh.triangles.push_back(Tri(0, 0, 7));
  mesh.triangles.push_back(mesh.triangles[3]);
  mesh.triangles.push_back(Tri(mesh.triangles[5][1], mesh.triangles[5][2], mesh.triangles[5][0]));
  const DegenerateTriangleReport report = RemoveDegenerateTriangles(mesh);
  EXPECT_EQ(report.repeated_index_removed, 1u);
  EXPECT_EQ(report.duplicates_removed, 2u);
  EXPECT_EQ(mesh.triangles.size(), 12u);
  ExpectWatertight(mesh, 0);
}

TEST(RemoveDegenerateTriangles, CollapsesZeroAreaTrianglesKeepingTheSurfaceClosed) {
  // Split an edge (u, w) of a sphere at a new vertex m placed exactly on u: the two triangles on
  // the edge become two needles of zero area (u, m, .) and two good ones.
  TriangleMesh mesh = test::SdfSphere(0.53, 0.1);
  const std::size_t original = mesh.triangles.size();
  const std::uint32_t u = mesh.triangles[0][0], w = mesh.triangles[0][1];
  const auto m = static_cast<std::uint32_t>(mesh.vertices.size());
  mesh.vertices.push_back(mesh.vertices[u]);
  const std::size_t n = mesh.triangles.size();
  for (std::size_t t = 0; t < n; ++t) {
    for (int k = 0; k < 3; ++k) {
      const std::uint32_t a = mesh.triangles[t][k], b = mesh.triangles[t][(k + 1) % 3];
      const std::uint32_t c = mesh.triangles[t][(k + 2) % 3];
      if ((a == u && b == w) || (a == w && b == u)) {
        mesh.triangles[t] = Tri(a, m, c);
        mesh.triangles.push_back(Tri(m, b, c));
        break;
      }
    }
  }
  // (m coincides with u, so the needles touch their neighbours: topology only here.)
  WatertightReport before = CheckWatertight(mesh, {.self_intersections = false});
  ASSERT_TRUE(before.watertight) << before.reason;
  ASSERT_EQ(before.degenerate_triangles, 2);
  const DegenerateTriangleReport report = RemoveDegenerateTriangles(mesh);
  EXPECT_EQ(report.zero_area_collapsed, 1u);  // one collapse of (u, m) removes both needles
  EXPECT_EQ(report.zero_area_left, 0u);
  EXPECT_EQ(mesh.triangles.size(), original);
  const WatertightReport after = CheckWatertight(mesh);
  EXPECT_TRUE(after.watertight) << after.reason;
  EXPECT_EQ(after.degenerate_triangles, 0);
  EXPECT_EQ(after.genus, 0);
}

TEST(RemoveSmallComponents, ByTrianglesAreaAndCount) {
  const TriangleMesh big = test::SdfSphere(0.53, 0.05);
  const TriangleMesh medium = test::SdfSphere(0.2, 0.05, Eigen::Vector3d(2, 0, 0));
  const TriangleMesh tiny = test::Cube(Eigen::Vector3d(-2, 0, 0), 0.01);
  const TriangleMesh all = test::Append(test::Append(big, medium), tiny);
  TriangleMesh mesh = all;
  EXPECT_EQ(RemoveSmallComponents(mesh, {.min_triangles = 13}), 1u);  // the cube (12)
  EXPECT_EQ(CheckWatertight(mesh).components, 2);
  mesh = all;
  // The medium sphere has (0.2 / 0.53)^2 = 14% of the big one's area.
  EXPECT_EQ(RemoveSmallComponents(mesh, {.min_area_fraction = 0.2}), 2u);
  EXPECT_EQ(mesh.triangles.size(), big.triangles.size());
  EXPECT_EQ(mesh.vertices.size(), big.vertices.size());
  ExpectWatertight(mesh, 0);
  mesh = all;
  EXPECT_EQ(RemoveSmallComponents(mesh, {.keep_largest = 2}), 1u);
  EXPECT_EQ(mesh.triangles.size(), big.triangles.size() + medium.triangles.size());
  EXPECT_THROW(RemoveSmallComponents(mesh, {.min_area_fraction = 2.0}), Error);
}

// Removes the triangles around each listed vertex: one hole per vertex, bounded by its ring.
TriangleMesh PunchHoles(TriangleMesh mesh, const std::vector<std::uint32_t>& centers) {
  std::erase_if(mesh.triangles, [&](const Tri& t) {
    for (const std::uint32_t c : centers) {
      if (t[0] == c || t[1] == c || t[2] == c) return true;
    }
    return false;
  });
  RemoveUnreferencedVertices(mesh);
  return mesh;
}

TEST(FillHoles, ClosesASphereWithPunchedHoles) {
  const double r = 0.53;
  const TriangleMesh sphere = test::SdfSphere(r, 0.04);
  // Far-apart vertices: the most extreme along +x, -x, +z.
  std::vector<std::uint32_t> centers(3, 0);
  for (std::uint32_t v = 0; v < sphere.vertices.size(); ++v) {
    if (sphere.vertices[v].x() > sphere.vertices[centers[0]].x()) centers[0] = v;
    if (sphere.vertices[v].x() < sphere.vertices[centers[1]].x()) centers[1] = v;
    if (sphere.vertices[v].z() > sphere.vertices[centers[2]].z()) centers[2] = v;
  }
  TriangleMesh mesh = PunchHoles(sphere, centers);
  mesh.triangles.erase(mesh.triangles.begin() + 100);  // and a 3-edge hole elsewhere
  ASSERT_GT(CheckWatertight(mesh).boundary_edges, 0);
  const FillHolesReport report = FillHoles(mesh);
  EXPECT_EQ(report.holes, 4u);
  EXPECT_EQ(report.filled, 4u);
  EXPECT_EQ(report.non_manifold_loops, 0u);
  ExpectWatertight(mesh, 0);
  // The patches lie on the hole's ring, within one voxel of the sphere.
  EXPECT_LT(SphereDeviation(mesh, r).second, 0.04);
  const std::size_t samples = 50000;
  const double spacing = std::sqrt(sphere.SurfaceArea() / samples);
  const SurfaceDistance d = CompareSurfaces(mesh, sphere, 2 * spacing, samples);
  EXPECT_LT(d.chamfer, 0.5 * spacing + 1e-3);
}

TEST(FillHoles, LeavesLargeHolesAndHolesTouchingAtAVertexOpen) {
  const TriangleMesh sphere = test::SdfSphere(0.53, 0.06);
  TriangleMesh mesh = PunchHoles(sphere, {0});
  FillHolesReport report = FillHoles(mesh, {.max_hole_edges = 3});
  EXPECT_EQ(report.holes, 1u);
  EXPECT_EQ(report.too_large, 1u);
  EXPECT_EQ(report.filled, 0u);
  // Two triangles that share only vertex v: removing both leaves two loops through v.
  mesh = sphere;
  const std::uint32_t v = mesh.triangles[0][0];
  std::size_t other = 0;
  for (std::size_t t = 1; t < mesh.triangles.size() && other == 0; ++t) {
    const Tri& a = mesh.triangles[0];
    const Tri& b = mesh.triangles[t];
    int shared = 0;
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) shared += a[i] == b[j] ? 1 : 0;
    }
    if (shared == 1 && (b[0] == v || b[1] == v || b[2] == v)) other = t;
  }
  ASSERT_GT(other, 0u);
  mesh.triangles.erase(mesh.triangles.begin() + static_cast<std::ptrdiff_t>(other));
  mesh.triangles.erase(mesh.triangles.begin());
  const std::size_t triangles = mesh.triangles.size();
  report = FillHoles(mesh);
  EXPECT_EQ(report.non_manifold_vertices, 1u);
  EXPECT_GE(report.non_manifold_loops, 1u);
  EXPECT_EQ(report.filled, 0u);
  EXPECT_EQ(mesh.triangles.size(), triangles);
}

TEST(FillHoles, RejectsBadInput) {
  TriangleMesh empty;
  EXPECT_THROW(FillHoles(empty), Error);
  TriangleMesh mesh = test::Cube();
  std::swap(mesh.triangles[0][1], mesh.triangles[0][2]);  // flipped: an edge used twice one way
  EXPECT_THROW(FillHoles(mesh), Error);
  mesh = test::Cube();
  EXPECT_THROW(FillHoles(mesh, {.max_hole_edges = 2}), Error);
  mesh.triangles.push_back(Tri(0, 1, 8));
  EXPECT_THROW(FillHoles(mesh), Error);
}

TEST(DecimateQuadric, SphereKeepsItsShapeAndStaysWatertight) {
  const double r = 0.53;
  TriangleMesh mesh = test::SdfSphere(r, 0.015);
  ASSERT_GT(mesh.triangles.size(), 100000u);
  const TriangleMesh original = mesh;
  mesh.ComputeVertexNormals();
  const DecimationReport report = DecimateQuadric(mesh, {.target_triangles = 2000});
  EXPECT_TRUE(report.reached_target);
  EXPECT_LE(mesh.triangles.size(), 2000u);
  EXPECT_GE(mesh.triangles.size(), 1990u);
  EXPECT_EQ(report.final_triangles, mesh.triangles.size());
  ASSERT_EQ(mesh.vertex_normals.size(), mesh.vertices.size());
  ExpectWatertight(mesh, 0);
  // 2000 triangles on this sphere have edges of about 0.05, whose facets sag by
  // e^2 / (8 r) ~ 6e-4 below the sphere: vertices (placed by the quadrics at the tangent planes'
  // optimum, slightly outside) and the surface stay within a few times that.
  const auto [mean, worst] = SphereDeviation(mesh, r);
  EXPECT_LT(mean, 1e-3);
  EXPECT_LT(worst, 3e-3);
  // Sampling alone puts identical surfaces about half the sample spacing apart
  // (CompareSurfaces' contract); the decimated surface adds less than its sag.
  const std::size_t samples = 50000;
  const double spacing = std::sqrt(original.SurfaceArea() / samples);
  const SurfaceDistance d = CompareSurfaces(mesh, original, 2 * spacing, samples);
  EXPECT_LT(d.chamfer, 0.5 * spacing + 1e-3);
  EXPECT_GT(d.f_score, 0.99);
  // Normals point outwards.
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    EXPECT_GT(mesh.vertex_normals[v].dot(mesh.vertices[v].normalized()), 0.95);
  }
}

TEST(DecimateQuadric, TorusKeepsItsGenusAndColours) {
  TriangleMesh mesh = test::SdfTorus(0.5, 0.2, 0.02);
  // Colour as a smooth function of position: interpolated colours should still match it.
  auto shade = [](const Eigen::Vector3d& p) {
    return Eigen::Vector3f(static_cast<float>(0.5 + 0.5 * p.x()),
                           static_cast<float>(0.5 + 0.5 * p.y()), static_cast<float>(0.5 + p.z()));
  };
  for (const auto& v : mesh.vertices) mesh.vertex_colors.push_back(shade(v));
  const DecimationReport report = DecimateQuadric(mesh, {.target_triangles = 1500});
  EXPECT_TRUE(report.reached_target);
  EXPECT_LE(mesh.triangles.size(), 1500u);
  ExpectWatertight(mesh, 1);
  ASSERT_EQ(mesh.vertex_colors.size(), mesh.vertices.size());
  double worst_colour = 0.0, worst_distance = 0.0;
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    worst_colour =
        std::max(worst_colour,
                 double((mesh.vertex_colors[v] - shade(mesh.vertices[v])).cwiseAbs().maxCoeff()));
    worst_distance =
        std::max(worst_distance, std::abs(test::TorusDistance(mesh.vertices[v], 0.5, 0.2)));
  }
  // Colours are interpolated between vertices that the collapses moved by about an edge
  // (~0.06 here), so they can be off by the shade's slope (1) times that.
  EXPECT_LT(worst_colour, 0.1);
  EXPECT_LT(worst_distance, 0.01);
}

TEST(DecimateQuadric, OpenBoundaryStaysInPlace) {
  // The upper half of a sphere, a disk: decimation keeps it one manifold disk whose rim stays
  // at z >= 0 and whose vertices stay on the sphere.
  TriangleMesh mesh = test::SdfSphere(0.53, 0.02);
  std::erase_if(mesh.triangles, [&](const Tri& t) {
    return mesh.vertices[t[0]].z() < 0 || mesh.vertices[t[1]].z() < 0 ||
           mesh.vertices[t[2]].z() < 0;
  });
  RemoveUnreferencedVertices(mesh);
  const WatertightReport before = CheckWatertight(mesh);
  ASSERT_GT(before.boundary_edges, 0);
  DecimateQuadric(mesh, {.target_triangles = 800});
  const WatertightReport after = CheckWatertight(mesh);
  EXPECT_EQ(after.non_manifold_edges, 0);
  EXPECT_EQ(after.non_manifold_vertices, 0);
  EXPECT_EQ(after.inconsistently_oriented_edges, 0);
  EXPECT_EQ(after.components, 1);
  EXPECT_EQ(after.euler_characteristic, 1);  // still a disk
  EXPECT_LE(mesh.triangles.size(), 800u);
  for (const auto& v : mesh.vertices) {
    EXPECT_GE(v.z(), -1e-3);
    EXPECT_LE(v.norm(), 0.53 + 5e-3);
  }
}

TEST(DecimateQuadric, MaxErrorStopsEarly) {
  TriangleMesh mesh = test::SdfSphere(0.53, 0.03);
  const std::size_t before = mesh.triangles.size();
  const DecimationReport report = DecimateQuadric(mesh, {.target_triangles = 4, .max_error = 1e-8});
  EXPECT_FALSE(report.reached_target);
  EXPECT_LT(mesh.triangles.size(), before);
  EXPECT_GT(mesh.triangles.size(), 100u);
  EXPECT_LE(report.max_collapse_error, 1e-8);
  ExpectWatertight(mesh, 0);
}

// A closed thin wavy plate, its two sides 3 voxels apart: once the decimated edges are much longer
// than the gap, collapses on one side can push vertices through the other (the link condition
// sees only topology). prevent_self_intersections keeps the surface from crossing itself.
TEST(DecimateQuadric, ThinPlateDoesNotCrossItself) {
  const double voxel = 0.01, half_thickness = 0.008;
  const auto plate = [=](const Eigen::Vector3d& p) {
    const double mid = 0.08 * std::sin(6.0 * p.x()) * std::cos(5.0 * p.y());
    const Eigen::Vector3d q(std::abs(p.x()) - 0.4, std::abs(p.y()) - 0.3,
                            std::abs(p.z() - mid) - half_thickness);
    return static_cast<float>(q.cwiseMax(0.0).norm() + std::min(q.maxCoeff(), 0.0));
  };
  const TriangleMesh original = ExtractIsosurface(
      SampleGrid(plate, Eigen::Vector3d(-0.45, -0.35, -0.15) - test::GridShift(voxel),
                 Eigen::Vector3d(0.45, 0.35, 0.15), voxel));
  ASSERT_EQ(FindSelfIntersections(original).size(), 0u);
  for (const bool prevent : {false, true}) {
    TriangleMesh mesh = original;
    DecimateQuadric(mesh, {.target_triangles = 120, .prevent_self_intersections = prevent});
    const std::size_t crossings = FindSelfIntersections(mesh).size();
    if (prevent) {
      EXPECT_EQ(crossings, 0u);
      EXPECT_LE(mesh.triangles.size(), 120u);
      ExpectWatertight(mesh, 0);
    } else {
      EXPECT_GT(crossings, 0u);  // the case needs the guard
    }
  }
}

TEST(DecimateQuadric, RejectsBadInput) {
  TriangleMesh empty;
  EXPECT_THROW(DecimateQuadric(empty, {}), Error);
  TriangleMesh mesh = test::Cube();
  EXPECT_THROW(DecimateQuadric(mesh, {.target_triangles = 3}), Error);
  EXPECT_THROW(DecimateQuadric(mesh, {.target_triangles = 4, .max_normal_change_deg = 0}), Error);
  EXPECT_THROW(DecimateQuadric(mesh, {.target_triangles = 4, .min_triangle_quality = 1.0}), Error);
  mesh.triangles.push_back(Tri(0, 1, 8));
  EXPECT_THROW(DecimateQuadric(mesh, {.target_triangles = 4}), Error);
  mesh = test::Cube();
  mesh.vertices[2].y() = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(DecimateQuadric(mesh, {.target_triangles = 4}), Error);
  // A cube is already small: nothing to do, and a tetrahedron-like minimum is never crossed.
  mesh = test::Cube();
  DecimateQuadric(mesh, {.target_triangles = 4});
  ExpectWatertight(mesh, 0);
  EXPECT_GE(mesh.triangles.size(), 4u);
}

TEST(TaubinSmooth, RemovesNoiseWithoutShrinking) {
  const double r = 0.53;
  // Marching tetrahedra output is full of slivers, where cotangent weights are ill-behaved (their
  // angles' cotangents blow up); a decimated sphere has well-shaped triangles.
  TriangleMesh clean = test::SdfSphere(r, 0.015);
  DecimateQuadric(clean, {.target_triangles = 8000});
  TriangleMesh noisy = clean;
  std::mt19937 rng(17);
  std::uniform_real_distribution<double> noise(-0.003, 0.003);
  for (auto& v : noisy.vertices) v += noise(rng) * v.normalized();
  // RMS of the radial offsets from the clean mesh's vertices (the noise), and the mean radius.
  auto rms = [&clean](const TriangleMesh& m) {
    double sum = 0.0, mean_radius = 0.0;
    for (std::size_t v = 0; v < m.vertices.size(); ++v) {
      const double d = m.vertices[v].norm() - clean.vertices[v].norm();
      sum += d * d;
      mean_radius += m.vertices[v].norm();
    }
    return std::pair{std::sqrt(sum / double(m.vertices.size())),
                     mean_radius / double(m.vertices.size())};
  };
  const double noisy_rms = rms(noisy).first;
  for (const auto weights :
       {TaubinOptions::Weights::kUniform, TaubinOptions::Weights::kCotangent}) {
    SCOPED_TRACE(weights == TaubinOptions::Weights::kUniform ? "uniform" : "cotangent");
    TriangleMesh smooth = noisy;
    TaubinSmooth(smooth, {.iterations = 10, .weights = weights});
    const auto [smooth_rms, mean_radius] = rms(smooth);
    // Ten iterations at least halve the noise (the rest is mostly its low-frequency part, inside
    // the filter's pass band, which Taubin's filter keeps by design).
    EXPECT_LT(smooth_rms, 0.5 * noisy_rms);
    // Taubin's pass band keeps the sphere's low frequency: the radius shrinks by < 0.5%.
    EXPECT_NEAR(mean_radius, r, 0.005 * r);
    // Smoothing moves vertices only: the topology is unchanged.
    const WatertightReport report = CheckWatertight(smooth, {.self_intersections = false});
    EXPECT_TRUE(report.watertight) << report.reason;
    EXPECT_EQ(report.genus, 0);
  }
  // Plain Laplacian smoothing (mu = lambda would be; here mu just below -lambda) for contrast is
  // not an option: mu must be stronger than lambda.
  EXPECT_THROW(TaubinSmooth(noisy, {.lambda = 0.5, .mu = -0.4}), Error);
  EXPECT_THROW(TaubinSmooth(noisy, {.iterations = -1}), Error);
  TriangleMesh empty;
  EXPECT_THROW(TaubinSmooth(empty), Error);
}

TEST(TransferVertexColors, InterpolatesTheNearestColouredPoints) {
  TriangleMesh mesh = test::SdfSphere(0.5, 0.05);
  // Dense coloured points on the same sphere, colour linear in position.
  PointCloud points;
  for (int i = 0; i < 20000; ++i) {
    const double z = 1.0 - 2.0 * (i + 0.5) / 20000, r = std::sqrt(1.0 - z * z);
    const double phi = 2.399963229728653 * i;
    const Eigen::Vector3d p = 0.5 * Eigen::Vector3d(r * std::cos(phi), r * std::sin(phi), z);
    points.points.push_back(p);
    points.colors.push_back((0.5 * Eigen::Vector3d::Ones() + 0.8 * p).cast<float>());
  }
  TransferVertexColors(mesh, points);
  ASSERT_EQ(mesh.vertex_colors.size(), mesh.vertices.size());
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    const Eigen::Vector3f expected =
        (0.5 * Eigen::Vector3d::Ones() + 0.8 * mesh.vertices[v]).cast<float>();
    // Points are ~6 mm apart: the weighted mean of neighbours within ~1 cm.
    EXPECT_LT((mesh.vertex_colors[v] - expected).norm(), 0.02f) << v;
  }
  PointCloud grey;
  grey.points = points.points;
  EXPECT_THROW(TransferVertexColors(mesh, grey), Error);
  EXPECT_THROW(TransferVertexColors(mesh, points, 0), Error);
}

}  // namespace
}  // namespace facet::geometry
