#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/knn_index.h"
#include "geometry/mesh_processing.h"

namespace facet::geometry {

void TransferVertexColors(TriangleMesh& mesh, const PointCloud& source, int k) {
  FACET_CHECK(!source.empty() && source.HasColors(),
              "colour transfer: the source points have no colours");
  FACET_CHECK(k >= 1 && k <= 64, "colour transfer: k must be in 1-64, got {}", k);
  source.Check();
  const KnnIndex index(source.points);
  mesh.vertex_colors.assign(mesh.vertices.size(), Eigen::Vector3f::Zero());
  ParallelFor(
      std::int64_t(mesh.vertices.size()),
      [&](std::int64_t v) {
        std::array<std::uint32_t, 64> neighbours{};
        std::array<double, 64> squared{};
        const int found =
            index.Search(mesh.vertices[std::size_t(v)], k, neighbours.data(), squared.data());
        Eigen::Vector3d sum = Eigen::Vector3d::Zero();
        double weights = 0.0;
        for (int n = 0; n < found; ++n) {
          if (squared[n] == 0.0) {  // on a sample: its colour
            sum = source.colors[neighbours[n]].cast<double>();
            weights = 1.0;
            break;
          }
          const double w = 1.0 / std::sqrt(squared[n]);
          sum += w * source.colors[neighbours[n]].cast<double>();
          weights += w;
        }
        mesh.vertex_colors[std::size_t(v)] = (sum / std::max(weights, 1e-300)).cast<float>();
      },
      256);
}

}  // namespace facet::geometry
