#include "geometry/isosurface.h"

#include <array>
#include <cmath>
#include <unordered_map>

#include "core/error.h"
#include "core/parallel_for.h"

namespace facet::geometry {

ScalarGrid SampleGrid(const std::function<float(const Eigen::Vector3d&)>& field,
                      const Eigen::Vector3d& min, const Eigen::Vector3d& max, double voxel_size) {
  FACET_CHECK(voxel_size > 0.0, "grid voxel size must be positive (got {})", voxel_size);
  FACET_CHECK((max.array() > min.array()).all(), "grid bounds are empty");
  ScalarGrid grid;
  grid.origin = min;
  grid.voxel_size = voxel_size;
  const Eigen::Vector3d cells = ((max - min) / voxel_size).array().ceil();
  FACET_CHECK(cells.prod() < 4e9, "grid of {}x{}x{} cells is too large", cells.x(), cells.y(),
              cells.z());
  grid.nx = static_cast<int>(cells.x()) + 1;
  grid.ny = static_cast<int>(cells.y()) + 1;
  grid.nz = static_cast<int>(cells.z()) + 1;
  grid.values.resize(std::size_t(grid.nx) * grid.ny * grid.nz);
  ParallelFor(std::int64_t{grid.ny} * grid.nz, [&](std::int64_t row) {
    const int j = static_cast<int>(row % grid.ny), k = static_cast<int>(row / grid.ny);
    float* out = grid.values.data() + std::size_t(row) * grid.nx;
    for (int i = 0; i < grid.nx; ++i) out[i] = field(grid.Node(i, j, k));
  });
  return grid;
}

namespace {

// Cube corner c has offset (c & 1, (c >> 1) & 1, (c >> 2) & 1). The six tetrahedra share the
// diagonal 0-7 and walk from corner 0 to 7 along the axes in each of the six orders.
constexpr std::array<std::array<int, 4>, 6> kTetrahedra = {{
    {0, 1, 3, 7},  // x, y, z
    {0, 1, 5, 7},  // x, z, y
    {0, 2, 3, 7},  // y, x, z
    {0, 2, 6, 7},  // y, z, x
    {0, 4, 5, 7},  // z, x, y
    {0, 4, 6, 7},  // z, y, x
}};

class Extractor {
 public:
  Extractor(const ScalarGrid& grid, float iso) : grid_(grid), iso_(iso) {}

  TriangleMesh Run() {
    for (int k = 0; k + 1 < grid_.nz; ++k) {
      for (int j = 0; j + 1 < grid_.ny; ++j) {
        for (int i = 0; i + 1 < grid_.nx; ++i) Cube(i, j, k);
      }
    }
    return std::move(mesh_);
  }

 private:
  std::uint64_t NodeIndex(int i, int j, int k) const {
    return (std::uint64_t(k) * grid_.ny + j) * grid_.nx + i;
  }

  void Cube(int i, int j, int k) {
    std::array<std::uint64_t, 8> index{};
    std::array<float, 8> value{};
    int inside = 0;
    for (int c = 0; c < 8; ++c) {
      const int ci = i + (c & 1), cj = j + ((c >> 1) & 1), ck = k + ((c >> 2) & 1);
      index[c] = NodeIndex(ci, cj, ck);
      value[c] = grid_.at(ci, cj, ck);
      inside += value[c] < iso_;
    }
    if (inside == 0 || inside == 8) return;
    for (const auto& tet : kTetrahedra) {
      std::array<std::uint64_t, 4> idx{};
      std::array<float, 4> val{};
      for (int t = 0; t < 4; ++t) {
        idx[t] = index[tet[t]];
        val[t] = value[tet[t]];
      }
      Tetrahedron(idx, val);
    }
  }

  void Tetrahedron(const std::array<std::uint64_t, 4>& idx, const std::array<float, 4>& val) {
    std::array<int, 4> in{}, out{};
    int n_in = 0, n_out = 0;
    for (int t = 0; t < 4; ++t) {
      if (val[t] < iso_) {
        in[n_in++] = t;
      } else {
        out[n_out++] = t;
      }
    }
    if (n_in == 0 || n_in == 4) return;
    // Orientation is decided once per tetrahedron on the surface through the edge midpoints
    // (never degenerate, unlike the interpolated one), so that both triangles of a quad agree and
    // every triangle faces from the inside nodes towards the outside ones.
    Eigen::Vector3d in_centroid = Eigen::Vector3d::Zero(), out_centroid = Eigen::Vector3d::Zero();
    for (int a = 0; a < n_in; ++a) in_centroid += Position(idx[in[a]]);
    for (int a = 0; a < n_out; ++a) out_centroid += Position(idx[out[a]]);
    const Eigen::Vector3d outward = out_centroid / n_out - in_centroid / n_in;
    auto midpoint = [&](int a, int b) -> Eigen::Vector3d {
      return 0.5 * (Position(idx[a]) + Position(idx[b]));
    };
    auto edge = [&](int a, int b) { return EdgeVertex(idx[a], idx[b], val[a], val[b]); };

    if (n_in == 1 || n_in == 3) {
      const int lone = n_in == 1 ? in[0] : out[0];
      std::array<int, 3> others{};
      int n = 0;
      for (int t = 0; t < 4; ++t) {
        if (t != lone) others[n++] = t;
      }
      const Eigen::Vector3d m0 = midpoint(lone, others[0]), m1 = midpoint(lone, others[1]),
                            m2 = midpoint(lone, others[2]);
      if ((m1 - m0).cross(m2 - m0).dot(outward) < 0.0) std::swap(others[1], others[2]);
      AddTriangle(edge(lone, others[0]), edge(lone, others[1]), edge(lone, others[2]));
    } else {
      // Two inside, two outside: the four crossing edges form the quad
      // (in0,out0) (in0,out1) (in1,out1) (in1,out0), in cyclic order.
      std::array<std::pair<int, int>, 4> quad = {
          {{in[0], out[0]}, {in[0], out[1]}, {in[1], out[1]}, {in[1], out[0]}}};
      const Eigen::Vector3d m0 = midpoint(quad[0].first, quad[0].second);
      const Eigen::Vector3d m1 = midpoint(quad[1].first, quad[1].second);
      const Eigen::Vector3d m2 = midpoint(quad[2].first, quad[2].second);
      if ((m1 - m0).cross(m2 - m0).dot(outward) < 0.0) std::swap(quad[1], quad[3]);
      std::array<std::uint32_t, 4> q{};
      for (int a = 0; a < 4; ++a) q[a] = edge(quad[a].first, quad[a].second);
      AddTriangle(q[0], q[1], q[2]);
      AddTriangle(q[0], q[2], q[3]);
    }
  }

  Eigen::Vector3d Position(std::uint64_t node) const {
    const auto i = static_cast<int>(node % grid_.nx);
    const auto j = static_cast<int>((node / grid_.nx) % grid_.ny);
    const auto k = static_cast<int>(node / (std::uint64_t(grid_.nx) * grid_.ny));
    return grid_.Node(i, j, k);
  }

  std::uint32_t EdgeVertex(std::uint64_t a, std::uint64_t b, float fa, float fb) {
    if (a > b) {
      std::swap(a, b);
      std::swap(fa, fb);
    }
    const std::uint64_t key = a * (std::uint64_t(grid_.nx) * grid_.ny * grid_.nz) + b;
    const auto [it, inserted] = edges_.try_emplace(key, 0u);
    if (inserted) {
      const double t = std::clamp(double(iso_ - fa) / double(fb - fa), 0.0, 1.0);
      it->second = static_cast<std::uint32_t>(mesh_.vertices.size());
      mesh_.vertices.push_back((1.0 - t) * Position(a) + t * Position(b));
    }
    return it->second;
  }

  void AddTriangle(std::uint32_t a, std::uint32_t b, std::uint32_t c) {
    mesh_.triangles.emplace_back(a, b, c);
  }

  const ScalarGrid& grid_;
  float iso_;
  TriangleMesh mesh_;
  std::unordered_map<std::uint64_t, std::uint32_t> edges_;
};

}  // namespace

TriangleMesh ExtractIsosurface(const ScalarGrid& grid, float iso) {
  FACET_CHECK(grid.nx >= 2 && grid.ny >= 2 && grid.nz >= 2 &&
                  grid.values.size() == std::size_t(grid.nx) * grid.ny * grid.nz,
              "isosurface grid is {}x{}x{} with {} values", grid.nx, grid.ny, grid.nz,
              grid.values.size());
  return Extractor(grid, iso).Run();
}

}  // namespace facet::geometry
