// ExtractSurfaceCuda: plans on the CPU (detail/marching_cubes_plan.h), runs the passes on the
// device (marching_cubes_cuda.cu) and assembles the mesh as the CPU path does.
#include "geometry/cuda/marching_cubes_cuda.h"

#include <cstdint>

#include "core/error.h"
#include "geometry/detail/marching_cubes_plan.h"
#include "geometry/marching_cubes.h"

namespace facet::geometry {

// The mesh's arrays are downloaded in place: 3 doubles per vertex, 3 floats per colour, 3 indices
// per triangle.
static_assert(sizeof(Eigen::Vector3d) == 3 * sizeof(double));
static_assert(sizeof(Eigen::Vector3f) == 3 * sizeof(float));
static_assert(sizeof(Eigen::Matrix<std::uint32_t, 3, 1>) == 3 * sizeof(std::uint32_t));

TriangleMesh ExtractSurfaceCuda(const VoxelBlockGrid& grid,
                                const SurfaceExtractionOptions& options) {
  SurfaceExtractionOptions cuda_options = options;
  cuda_options.backend = Backend::kCuda;
  cuda_options.Check();
  TriangleMesh mesh;
  if (grid.block_count() == 0) return mesh;
  const detail::SurfacePlan plan = detail::PlanSurfaceExtraction(grid, options);

  detail::McCudaInput input;
  input.voxels = plan.HostVoxels(grid, options);
  input.grid_voxels = grid.block_count() * kernels::kBlockVoxels;
  input.blocks = plan.blocks.data();
  input.neighbors = plan.neighbors.data();
  input.block_count = std::int64_t(plan.blocks.size());
  input.voxel_size = grid.voxel_size();

  detail::McDeviceExtraction device;
  const std::int64_t vertices = device.Count(input);
  FACET_CHECK(vertices < std::int64_t(0xFFFFFFFFll),
              "the extracted surface has {} vertices, more than 2^32 - 1", vertices);
  mesh.vertices.resize(std::size_t(vertices));
  if (plan.with_color) mesh.vertex_colors.resize(std::size_t(vertices));
  mesh.triangles.resize(std::size_t(device.triangle_count()));
  device.Extract(mesh.vertices.empty() ? nullptr : mesh.vertices.front().data(),
                 mesh.vertex_colors.empty() ? nullptr : mesh.vertex_colors.front().data(),
                 mesh.triangles.empty() ? nullptr : mesh.triangles.front().data());
  if (!plan.close) detail::RemoveUnusedVertices(mesh);
  return mesh;
}

}  // namespace facet::geometry
