#include "geometry/marching_cubes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "common/mesh_checks.h"
#include "core/backend.h"
#include "core/error.h"
#include "geometry/isosurface.h"
#include "geometry/kernels/marching_cubes.h"
#include "geometry/mesh_checks.h"

namespace facet::geometry {
namespace {

using kernels::BlockKey;

// An n^3 grid of unit voxels whose border nodes are outside (+1) and whose interior comes from
// `inner(i, j, k)`.
template <typename Fn>
ScalarGrid PaddedGrid(int n, Fn inner) {
  ScalarGrid grid;
  grid.nx = grid.ny = grid.nz = n;
  grid.values.assign(std::size_t(n) * n * n, 1.0f);
  for (int k = 1; k + 1 < n; ++k) {
    for (int j = 1; j + 1 < n; ++j) {
      for (int i = 1; i + 1 < n; ++i)
        grid.values[(std::size_t(k) * n + j) * n + i] = inner(i, j, k);
    }
  }
  return grid;
}

float SphereSdf(const Eigen::Vector3d& p, double r) { return float(p.norm() - r); }

TEST(MarchingCubesTable, EveryCrossedEdgeIsUsedExactlyTwiceAcrossTheLoops) {
  // For each pattern, the triangles' boundary (edges used once) must be empty after gluing with
  // the faces of the cube: here, equivalently, each crossed lattice edge appears in the table.
  for (int config = 1; config < 255; ++config) {
    int crossed = 0, used = 0;
    for (int e = 0; e < 12; ++e) {
      const int a = kernels::mc_detail::EdgeCorner(e, false),
                b = kernels::mc_detail::EdgeCorner(e, true);
      const bool crosses = ((config >> a) & 1) != ((config >> b) & 1);
      bool appears = false;
      for (int t = 0; t < 3 * kernels::kMcTable.triangle_count[config]; ++t) {
        appears = appears || kernels::kMcTable.edges[config][t] == e;
      }
      crossed += crosses;
      used += appears;
      EXPECT_EQ(crosses, appears) << "config " << config << " edge " << e;
    }
    // A fan over loops of total length `crossed` has crossed - 2 * loops triangles.
    EXPECT_LE(kernels::kMcTable.triangle_count[config], crossed - 2);
    EXPECT_EQ(crossed, used);
  }
}

TEST(MarchingCubes, EverySinglePatternGivesAClosedOrientedSurface) {
  for (int config = 1; config < 256; ++config) {
    // The pattern on the central cell of a 4^3 grid, everything else outside.
    const ScalarGrid grid = PaddedGrid(4, [config](int i, int j, int k) {
      const int corner = (i - 1) + 2 * (j - 1) + 4 * (k - 1);
      return ((config >> corner) & 1) ? -1.0f : 1.0f;
    });
    const TriangleMesh mesh = MarchingCubes(grid);
    const WatertightReport report = CheckWatertight(mesh);
    ASSERT_TRUE(report.watertight) << "config " << config << ": " << report.reason;
    EXPECT_GT(testing::SignedVolume(mesh), 0.0) << "config " << config;
  }
}

TEST(MarchingCubes, RandomFieldsGiveClosedManifoldSurfaces) {
  // Random signs make every ambiguous face configuration occur between neighbouring cells.
  for (std::uint32_t seed = 0; seed < 20; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    const ScalarGrid grid = PaddedGrid(12, [&](int, int, int) { return value(rng); });
    const TriangleMesh mesh = MarchingCubes(grid);
    const WatertightReport report = CheckWatertight(mesh);
    ASSERT_TRUE(report.watertight) << "seed " << seed << ": " << report.reason;
    EXPECT_GT(testing::SignedVolume(mesh), 0.0);
  }
}

TEST(MarchingCubes, SphereIsAccurateAndSmallerThanMarchingTetrahedra) {
  const double r = 0.5, h = 0.05;
  const ScalarGrid grid =
      SampleGrid([r](const Eigen::Vector3d& p) { return SphereSdf(p, r); },
                 Eigen::Vector3d::Constant(-0.7), Eigen::Vector3d::Constant(0.7), h);
  const TriangleMesh mesh = MarchingCubes(grid);
  const WatertightReport report = CheckWatertight(mesh);
  ASSERT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.genus, 0);
  EXPECT_EQ(report.components, 1);
  for (const auto& v : mesh.vertices) EXPECT_NEAR(v.norm(), r, 0.1 * h);
  EXPECT_LT(mesh.triangles.size(), ExtractIsosurface(grid).triangles.size() / 2);
}

TEST(MarchingCubes, TorusHasGenusOne) {
  const ScalarGrid grid = SampleGrid(
      [](const Eigen::Vector3d& p) {
        return static_cast<float>(std::hypot(std::hypot(p.x(), p.y()) - 0.5, p.z()) - 0.2);
      },
      Eigen::Vector3d(-0.8, -0.8, -0.3), Eigen::Vector3d(0.8, 0.8, 0.3), 0.04);
  const WatertightReport report = CheckWatertight(MarchingCubes(grid));
  ASSERT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.genus, 1);
}

TEST(MarchingCubes, ValuesAtTheIsoLevelDoNotBreakTheSurface) {
  // Many nodes exactly at the iso-value: vertices stay distinct and the surface stays closed.
  const ScalarGrid grid = PaddedGrid(10, [](int i, int j, int k) {
    return float((i + j + k) % 3) - 1.0f;  // -1, 0, 1
  });
  const WatertightReport report = CheckWatertight(MarchingCubes(grid));
  EXPECT_TRUE(report.watertight) << report.reason;
}

// A block grid holding the sphere's distance on the voxels within `band` voxels of it, known
// only where `observed(p)` holds.
VoxelBlockGrid SphereBand(double r, double h, double band, bool color,
                          const std::function<bool(const Eigen::Vector3d&)>& observed) {
  VoxelBlockGrid grid(h, color);
  const int n = int(std::ceil((r + band * h) / h)) + 1;
  for (int z = -n; z <= n; ++z) {
    for (int y = -n; y <= n; ++y) {
      for (int x = -n; x <= n; ++x) {
        const Eigen::Vector3i voxel(x, y, z);
        const Eigen::Vector3d p = grid.VoxelCenter(voxel);
        const float d = SphereSdf(p, r);
        if (std::abs(d) > band * h || !observed(p)) continue;
        const BlockKey key = VoxelBlockGrid::BlockOfVoxel(voxel);
        const std::int32_t b = grid.Insert(key);
        const int local = kernels::LocalVoxelIndex(x - 8 * key.x, y - 8 * key.y, z - 8 * key.z);
        grid.sdf(b)[local] = d;
        grid.weight(b)[local] = 1.0f;
        if (color) {
          // A colour linear in position, so interpolation along edges reproduces it.
          float* c = grid.color(b) + 3 * local;
          c[0] = float(0.5 + 0.4 * p.x());
          c[1] = float(0.5 + 0.4 * p.y());
          c[2] = float(0.5 + 0.4 * p.z());
        }
      }
    }
  }
  return grid;
}

TEST(ExtractSurface, NarrowBandSphereMatchesTheDenseResult) {
  const double r = 0.52, h = 0.05;
  const VoxelBlockGrid grid = SphereBand(r, h, 3.0, false, [](const auto&) { return true; });
  const TriangleMesh closed = ExtractSurface(grid);
  const WatertightReport report = CheckWatertight(closed);
  ASSERT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.genus, 0);
  for (const auto& v : closed.vertices) EXPECT_NEAR(v.norm(), r, 0.1 * h);
  // The band holds the whole surface, so open extraction finds the same triangles.
  SurfaceExtractionOptions open;
  open.unknown = SurfaceExtractionOptions::Unknown::kOpen;
  EXPECT_EQ(ExtractSurface(grid, open).triangles.size(), closed.triangles.size());
  // And the dense extraction of the same field agrees.
  const ScalarGrid dense =
      SampleGrid([r](const Eigen::Vector3d& p) { return SphereSdf(p, r); },
                 Eigen::Vector3d::Constant(-0.7), Eigen::Vector3d::Constant(0.7), h);
  EXPECT_EQ(MarchingCubes(dense).triangles.size(), closed.triangles.size());
}

TEST(ExtractSurface, ClosesAPartlyObservedSurfaceAndOpenModeDoesNot) {
  const double r = 0.5, h = 0.04;
  // Only the upper part of the sphere was observed, as a scan from above.
  const VoxelBlockGrid grid =
      SphereBand(r, h, 3.0, true, [](const Eigen::Vector3d& p) { return p.z() > -0.2; });
  const TriangleMesh closed = ExtractSurface(grid);
  const WatertightReport report = CheckWatertight(closed);
  ASSERT_TRUE(report.watertight) << report.reason;
  EXPECT_GT(testing::SignedVolume(closed), 0.0);
  // The unobserved bottom closes between the observed band and the edge of the volume, as one
  // surface with the observed part: every vertex is on the observed sphere or in the lower
  // half, where the sphere was not seen, and none is outside the volume.
  for (const auto& v : closed.vertices) {
    const bool on_sphere = std::abs(v.norm() - r) < 0.1 * h;
    EXPECT_TRUE(on_sphere || v.z() < 0.0) << v.transpose();
    EXPECT_LT(v.norm(), r + 12 * h) << v.transpose();
  }
  EXPECT_EQ(report.components, 1);
  EXPECT_EQ(report.genus, 0);
  // The observed outer surface is all there: points on the sphere above the cut are close to
  // some vertex.
  for (int k = 0; k < 200; ++k) {
    const double theta = 0.1 + 1.4 * k / 200.0, phi = 0.7 * k;
    const Eigen::Vector3d p = r * Eigen::Vector3d(std::sin(theta) * std::cos(phi),
                                                  std::sin(theta) * std::sin(phi), std::cos(theta));
    double nearest = 1e9;
    for (const auto& v : closed.vertices) nearest = std::min(nearest, (v - p).norm());
    EXPECT_LT(nearest, h);
  }
  SurfaceExtractionOptions open_options;
  open_options.unknown = SurfaceExtractionOptions::Unknown::kOpen;
  const TriangleMesh open = ExtractSurface(grid, open_options);
  const WatertightReport open_report = CheckWatertight(open);
  EXPECT_FALSE(open_report.watertight);
  EXPECT_GT(open_report.boundary_edges, 0);
  EXPECT_LT(open.triangles.size(), closed.triangles.size());
  // Colours were linear in position: vertices on edges between two observed voxels carry them.
  ASSERT_EQ(open.vertex_colors.size(), open.vertices.size());
  for (std::size_t v = 0; v < open.vertices.size(); ++v) {
    if (open.vertices[v].z() < -0.1) continue;
    EXPECT_NEAR(open.vertex_colors[v].x(), 0.5 + 0.4 * open.vertices[v].x(), 1e-4);
    EXPECT_NEAR(open.vertex_colors[v].z(), 0.5 + 0.4 * open.vertices[v].z(), 1e-4);
  }
}

TEST(ExtractSurface, NestedShellsAndDeterminism) {
  // A hollow ball (two concentric spheres) gives two closed components, the inner one facing in.
  const double h = 0.04;
  VoxelBlockGrid grid(h);
  const int n = 20;
  for (int z = -n; z <= n; ++z) {
    for (int y = -n; y <= n; ++y) {
      for (int x = -n; x <= n; ++x) {
        const Eigen::Vector3d p = h * Eigen::Vector3d(x, y, z);
        const float d = float(std::max(p.norm() - 0.7, 0.4 - p.norm()));
        if (std::abs(d) > 3 * h) continue;
        const BlockKey key = VoxelBlockGrid::BlockOfVoxel({x, y, z});
        const std::int32_t b = grid.Insert(key);
        const int local = kernels::LocalVoxelIndex(x - 8 * key.x, y - 8 * key.y, z - 8 * key.z);
        grid.sdf(b)[local] = d;
        grid.weight(b)[local] = 1.0f;
      }
    }
  }
  const TriangleMesh a = ExtractSurface(grid), b = ExtractSurface(grid);
  const WatertightReport report = CheckWatertight(a);
  ASSERT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 2);
  const double expected = 4.0 / 3.0 * M_PI * (0.7 * 0.7 * 0.7 - 0.4 * 0.4 * 0.4);
  EXPECT_NEAR(testing::SignedVolume(a), expected, 0.03 * expected);
  ASSERT_EQ(a.vertices.size(), b.vertices.size());
  ASSERT_EQ(a.triangles.size(), b.triangles.size());
  for (std::size_t t = 0; t < a.triangles.size(); ++t) ASSERT_EQ(a.triangles[t], b.triangles[t]);
}

TEST(ExtractSurface, ClosesThroughUnallocatedSpace) {
  // A fine band seen only on a cap: the sides meet in space no block covers, where the surface
  // is made of block faces. Still closed, and the cap is where it was observed.
  const double r = 0.5, h = 0.01;
  const VoxelBlockGrid grid =
      SphereBand(r, h, 3.0, false, [](const Eigen::Vector3d& p) { return p.z() > 0.3; });
  const TriangleMesh mesh = ExtractSurface(grid);
  const WatertightReport report = CheckWatertight(mesh);
  ASSERT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 1);
  for (const auto& v : mesh.vertices) {
    if (v.z() > 0.32 && v.norm() > r - h) {
      EXPECT_NEAR(v.norm(), r, 0.1 * h);
    }
  }
}

TEST(ExtractSurface, ThinLayerOfBlocksIsClosed) {
  // One block thick and many wide: closing visits up to 7 neighbours per allocated block (a
  // regression test for the processed-block table filling up).
  const double h = 0.01;
  VoxelBlockGrid grid(h);
  for (int z = 0; z < 8; ++z) {
    for (int y = 0; y < 64; ++y) {
      for (int x = 0; x < 32; ++x) {
        const BlockKey key = VoxelBlockGrid::BlockOfVoxel({x, y, z});
        const std::int32_t b = grid.Insert(key);
        const int local = kernels::LocalVoxelIndex(x - 8 * key.x, y - 8 * key.y, z - 8 * key.z);
        grid.sdf(b)[local] = float(h * (std::abs(z - 3.5) - 2.0));  // a slab 4 voxels thick
        grid.weight(b)[local] = 1.0f;
      }
    }
  }
  ASSERT_EQ(grid.block_count(), 32);
  const WatertightReport report = CheckWatertight(ExtractSurface(grid));
  EXPECT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 1);
}

TEST(ExtractSurface, EmptyAndBadInput) {
  EXPECT_TRUE(ExtractSurface(VoxelBlockGrid(0.1)).triangles.empty());
  SurfaceExtractionOptions options;
  options.min_weight = -1.0f;
  EXPECT_THROW(ExtractSurface(VoxelBlockGrid(0.1), options), Error);
  EXPECT_THROW(VoxelBlockGrid(0.0), Error);
  EXPECT_THROW(VoxelBlockGrid(std::nan("")), Error);
  VoxelBlockGrid grid(0.1);
  EXPECT_THROW(grid.Insert(BlockKey{1 << 29, 0, 0}), Error);
  // The CUDA backend needs a CUDA build and a device; without them the options say so.
  if (CudaDeviceCount() == 0) {
    SurfaceExtractionOptions cuda;
    cuda.backend = Backend::kCuda;
    try {
      ExtractSurface(VoxelBlockGrid(0.1), cuda);
      ADD_FAILURE() << "the CUDA backend was accepted without a device";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("use the CPU backend"), std::string::npos) << e.what();
    }
  }
  ScalarGrid dense;
  dense.nx = dense.ny = dense.nz = 3;
  dense.values.assign(5, 0.0f);
  EXPECT_THROW(MarchingCubes(dense), Error);
}

TEST(VoxelBlockGrid, InsertFindAndGrow) {
  VoxelBlockGrid grid(0.01, true);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(grid.Insert(BlockKey{i, -i, 3 * i}), i);
  EXPECT_EQ(grid.block_count(), 1000);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(grid.Find(BlockKey{i, -i, 3 * i}), i);
  EXPECT_EQ(grid.Find(BlockKey{5, 5, 5}), -1);
  EXPECT_EQ(grid.Insert(BlockKey{7, -7, 21}), 7);  // already there
  grid.sdf(7)[0] = -0.5f;
  grid.weight(7)[0] = 2.0f;
  const auto sample = grid.At(Eigen::Vector3i(56, -56, 168));
  EXPECT_EQ(sample.sdf, -0.5f);
  EXPECT_EQ(sample.weight, 2.0f);
  EXPECT_EQ(grid.At(Eigen::Vector3i(-1, -1, -1)).weight, 0.0f);
  EXPECT_EQ(VoxelBlockGrid::BlockOfVoxel({-1, -8, -9}).x, -1);
  EXPECT_EQ(VoxelBlockGrid::BlockOfVoxel({-1, -8, -9}).y, -1);
  EXPECT_EQ(VoxelBlockGrid::BlockOfVoxel({-1, -8, -9}).z, -2);
  EXPECT_GT(grid.MemoryBytes(), 1000u * 512u * 5u * sizeof(float));
}

}  // namespace
}  // namespace facet::geometry
