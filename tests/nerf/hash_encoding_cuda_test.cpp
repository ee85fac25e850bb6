// The CUDA hash encoding (nerf/cuda/hash_encoding_cuda.h) against the CPU path on random
// positions (some outside the unit cube), for every supported F and for the default grid. Built
// with CUDA, run with `ctest -L gpu`; skips without a device.
#include "nerf/cuda/hash_encoding_cuda.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "core/backend.h"
#include "core/cuda_check.h"
#include "nerf/hash_encoding.h"

namespace facet::nerf {
namespace {

#define SKIP_WITHOUT_DEVICE()                                     \
  do {                                                            \
    if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device"; \
  } while (false)

// A device copy of a host float array.
class DeviceFloats {
 public:
  explicit DeviceFloats(std::span<const float> host) : size_(host.size()) {
    FACET_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), bytes()));
    FACET_CUDA_CHECK(cudaMemcpy(data_, host.data(), bytes(), cudaMemcpyHostToDevice));
  }
  ~DeviceFloats() { cudaFree(data_); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  float* data() { return data_; }
  std::vector<float> ToHost() const {
    std::vector<float> host(size_);
    FACET_CUDA_CHECK(cudaMemcpy(host.data(), data_, bytes(), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  std::size_t bytes() const { return sizeof(float) * std::max<std::size_t>(size_, 1); }
  float* data_ = nullptr;
  std::size_t size_ = 0;
};

std::vector<float> RandomVector(std::size_t size, std::uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(lo, hi);
  std::vector<float> v(size);
  for (float& x : v) x = uniform(rng);
  return v;
}

HashGrid RandomGrid(const HashGridOptions& options) {
  HashGrid grid(options, 1);
  const std::vector<float> v = RandomVector(grid.ParamCount(), 2, -1.0f, 1.0f);
  std::copy(v.begin(), v.end(), grid.params().begin());
  return grid;
}

// Dense and hashed levels (resolutions 2..40, 2^12 entries).
HashGridOptions MixedOptions(int features) {
  return {.levels = 6,
          .features_per_level = features,
          .log2_table_size = 12,
          .base_resolution = 2,
          .max_resolution = 40};
}

// The same sum of products in either order of contraction into FMAs: within a few float ulps of
// the O(1) features.
void ExpectForwardMatches(const HashGrid& grid, std::size_t n) {
  const std::vector<float> positions = RandomVector(3 * n, 3, -0.05f, 1.05f);
  const std::size_t dims = std::size_t(grid.options().OutputDims());
  std::vector<float> cpu(n * dims);
  grid.Forward(positions, n, cpu);
  DeviceFloats d_params(grid.params()), d_positions(positions), d_features(cpu);
  HashGridForwardCuda(grid.layout(), d_params.data(), d_positions.data(), std::int64_t(n),
                      d_features.data());
  const std::vector<float> gpu = d_features.ToHost();
  int bad = 0;
  for (std::size_t i = 0; i < cpu.size() && bad < 10; ++i) {
    if (!(std::abs(gpu[i] - cpu[i]) <= 4e-6f + 1e-6f * std::abs(cpu[i]))) {
      ADD_FAILURE() << "feature " << i << ": gpu " << gpu[i] << " cpu " << cpu[i];
      ++bad;
    }
  }
}

TEST(NerfHashGridCuda, ForwardMatchesCpuForEveryFeatureCount) {
  SKIP_WITHOUT_DEVICE();
  for (int features : {1, 2, 4, 8}) {
    SCOPED_TRACE(features);
    ExpectForwardMatches(RandomGrid(MixedOptions(features)), 20000);
  }
}

TEST(NerfHashGridCuda, ForwardMatchesCpuOnTheDefaultGrid) {
  SKIP_WITHOUT_DEVICE();
  ExpectForwardMatches(RandomGrid(HashGridOptions{}), 100000);
}

// The table gradient is summed by atomics in no fixed order: each entry is within a few hundred
// ulps of the sum of its contributions' magnitudes (that sum is the CPU backward of |d_features|,
// the weights being >= 0). The position gradient sums levels in the CPU's order.
TEST(NerfHashGridCuda, BackwardMatchesCpu) {
  SKIP_WITHOUT_DEVICE();
  for (int features : {1, 2, 4, 8}) {
    SCOPED_TRACE(features);
    const HashGrid grid = RandomGrid(MixedOptions(features));
    const std::size_t n = 20000;
    const std::size_t dims = std::size_t(grid.options().OutputDims());
    const std::vector<float> positions = RandomVector(3 * n, 4, -0.05f, 1.05f);
    std::vector<float> d_features = RandomVector(n * dims, 5, -1.0f, 1.0f);
    std::fill(d_features.begin(), d_features.begin() + std::ptrdiff_t(dims), 0.0f);  // skipped
    std::vector<float> cpu_params(grid.ParamCount(), 0.5f), cpu_positions(3 * n);
    grid.Backward(positions, n, d_features, cpu_params, cpu_positions);
    std::vector<float> abs_d = d_features, magnitude(grid.ParamCount(), 0.0f);
    for (float& v : abs_d) v = std::abs(v);
    grid.Backward(positions, n, abs_d, magnitude);

    std::vector<float> init(grid.ParamCount(), 0.5f);
    DeviceFloats d_params(grid.params()), d_pos(positions), d_out(d_features), d_grad(init),
        d_grad_pos(cpu_positions);
    HashGridBackwardCuda(grid.layout(), d_params.data(), d_pos.data(), std::int64_t(n),
                         d_out.data(), d_grad.data(), d_grad_pos.data());
    const std::vector<float> gpu_params = d_grad.ToHost(), gpu_positions = d_grad_pos.ToHost();
    int bad = 0;
    for (std::size_t j = 0; j < cpu_params.size() && bad < 10; ++j) {
      if (!(std::abs(gpu_params[j] - cpu_params[j]) <= 1e-6f + 2e-5f * magnitude[j])) {
        ADD_FAILURE() << "param " << j << ": gpu " << gpu_params[j] << " cpu " << cpu_params[j]
                      << " magnitude " << magnitude[j];
        ++bad;
      }
    }
    // |dLoss/dp| <= sum_l N_l 2 sum_f |d_out| (entries in [-1, 1]): rounding (FMA contraction
    // on the device) is a few ulps of that bound.
    for (std::size_t i = 0; i < n && bad < 10; ++i) {
      float bound = 0.0f;
      for (int l = 0; l < grid.options().levels; ++l) {
        float d = 0.0f;
        for (int f = 0; f < features; ++f) d += std::abs(d_features[i * dims + l * features + f]);
        bound += 2.0f * float(grid.LevelResolution(l)) * d;
      }
      for (int a = 0; a < 3; ++a) {
        const std::size_t j = 3 * i + std::size_t(a);
        if (!(std::abs(gpu_positions[j] - cpu_positions[j]) <= 1e-5f + 2e-6f * bound)) {
          ADD_FAILURE() << "position " << j << ": gpu " << gpu_positions[j] << " cpu "
                        << cpu_positions[j] << " bound " << bound;
          ++bad;
        }
      }
    }
    // Without d_positions only the table gradient is written.
    DeviceFloats d_grad2(init);
    HashGridBackwardCuda(grid.layout(), d_params.data(), d_pos.data(), std::int64_t(n),
                         d_out.data(), d_grad2.data(), nullptr);
    const std::vector<float> again = d_grad2.ToHost();
    for (std::size_t j = 0; j < again.size() && bad < 10; ++j) {
      if (!(std::abs(again[j] - cpu_params[j]) <= 1e-6f + 2e-5f * magnitude[j])) {
        ADD_FAILURE() << "param " << j << " (no d_positions)";
        ++bad;
      }
    }
  }
}

TEST(NerfHashGridCuda, RejectsBadArguments) {
  const HashGrid grid = RandomGrid(MixedOptions(2));
  float dummy = 0.0f;
  EXPECT_THROW(HashGridForwardCuda(grid.layout(), &dummy, &dummy, -1, &dummy), Error);
  EXPECT_THROW(HashGridForwardCuda(grid.layout(), nullptr, &dummy, 4, &dummy), Error);
  EXPECT_THROW(HashGridBackwardCuda(grid.layout(), &dummy, &dummy, 4, &dummy, nullptr, nullptr),
               Error);
  kernels::HashGridLayout bad = grid.layout();
  bad.features = 3;
  EXPECT_THROW(HashGridForwardCuda(bad, &dummy, &dummy, 4, &dummy), Error);
  EXPECT_NO_THROW(HashGridForwardCuda(grid.layout(), nullptr, nullptr, 0, nullptr));
}

}  // namespace
}  // namespace facet::nerf
