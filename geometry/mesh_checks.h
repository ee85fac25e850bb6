// Checks and metrics on triangle meshes: topology (is the surface closed, manifold and
// consistently oriented; its Euler characteristic and genus) and the distance between two
// surfaces (Chamfer distance, precision / recall / F-score at a threshold).
//
// Self-intersection is checked too (by default): triangles that cross each other without being
// neighbours make the mesh not watertight (geometry/mesh_intersections.h, over a BVH).
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

#include "geometry/triangle_mesh.h"

namespace facet::geometry {

struct WatertightReport {
  // Closed, edge- and vertex-manifold, consistently oriented and without repeated-index triangles.
  bool watertight = false;
  // Undirected edges used by exactly one triangle (holes in the surface).
  std::int64_t boundary_edges = 0;
  // Undirected edges used by three or more triangles.
  std::int64_t non_manifold_edges = 0;
  // Referenced vertices whose triangles do not form a single fan (the link of the vertex has more
  // than one connected component, e.g. two cones touching at their apex).
  std::int64_t non_manifold_vertices = 0;
  // Edges shared by exactly two triangles that traverse them in the same direction (one of the
  // two is flipped relative to the other).
  std::int64_t inconsistently_oriented_edges = 0;
  // Triangles that repeat a vertex index, or whose three vertices are collinear or coincident
  // (zero area up to rounding). Only the repeated-index ones break the topology, so only they
  // make the mesh not watertight; zero-area triangles with distinct vertices are counted here
  // but the surface they belong to is still closed.
  std::int64_t degenerate_triangles = 0;
  // Pairs of non-adjacent triangles that intersect (FindSelfIntersections), counted up to
  // WatertightCheckOptions::max_self_intersection_pairs; 0 when that check is off.
  std::int64_t self_intersections = 0;
  // Connected components: triangles are connected when they share an edge.
  std::int64_t components = 0;
  // V - E + F over the referenced vertices, the distinct undirected edges and the triangles
  // without a repeated index.
  std::int64_t euler_characteristic = 0;
  // (2 * components - euler_characteristic) / 2, the total genus of a closed orientable surface
  // (0 for a sphere, 1 for a torus); -1 when the mesh is not watertight.
  std::int64_t genus = -1;
  // The first failing property, for the person reading a log; empty when watertight.
  std::string reason{};
};

struct WatertightCheckOptions {
  // Look for self-intersections (a BVH over the triangles and a triangle-triangle test per
  // overlapping pair: the costliest part of the check, still O(T log T)).
  bool self_intersections = true;
  // Stop counting self-intersecting pairs here (>= 1).
  std::int64_t max_self_intersection_pairs = 1000;

  void Check() const;
};

// Topology of `mesh`, and whether its triangles cross each other. Vertices that no triangle
// refers to are ignored. A self-intersecting mesh is not watertight, with reason
// "self-intersecting: ..." (reported after the topological failures, which come first). Throws
// facet::Error for a mesh without triangles, with a vertex index out of range or (when
// self-intersections are checked) with a non-finite vertex. O(T log T).
WatertightReport CheckWatertight(const TriangleMesh& mesh,
                                 const WatertightCheckOptions& options = {});

// Distances between a reconstruction `a` and a reference `b`, as the Tanks and Temples benchmark
// (Knapitsch et al., "Tanks and Temples: Benchmarking Large-Scale Scene Reconstruction",
// SIGGRAPH 2017, Sec. 4) and Open3D's evaluation compute them:
//   accuracy     = mean over points of a of the distance to the nearest point of b,
//   completeness = mean over points of b of the distance to the nearest point of a,
//   chamfer      = (accuracy + completeness) / 2,
//   precision    = fraction of a's distances below the threshold,
//   recall       = fraction of b's distances below the threshold,
//   f_score      = 2 precision recall / (precision + recall) (0 when both are 0).
struct SurfaceDistance {
  double chamfer = 0.0;
  double accuracy = 0.0;
  double completeness = 0.0;
  double precision = 0.0;
  double recall = 0.0;
  double f_score = 0.0;
};

// Samples `samples` points on each mesh, uniformly by area (deterministic for a given seed; the
// two meshes get different streams, so that identical meshes are not sampled at identical
// points), and compares the two point sets with the point-set overload. The sampling adds a
// bias of the order of the sample spacing, sqrt(area / samples), to accuracy and completeness.
// Throws facet::Error for a mesh without triangles or with zero area, threshold <= 0 or
// samples == 0.
SurfaceDistance CompareSurfaces(const TriangleMesh& a, const TriangleMesh& b, double threshold,
                                std::size_t samples = 200000, std::uint64_t seed = 0);

// The same metrics on point sets, with nearest neighbours from KD-trees (nanoflann). Throws
// facet::Error for an empty set or threshold <= 0.
SurfaceDistance CompareSurfaces(const std::vector<Eigen::Vector3d>& a,
                                const std::vector<Eigen::Vector3d>& b, double threshold);

// `count` points uniformly distributed over the surface of `mesh` by area (triangle chosen with
// probability proportional to its area, then a uniform point in it), deterministic for a seed.
// Throws facet::Error for a mesh without triangles or with zero area.
std::vector<Eigen::Vector3d> SampleSurface(const TriangleMesh& mesh, std::size_t count,
                                           std::uint64_t seed);

}  // namespace facet::geometry
