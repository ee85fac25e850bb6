// The built-in synthetic world: a closed object of known geometry on a ground plane inside a
// textured room, in metres, z up, floor at z = 0.
//
// The object is one connected solid described by a signed distance field (negative inside): a
// tray carrying a mug (open cavity, torus handle), a ball and a block with a spherical dent, so it
// has concavities, a through-hole and thin parts. Every surface carries multi-scale procedural
// texture so that feature matching works everywhere, as on a real photo set.
#pragma once

#include <Eigen/Core>

#include <cstdint>

#include "geometry/point_cloud.h"
#include "geometry/triangle_mesh.h"

namespace facet::datasets::synthetic {

// Signed distance (metres) to the object's surface, negative inside.
double ObjectSdf(const Eigen::Vector3d& x_in_world);
// Outward unit normal at a point on (or near) the surface, from the field's gradient.
Eigen::Vector3d ObjectNormal(const Eigen::Vector3d& x_in_world);
// Axis-aligned bounds containing the object.
geometry::Bounds3 ObjectBounds();
// The point the cameras look at (centre of the object's bulk).
Eigen::Vector3d ObjectCenter();

// The object's surface as a closed, watertight, outward-oriented triangle mesh, extracted from
// the field on a grid of `voxel_size` metres (the renderer draws exactly this mesh, so it is the
// ground truth for meshing and Chamfer scores).
geometry::TriangleMesh MakeObjectMesh(double voxel_size);

// Linear RGB albedo in [0, 1] of the object's surface at a point.
Eigen::Vector3f ObjectAlbedo(const Eigen::Vector3d& x_in_world, std::uint32_t seed);

// The room: an axis-aligned box whose inside faces are the floor (z = 0), four walls and the
// ceiling. A ray from inside hits exactly one of them.
struct RoomHit {
  double t = 0.0;            // ray parameter of the hit
  Eigen::Vector3d normal{};  // facing into the room
  Eigen::Vector3f albedo{};  // linear RGB
};
RoomHit IntersectRoom(const Eigen::Vector3d& origin, const Eigen::Vector3d& direction,
                      std::uint32_t seed);
geometry::Bounds3 RoomBounds();

// Lambertian shading with one directional light and ambient light (linear RGB).
Eigen::Vector3f Shade(const Eigen::Vector3f& albedo, const Eigen::Vector3d& normal);

}  // namespace facet::datasets::synthetic
