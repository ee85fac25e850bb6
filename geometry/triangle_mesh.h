// TriangleMesh: an indexed triangle mesh, counter-clockwise triangles seen from outside (so the
// right-hand normal points out), with optional per-vertex normals and colours.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>

#include <cstdint>
#include <vector>

#include "geometry/point_cloud.h"

namespace facet::geometry {

struct TriangleMesh {
  std::vector<Eigen::Vector3d> vertices{};
  std::vector<Eigen::Matrix<std::uint32_t, 3, 1>> triangles{};  // vertex indices
  std::vector<Eigen::Vector3d> vertex_normals{};                // unit length, or empty
  std::vector<Eigen::Vector3f> vertex_colors{};                 // linear RGB in [0, 1], or empty

  bool HasVertexNormals() const { return !vertex_normals.empty(); }
  bool HasVertexColors() const { return !vertex_colors.empty(); }

  // Throws facet::Error for an index out of range or attributes not one per vertex.
  void Check() const;
  // Area-weighted vertex normals from the triangles (replaces vertex_normals).
  void ComputeVertexNormals();
  double SurfaceArea() const;
};

}  // namespace facet::geometry
