#include "viewer/mesh_pipeline.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "viewer/embedded_shaders.h"
#include "viewer/graphics_pipeline.h"
#include "viewer/projection.h"
#include "viewer/shaders/shader_io.h"

namespace facet::viewer {
namespace {

using shader::MeshVertex;

std::vector<MeshVertex> ToVertices(const std::vector<Eigen::Vector3d>& positions,
                                   const std::vector<Eigen::Vector3d>& normals,
                                   const std::vector<Eigen::Vector3f>& colors) {
  FACET_CHECK(normals.empty() || normals.size() == positions.size(),
              "viewer: {} normals for {} vertices (give one per vertex or none)", normals.size(),
              positions.size());
  FACET_CHECK(colors.empty() || colors.size() == positions.size(),
              "viewer: {} colours for {} vertices (give one per vertex or none)", colors.size(),
              positions.size());
  std::vector<MeshVertex> vertices(positions.size());
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const Eigen::Vector3f p = positions[i].cast<float>();
    vertices[i].position_in_world = {p.x(), p.y(), p.z(), 1.0f};
    if (!normals.empty()) {
      const Eigen::Vector3f n = normals[i].cast<float>();
      vertices[i].normal_in_world = {n.x(), n.y(), n.z(), 1.0f};
    } else {
      vertices[i].normal_in_world = {0.0f, 0.0f, 0.0f, 0.0f};
    }
    const Eigen::Vector3f c =
        colors.empty() ? Eigen::Vector3f::Constant(GpuMesh::kDefaultGray) : colors[i];
    vertices[i].color = {c.x(), c.y(), c.z(), 1.0f};
  }
  return vertices;
}

Buffer UploadVertices(const VulkanContext& context, const std::vector<MeshVertex>& vertices) {
  const auto bytes = std::as_bytes(std::span(vertices));
  Buffer buffer(context, bytes.size(), VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, Buffer::Memory::kDevice);
  buffer.Upload(bytes);
  return buffer;
}

shader::mat4 ToShader(const Eigen::Matrix4d& m) {
  shader::mat4 out;
  const Eigen::Matrix4f f = m.cast<float>();  // column-major, as GLSL's mat4
  std::copy(f.data(), f.data() + 16, out.m);
  return out;
}

}  // namespace

GpuMesh::GpuMesh(const VulkanContext& context, const geometry::TriangleMesh& mesh) {
  const std::vector<MeshVertex> vertices =
      ToVertices(mesh.vertices, mesh.vertex_normals, mesh.vertex_colors);
  std::vector<std::uint32_t> indices;
  indices.reserve(mesh.triangles.size() * 3);
  for (const auto& triangle : mesh.triangles) {
    for (int k = 0; k < 3; ++k) {
      FACET_CHECK(triangle[k] < vertices.size(),
                  "viewer: a triangle uses vertex {} of a mesh with {} vertices", triangle[k],
                  vertices.size());
      indices.push_back(triangle[k]);
    }
  }
  if (vertices.empty() || indices.empty()) return;  // nothing to draw
  vertices_ = UploadVertices(context, vertices);
  indices_ = Buffer(context, indices.size() * sizeof(std::uint32_t),
                    VK_BUFFER_USAGE_INDEX_BUFFER_BIT, Buffer::Memory::kDevice);
  indices_.Upload(std::as_bytes(std::span(indices)));
  vertex_count_ = static_cast<std::uint32_t>(vertices.size());
  index_count_ = static_cast<std::uint32_t>(indices.size());
}

GpuMesh::GpuMesh(const VulkanContext& context, const geometry::PointCloud& cloud) {
  const std::vector<MeshVertex> vertices = ToVertices(cloud.points, cloud.normals, cloud.colors);
  if (vertices.empty()) return;
  vertices_ = UploadVertices(context, vertices);
  vertex_count_ = static_cast<std::uint32_t>(vertices.size());
}

void MeshDrawOptions::Check() const {
  FACET_CHECK(near_m > 0.0, "MeshDrawOptions::near_m must be positive (got {})", near_m);
  FACET_CHECK(light_dir_in_cam.norm() > 0.0, "MeshDrawOptions::light_dir_in_cam must not be 0");
  FACET_CHECK(ambient >= 0.0f && ambient <= 1.0f,
              "MeshDrawOptions::ambient must be in [0, 1] (got {})", ambient);
  FACET_CHECK(point_size_px > 0.0f, "MeshDrawOptions::point_size_px must be positive (got {})",
              point_size_px);
}

MeshPipelines::MeshPipelines(const VulkanContext& context, VkFormat color_format,
                             VkFormat depth_format)
    : context_(context) {
  VkDevice device = context.device();
  VkPushConstantRange push{VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0,
                           sizeof(shader::MeshPushConstants)};
  VkPipelineLayoutCreateInfo layout_info{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  layout_info.pushConstantRangeCount = 1;
  layout_info.pPushConstantRanges = &push;
  CheckVk(vkCreatePipelineLayout(device, &layout_info, nullptr, &layout_),
          "vkCreatePipelineLayout (mesh)");

  const ShaderModule vert(context, EmbeddedShader("mesh.vert"));
  const ShaderModule frag(context, EmbeddedShader("mesh.frag"));
  GraphicsPipelineDesc desc{.layout = layout_,
                            .vertex = vert.handle(),
                            .fragment = frag.handle(),
                            .color_format = color_format,
                            .depth_format = depth_format};
  try {
    desc.topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST;
    triangles_ = CreateGraphicsPipeline(device, desc, "triangles");
    desc.topology = VK_PRIMITIVE_TOPOLOGY_POINT_LIST;
    points_ = CreateGraphicsPipeline(device, desc, "points");
    desc.topology = VK_PRIMITIVE_TOPOLOGY_LINE_LIST;
    lines_ = CreateGraphicsPipeline(device, desc, "lines");
  } catch (...) {
    Destroy();  // the constructor did not finish, so the destructor will not run
    throw;
  }
}

MeshPipelines::~MeshPipelines() { Destroy(); }

void MeshPipelines::Destroy() {
  VkDevice device = context_.device();
  if (lines_ != VK_NULL_HANDLE) vkDestroyPipeline(device, lines_, nullptr);
  if (points_ != VK_NULL_HANDLE) vkDestroyPipeline(device, points_, nullptr);
  if (triangles_ != VK_NULL_HANDLE) vkDestroyPipeline(device, triangles_, nullptr);
  if (layout_ != VK_NULL_HANDLE) vkDestroyPipelineLayout(device, layout_, nullptr);
  lines_ = points_ = triangles_ = VK_NULL_HANDLE;
  layout_ = VK_NULL_HANDLE;
}

void MeshPipelines::DrawTriangles(VkCommandBuffer cmd, const GpuMesh& mesh,
                                  const geometry::Camera& camera,
                                  const geometry::Rigid3& cam_from_world,
                                  const MeshDrawOptions& options) const {
  Draw(cmd, Primitive::kTriangles, mesh, camera, cam_from_world, options);
}

void MeshPipelines::DrawPoints(VkCommandBuffer cmd, const GpuMesh& mesh,
                               const geometry::Camera& camera,
                               const geometry::Rigid3& cam_from_world,
                               const MeshDrawOptions& options) const {
  Draw(cmd, Primitive::kPoints, mesh, camera, cam_from_world, options);
}

void MeshPipelines::DrawLines(VkCommandBuffer cmd, const GpuMesh& lines,
                              const geometry::Camera& camera,
                              const geometry::Rigid3& cam_from_world,
                              const MeshDrawOptions& options) const {
  FACET_CHECK(lines.index_count() == 0,
              "viewer: DrawLines takes the segments' end points as a point cloud GpuMesh, not a "
              "triangle mesh");
  Draw(cmd, Primitive::kLines, lines, camera, cam_from_world, options);
}

void MeshPipelines::Draw(VkCommandBuffer cmd, Primitive primitive, const GpuMesh& mesh,
                         const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                         const MeshDrawOptions& options) const {
  options.Check();
  const bool triangles = primitive == Primitive::kTriangles;
  const std::uint32_t vertex_count =
      primitive == Primitive::kLines ? mesh.vertex_count() / 2 * 2 : mesh.vertex_count();
  if (vertex_count == 0 || (triangles && mesh.index_count() == 0)) return;
  const float* range = context_.properties().limits.pointSizeRange;
  const Eigen::Vector3d light_in_world =
      cam_from_world.rotation.inverse() * options.light_dir_in_cam.normalized();

  shader::MeshPushConstants push{};
  push.clip_from_world = ToShader(ClipFromWorld(camera, cam_from_world, options.near_m));
  push.light_dir_in_world = {float(light_in_world.x()), float(light_in_world.y()),
                             float(light_in_world.z()), options.ambient};
  push.vertices = mesh.vertices().address();
  push.point_size_px = std::clamp(options.point_size_px, range[0], range[1]);
  push.flags = options.lit && triangles ? FACET_MESH_FLAG_LIT : 0u;

  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS,
                    triangles ? triangles_ : (primitive == Primitive::kPoints ? points_ : lines_));
  vkCmdPushConstants(cmd, layout_, VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0,
                     sizeof(push), &push);
  if (!triangles) {
    vkCmdDraw(cmd, vertex_count, 1, 0, 0);
  } else {
    vkCmdBindIndexBuffer(cmd, mesh.indices().handle(), 0, VK_INDEX_TYPE_UINT32);
    vkCmdDrawIndexed(cmd, mesh.index_count(), 1, 0, 0, 0);
  }
}

}  // namespace facet::viewer
