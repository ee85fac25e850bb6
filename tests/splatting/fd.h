// Central finite differences and gradient comparisons for the splatting kernel tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

namespace facet::splatting::test {

// Central differences of f at x with step h (absolute): truncation error O(h^2 f''').
inline std::vector<double> CentralDifferences(
    const std::function<double(const std::vector<double>&)>& f, const std::vector<double>& x,
    double h = 1e-6) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<double> xp = x, xm = x;
    xp[i] += h;
    xm[i] -= h;
    g[i] = (f(xp) - f(xm)) / (2.0 * h);
  }
  return g;
}

inline double Norm(const std::vector<double>& a) {
  double s = 0.0;
  for (double v : a) s += v * v;
  return std::sqrt(s);
}

// ||analytic - fd|| / ||fd|| < tol; an all-zero finite difference requires an all-zero VJP.
inline void ExpectGradientNear(const std::vector<double>& analytic, const std::vector<double>& fd,
                               double tol, const char* what) {
  ASSERT_EQ(analytic.size(), fd.size()) << what;
  std::vector<double> diff(fd.size());
  for (size_t i = 0; i < fd.size(); ++i) diff[i] = analytic[i] - fd[i];
  const double scale = Norm(fd);
  if (scale < 1e-12) {
    EXPECT_LT(Norm(analytic), 1e-12) << what;
    return;
  }
  EXPECT_LT(Norm(diff) / scale, tol) << what << ": |fd| = " << scale;
}

inline double Uniform(std::mt19937& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

}  // namespace facet::splatting::test
