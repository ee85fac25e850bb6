// Pose-graph optimisation for RGB-D SLAM: camera poses (nodes) linked by measured relative poses
// (edges: odometry between consecutive frames, loop closures between revisits), each weighted by
// its 6x6 information matrix, solved with Ceres (Levenberg-Marquardt, automatic derivatives).
//
// Loop closures are unreliable, so they enter under a robust loss and are pruned afterwards when
// the optimised graph contradicts them, in the spirit of the line processes of Choi, Zhou and
// Koltun, "Robust Reconstruction of Indoor Scenes", CVPR 2015 (Open3D's GlobalOptimization with
// its edge_prune_threshold = 0.25).
#pragma once

#include <Eigen/Core>

#include <vector>

#include "geometry/rigid3.h"

namespace facet::sfm {

struct PoseGraphEdge {
  int source = 0;  // node index
  int target = 0;  // node index, != source
  // Measured relative pose: x_in_target = target_from_source * x_in_source (camera frames).
  geometry::Rigid3 target_from_source{};
  // Symmetric positive semi-definite, (rotation, translation) order as
  // geometry::IcpResult::information; it weights the residual below directly (as Open3D does).
  Eigen::Matrix<double, 6, 6> information = Eigen::Matrix<double, 6, 6>::Identity();
  // Loop closures: under the robust loss and may be pruned. Odometry edges: false.
  bool uncertain = false;
};

struct PoseGraph {
  std::vector<geometry::Rigid3> world_from_cam{};  // the nodes
  std::vector<PoseGraphEdge> edges{};
};

struct PoseGraphOptions {
  // Scale s of the Cauchy loss on uncertain edges, in units of the whitened residual
  // r = |sqrt(information) e| (so e.g. 1 means "one standard deviation"); > 0.
  double robust_loss_scale = 1.0;
  // After convergence an uncertain edge is pruned when its line-process confidence
  //   l = (s² / (s² + r²))²
  // (Open3D's edge confidence, the Geman-McClure weight of the whitened residual r) is below this
  // threshold; the graph is then re-optimised without it (repeated until no edge is pruned).
  // With the default 0.25 an edge is pruned exactly when r > s. In [0, 1); 0 never prunes.
  double edge_prune_threshold = 0.25;
  // Levenberg-Marquardt iterations per solve (>= 1).
  int max_iterations = 100;
  // The node held constant (fixes the gauge); must index a node of the graph (>= 0).
  int fixed_node = 0;

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

struct PoseGraphSummary {
  int iterations = 0;             // Levenberg-Marquardt iterations over all solves
  double initial_cost = 0.0;      // ½ Σ ρ(r²) over all edges at the input poses
  double final_cost = 0.0;        // the same over the kept edges at the returned poses
  int pruned_edges = 0;           // uncertain edges removed
  std::vector<bool> edge_kept{};  // one per edge of the input graph; false for pruned edges
  bool converged = false;         // the last solve met Ceres' convergence tolerances
};

// The residual of an edge (i = source, j = target) is the 6-vector
//   e = (ω, t) of E = target_from_source⁻¹ * (world_from_cam[j]⁻¹ * world_from_cam[i]),
// ω the angle-axis of E's rotation and t its translation (the SE(3) logarithm to first order;
// zero exactly when the poses agree with the measurement), whitened by sqrt(information) and, for
// uncertain edges, under a Cauchy loss of scale robust_loss_scale. Poses are unit quaternions
// (Ceres' QuaternionManifold) and translations; the fixed node is held constant, nodes without
// edges are left as they are. Pruned edges stay in graph->edges (see summary.edge_kept).
//
// Throws facet::Error for an empty graph (no nodes), a fixed node or edge endpoint out of range,
// an edge from a node to itself, non-finite poses, measurements or information, an information
// matrix that is not symmetric positive semi-definite, or invalid options.
PoseGraphSummary OptimizePoseGraph(PoseGraph* graph, const PoseGraphOptions& options);

}  // namespace facet::sfm
