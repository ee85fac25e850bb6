#include "geometry/marching_cubes.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/backend.h"
#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/detail/marching_cubes_plan.h"
#include "geometry/kernels/marching_cubes.h"

#if defined(FACET_WITH_CUDA)
#include "geometry/cuda/marching_cubes_cuda.h"
#endif

namespace facet::geometry {
namespace {

using kernels::BlockKey;
using kernels::kBlockSize;
using kernels::kMcTable;
using Triangle = Eigen::Matrix<std::uint32_t, 3, 1>;
using Apron = std::array<kernels::McApronNode, kernels::kMcApronNodes>;

struct BlockOutput {
  std::vector<std::uint16_t> edge_slots;  // local node * 3 + axis of the edges this block owns
  std::vector<Eigen::Vector3d> vertices;  // on those edges (pass 1)
  std::vector<Eigen::Vector3f> colors;
  std::vector<Eigen::Vector3d> centroid_vertices;  // loops' centroids (pass 2), after them
  std::vector<Eigen::Vector3f> centroid_colors;
  std::vector<Triangle> triangles;
  std::size_t edge_vertices = 0;
  std::size_t centroids = 0;  // counted in pass 1
};

// The CPU path; the CUDA one (cuda/marching_cubes_cuda.cu) runs the same steps as kernels.
TriangleMesh ExtractSurfaceCpu(const VoxelBlockGrid& grid,
                               const SurfaceExtractionOptions& options) {
  TriangleMesh mesh;
  if (grid.block_count() == 0) return mesh;
  const detail::SurfacePlan plan = detail::PlanSurfaceExtraction(grid, options);
  const std::vector<BlockKey>& blocks = plan.blocks;
  const bool with_color = plan.with_color;
  const kernels::McVoxelArrays voxels = plan.HostVoxels(grid, options);

  const auto fill_apron = [&](std::int64_t b, Apron& apron) {
    for (int k = 0; k < kernels::kMcApron; ++k) {
      for (int j = 0; j < kernels::kMcApron; ++j) {
        for (int i = 0; i < kernels::kMcApron; ++i) {
          apron[kernels::McApronIndex(i, j, k)] =
              kernels::McLoadApronNode(voxels, plan.neighbors[std::size_t(b)], i, j, k);
        }
      }
    }
  };

  std::vector<BlockOutput> outputs(blocks.size());
  // Pass 1: the vertices on the edges each block owns (edges starting at its nodes).
  ParallelFor(std::int64_t(blocks.size()), [&](std::int64_t b) {
    Apron apron;
    fill_apron(b, apron);
    BlockOutput& out = outputs[b];
    for (int k = 0; k < kBlockSize; ++k) {
      for (int j = 0; j < kBlockSize; ++j) {
        for (int i = 0; i < kBlockSize; ++i) {
          const int crossed = kernels::McNodeCrossedEdges(apron.data(), i, j, k);
          for (int axis = 0; axis < 3; ++axis) {
            if (!(crossed & (1 << axis))) continue;
            Eigen::Vector3d position;
            Eigen::Vector3f color;
            kernels::McEdgeVertex(apron.data(), i, j, k, axis, blocks[b], grid.voxel_size(),
                                  position.data(), with_color ? color.data() : nullptr);
            out.edge_slots.push_back(std::uint16_t(kernels::LocalVoxelIndex(i, j, k) * 3 + axis));
            out.vertices.push_back(position);
            if (with_color) out.colors.push_back(color);
          }
        }
      }
    }
    out.edge_vertices = out.vertices.size();
    for (int k = 0; k < kBlockSize; ++k) {
      for (int j = 0; j < kBlockSize; ++j) {
        for (int i = 0; i < kBlockSize; ++i) {
          const int config = kernels::McCellConfig(apron.data(), i, j, k);
          if (config >= 0) out.centroids += kMcTable.centroid_loops[config];
        }
      }
    }
  });

  std::vector<std::uint32_t> base(blocks.size() + 1, 0);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const std::uint64_t next =
        std::uint64_t(base[b]) + outputs[b].edge_vertices + outputs[b].centroids;
    FACET_CHECK(next < 0xFFFFFFFFull, "the extracted surface has more than 2^32 vertices");
    base[b + 1] = std::uint32_t(next);
  }

  // Pass 2: triangles, with each cell edge's vertex looked up in the block owning the edge.
  ParallelFor(std::int64_t(blocks.size()), [&](std::int64_t b) {
    Apron apron;
    fill_apron(b, apron);
    const kernels::McBlockNeighbors& neighbors = plan.neighbors[std::size_t(b)];
    BlockOutput& out = outputs[b];
    for (int k = 0; k < kBlockSize; ++k) {
      for (int j = 0; j < kBlockSize; ++j) {
        for (int i = 0; i < kBlockSize; ++i) {
          const int config = kernels::McCellConfig(apron.data(), i, j, k);
          if (config < 0 || kMcTable.loop_count[config] == 0) continue;
          std::uint32_t edge_vertex[12];
          const double* edge_position[12];
          const float* edge_color[12];
          const auto resolve = [&](int e) {
            const kernels::McEdgeOwner owner = kernels::McCellEdgeOwner(e, i, j, k);
            const std::int32_t nb = neighbors.processed[owner.octant];
            FACET_CHECK(nb >= 0, "marching cubes: a crossed edge has no owning block");
            const auto slot = std::uint16_t(owner.node * 3 + owner.axis);
            const auto& slots = outputs[nb].edge_slots;
            const auto it = std::lower_bound(slots.begin(), slots.end(), slot);
            FACET_CHECK(it != slots.end() && *it == slot,
                        "marching cubes: a crossed edge has no vertex");
            const auto rank = std::size_t(it - slots.begin());
            edge_vertex[e] = base[nb] + std::uint32_t(rank);
            edge_position[e] = outputs[nb].vertices[rank].data();
            edge_color[e] = with_color ? outputs[nb].colors[rank].data() : nullptr;
          };
          int offset = 0;
          for (int l = 0; l < kMcTable.loop_count[config]; ++l) {
            const int n = kMcTable.loop_length[config][l];
            const std::int8_t* loop = &kMcTable.loop_edges[config][offset];
            offset += n;
            for (int q = 0; q < n; ++q) resolve(loop[q]);
            const auto center =
                base[b] + std::uint32_t(out.edge_vertices + out.centroid_vertices.size());
            std::uint32_t triangles[3 * 12];
            Eigen::Vector3d centroid;
            Eigen::Vector3f centroid_color;
            kernels::McTriangulateLoop(loop, n, edge_vertex, edge_position, edge_color, center,
                                       triangles, centroid.data(), centroid_color.data());
            const int count = kernels::McLoopTriangleCount(loop, n);
            for (int t = 0; t < count; ++t) {
              out.triangles.emplace_back(triangles[3 * t], triangles[3 * t + 1],
                                         triangles[3 * t + 2]);
            }
            if (kernels::McLoopNeedsCentroid(loop, n)) {
              out.centroid_vertices.push_back(centroid);
              if (with_color) out.centroid_colors.push_back(centroid_color);
            }
          }
        }
      }
    }
  });

  mesh.vertices.resize(base.back());
  if (with_color) mesh.vertex_colors.resize(base.back());
  for (const BlockOutput& out : outputs) {
    FACET_CHECK(out.centroid_vertices.size() == out.centroids,
                "marching cubes: centroid count mismatch");
  }
  std::vector<std::size_t> triangle_base(blocks.size() + 1, 0);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    triangle_base[b + 1] = triangle_base[b] + outputs[b].triangles.size();
  }
  mesh.triangles.resize(triangle_base.back());
  ParallelFor(std::int64_t(blocks.size()), [&](std::int64_t b) {
    const BlockOutput& out = outputs[b];
    std::copy(out.vertices.begin(), out.vertices.end(), mesh.vertices.begin() + base[b]);
    std::copy(out.centroid_vertices.begin(), out.centroid_vertices.end(),
              mesh.vertices.begin() + base[b] + std::ptrdiff_t(out.edge_vertices));
    if (with_color) {
      std::copy(out.colors.begin(), out.colors.end(), mesh.vertex_colors.begin() + base[b]);
      std::copy(out.centroid_colors.begin(), out.centroid_colors.end(),
                mesh.vertex_colors.begin() + base[b] + std::ptrdiff_t(out.edge_vertices));
    }
    std::copy(outputs[b].triangles.begin(), outputs[b].triangles.end(),
              mesh.triangles.begin() + std::ptrdiff_t(triangle_base[b]));
  });

  if (!plan.close) detail::RemoveUnusedVertices(mesh);
  return mesh;
}

}  // namespace

void SurfaceExtractionOptions::Check() const {
  FACET_CHECK(std::isfinite(min_weight) && min_weight >= 0.0f,
              "surface extraction: min_weight must be >= 0 and finite, got {}", min_weight);
  if (backend == Backend::kCuda) {
    FACET_CHECK(CudaBuilt(),
                "surface extraction on CUDA asked, but this facet was built without CUDA: use "
                "the CPU backend");
    FACET_CHECK(CudaDeviceCount() > 0,
                "surface extraction on CUDA asked, but no CUDA device is available: use the CPU "
                "backend");
  }
}

TriangleMesh ExtractSurface(const VoxelBlockGrid& grid, const SurfaceExtractionOptions& options) {
  options.Check();
#if defined(FACET_WITH_CUDA)
  if (options.backend == Backend::kCuda) return ExtractSurfaceCuda(grid, options);
#endif
  return ExtractSurfaceCpu(grid, options);
}

}  // namespace facet::geometry

namespace facet::geometry {

TriangleMesh MarchingCubes(const ScalarGrid& grid, float iso) {
  FACET_CHECK(grid.values.size() == std::size_t(grid.nx) * grid.ny * grid.nz,
              "scalar grid has {} values for {} x {} x {} nodes", grid.values.size(), grid.nx,
              grid.ny, grid.nz);
  FACET_CHECK(std::isfinite(iso), "marching cubes: the iso-value must be finite");
  // Copy into a block grid (node (i, j, k) -> voxel (i, j, k)) and extract without closing:
  // the cells are exactly the grid's.
  VoxelBlockGrid blocks(grid.voxel_size);
  const auto blocks_along = [](int n) { return (n + kBlockSize - 1) / kBlockSize; };
  const int bx = blocks_along(grid.nx), by = blocks_along(grid.ny), bz = blocks_along(grid.nz);
  blocks.Reserve(std::int64_t(bx) * by * bz);
  for (int k = 0; k < bz; ++k) {
    for (int j = 0; j < by; ++j) {
      for (int i = 0; i < bx; ++i) blocks.Insert(BlockKey{i, j, k});
    }
  }
  ParallelFor(blocks.block_count(), [&](std::int64_t b) {
    const BlockKey key = blocks.key(std::int32_t(b));
    float* sdf = blocks.sdf(std::int32_t(b));
    float* weight = blocks.weight(std::int32_t(b));
    for (int k = 0; k < kBlockSize; ++k) {
      for (int j = 0; j < kBlockSize; ++j) {
        for (int i = 0; i < kBlockSize; ++i) {
          const int x = key.x * kBlockSize + i, y = key.y * kBlockSize + j,
                    z = key.z * kBlockSize + k;
          if (x >= grid.nx || y >= grid.ny || z >= grid.nz) continue;
          const float value = grid.at(x, y, z);
          if (!std::isfinite(value)) continue;  // unknown: its cells produce nothing
          const int local = kernels::LocalVoxelIndex(i, j, k);
          sdf[local] = value - iso;
          weight[local] = 1.0f;
        }
      }
    }
  });
  SurfaceExtractionOptions options;
  options.unknown = SurfaceExtractionOptions::Unknown::kOpen;
  TriangleMesh mesh = ExtractSurface(blocks, options);
  for (Eigen::Vector3d& v : mesh.vertices) v += grid.origin;
  return mesh;
}

}  // namespace facet::geometry
