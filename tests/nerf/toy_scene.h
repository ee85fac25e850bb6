// Shared test inputs of the nerf rendering tests: an analytic sphere field in the unit box and a
// bundle of rays crossing it.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace facet::nerf::testing {

// A sphere of density kSphereDensity, centre (0.5, 0.5, 0.5), radius 0.3, zero density outside;
// its colour is the position (in [0, 1]^3).
constexpr float kSphereDensity = 50.0f;
constexpr float kSphereRadius = 0.3f;

inline float SphereDensity(const float* x) {
  const float dx = x[0] - 0.5f, dy = x[1] - 0.5f, dz = x[2] - 0.5f;
  return dx * dx + dy * dy + dz * dz <= kSphereRadius * kSphereRadius ? kSphereDensity : 0.0f;
}

inline void SphereDensityBatch(std::span<const float> positions, std::size_t n,
                               std::span<float> density) {
  for (std::size_t i = 0; i < n; ++i) density[i] = SphereDensity(&positions[3 * i]);
}

struct Rays {
  std::vector<float> origins, directions;
  std::size_t count = 0;
};

// n rays from random points on a sphere of radius 1.5 around the box centre towards random
// points of the box's central region, so that rays hit, graze and miss the sphere.
inline Rays RandomRays(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> uniform(0.1f, 0.9f);
  Rays rays;
  rays.count = n;
  for (std::size_t i = 0; i < n; ++i) {
    Eigen::Vector3f o(normal(rng), normal(rng), normal(rng));
    o = Eigen::Vector3f::Constant(0.5f) + 1.5f * o.normalized();
    const Eigen::Vector3f target(uniform(rng), uniform(rng), uniform(rng));
    const Eigen::Vector3f d = (target - o).normalized();
    for (int k = 0; k < 3; ++k) {
      rays.origins.push_back(o[k]);
      rays.directions.push_back(d[k]);
    }
  }
  return rays;
}

}  // namespace facet::nerf::testing
