// Screened Poisson surface reconstruction (Kazhdan & Hoppe, "Screened Poisson Surface
// Reconstruction", ACM ToG 2013): a watertight mesh from points with oriented normals.
//
// The oriented points define a vector field V: each normal splatted with trilinear weights at the
// depth where cells hold about `samples_per_node` samples (adaptive splatting, paper sec. 4.2),
// weighted by the surface area the point represents (from its k nearest neighbours, averaged
// over them); the indicator-like function chi minimises
//   int |grad chi - V|^2 + alpha * sum_p a_p chi(p)^2        (paper, eq. 5)
// so that chi jumps by about one across the samples, is pinned to zero at them (the screening),
// and is negative inside. The surface is chi = iso, iso being the area-weighted mean of chi at the
// samples.
//
// Discretisation: Galerkin finite elements with trilinear hat functions on a regular lattice of
// 2^depth cells over a bounding cube (Neumann boundary). Levels from `full_depth` to `depth` are
// solved coarse to fine (cascadic multigrid, as PoissonRecon's solver): the coarsest on the whole
// cube, each finer one only on blocks of 8^3 nodes within `band` cells of the samples or of the
// coarser level's surface, the coarser solution giving the initial guess and the values at the
// band's border. A level solves only near the samples that resolve it (their splat depth reaches
// it) and interpolates the coarser solution elsewhere, and the lattice stops at the deepest
// level some sample resolves, as PoissonRecon's octree stops where the samples do: screening
// samples sparser than the lattice would dent the surface at each of them (bubbles, handles).
// Each level is Galerkin-consistent with the finest (restricted right-hand side, screening weight
// scaled by 2^(level - depth)), so the coarse solution is the best coarse approximation of the
// fine one. Conjugate gradients per level, matrix-free and parallel.
// The surface is extracted from the finest band by marching cubes (geometry/marching_cubes.h),
// with space outside the band classified by a flood fill, so the mesh is closed by construction.
#pragma once

#include <cstdint>
#include <vector>

#include "geometry/point_cloud.h"
#include "geometry/triangle_mesh.h"

namespace facet::geometry {

struct PoissonOptions {
  // Finest lattice: at most 2^depth cells along the bounding cube's side, in [2, 13].
  int depth = 8;
  // Screening weight alpha (the paper's default, 4); 0 gives the unscreened Poisson
  // reconstruction of Kazhdan et al. 2006. >= 0.
  double screening = 4.0;
  // Side of the bounding cube over the largest side of the points' bounding box, >= 1.
  double scale = 1.1;
  // Depth solved on the full cube (the coarsest level), in [1, depth] (clamped to depth).
  int full_depth = 5;
  // Half-width, in cells of each level, of the band solved around the samples, in [2, 16].
  int band = 2;
  // Neighbours used to estimate the area each point represents, in [2, 64].
  int area_neighbours = 8;
  // Adaptive splatting (PoissonRecon's --samplesPerNode): each normal is splatted at the depth
  // whose cells hold about this many samples (from the point's represented area), clamped to
  // [full_depth, depth], and the lattice is solved only as deep as the samples around reach
  // (deeper, point screening would dent the surface at each sample): `depth` is a maximum,
  // reached where the samples are dense enough. Larger values smooth noisy or sparse samples
  // more. > 0.
  double samples_per_node = 1.5;
  // Conjugate gradients per level: stop at this residual relative to the right-hand side, or
  // after max_iterations (the coarsest level gets 10x that).
  double cg_tolerance = 1e-2;
  int max_iterations = 60;
  // Remove the vertices whose sample density (PoissonResult::vertex_density) is below this
  // quantile of all vertex densities, or zero, with their triangles (0 = keep all). Trimming
  // removes surface hallucinated far from the samples but opens the mesh: the result is no longer
  // watertight. In [0, 1).
  double density_trim_quantile = 0.0;
  // Worker threads (0 = all cores).
  int threads = 0;

  void Check() const;
};

struct PoissonStats {
  double solve_seconds = 0.0;  // splatting and the linear solves
  double total_seconds = 0.0;
  int iterations = 0;                 // conjugate-gradient iterations, all levels
  int finest_iterations = 0;          // at the finest level
  double relative_residual = 0.0;     // at the finest level
  std::int64_t finest_unknowns = 0;   // nodes solved at the finest level
  std::int64_t dropped_points = 0;    // points with a zero normal (no orientation)
  std::int64_t nonfinite_points = 0;  // points dropped for a NaN/infinite position or normal
  double mean_splat_depth = 0.0;      // mean depth the normals were splatted at
  double iso_value = 0.0;
  // The normals pointed inwards (the solution far from the samples came out inside); the
  // surface was reconstructed for the reversed normals, so it still faces outwards.
  bool reversed_normals = false;
  int depth = 0;            // the finest lattice's depth: <= options.depth, see samples_per_node
  double voxel_size = 0.0;  // the finest cell's side, scene units
};

struct PoissonResult {
  // Closed, oriented outwards (counter-clockwise seen from outside), with vertex normals;
  // watertight unless trimmed.
  TriangleMesh mesh;
  // Per vertex: how many samples lie near it (the trilinear splat of sample counts on the
  // lattice four times coarser than the finest, interpolated at the vertex). Low where the
  // surface was interpolated across a hole or invented far from the data.
  std::vector<float> vertex_density;
  PoissonStats stats;
};

// The screened Poisson surface of `cloud`, which needs consistently oriented normals (see
// geometry/normals.h for clouds without): outwards, or all inwards, which is detected (far from
// the samples the solution must be outside) and reversed. Normals need not be unit (they are
// normalised); points with a zero normal, and points whose position or normal is NaN or
// infinite, are dropped, counted in the stats and logged. Throws facet::Error for invalid
// options, an empty cloud, a cloud without normals, no finite point with a nonzero normal, or
// valid points that all coincide.
PoissonResult ReconstructPoisson(const PointCloud& cloud, const PoissonOptions& options = {});

}  // namespace facet::geometry
