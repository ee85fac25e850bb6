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

// Extended __device__ lambdas may not live in TEST bodies (private member functions), so the
// launches are free functions.
std::vector<int> VisitCountsOnDevice(std::int64_t n) {
  int* visits = nullptr;
  FACET_CUDA_CHECK(cudaMalloc(&visits, n * sizeof(int)));
  FACET_CUDA_CHECK(cudaMemset(visits, 0, n * sizeof(int)));
  ParallelForCuda(n, [visits] __device__(std::int64_t i) { atomicAdd(visits + i, 1); });
  std::vector<int> host(n);
  FACET_CUDA_CHECK(cudaMemcpy(host.data(), visits, n * sizeof(int), cudaMemcpyDeviceToHost));
  FACET_CUDA_CHECK(cudaFree(visits));
  return host;
}

std::vector<float> BodyOnDevice(std::int64_t n) {
  float* gpu_out = nullptr;
  FACET_CUDA_CHECK(cudaMalloc(&gpu_out, n * sizeof(float)));
  ParallelForCuda(n, [gpu_out] __device__(std::int64_t i) { gpu_out[i] = Body(i); });
  std::vector<float> gpu(n);
  FACET_CUDA_CHECK(cudaMemcpy(gpu.data(), gpu_out, n * sizeof(float), cudaMemcpyDeviceToHost));
  FACET_CUDA_CHECK(cudaFree(gpu_out));
  return gpu;
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
