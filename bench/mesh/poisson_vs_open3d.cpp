// Screened Poisson reconstruction of the Stanford bunny, ours against Open3D's
// CreateFromPointCloudPoisson (a wrapper of Kazhdan's PoissonRecon), from the same points
// (the mesh's vertices) and normals (area-weighted vertex normals), at the same depth, bounding
// scale (1.1) and thread count. Prints time, Chamfer distance to the original mesh (our
// CompareSurfaces, the same samples for both) and whether each result is watertight; --json FILE
// also writes them (objects "floor", "facet", "open3d") for bench/run_all.sh.
//
//   build/release/bench/poisson_vs_open3d [--depth 8] [--threads 2] [--repeat 3]
//                                        [--estimate-normals] [--diagnose] [--json FILE]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <open3d/geometry/PointCloud.h>
#include <open3d/geometry/TriangleMesh.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "datasets/ply.h"
#include "geometry/knn_index.h"
#include "geometry/mesh_checks.h"
#include "geometry/normals.h"
#include "geometry/poisson.h"

namespace {

using facet::geometry::TriangleMesh;

TriangleMesh FromOpen3d(const open3d::geometry::TriangleMesh& mesh) {
  TriangleMesh out;
  out.vertices = mesh.vertices_;
  for (const auto& t : mesh.triangles_) out.triangles.emplace_back(t.cast<std::uint32_t>());
  return out;
}

// Prints one line and returns the same figures as JSON.
nlohmann::json Report(const char* name, double seconds, const TriangleMesh& mesh,
                      const TriangleMesh& reference, double diagonal, std::size_t samples) {
  const auto topology = facet::geometry::CheckWatertight(mesh);
  const auto distance =
      facet::geometry::CompareSurfaces(mesh, reference, 0.001 * diagonal, samples, /*seed=*/7);
  std::printf(
      "%-8s time %7.3f s  chamfer %.7f (%.4f%% of diagonal)  acc %.7f comp %.7f  F@0.1%% "
      "%.4f  vertices %zu triangles %zu  components %lld genus %lld  watertight %s%s%s\n",
      name, seconds, distance.chamfer, 100.0 * distance.chamfer / diagonal, distance.accuracy,
      distance.completeness, distance.f_score, mesh.vertices.size(), mesh.triangles.size(),
      static_cast<long long>(topology.components), static_cast<long long>(topology.genus),
      topology.watertight ? "yes" : "no", topology.watertight ? "" : " - ",
      topology.reason.c_str());
  return {{"seconds", seconds},
          {"chamfer", distance.chamfer},
          {"chamfer_percent_of_diagonal", 100.0 * distance.chamfer / diagonal},
          {"accuracy", distance.accuracy},
          {"completeness", distance.completeness},
          {"f_score", distance.f_score},
          {"vertices", mesh.vertices.size()},
          {"triangles", mesh.triangles.size()},
          {"components", topology.components},
          {"genus", topology.genus},
          {"watertight", topology.watertight}};
}

// The components other than the largest: size, signed volume (> 0: a closed blob facing
// outwards; < 0: a cavity) and the distance of their centre to the nearest input point.
void ListSmallComponents(const TriangleMesh& mesh, const std::vector<Eigen::Vector3d>& points,
                         double voxel) {
  std::vector<std::uint32_t> parent(mesh.vertices.size());
  for (std::uint32_t i = 0; i < parent.size(); ++i) parent[i] = i;
  auto find = [&](std::uint32_t v) {
    while (parent[v] != v) v = parent[v] = parent[parent[v]];
    return v;
  };
  for (const auto& t : mesh.triangles) {
    parent[find(t[1])] = find(t[0]);
    parent[find(t[2])] = find(t[0]);
  }
  struct Component {
    std::size_t triangles = 0;
    double volume = 0.0;
    Eigen::Vector3d sum = Eigen::Vector3d::Zero();
  };
  std::map<std::uint32_t, Component> components;
  for (const auto& t : mesh.triangles) {
    auto& c = components[find(t[0])];
    ++c.triangles;
    const auto &a = mesh.vertices[t[0]], &b = mesh.vertices[t[1]], &d = mesh.vertices[t[2]];
    c.volume += a.dot(b.cross(d)) / 6.0;
    c.sum += (a + b + d) / 3.0;
  }
  std::size_t largest = 0;
  for (const auto& [root, c] : components) largest = std::max(largest, c.triangles);
  const facet::geometry::KnnIndex index(points);
  for (const auto& [root, c] : components) {
    if (c.triangles == largest) continue;
    const Eigen::Vector3d centre = c.sum / double(c.triangles);
    std::uint32_t nearest = 0;
    double squared = 0.0;
    index.Search(centre, 1, &nearest, &squared);
    std::printf("  component: %zu triangles, volume %.3g voxels, centre %.2f voxels from a point\n",
                c.triangles, c.volume / (voxel * voxel * voxel), std::sqrt(squared) / voxel);
  }
}

// How the mean distance from a's samples to b's splits by distance (the tail: surface invented
// over holes).
void DistanceHistogram(const char* name, const TriangleMesh& a, const TriangleMesh& b,
                       double diagonal) {
  const auto pa = facet::geometry::SampleSurface(a, 200000, 7);
  const auto pb = facet::geometry::SampleSurface(b, 200000, 8);
  const facet::geometry::KnnIndex index(pb);
  const double edges[] = {0.001, 0.002, 0.004, 0.01, 1e9};
  double sum[5] = {}, count[5] = {};
  for (const auto& p : pa) {
    std::uint32_t n = 0;
    double sq = 0;
    index.Search(p, 1, &n, &sq);
    const double d = std::sqrt(sq) / diagonal;
    int k = 0;
    while (d > edges[k]) ++k;
    sum[k] += std::sqrt(sq);
    count[k] += 1;
  }
  std::printf("%s distance to reference by band (of diagonal): ", name);
  for (int k = 0; k < 5; ++k)
    std::printf("<%.3f: %.1f%% of points, %.7f of the mean; ", edges[k], 100 * count[k] / pa.size(),
                sum[k] / pa.size());
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  // Open3D's OpenMP workers would otherwise spin on the cores after it returns.
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  CLI::App app{"Screened Poisson reconstruction: facet vs Open3D on the Stanford bunny"};
  std::string path = FACET_SOURCE_DIR "/../shared/data/stanford-bunny/bun_zipper.ply";
  int depth = 8, threads = 2;
  std::size_t samples = 200000;
  bool estimate = false, skip_open3d = false;
  std::string output;
  app.add_option("--mesh", path, "reference mesh (PLY)");
  app.add_option("--depth", depth, "octree / lattice depth");
  app.add_option("--threads", threads, "threads for both");
  app.add_option("--samples", samples, "surface samples per mesh for the Chamfer distance");
  app.add_flag("--estimate-normals", estimate, "estimate and orient normals with facet instead");
  app.add_flag("--skip-open3d", skip_open3d, "run facet only");
  bool diagnose = false;
  app.add_flag("--diagnose", diagnose,
               "describe facet's smaller components and where the distances to the scan come from");
  int repeat = 3;
  app.add_option("--repeat", repeat, "runs of each; the fastest is reported");
  app.add_option("--output", output, "write facet's mesh to this PLY");
  std::string json_path;
  app.add_option("--json", json_path, "also write the figures here");
  facet::geometry::PoissonOptions options;
  app.add_option("--samples-per-node", options.samples_per_node, "facet: adaptive splatting");
  app.add_option("--screening", options.screening, "facet: screening weight alpha");
  app.add_option("--band", options.band, "facet: band half-width in cells");
  app.add_option("--full-depth", options.full_depth, "facet: depth solved on the whole cube");
  app.add_option("--tolerance", options.cg_tolerance, "facet: CG relative residual per level");
  app.add_option("--iterations", options.max_iterations, "facet: CG iterations per level");
  app.add_option("--area-neighbours", options.area_neighbours, "facet: k for the sample areas");
  CLI11_PARSE(app, argc, argv);

  TriangleMesh reference = facet::datasets::ReadMeshPly(path);
  reference.ComputeVertexNormals();
  facet::geometry::PointCloud cloud;
  cloud.points = reference.vertices;
  cloud.normals = reference.vertex_normals;
  if (estimate) {
    cloud.normals.clear();
    facet::geometry::EstimateNormals(cloud);
    facet::geometry::OrientNormalsConsistently(cloud);
  }
  const auto bounds = facet::geometry::ComputeBounds(reference.vertices);
  const double diagonal = bounds.Extent().norm();
  std::printf("%s: %zu points, bounding-box diagonal %.6f, depth %d, %d threads\n", path.c_str(),
              cloud.size(), diagonal, depth, threads);

  // The sampling floor: the reference against itself (independent samples of one surface).
  nlohmann::json summary = {{"mesh", path},   {"points", cloud.size()}, {"diagonal", diagonal},
                            {"depth", depth}, {"threads", threads},     {"repeat", repeat}};
  summary["floor"] = Report("floor", 0.0, reference, reference, diagonal, samples);

  options.depth = depth;
  options.threads = threads;
  auto ours = facet::geometry::ReconstructPoisson(cloud, options);
  for (int r = 1; r < repeat; ++r) {
    auto again = facet::geometry::ReconstructPoisson(cloud, options);
    if (again.stats.total_seconds < ours.stats.total_seconds) ours = std::move(again);
  }
  std::printf(
      "facet: %lld unknowns at the finest level, %d CG iterations (%d at the finest, "
      "residual %.2e), solve %.3f s, mean splat depth %.2f, lattice depth %d, iso %.4f\n",
      static_cast<long long>(ours.stats.finest_unknowns), ours.stats.iterations,
      ours.stats.finest_iterations, ours.stats.relative_residual, ours.stats.solve_seconds,
      ours.stats.mean_splat_depth, ours.stats.depth, ours.stats.iso_value);
  summary["facet"] =
      Report("facet", ours.stats.total_seconds, ours.mesh, reference, diagonal, samples);
  if (diagnose) ListSmallComponents(ours.mesh, cloud.points, ours.stats.voxel_size);
  if (diagnose) DistanceHistogram("facet", ours.mesh, reference, diagonal);
  if (diagnose) DistanceHistogram("floor", reference, reference, diagonal);
  if (!output.empty()) facet::datasets::WriteMeshPly(output, ours.mesh);

  if (!skip_open3d) {
    open3d::geometry::PointCloud pcd;
    pcd.points_ = cloud.points;
    pcd.normals_ = cloud.normals;
    double seconds = 1e30;
    std::shared_ptr<open3d::geometry::TriangleMesh> mesh;
    for (int r = 0; r < repeat; ++r) {
      const auto start = std::chrono::steady_clock::now();
      auto result = open3d::geometry::TriangleMesh::CreateFromPointCloudPoisson(
          pcd, static_cast<std::size_t>(depth), 0.0f, 1.1f, false, threads);
      const double t =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (t < seconds) {
        seconds = t;
        mesh = std::get<0>(result);
      }
    }
    summary["open3d"] = Report("open3d", seconds, FromOpen3d(*mesh), reference, diagonal, samples);
    if (diagnose) DistanceHistogram("open3d", FromOpen3d(*mesh), reference, diagonal);
  }
  if (!json_path.empty()) std::ofstream(json_path) << summary.dump(2) << "\n";
  return 0;
}
