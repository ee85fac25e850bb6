// Mesh processing between surface extraction and export: cleanup (unreferenced and duplicate
// vertices, degenerate triangles, small components), hole filling, quadric-error decimation and
// Taubin smoothing. Each function edits the mesh in place and keeps what makes it exportable:
// applied to a closed, manifold, consistently oriented mesh (CheckWatertight), the result is
// again closed, manifold and consistently oriented, with the same genus per component (except
// RemoveSmallComponents, which drops whole components, and FillHoles, which closes holes).
//
// Vertex colours travel with their vertices (interpolated where vertices merge); vertex normals,
// when present, are recomputed from the triangles after any function that moves or merges
// vertices. Every function throws facet::Error for a mesh that fails TriangleMesh::Check() (an
// index out of range, attributes not one per vertex) or for options out of range.
#pragma once

#include <cstdint>
#include <limits>

#include "geometry/triangle_mesh.h"

namespace facet::geometry {

// ---------------------------------------------------------------------------------------------
// Cleanup (mesh_cleanup.cpp)

// Drops vertices no triangle refers to (with their normals and colours) and renumbers the
// triangles. Returns the number of vertices removed. O(V + T).
std::size_t RemoveUnreferencedVertices(TriangleMesh& mesh);

struct MergeVerticesOptions {
  // Vertices closer than this (>= 0) become one; 0 welds exact duplicates only. With a positive
  // tolerance merging is transitive (a chain of close vertices becomes one vertex).
  double tolerance = 0.0;

  void Check() const;
};

// Welds duplicate vertices (e.g. a triangle soup, or an STL-like mesh with each triangle's own
// corners) so that triangles sharing a position share the index; the merged vertex keeps the
// position of its lowest-index member and the mean colour. Triangles that end up with a repeated
// index are removed, and so are unreferenced vertices. Returns the number of vertices merged
// away. O(V log V).
std::size_t MergeCloseVertices(TriangleMesh& mesh, const MergeVerticesOptions& options = {});

struct DegenerateTriangleOptions {
  // Also remove zero-area triangles with three distinct vertices, by collapsing their shortest
  // edge (which removes the triangle and its neighbour across that edge, keeping the surface
  // closed and manifold). A collapse that would break the topology or flip a neighbour is
  // skipped; such triangles are then left in place and counted.
  bool collapse_zero_area = true;
  // A triangle has zero area when its height over its longest edge is below this fraction of
  // that edge (as CheckWatertight's count; in (0, 0.1]).
  double relative_height = 1e-10;

  void Check() const;
};

struct DegenerateTriangleReport {
  std::size_t repeated_index_removed = 0;  // triangles that repeated a vertex index
  std::size_t duplicates_removed = 0;      // triangles with the same vertices and orientation
  std::size_t zero_area_collapsed = 0;     // zero-area triangles removed by edge collapse
  std::size_t zero_area_left = 0;          // zero-area triangles no legal collapse could remove
};

// Removes triangles that repeat a vertex index, exact duplicate triangles (same three indices in
// the same cyclic order, keeping the first), and (by default) zero-area triangles via edge
// collapse; then unreferenced vertices.
DegenerateTriangleReport RemoveDegenerateTriangles(TriangleMesh& mesh,
                                                   const DegenerateTriangleOptions& options = {});

struct SmallComponentOptions {
  // Remove components (triangles connected through shared edges) with fewer triangles (>= 0).
  std::size_t min_triangles = 0;
  // Remove components whose area is below this fraction of the largest component's ([0, 1]).
  double min_area_fraction = 0.0;
  // Then keep only this many of the remaining components, the largest by area (0: all).
  std::size_t keep_largest = 0;

  void Check() const;
};

// Removes small edge-connected components (floaters, bubbles) by the criteria above, and the
// vertices only they used. Returns the number of components removed. O(T log T).
std::size_t RemoveSmallComponents(TriangleMesh& mesh, const SmallComponentOptions& options);

// ---------------------------------------------------------------------------------------------
// Hole filling (mesh_holes.cpp)

struct FillHolesOptions {
  // Fill holes whose boundary loop has at most this many edges (>= 3); larger ones are left
  // open (they are more likely the mesh's real boundary than a defect).
  std::size_t max_hole_edges = 1000;

  void Check() const;
};

struct FillHolesReport {
  std::size_t holes = 0;                  // boundary loops found
  std::size_t filled = 0;                 // loops closed
  std::size_t too_large = 0;              // loops over max_hole_edges, left open
  std::size_t non_manifold_loops = 0;     // loops through a non-manifold boundary vertex, left open
  std::size_t non_manifold_vertices = 0;  // vertices with more than one outgoing boundary edge
  std::size_t triangles_added = 0;
  std::size_t vertices_added = 0;
};

// Finds the holes (loops of boundary edges, walked along the triangles' orientation) and closes
// each one: a loop of 3 edges by one triangle, a longer one by a fan of triangles around a new
// vertex at the loop's centroid (colour: the loop's mean). New triangles traverse the loop's
// edges opposite to the existing triangles, so orientation stays consistent, and a mesh whose
// holes are all filled is closed. A vertex where two holes touch (two outgoing boundary edges)
// cannot be walked unambiguously: loops through it are left open and counted, never filled into a
// non-manifold result. Throws facet::Error when an edge is used by more than two triangles or
// twice in the same direction (fix the orientation first). O(T log T).
FillHolesReport FillHoles(TriangleMesh& mesh, const FillHolesOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Decimation (mesh_decimation.cpp)

struct DecimationOptions {
  // Stop when the mesh has at most this many triangles (>= 4).
  std::size_t target_triangles = 10000;
  // ... or when the cheapest collapse would move the surface more than this (quadric error: a
  // squared distance, in squared mesh units; >= 0, infinity for no limit).
  double max_error = std::numeric_limits<double>::infinity();
  // A collapse may not turn any triangle's normal by more than this (degrees, in (0, 180)).
  double max_normal_change_deg = 60.0;
  // A collapse may not create a triangle of quality 4 sqrt(3) area / (sum of squared edge
  // lengths) below this ([0, 1); 1 for equilateral), unless that triangle was already worse.
  double min_triangle_quality = 0.01;
  // Weight of the planes through boundary edges, perpendicular to their triangle, that keep
  // open boundaries in place (Garland & Heckbert 1997, Sec. 6.2; >= 0).
  double boundary_weight = 1000.0;
  // A collapse may not make the surface cross itself: the triangles around the new vertex are
  // tested against the triangles near them (a grid hash kept current through the collapses),
  // with FindSelfIntersections' predicates and rules (geometry/mesh_intersections.h), so a mesh
  // without self-intersections keeps none. Thin parts (two sides of a thin wall a few edges
  // apart) otherwise get pushed through each other once the edges grow longer than the gap.
  // Each collapse then reads the triangles around its ring: 3-4.5x the decimation time on
  // 1-2M-triangle meshes (memory-bound lookups; see mesh_collapse_guard.h).
  bool prevent_self_intersections = true;

  void Check() const;
};

struct DecimationReport {
  std::size_t initial_triangles = 0;
  std::size_t final_triangles = 0;
  std::size_t collapses = 0;
  // Largest quadric error (squared distance) of an accepted collapse.
  double max_collapse_error = 0.0;
  // The target was reached (otherwise max_error stopped it, or no legal collapse was left).
  bool reached_target = false;
};

// Simplifies `mesh` by edge collapses in order of the quadric error metric (Garland & Heckbert,
// "Surface Simplification Using Quadric Error Metrics", SIGGRAPH 1997): each vertex carries the
// area-weighted sum of its triangles' plane quadrics; an edge's collapse moves its two vertices
// to the point minimising the summed quadric (the 3x3 system, regularised towards the edge's
// midpoint so that directions the planes leave free do not drift; the best of the end points and
// the midpoint when that fails). Collapses are taken cheapest first in passes: each pass costs
// all live edges in parallel, orders the cheapest, and walks them, locking the vertex each
// collapse keeps so that every cost used is current (the priority queue's order, with the edges
// around just-moved vertices deferred to the next pass; rejected collapses are retried there).
// A collapse must pass the link condition (Dey et al. 1999: the two vertices' common neighbours
// are exactly the vertices opposite the edge), so a closed manifold stays closed and manifold
// with its genus, and the normal-change and quality limits above. Vertex colours are
// interpolated along the edge; normals recomputed when present; unreferenced vertices removed.
// O(T log T); 1M triangles to 10k in a few seconds on two cores.
DecimationReport DecimateQuadric(TriangleMesh& mesh, const DecimationOptions& options);

// ---------------------------------------------------------------------------------------------
// Smoothing (mesh_smoothing.cpp)

struct TaubinOptions {
  // Number of (lambda, mu) pairs of passes (>= 0).
  int iterations = 10;
  // Shrinking pass factor (in (0, 1]) and inflating pass factor (< -lambda, > -1): Taubin's
  // low-pass filter with pass-band frequency k_PB = 1/lambda + 1/mu (0.1 for the defaults).
  double lambda = 0.5;
  double mu = -0.53;
  enum class Weights {
    kUniform,    // the mean of the neighbours (Taubin 1995), fast, also evens out triangle sizes
    kCotangent,  // cotangent weights (Desbrun et al. 1999; negative ones clamped to 0), which
                 // keep the triangles' shapes and move vertices along the normal
  };
  Weights weights = Weights::kUniform;
  // Vertices on an open boundary stay in place (otherwise the boundary shrinks inwards).
  bool fix_boundary = true;

  void Check() const;
};

// Taubin, "A Signal Processing Approach to Fair Surface Design", SIGGRAPH 1995: alternating
// Laplacian passes x += lambda L(x) and x += mu L(x) remove high-frequency noise with little of
// the shrinkage plain Laplacian smoothing has. Only positions change (then normals, when
// present); the topology is untouched. Parallel over vertices; O(iterations * (V + T)).
void TaubinSmooth(TriangleMesh& mesh, const TaubinOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Colours (mesh_colors.cpp)

// Colours every vertex of `mesh` from the coloured points of `source`: the inverse-distance
// weighted mean of its `k` nearest points (k >= 1). For surfaces rebuilt from coloured points
// (Poisson), whose vertices lie between the samples. Parallel. Throws facet::Error when `source`
// has no points or no colours, or k < 1.
void TransferVertexColors(TriangleMesh& mesh, const PointCloud& source, int k = 4);

// The triangles of `mesh` whose three corners lie inside `box` (boundary included), with the
// vertices they use and those vertices' normals and colours; the rest is dropped.
TriangleMesh CropMesh(const TriangleMesh& mesh, const Bounds3& box);

}  // namespace facet::geometry
