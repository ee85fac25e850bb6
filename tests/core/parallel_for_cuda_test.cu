// ParallelForCuda against the host ParallelFor, with the same FACET_HOST_DEVICE body.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/backend.h"
#include "core/cuda_check.h"
#include "core/parallel_for.h"

namespace facet {
namespace {

FACET_HOST_DEVICE inline float Body(std::int64_t i) {
  return 0.5f * static_cast<float>(i % 1000) + 1.0f;
}

// Device memory freed on every path, a failed check included.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::int64_t n) : n_(n) {
    FACET_CUDA_CHECK(cudaMalloc(&data_, n * sizeof(T)));
    FACET_CUDA_CHECK(cudaMemset(data_, 0, n * sizeof(T)));
  }
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* data() const { return data_; }
  std::vector<T> ToHost() const {
    std::vector<T> host(n_);
    FACET_CUDA_CHECK(cudaMemcpy(host.data(), data_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  T* data_ = nullptr;
  std::int64_t n_;
};

// Extended __device__ lambdas may not live in TEST bodies (private member functions), so the
// launches are free functions.
std::vector<int> VisitCountsOnDevice(std::int64_t n) {
  const DeviceBuffer<int> visits(n);
  int* counts = visits.data();
  ParallelForCuda(n, [counts] __device__(std::int64_t i) { atomicAdd(counts + i, 1); });
  return visits.ToHost();
}

std::vector<float> BodyOnDevice(std::int64_t n) {
  const DeviceBuffer<float> out(n);
  float* values = out.data();
  ParallelForCuda(n, [values] __device__(std::int64_t i) { values[i] = Body(i); });
  return out.ToHost();
}

class ParallelForCudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_F(ParallelForCudaTest, CoversEveryIndexExactlyOnce) {
  for (std::int64_t n : {1LL, 255LL, 257LL, 1LL << 20, (1LL << 24) + 3}) {
    const std::vector<int> host = VisitCountsOnDevice(n);
    std::int64_t wrong = 0;
    for (int v : host) wrong += v != 1;
    EXPECT_EQ(wrong, 0) << "n=" << n;
  }
}

TEST_F(ParallelForCudaTest, MatchesTheHostPathBitForBit) {
  const std::int64_t n = 100000;
  std::vector<float> cpu(n);
  float* cpu_out = cpu.data();
  ParallelFor(n, [cpu_out](std::int64_t i) { cpu_out[i] = Body(i); });
  EXPECT_EQ(cpu, BodyOnDevice(n));
}

}  // namespace
}  // namespace facet
