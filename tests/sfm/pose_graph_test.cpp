#include "sfm/pose_graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "core/error.h"
#include "datasets/synthetic/synthetic_scene.h"

namespace facet::sfm {
namespace {

using geometry::Rigid3;
using Matrix6d = Eigen::Matrix<double, 6, 6>;

constexpr int kNumNodes = 40;

// world_from_cam of cameras on a circle of radius 2 m looking at its centre.
std::vector<Rigid3> CircleTrajectory() {
  std::vector<Rigid3> poses;
  for (int i = 0; i < kNumNodes; ++i) {
    const double angle = 2.0 * std::numbers::pi * i / kNumNodes;
    const Eigen::Vector3d eye(2.0 * std::cos(angle), 2.0 * std::sin(angle), 1.0);
    poses.push_back(datasets::synthetic::LookAt(eye, Eigen::Vector3d(0.0, 0.0, 0.5)).Inverse());
  }
  return poses;
}

Rigid3 Relative(const std::vector<Rigid3>& world_from_cam, int source, int target) {
  return world_from_cam[static_cast<std::size_t>(target)].Inverse() *
         world_from_cam[static_cast<std::size_t>(source)];
}

double AngleBetween(const Eigen::Quaterniond& a, const Eigen::Quaterniond& b) {
  return a.angularDistance(b);
}

// Odometry with a systematic bias (0.6 degrees of extra yaw and 1.5 cm of extra forward motion
// per edge, as a drifting tracker) and exact loop closures from every node to the one 7 ahead
// (around the circle). Loops weigh 100x the odometry (information 1e6 vs 1e4, i.e. 1 mm vs 1 cm).
PoseGraph DriftingLoopGraph(const std::vector<Rigid3>& truth) {
  PoseGraph graph;
  const Rigid3 bias(Eigen::Quaterniond(Eigen::AngleAxisd(0.6 * std::numbers::pi / 180.0,
                                                         Eigen::Vector3d::UnitY())),
                    Eigen::Vector3d(0.0, 0.0, 0.015));
  graph.world_from_cam.push_back(truth[0]);
  for (int i = 0; i + 1 < kNumNodes; ++i) {
    PoseGraphEdge edge;
    edge.source = i + 1;
    edge.target = i;
    edge.target_from_source = bias * Relative(truth, i + 1, i);
    edge.information = 1e4 * Matrix6d::Identity();
    graph.edges.push_back(edge);
    // Dead reckoning from node 0.
    graph.world_from_cam.push_back(graph.world_from_cam.back() * edge.target_from_source);
  }
  for (int i = 0; i < kNumNodes; ++i) {
    PoseGraphEdge loop;
    loop.source = i;
    loop.target = (i + 7) % kNumNodes;
    loop.target_from_source = Relative(truth, loop.source, loop.target);
    loop.information = 1e6 * Matrix6d::Identity();
    loop.uncertain = true;
    graph.edges.push_back(loop);
  }
  return graph;
}

void ExpectNear(const std::vector<Rigid3>& actual, const std::vector<Rigid3>& expected,
                double max_translation, double max_angle) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_LE((actual[i].translation - expected[i].translation).norm(), max_translation) << i;
    EXPECT_LE(AngleBetween(actual[i].rotation, expected[i].rotation), max_angle) << i;
  }
}

TEST(PoseGraph, DriftingOdometryWithExactLoopsReturnsTheTrajectory) {
  const std::vector<Rigid3> truth = CircleTrajectory();
  PoseGraph graph = DriftingLoopGraph(truth);
  // Dead reckoning ends far off (39 x 0.6 degrees of yaw).
  EXPECT_GT((graph.world_from_cam.back().translation - truth.back().translation).norm(), 0.3);

  const PoseGraphSummary summary = OptimizePoseGraph(&graph, PoseGraphOptions{});
  EXPECT_TRUE(summary.converged);
  EXPECT_EQ(summary.pruned_edges, 0);
  // The optimum costs at most what the ground truth does: there only the odometry bias remains,
  // ½ · 39 edges · 1e4 · (0.015² + (0.6°)²).
  const double bias_angle = 0.6 * std::numbers::pi / 180.0;
  const double truth_cost = 0.5 * (kNumNodes - 1) * 1e4 * (0.015 * 0.015 + bias_angle * bias_angle);
  EXPECT_LT(summary.final_cost, summary.initial_cost);
  EXPECT_LE(summary.final_cost, truth_cost * (1.0 + 1e-9));
  // The loops alone fix every relative pose exactly (they form a connected graph over all nodes),
  // so the optimum differs from the truth only by the odometry bias (1 cm, 0.01 rad per edge)
  // weighted 1:100 against the loops: millimetres at most.
  ExpectNear(graph.world_from_cam, truth, 3e-3, 3e-3);
  // The fixed node did not move.
  EXPECT_LT((graph.world_from_cam[0].translation - truth[0].translation).norm(), 1e-12);
}

TEST(PoseGraph, WrongLoopClosureIsPrunedAndDoesNotDistortTheResult) {
  const std::vector<Rigid3> truth = CircleTrajectory();
  PoseGraph reference = DriftingLoopGraph(truth);
  OptimizePoseGraph(&reference, PoseGraphOptions{});

  PoseGraph graph = DriftingLoopGraph(truth);
  // A false place match: node 25 reported next to node 5 (30 cm away, 20 degrees), as confident
  // as the true loops.
  PoseGraphEdge wrong;
  wrong.source = 25;
  wrong.target = 5;
  wrong.target_from_source =
      Rigid3(Eigen::Quaterniond(Eigen::AngleAxisd(0.35, Eigen::Vector3d::UnitY())),
             Eigen::Vector3d(0.3, 0.0, 0.0));
  wrong.information = 1e6 * Matrix6d::Identity();
  wrong.uncertain = true;
  graph.edges.push_back(wrong);

  const PoseGraphSummary summary = OptimizePoseGraph(&graph, PoseGraphOptions{});
  EXPECT_TRUE(summary.converged);
  EXPECT_EQ(summary.pruned_edges, 1);
  ASSERT_EQ(summary.edge_kept.size(), graph.edges.size());
  EXPECT_FALSE(summary.edge_kept.back());
  for (std::size_t k = 0; k + 1 < graph.edges.size(); ++k) EXPECT_TRUE(summary.edge_kept[k]) << k;
  // Re-optimised without it: the same solution as the graph that never had it.
  ExpectNear(graph.world_from_cam, reference.world_from_cam, 1e-6, 1e-6);
  ExpectNear(graph.world_from_cam, truth, 3e-3, 3e-3);

  // Without pruning the wrong edge stays, and (robust loss or not) it pulls the poses away.
  PoseGraph unpruned = DriftingLoopGraph(truth);
  unpruned.edges.push_back(wrong);
  unpruned.edges.back().uncertain = false;
  PoseGraphOptions keep_all;
  keep_all.edge_prune_threshold = 0.0;
  const PoseGraphSummary unpruned_summary = OptimizePoseGraph(&unpruned, keep_all);
  EXPECT_EQ(unpruned_summary.pruned_edges, 0);
  double worst = 0.0;
  for (int i = 0; i < kNumNodes; ++i) {
    worst = std::max(worst, (unpruned.world_from_cam[static_cast<std::size_t>(i)].translation -
                             truth[static_cast<std::size_t>(i)].translation)
                                .norm());
  }
  EXPECT_GT(worst, 0.02);
}

TEST(PoseGraph, ConsistentRandomGraphsLeaveThePosesUnchanged) {
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> node(0, 19);
  for (int trial = 0; trial < 5; ++trial) {
    PoseGraph graph;
    for (int i = 0; i < 20; ++i) {
      const Eigen::Quaterniond q =
          Eigen::Quaterniond(normal(rng), normal(rng), normal(rng), normal(rng)).normalized();
      graph.world_from_cam.emplace_back(q, Eigen::Vector3d(normal(rng), normal(rng), normal(rng)));
    }
    for (int k = 0; k < 60; ++k) {
      PoseGraphEdge edge;
      edge.source = node(rng);
      do {
        edge.target = node(rng);
      } while (edge.target == edge.source);
      edge.target_from_source = Relative(graph.world_from_cam, edge.source, edge.target);
      Matrix6d a;
      for (int r = 0; r < 6; ++r) {
        for (int c = 0; c < 6; ++c) a(r, c) = normal(rng);
      }
      edge.information = a * a.transpose() + 0.1 * Matrix6d::Identity();
      edge.uncertain = k % 3 == 0;
      graph.edges.push_back(edge);
    }
    const std::vector<Rigid3> before = graph.world_from_cam;
    PoseGraphOptions options;
    options.fixed_node = trial;
    const PoseGraphSummary summary = OptimizePoseGraph(&graph, options);
    EXPECT_EQ(summary.pruned_edges, 0);
    EXPECT_LT(summary.final_cost, 1e-18);
    ExpectNear(graph.world_from_cam, before, 1e-9, 1e-9);
  }
}

TEST(PoseGraph, BadInputThrows) {
  const std::vector<Rigid3> truth = CircleTrajectory();
  const PoseGraphOptions options;
  PoseGraph empty;
  EXPECT_THROW(OptimizePoseGraph(&empty, options), Error);
  EXPECT_THROW(OptimizePoseGraph(nullptr, options), Error);

  const PoseGraph good = DriftingLoopGraph(truth);
  const auto expect_throw = [&](auto&& corrupt) {
    PoseGraph graph = good;
    PoseGraphOptions opts;
    corrupt(graph, opts);
    EXPECT_THROW(OptimizePoseGraph(&graph, opts), Error);
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_throw([](PoseGraph& g, PoseGraphOptions&) { g.edges[3].target = kNumNodes; });
  expect_throw([](PoseGraph& g, PoseGraphOptions&) { g.edges[3].source = -1; });
  expect_throw([](PoseGraph& g, PoseGraphOptions&) { g.edges[3].target = g.edges[3].source; });
  expect_throw([&](PoseGraph& g, PoseGraphOptions&) { g.world_from_cam[4].translation.x() = nan; });
  expect_throw(
      [&](PoseGraph& g, PoseGraphOptions&) { g.edges[2].target_from_source.rotation.w() = nan; });
  expect_throw([&](PoseGraph& g, PoseGraphOptions&) { g.edges[2].information(1, 1) = nan; });
  expect_throw([](PoseGraph& g, PoseGraphOptions&) { g.edges[2].information(0, 1) = 5.0; });
  expect_throw([](PoseGraph& g, PoseGraphOptions&) { g.edges[2].information(0, 0) = -1.0; });
  expect_throw([](PoseGraph&, PoseGraphOptions& o) { o.fixed_node = kNumNodes; });
  expect_throw([](PoseGraph&, PoseGraphOptions& o) { o.fixed_node = -1; });
  expect_throw([](PoseGraph&, PoseGraphOptions& o) { o.robust_loss_scale = 0.0; });
  expect_throw([](PoseGraph&, PoseGraphOptions& o) { o.edge_prune_threshold = 1.0; });
  expect_throw([](PoseGraph&, PoseGraphOptions& o) { o.max_iterations = 0; });

  // A graph whose nodes have no edges is valid and left as it is.
  PoseGraph lonely;
  lonely.world_from_cam = truth;
  const PoseGraphSummary summary = OptimizePoseGraph(&lonely, options);
  EXPECT_EQ(summary.iterations, 0);
  ExpectNear(lonely.world_from_cam, truth, 0.0, 1e-12);
}

}  // namespace
}  // namespace facet::sfm
