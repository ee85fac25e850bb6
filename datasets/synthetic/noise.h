// Procedural noise for the synthetic scene's textures: hashed value noise on the integer lattice
// with smooth (quintic) interpolation, and its fractal sum. Deterministic and thread-safe.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <cstdint>

namespace facet::datasets::synthetic {

// A well-mixed 32-bit hash of three lattice coordinates and a seed (lowbias32-style mixing).
inline std::uint32_t HashLattice(std::int32_t x, std::int32_t y, std::int32_t z,
                                 std::uint32_t seed) {
  std::uint32_t h = seed * 0x9E3779B9u;
  h ^= static_cast<std::uint32_t>(x) * 0x85EBCA6Bu;
  h = (h ^ (h >> 15)) * 0x2C1B3C6Du;
  h ^= static_cast<std::uint32_t>(y) * 0xC2B2AE35u;
  h = (h ^ (h >> 12)) * 0x297A2D39u;
  h ^= static_cast<std::uint32_t>(z) * 0x27D4EB2Fu;
  h = (h ^ (h >> 15)) * 0x2C1B3C6Du;
  return h ^ (h >> 16);
}

// Uniform in [0, 1) from a hash.
inline double HashToUnit(std::uint32_t h) { return (h >> 8) * (1.0 / 16777216.0); }

// Value noise in [0, 1] with C2-continuous interpolation between lattice values.
inline double ValueNoise(const Eigen::Vector3d& p, std::uint32_t seed) {
  const Eigen::Vector3d f = p.array().floor();
  const auto x0 = static_cast<std::int32_t>(f.x()), y0 = static_cast<std::int32_t>(f.y()),
             z0 = static_cast<std::int32_t>(f.z());
  const Eigen::Vector3d t = p - f;
  const Eigen::Vector3d s = t.array().cube() * (t.array() * (t.array() * 6.0 - 15.0) + 10.0);
  double c[2][2][2];
  for (int dz = 0; dz < 2; ++dz)
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx)
        c[dz][dy][dx] = HashToUnit(HashLattice(x0 + dx, y0 + dy, z0 + dz, seed));
  auto lerp = [](double a, double b, double u) { return a + (b - a) * u; };
  const double y0v =
      lerp(lerp(c[0][0][0], c[0][0][1], s.x()), lerp(c[0][1][0], c[0][1][1], s.x()), s.y());
  const double y1v =
      lerp(lerp(c[1][0][0], c[1][0][1], s.x()), lerp(c[1][1][0], c[1][1][1], s.x()), s.y());
  return lerp(y0v, y1v, s.z());
}

// Fractal Brownian motion: `octaves` octaves of value noise, each doubling the frequency and
// halving the amplitude, normalised to [0, 1].
inline double Fbm(const Eigen::Vector3d& p, int octaves, std::uint32_t seed) {
  double sum = 0.0, amplitude = 1.0, total = 0.0, frequency = 1.0;
  for (int o = 0; o < octaves; ++o) {
    sum += amplitude * ValueNoise(p * frequency, seed + 101u * o);
    total += amplitude;
    amplitude *= 0.5;
    frequency *= 2.03;  // not exactly 2, so octaves do not align on the lattice
  }
  return sum / total;
}

// Random dots: 1 inside a disc placed at random in each cell of a lattice of `cell` spacing
// (roughly one dot in `1 / density` cells, radius up to a third of the cell), else 0. Blobs like
// these are what difference-of-Gaussians detectors (SIFT) respond to.
inline double Speckle(const Eigen::Vector3d& p, double cell, double density, std::uint32_t seed) {
  const Eigen::Vector3d q = p / cell;
  const Eigen::Vector3d f = q.array().floor();
  const auto x = static_cast<std::int32_t>(f.x()), y = static_cast<std::int32_t>(f.y()),
             z = static_cast<std::int32_t>(f.z());
  const std::uint32_t h = HashLattice(x, y, z, seed);
  if (HashToUnit(h) > density) return 0.0;
  const Eigen::Vector3d center(0.5 + 0.3 * (HashToUnit(h * 747796405u + 1u) - 0.5),
                               0.5 + 0.3 * (HashToUnit(h * 2891336453u + 2u) - 0.5),
                               0.5 + 0.3 * (HashToUnit(h * 1181783497u + 3u) - 0.5));
  const double radius = 0.15 + 0.18 * HashToUnit(h * 3266489917u + 4u);
  return (q - f - center).norm() < radius ? 1.0 : 0.0;
}

}  // namespace facet::datasets::synthetic
