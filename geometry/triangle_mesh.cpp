#include "geometry/triangle_mesh.h"

namespace facet::geometry {

void TriangleMesh::Check() const {
  const std::size_t n = vertices.size();
  for (std::size_t t = 0; t < triangles.size(); ++t) {
    for (int k = 0; k < 3; ++k) {
      FACET_CHECK(triangles[t][k] < n, "triangle {} refers to vertex {}, but the mesh has {}", t,
                  triangles[t][k], n);
    }
  }
  FACET_CHECK(vertex_normals.empty() || vertex_normals.size() == n,
              "mesh has {} vertex normals for {} vertices", vertex_normals.size(), n);
  FACET_CHECK(vertex_colors.empty() || vertex_colors.size() == n,
              "mesh has {} vertex colours for {} vertices", vertex_colors.size(), n);
}

void TriangleMesh::ComputeVertexNormals() {
  vertex_normals.assign(vertices.size(), Eigen::Vector3d::Zero());
  for (const auto& t : triangles) {
    // The cross product's length is twice the area: area weighting for free.
    const Eigen::Vector3d n =
        (vertices[t[1]] - vertices[t[0]]).cross(vertices[t[2]] - vertices[t[0]]);
    for (int k = 0; k < 3; ++k) vertex_normals[t[k]] += n;
  }
  for (auto& n : vertex_normals) {
    const double norm = n.norm();
    n = norm > 0.0 ? Eigen::Vector3d(n / norm) : Eigen::Vector3d::UnitZ();
  }
}

double TriangleMesh::SurfaceArea() const {
  double area = 0.0;
  for (const auto& t : triangles) {
    area += 0.5 * (vertices[t[1]] - vertices[t[0]]).cross(vertices[t[2]] - vertices[t[0]]).norm();
  }
  return area;
}

}  // namespace facet::geometry
