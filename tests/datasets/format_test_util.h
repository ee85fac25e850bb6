// Helpers shared by the file-format tests: the shared data folder, raw file writes, deterministic
// sample clouds, meshes and splat scenes, and error-message capture.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/detail/srgb.h"
#include "datasets/gaussian_splats.h"
#include "geometry/point_cloud.h"
#include "geometry/triangle_mesh.h"

namespace facet::testing {

// A file of the shared reference data (read-only, may be absent in a user's checkout).
inline std::filesystem::path SharedData(const std::string& relative) {
  return std::filesystem::path(FACET_SOURCE_DIR "/../shared/data") / relative;
}

#define FACET_SKIP_WITHOUT(path)                                                             \
  do {                                                                                       \
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data not found: " << (path); \
  } while (false)

inline void WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The facet::Error message `fn` throws; fails the test when it throws nothing or something else.
template <typename Fn>
std::string ErrorMessage(Fn&& fn) {
  try {
    fn();
  } catch (const facet::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-facet exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected a facet::Error";
  return {};
}

// `count` points in [-10, 10]^3 plus a few extreme coordinates, with unit normals and colours on
// the 8-bit sRGB grid (so that they survive quantisation exactly).
inline geometry::PointCloud SampleCloud(int count, bool normals, bool colors,
                                        std::uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> coordinate(-10.0, 10.0);
  geometry::PointCloud cloud;
  for (int i = 0; i < count; ++i) {
    cloud.points.emplace_back(coordinate(rng), coordinate(rng), coordinate(rng));
  }
  cloud.points.emplace_back(1e30, -1e-30, 3.0e38);
  cloud.points.emplace_back(0.0, -0.0, 1.0 / 3.0);
  for (std::size_t i = 0; normals && i < cloud.size(); ++i) {
    Eigen::Vector3d n(coordinate(rng), coordinate(rng), coordinate(rng) + 20.0);
    cloud.normals.push_back(n.normalized());
  }
  for (std::size_t i = 0; colors && i < cloud.size(); ++i) {
    Eigen::Vector3f c;
    for (int k = 0; k < 3; ++k) c[k] = datasets::detail::Srgb8ToLinear(rng() % 256);
    cloud.colors.push_back(c);
  }
  return cloud;
}

// An octahedron (6 vertices, 8 outward triangles) with normals and sRGB-grid colours.
inline geometry::TriangleMesh SampleMesh() {
  geometry::TriangleMesh mesh;
  mesh.vertices = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
  mesh.triangles = {{0, 2, 4}, {2, 1, 4}, {1, 3, 4}, {3, 0, 4},
                    {2, 0, 5}, {1, 2, 5}, {3, 1, 5}, {0, 3, 5}};
  mesh.vertex_normals = mesh.vertices;
  for (std::size_t i = 0; i < mesh.vertices.size(); ++i) {
    mesh.vertex_colors.emplace_back(datasets::detail::Srgb8ToLinear(40 * i),
                                    datasets::detail::Srgb8ToLinear(255 - 30 * i),
                                    datasets::detail::Srgb8ToLinear(7));
  }
  return mesh;
}

// `count` Gaussians of SH degree `degree` with values in the ranges trained scenes have; the
// displayed band-0 colour 0.5 + kShC0 * dc stays inside (0, 1).
inline datasets::GaussianSplats SampleSplats(int count, int degree, bool normals,
                                             std::uint32_t seed = 11) {
  std::mt19937 rng(seed);
  auto uniform = [&rng](float lo, float hi) {
    return std::uniform_real_distribution<float>(lo, hi)(rng);
  };
  datasets::GaussianSplats splats;
  splats.sh_degree = degree;
  if (normals) splats.normals.resize(1);  // Resize keeps normals only when present
  splats.Resize(count);
  for (int i = 0; i < count; ++i) {
    for (int k = 0; k < 3; ++k) {
      splats.positions[i][k] = uniform(-50.0f, 50.0f);
      if (normals) splats.normals[i][k] = uniform(-1.0f, 1.0f);
      splats.sh_dc[i][k] = uniform(-1.6f, 1.6f);
      splats.log_scales[i][k] = uniform(-6.0f, 0.5f);
    }
    splats.opacities[i] = uniform(-5.0f, 5.0f);
    for (int k = 0; k < 4; ++k) splats.rotations[i][k] = uniform(-2.0f, 2.0f);
    for (int k = 0; k < splats.NumShRest(); ++k) {
      splats.sh_rest[i * splats.NumShRest() + k] = uniform(-0.5f, 0.5f);
    }
  }
  return splats;
}

}  // namespace facet::testing
