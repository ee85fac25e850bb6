// The direction encoding (kernels/sh_encoding.h) and the output activations
// (kernels/activations.h): SH orthonormality by exact quadrature over the sphere, known values,
// float against double; activation derivatives against central differences.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include "nerf/kernels/activations.h"
#include "nerf/kernels/sh_encoding.h"

namespace facet::nerf::kernels {
namespace {

// Gauss-Legendre nodes and weights on [-1, 1] (Newton on P_n from the Chebyshev guesses).
void GaussLegendre(int n, std::vector<double>& nodes, std::vector<double>& weights) {
  nodes.resize(n);
  weights.resize(n);
  for (int i = 0; i < n; ++i) {
    double x = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5));
    double dp = 0.0;
    for (int iteration = 0; iteration < 100; ++iteration) {
      double p0 = 1.0, p1 = x;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (x * p1 - p0) / (x * x - 1.0);
      const double step = p1 / dp;
      x -= step;
      if (std::abs(step) < 1e-15) break;
    }
    nodes[i] = x;
    weights[i] = 2.0 / ((1.0 - x * x) * dp * dp);
  }
}

// integral Y_i Y_j dω over the sphere: the products are polynomials of degree <= 6 in (x, y, z),
// integrated exactly by 8 Gauss-Legendre nodes in z = cos(theta) and 16 equal steps in phi.
TEST(NerfShEncoding, BasisIsOrthonormalOverTheSphere) {
  std::vector<double> z_nodes, z_weights;
  GaussLegendre(8, z_nodes, z_weights);
  constexpr int kPhi = 16;
  std::array<std::array<double, kShCount>, kShCount> gram{};
  for (std::size_t a = 0; a < z_nodes.size(); ++a) {
    const double z = z_nodes[a], r = std::sqrt(1.0 - z * z);
    for (int b = 0; b < kPhi; ++b) {
      const double phi = 2.0 * std::numbers::pi * (b + 0.5) / kPhi;
      double y[kShCount];
      ShEncode(r * std::cos(phi), r * std::sin(phi), z, y);
      const double w = z_weights[a] * 2.0 * std::numbers::pi / kPhi;
      for (int i = 0; i < kShCount; ++i) {
        for (int j = 0; j < kShCount; ++j) gram[i][j] += w * y[i] * y[j];
      }
    }
  }
  for (int i = 0; i < kShCount; ++i) {
    for (int j = 0; j < kShCount; ++j) {
      EXPECT_NEAR(gram[i][j], i == j ? 1.0 : 0.0, 1e-12) << i << ", " << j;
    }
  }
}

TEST(NerfShEncoding, KnownValuesAndFloatMatchesDouble) {
  // Along +z only the zonal functions (m = 0) are non-zero: Y_l0(0) = sqrt((2l + 1) / (4 pi)).
  float y[kShCount];
  ShEncode(0.0f, 0.0f, 1.0f, y);
  for (int i = 0; i < kShCount; ++i) {
    const int l = int(std::sqrt(float(i)));
    const bool zonal = i == l * (l + 1);
    const double expected = zonal ? std::sqrt((2.0 * l + 1.0) / (4.0 * std::numbers::pi)) : 0.0;
    EXPECT_NEAR(y[i], expected, 1e-6) << i;
  }
  // Along +x: Y_1,1 = -sqrt(3 / (4 pi)) (Condon-Shortley phase, as tiny-cuda-nn).
  ShEncode(1.0f, 0.0f, 0.0f, y);
  EXPECT_NEAR(y[3], -std::sqrt(3.0 / (4.0 * std::numbers::pi)), 1e-6);
  EXPECT_NEAR(y[8], std::sqrt(15.0 / (16.0 * std::numbers::pi)), 1e-6);
  // An oblique direction in float against double.
  const double d[3] = {0.48, -0.6, 0.64};
  double yd[kShCount];
  ShEncode(d[0], d[1], d[2], yd);
  ShEncode(float(d[0]), float(d[1]), float(d[2]), y);
  for (int i = 0; i < kShCount; ++i) EXPECT_NEAR(y[i], yd[i], 1e-6) << i;
}

// Central differences of the float functions with step h = 1e-2: truncation error h^2 |f'''| / 6
// and rounding error ~eps |f| / h are both below 2e-5 relative for these arguments.
TEST(NerfActivations, DerivativesMatchCentralDifferences) {
  const float h = 1e-2f;
  for (float x = -6.0f; x <= 6.0f; x += 0.37f) {
    const double fd_exp = (double(TruncExp(x + h)) - double(TruncExp(x - h))) / (2.0 * h);
    EXPECT_NEAR(TruncExpDerivative(x), fd_exp, 5e-5 * fd_exp) << x;
    EXPECT_FLOAT_EQ(TruncExp(x), std::exp(x));
    const double fd_sigmoid = (double(Sigmoid(x + h)) - double(Sigmoid(x - h))) / (2.0 * h);
    EXPECT_NEAR(SigmoidDerivative(x), fd_sigmoid, 2e-5) << x;
    EXPECT_FLOAT_EQ(SigmoidDerivativeFromOutput(Sigmoid(x)), SigmoidDerivative(x));
    EXPECT_NEAR(Sigmoid(x), 1.0 / (1.0 + std::exp(-double(x))), 1e-7);
  }
}

TEST(NerfActivations, TruncExpClampsOnlyItsGradient) {
  EXPECT_FLOAT_EQ(TruncExp(20.0f), std::exp(20.0f));
  EXPECT_FLOAT_EQ(TruncExpDerivative(20.0f), std::exp(15.0f));
  EXPECT_FLOAT_EQ(TruncExpDerivative(-40.0f), std::exp(-15.0f));
  EXPECT_FLOAT_EQ(TruncExpDerivative(15.0f), std::exp(15.0f));
  EXPECT_GT(TruncExpDerivative(-200.0f), 0.0f);  // never a vanishing gradient
  EXPECT_FLOAT_EQ(Sigmoid(0.0f), 0.5f);
  EXPECT_FLOAT_EQ(SigmoidDerivative(0.0f), 0.25f);
}

}  // namespace
}  // namespace facet::nerf::kernels
