#include "sfm/pose_graph.h"

#include <Eigen/Eigenvalues>
#include <ceres/autodiff_cost_function.h>
#include <ceres/loss_function.h>
#include <ceres/manifold.h>
#include <ceres/problem.h>
#include <ceres/rotation.h>
#include <ceres/solver.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

#include "core/error.h"

namespace facet::sfm {

void PoseGraphOptions::Check() const {
  FACET_CHECK(std::isfinite(robust_loss_scale) && robust_loss_scale > 0.0,
              "PoseGraphOptions::robust_loss_scale must be positive and finite (got {})",
              robust_loss_scale);
  FACET_CHECK(edge_prune_threshold >= 0.0 && edge_prune_threshold < 1.0,
              "PoseGraphOptions::edge_prune_threshold must be in [0, 1) (got {})",
              edge_prune_threshold);
  FACET_CHECK(max_iterations >= 1, "PoseGraphOptions::max_iterations must be >= 1 (got {})",
              max_iterations);
  FACET_CHECK(fixed_node >= 0, "PoseGraphOptions::fixed_node must be >= 0 (got {})", fixed_node);
}

namespace {

using Matrix6d = Eigen::Matrix<double, 6, 6>;

// Whitened residual of one edge; parameters are (quaternion w x y z, translation) of
// world_from_cam for the source and the target node.
struct PoseGraphCost {
  PoseGraphCost(const geometry::Rigid3& target_from_source, const Matrix6d& sqrt_information)
      : sqrt_information_(sqrt_information) {
    const Eigen::Quaterniond q = target_from_source.rotation.normalized();
    // E = measured⁻¹ * estimate: keep measured⁻¹ = (q⁻¹, -(q⁻¹ t)).
    const Eigen::Quaterniond q_inv = q.conjugate();
    const Eigen::Vector3d t_inv = -(q_inv * target_from_source.translation);
    measured_inv_q_ = {q_inv.w(), q_inv.x(), q_inv.y(), q_inv.z()};
    measured_inv_t_ = {t_inv.x(), t_inv.y(), t_inv.z()};
  }

  template <typename T>
  bool operator()(const T* q_source, const T* t_source, const T* q_target, const T* t_target,
                  T* residual) const {
    // target_from_source estimate = world_from_target⁻¹ * world_from_source.
    const T q_target_inv[4] = {q_target[0], -q_target[1], -q_target[2], -q_target[3]};
    T q_est[4];
    ceres::QuaternionProduct(q_target_inv, q_source, q_est);
    const T dt[3] = {t_source[0] - t_target[0], t_source[1] - t_target[1],
                     t_source[2] - t_target[2]};
    T t_est[3];
    ceres::UnitQuaternionRotatePoint(q_target_inv, dt, t_est);
    // E = measured⁻¹ * estimate.
    const T q_meas_inv[4] = {T(measured_inv_q_[0]), T(measured_inv_q_[1]), T(measured_inv_q_[2]),
                             T(measured_inv_q_[3])};
    T q_err[4];
    ceres::QuaternionProduct(q_meas_inv, q_est, q_err);
    T e[6];
    ceres::QuaternionToAngleAxis(q_err, e);
    ceres::UnitQuaternionRotatePoint(q_meas_inv, t_est, e + 3);
    for (int k = 0; k < 3; ++k) e[3 + k] += T(measured_inv_t_[static_cast<std::size_t>(k)]);
    for (int r = 0; r < 6; ++r) {
      T sum = T(0);
      for (int c = 0; c < 6; ++c) sum += T(sqrt_information_(r, c)) * e[c];
      residual[r] = sum;
    }
    return true;
  }

  Matrix6d sqrt_information_;
  std::array<double, 4> measured_inv_q_{};
  std::array<double, 3> measured_inv_t_{};
};

bool IsFinite(const geometry::Rigid3& pose) {
  return pose.rotation.coeffs().allFinite() && pose.translation.allFinite() &&
         pose.rotation.norm() > 1e-12;
}

// S with SᵀS = information, from its eigen-decomposition (semi-definite matrices allowed).
Matrix6d SqrtInformation(const Matrix6d& information, std::size_t edge) {
  FACET_CHECK(information.allFinite(), "pose graph: edge {} has a non-finite information matrix",
              edge);
  const double magnitude = std::max(1.0, information.cwiseAbs().maxCoeff());
  FACET_CHECK((information - information.transpose()).cwiseAbs().maxCoeff() <= 1e-9 * magnitude,
              "pose graph: the information matrix of edge {} is not symmetric", edge);
  const Eigen::SelfAdjointEigenSolver<Matrix6d> eigen(0.5 *
                                                      (information + information.transpose()));
  const Eigen::Matrix<double, 6, 1> values = eigen.eigenvalues();
  FACET_CHECK(values.minCoeff() >= -1e-9 * std::max(1.0, values.maxCoeff()),
              "pose graph: the information matrix of edge {} is not positive semi-definite "
              "(eigenvalue {})",
              edge, values.minCoeff());
  return values.cwiseMax(0.0).cwiseSqrt().asDiagonal() * eigen.eigenvectors().transpose();
}

void CheckGraph(const PoseGraph& graph, const PoseGraphOptions& options) {
  const std::size_t num_nodes = graph.world_from_cam.size();
  FACET_CHECK(num_nodes > 0, "pose graph: the graph has no nodes");
  FACET_CHECK(static_cast<std::size_t>(options.fixed_node) < num_nodes,
              "PoseGraphOptions::fixed_node {} is out of range (the graph has {} nodes)",
              options.fixed_node, num_nodes);
  for (std::size_t i = 0; i < num_nodes; ++i) {
    FACET_CHECK(IsFinite(graph.world_from_cam[i]), "pose graph: node {} has a non-finite pose", i);
  }
  for (std::size_t k = 0; k < graph.edges.size(); ++k) {
    const PoseGraphEdge& edge = graph.edges[k];
    for (const int node : {edge.source, edge.target}) {
      FACET_CHECK(node >= 0 && static_cast<std::size_t>(node) < num_nodes,
                  "pose graph: edge {} names node {}, out of range (the graph has {} nodes)", k,
                  node, num_nodes);
    }
    FACET_CHECK(edge.source != edge.target, "pose graph: edge {} links node {} to itself", k,
                edge.source);
    FACET_CHECK(IsFinite(edge.target_from_source),
                "pose graph: edge {} has a non-finite measured pose", k);
  }
}

struct NodeParams {
  std::array<double, 4> q{};  // Ceres' order w, x, y, z
  std::array<double, 3> t{};
};

ceres::Solver::Options SolverOptions(const PoseGraphOptions& options) {
  ceres::Solver::Options solver;
  solver.max_num_iterations = options.max_iterations;
  solver.function_tolerance = 1e-12;
  solver.gradient_tolerance = 1e-12;
  solver.parameter_tolerance = 1e-12;
  solver.num_threads = 1;
  solver.logging_type = ceres::SILENT;
  solver.minimizer_progress_to_stdout = false;
  if (ceres::IsSparseLinearAlgebraLibraryTypeAvailable(ceres::SUITE_SPARSE)) {
    solver.linear_solver_type = ceres::SPARSE_NORMAL_CHOLESKY;
    solver.sparse_linear_algebra_library_type = ceres::SUITE_SPARSE;
  } else if (ceres::IsSparseLinearAlgebraLibraryTypeAvailable(ceres::EIGEN_SPARSE)) {
    solver.linear_solver_type = ceres::SPARSE_NORMAL_CHOLESKY;
    solver.sparse_linear_algebra_library_type = ceres::EIGEN_SPARSE;
  } else {
    solver.linear_solver_type = ceres::DENSE_QR;
  }
  return solver;
}

}  // namespace

PoseGraphSummary OptimizePoseGraph(PoseGraph* graph, const PoseGraphOptions& options) {
  FACET_CHECK(graph != nullptr, "OptimizePoseGraph: graph is null");
  options.Check();
  CheckGraph(*graph, options);
  const std::size_t num_edges = graph->edges.size();
  std::vector<Matrix6d> sqrt_information(num_edges);
  for (std::size_t k = 0; k < num_edges; ++k) {
    sqrt_information[k] = SqrtInformation(graph->edges[k].information, k);
  }

  std::vector<NodeParams> nodes(graph->world_from_cam.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const geometry::Rigid3& pose = graph->world_from_cam[i];
    const Eigen::Quaterniond q = pose.rotation.normalized();
    nodes[i].q = {q.w(), q.x(), q.y(), q.z()};
    nodes[i].t = {pose.translation.x(), pose.translation.y(), pose.translation.z()};
  }

  PoseGraphSummary summary;
  summary.edge_kept.assign(num_edges, true);
  summary.converged = true;
  const double s2 = options.robust_loss_scale * options.robust_loss_scale;
  for (bool first = true;; first = false) {
    ceres::Problem::Options problem_options;
    problem_options.manifold_ownership = ceres::DO_NOT_TAKE_OWNERSHIP;
    ceres::Problem problem(problem_options);
    ceres::QuaternionManifold quaternion_manifold;
    std::vector<bool> in_problem(nodes.size(), false);
    int num_residuals = 0;
    for (std::size_t k = 0; k < num_edges; ++k) {
      if (!summary.edge_kept[k]) continue;
      const PoseGraphEdge& edge = graph->edges[k];
      auto* cost = new ceres::AutoDiffCostFunction<PoseGraphCost, 6, 4, 3, 4, 3>(
          new PoseGraphCost(edge.target_from_source, sqrt_information[k]));
      ceres::LossFunction* loss =
          edge.uncertain ? new ceres::CauchyLoss(options.robust_loss_scale) : nullptr;
      NodeParams& source = nodes[static_cast<std::size_t>(edge.source)];
      NodeParams& target = nodes[static_cast<std::size_t>(edge.target)];
      problem.AddResidualBlock(cost, loss, source.q.data(), source.t.data(), target.q.data(),
                               target.t.data());
      in_problem[static_cast<std::size_t>(edge.source)] = true;
      in_problem[static_cast<std::size_t>(edge.target)] = true;
      ++num_residuals;
    }
    if (num_residuals == 0) break;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (!in_problem[i]) continue;
      problem.SetManifold(nodes[i].q.data(), &quaternion_manifold);
      if (static_cast<int>(i) == options.fixed_node) {
        problem.SetParameterBlockConstant(nodes[i].q.data());
        problem.SetParameterBlockConstant(nodes[i].t.data());
      }
    }
    ceres::Solver::Summary solve;
    ceres::Solve(SolverOptions(options), &problem, &solve);
    FACET_CHECK(solve.IsSolutionUsable(), "pose graph: the solver failed: {}", solve.message);
    if (first) summary.initial_cost = solve.initial_cost;
    summary.final_cost = solve.final_cost;
    summary.iterations += static_cast<int>(solve.iterations.size()) - 1;
    summary.converged = solve.termination_type == ceres::CONVERGENCE;

    // Line-process confidences of the uncertain edges at the solution.
    int pruned_now = 0;
    for (std::size_t k = 0; k < num_edges && options.edge_prune_threshold > 0.0; ++k) {
      const PoseGraphEdge& edge = graph->edges[k];
      if (!summary.edge_kept[k] || !edge.uncertain) continue;
      const NodeParams& source = nodes[static_cast<std::size_t>(edge.source)];
      const NodeParams& target = nodes[static_cast<std::size_t>(edge.target)];
      double residual[6];
      PoseGraphCost(edge.target_from_source, sqrt_information[k])(
          source.q.data(), source.t.data(), target.q.data(), target.t.data(), residual);
      const double r2 = Eigen::Map<const Eigen::Matrix<double, 6, 1>>(residual).squaredNorm();
      const double weight = s2 / (s2 + r2);
      if (weight * weight < options.edge_prune_threshold) {
        summary.edge_kept[k] = false;
        ++pruned_now;
      }
    }
    summary.pruned_edges += pruned_now;
    if (pruned_now == 0) break;
  }

  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Eigen::Quaterniond q(nodes[i].q[0], nodes[i].q[1], nodes[i].q[2], nodes[i].q[3]);
    graph->world_from_cam[i] = geometry::Rigid3(
        q.normalized(), Eigen::Vector3d(nodes[i].t[0], nodes[i].t[1], nodes[i].t[2]));
  }
  return summary;
}

}  // namespace facet::sfm
