// Meshes (vertex colours, two-sided Lambert shading), point clouds and line segments (camera
// frustums, a grid: viewer/scene_lines.h) drawn with three graphics pipelines (triangle, point and
// line lists) over one pair of shaders (shaders/mesh.{vert,frag}).
// Vertices live in a storage buffer of shader::MeshVertex read through its device address.
#pragma once

#include <Eigen/Core>
#include <vulkan/vulkan.h>

#include <cstdint>

#include "geometry/camera.h"
#include "geometry/point_cloud.h"
#include "geometry/rigid3.h"
#include "geometry/triangle_mesh.h"
#include "viewer/vulkan_context.h"
#include "viewer/vulkan_resources.h"

namespace facet::viewer {

// A mesh or point cloud copied to the GPU. Missing colours become kDefaultGray; missing normals
// make the fragment shader use face normals.
class GpuMesh {
 public:
  static constexpr float kDefaultGray = 0.7f;

  GpuMesh() = default;
  // Throws facet::Error when a triangle indexes past the vertices or an attribute array is
  // neither empty nor one per vertex.
  GpuMesh(const VulkanContext& context, const geometry::TriangleMesh& mesh);
  GpuMesh(const VulkanContext& context, const geometry::PointCloud& cloud);

  std::uint32_t vertex_count() const { return vertex_count_; }
  std::uint32_t index_count() const { return index_count_; }  // 0 for point clouds
  const Buffer& vertices() const { return vertices_; }
  const Buffer& indices() const { return indices_; }

 private:
  Buffer vertices_;
  Buffer indices_;
  std::uint32_t vertex_count_ = 0;
  std::uint32_t index_count_ = 0;
};

struct MeshDrawOptions {
  double near_m = 0.01;                              // near plane; > 0
  Eigen::Vector3d light_dir_in_cam{0.0, 0.0, -1.0};  // towards the light; a headlight
  float ambient = 0.3f;                              // [0, 1]: light where n . l = 0
  bool lit = true;                                   // false: the vertex colours as is
  float point_size_px = 1.0f;  // points only; clamped to the device's pointSizeRange

  // Throws facet::Error naming the field out of range.
  void Check() const;
};

class MeshPipelines {
 public:
  // Pipelines for dynamic rendering into `color_format` + `depth_format` (OffscreenTarget's, or
  // a swapchain's), reversed-Z depth (GREATER), no culling.
  MeshPipelines(const VulkanContext& context, VkFormat color_format, VkFormat depth_format);
  ~MeshPipelines();
  MeshPipelines(const MeshPipelines&) = delete;
  MeshPipelines& operator=(const MeshPipelines&) = delete;

  // Record inside a dynamic rendering pass whose viewport is the camera's image (W x H). An
  // empty mesh records nothing. DrawTriangles needs a TriangleMesh GpuMesh; DrawPoints draws
  // the vertices of either kind. DrawLines draws a PointCloud GpuMesh's vertices as segments
  // (0-1, 2-3, ...: an odd last vertex is left out), unlit, 1 pixel wide.
  void DrawTriangles(VkCommandBuffer cmd, const GpuMesh& mesh, const geometry::Camera& camera,
                     const geometry::Rigid3& cam_from_world, const MeshDrawOptions& options) const;
  void DrawPoints(VkCommandBuffer cmd, const GpuMesh& mesh, const geometry::Camera& camera,
                  const geometry::Rigid3& cam_from_world, const MeshDrawOptions& options) const;
  void DrawLines(VkCommandBuffer cmd, const GpuMesh& lines, const geometry::Camera& camera,
                 const geometry::Rigid3& cam_from_world, const MeshDrawOptions& options) const;

 private:
  enum class Primitive { kTriangles, kPoints, kLines };
  void Draw(VkCommandBuffer cmd, Primitive primitive, const GpuMesh& mesh,
            const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
            const MeshDrawOptions& options) const;
  void Destroy();

  const VulkanContext& context_;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline triangles_ = VK_NULL_HANDLE;
  VkPipeline points_ = VK_NULL_HANDLE;
  VkPipeline lines_ = VK_NULL_HANDLE;
};

}  // namespace facet::viewer
