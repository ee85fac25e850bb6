// ExtractSurface's CUDA path against the CPU one: the same plan and the same per-node and per-loop
// math (kernels/marching_cubes.h, the .cu built without fused multiply-adds), so the meshes must
// be equal array for array: vertices, colours and triangles, in the same order. Skipped without a
// CUDA device.
#include "geometry/cuda/marching_cubes_cuda.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "core/backend.h"
#include "core/error.h"
#include "geometry/marching_cubes.h"
#include "geometry/mesh_checks.h"

namespace facet::geometry {
namespace {

using kernels::BlockKey;

// Sets voxel (x, y, z) of `grid` (allocating its block) to `sdf` with `weight`; colour from p.
void SetVoxel(VoxelBlockGrid& grid, int x, int y, int z, float sdf, float weight) {
  const BlockKey key = VoxelBlockGrid::BlockOfVoxel({x, y, z});
  const std::int32_t b = grid.Insert(key);
  const int local = kernels::LocalVoxelIndex(x - 8 * key.x, y - 8 * key.y, z - 8 * key.z);
  grid.sdf(b)[local] = sdf;
  grid.weight(b)[local] = weight;
  if (grid.has_color()) {
    const Eigen::Vector3d p = grid.VoxelCenter({x, y, z});
    float* c = grid.color(b) + 3 * local;
    c[0] = float(0.5 + 0.4 * p.x());
    c[1] = float(0.5 + 0.4 * p.y());
    c[2] = float(0.5 + 0.4 * p.z());
  }
}

// The distance to a sphere of radius r on the voxels within `band` voxels of it where
// `observed(p)`.
VoxelBlockGrid SphereBand(double r, double h, double band, bool color,
                          const std::function<bool(const Eigen::Vector3d&)>& observed) {
  VoxelBlockGrid grid(h, color);
  const int n = int(std::ceil((r + band * h) / h)) + 1;
  for (int z = -n; z <= n; ++z) {
    for (int y = -n; y <= n; ++y) {
      for (int x = -n; x <= n; ++x) {
        const Eigen::Vector3d p = grid.VoxelCenter({x, y, z});
        const auto d = float(p.norm() - r);
        if (std::abs(d) <= band * h && observed(p)) SetVoxel(grid, x, y, z, d, 1.0f);
      }
    }
  }
  return grid;
}

// A wavy, noisy shell with a hole and scattered unknown voxels inside its blocks (random weights,
// some 0), so that closing classifies unknown voxels and blocks, and loops of every length occur.
VoxelBlockGrid NoisyShell(std::uint32_t seed, bool color) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  VoxelBlockGrid grid(0.03, color);
  const int n = 24;
  for (int z = -n; z <= n; ++z) {
    for (int y = -n; y <= n; ++y) {
      for (int x = -n; x <= n; ++x) {
        const double r = 0.03 * std::sqrt(double(x * x + y * y + z * z));
        const auto d = float(r - 0.45 + 0.06 * std::sin(0.7 * x) * std::cos(0.5 * y + 0.3 * z));
        if (std::abs(d) > 0.1f + 0.05f * u(rng) || (x > 10 && y > 5)) continue;
        const float noisy = d + 0.02f * (u(rng) - 0.5f);
        SetVoxel(grid, x, y, z, noisy, u(rng) < 0.1f ? 0.0f : 1.0f + u(rng));
      }
    }
  }
  return grid;
}

void ExpectSameMesh(const TriangleMesh& cpu, const TriangleMesh& cuda) {
  ASSERT_EQ(cpu.vertices.size(), cuda.vertices.size());
  ASSERT_EQ(cpu.vertex_colors.size(), cuda.vertex_colors.size());
  ASSERT_EQ(cpu.triangles.size(), cuda.triangles.size());
  for (std::size_t v = 0; v < cpu.vertices.size(); ++v) {
    ASSERT_EQ(cpu.vertices[v], cuda.vertices[v]) << "vertex " << v;
  }
  for (std::size_t v = 0; v < cpu.vertex_colors.size(); ++v) {
    ASSERT_EQ(cpu.vertex_colors[v], cuda.vertex_colors[v]) << "colour " << v;
  }
  for (std::size_t t = 0; t < cpu.triangles.size(); ++t) {
    ASSERT_EQ(cpu.triangles[t], cuda.triangles[t]) << "triangle " << t;
  }
}

SurfaceExtractionOptions Options(SurfaceExtractionOptions::Unknown unknown, float min_weight = 0) {
  SurfaceExtractionOptions options;
  options.unknown = unknown;
  options.min_weight = min_weight;
  return options;
}

constexpr auto kClose = SurfaceExtractionOptions::Unknown::kClose;
constexpr auto kOpen = SurfaceExtractionOptions::Unknown::kOpen;

TEST(ExtractSurfaceCuda, SphereBandEqualsTheCpuMesh) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  const VoxelBlockGrid grid = SphereBand(0.52, 0.05, 3.0, false, [](const auto&) { return true; });
  for (const auto unknown : {kClose, kOpen}) {
    const TriangleMesh cpu = ExtractSurface(grid, Options(unknown));
    ASSERT_TRUE(CheckWatertight(cpu).watertight);
    ExpectSameMesh(cpu, ExtractSurfaceCuda(grid, Options(unknown)));
  }
}

TEST(ExtractSurfaceCuda, ClosingAPartlyObservedColouredSphereEqualsTheCpuMesh) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  const VoxelBlockGrid grid =
      SphereBand(0.5, 0.04, 3.0, true, [](const Eigen::Vector3d& p) { return p.z() > -0.2; });
  const TriangleMesh cpu = ExtractSurface(grid);
  ASSERT_TRUE(CheckWatertight(cpu).watertight);
  ASSERT_EQ(cpu.vertex_colors.size(), cpu.vertices.size());
  SurfaceExtractionOptions cuda_options;
  cuda_options.backend = Backend::kCuda;  // through the dispatcher this time
  ExpectSameMesh(cpu, ExtractSurface(grid, cuda_options));
  // Open extraction drops the unused vertices the same way.
  ExpectSameMesh(ExtractSurface(grid, Options(kOpen)), ExtractSurfaceCuda(grid, Options(kOpen)));
  // Without colours asked.
  SurfaceExtractionOptions no_colors;
  no_colors.colors = false;
  const TriangleMesh plain = ExtractSurfaceCuda(grid, no_colors);
  EXPECT_TRUE(plain.vertex_colors.empty());
  ExpectSameMesh(ExtractSurface(grid, no_colors), plain);
}

TEST(ExtractSurfaceCuda, NoisyShellsWithUnknownVoxelsEqualTheCpuMesh) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  for (std::uint32_t seed = 0; seed < 2; ++seed) {
    const VoxelBlockGrid grid = NoisyShell(seed, seed == 0);
    for (const auto unknown : {kClose, kOpen}) {
      for (const float min_weight : {0.0f, 1.3f}) {
        const TriangleMesh cpu = ExtractSurface(grid, Options(unknown, min_weight));
        ASSERT_GT(cpu.triangles.size(), 100u);
        ExpectSameMesh(cpu, ExtractSurfaceCuda(grid, Options(unknown, min_weight)));
      }
    }
  }
}

TEST(ExtractSurfaceCuda, EmptyGridsGiveEmptyMeshes) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  EXPECT_TRUE(ExtractSurfaceCuda(VoxelBlockGrid(0.1), {}).vertices.empty());
  // Allocated but never observed: closing finds everything outside, open extraction nothing.
  VoxelBlockGrid unobserved(0.1, true);
  unobserved.Insert(BlockKey{0, 0, 0});
  unobserved.Insert(BlockKey{1, -2, 3});
  for (const auto unknown : {kClose, kOpen}) {
    const TriangleMesh cuda = ExtractSurfaceCuda(unobserved, Options(unknown));
    EXPECT_TRUE(cuda.vertices.empty());
    EXPECT_TRUE(cuda.triangles.empty());
  }
  SurfaceExtractionOptions bad;
  bad.min_weight = -1.0f;
  EXPECT_THROW(ExtractSurfaceCuda(VoxelBlockGrid(0.1), bad), Error);
}

}  // namespace
}  // namespace facet::geometry
