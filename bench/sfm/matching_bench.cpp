// Descriptor matching: facet's blocked inner-product search (per CPU kernel, and CUDA when a
// device is present) against OpenCV's brute-force matcher (BFMatcher::knnMatch, k = 2, the usual
// way to run Lowe's ratio test with OpenCV) on the same 8192 x 8192 RootSIFT-like descriptors.
#include <benchmark/benchmark.h>
#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <string>

#include "core/backend.h"
#include "sfm/detail/nearest_neighbors.h"
#if defined(FACET_WITH_CUDA)
#include "sfm/detail/matching_cuda.h"
#endif
#include "sfm/matching.h"

namespace facet::sfm {
namespace {

// Non-negative unit rows, like RootSIFT; b is a noisy shuffled copy of a so that most rows match.
struct Data {
  MatchableDescriptors a;
  MatchableDescriptors b;
};

const Data& DescriptorData(int n) {
  static std::map<int, Data> cache;
  auto [it, inserted] = cache.try_emplace(n);
  if (inserted) {
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    Data& d = it->second;
    d.a.rows.resize(n, kDescriptorDim);
    d.b.rows.resize(n, kDescriptorDim);
    for (Eigen::Index i = 0; i < d.a.rows.size(); ++i) d.a.rows.data()[i] = std::abs(normal(rng));
    std::vector<int> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < kDescriptorDim; ++k) {
        d.b.rows(perm[i], k) = d.a.rows(i, k) + 0.05f * normal(rng);
      }
    }
    d.a.rows.rowwise().normalize();
    d.b.rows.rowwise().normalize();
  }
  return it->second;
}

void SetCounters(benchmark::State& state, int n) {
  state.SetItemsProcessed(state.iterations() * n);  // query descriptors per second
  state.counters["pairs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_MatchDescriptorsCpu(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Data& d = DescriptorData(n);
  std::size_t matches = 0;
  for (auto _ : state) {
    matches = MatchDescriptors(d.a, d.b).size();
    benchmark::DoNotOptimize(matches);
  }
  state.counters["matches"] = static_cast<double>(matches);
  SetCounters(state, n);
}

void BM_NeighborKernel(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto kernel = static_cast<detail::CpuKernel>(state.range(1));
  if (!detail::CpuKernelSupported(kernel)) {
    state.SkipWithError("this processor cannot run the kernel");
    return;
  }
  state.SetLabel(std::string(detail::ToString(kernel)));
  const Data& d = DescriptorData(n);
  for (auto _ : state) {
    const detail::NeighborTable t =
        detail::FindNeighborsCpu(d.a.rows.data(), n, d.b.rows.data(), n, true, kernel);
    benchmark::DoNotOptimize(t.best_index.data());
  }
  SetCounters(state, n);
  state.counters["GFLOPS"] = benchmark::Counter(
      2.0 * n * n * kDescriptorDim * 1e-9 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

void BM_OpenCvBfMatcherKnn(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Data& d = DescriptorData(n);
  const cv::Mat a(n, kDescriptorDim, CV_32F, const_cast<float*>(d.a.rows.data()));
  const cv::Mat b(n, kDescriptorDim, CV_32F, const_cast<float*>(d.b.rows.data()));
  cv::BFMatcher matcher(cv::NORM_L2);
  std::vector<std::vector<cv::DMatch>> knn;
  for (auto _ : state) {
    matcher.knnMatch(a, b, knn, 2);
    benchmark::DoNotOptimize(knn.data());
  }
  SetCounters(state, n);
}

// End to end: a cuBLAS handle, uploads, search and download per call.
void BM_MatchDescriptorsCuda(benchmark::State& state) {
  if (CudaDeviceCount() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const int n = static_cast<int>(state.range(0));
  const Data& d = DescriptorData(n);
  MatchingOptions options;
  options.backend = Backend::kCuda;
  for (auto _ : state) {
    benchmark::DoNotOptimize(MatchDescriptors(d.a, d.b, options).size());
  }
  SetCounters(state, n);
}

#if defined(FACET_WITH_CUDA)
// The search alone, descriptors already on the device (as MatchImagePairs runs it).
void BM_CudaNeighborSearch(benchmark::State& state) {
  if (CudaDeviceCount() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const int n = static_cast<int>(state.range(0));
  const Data& d = DescriptorData(n);
  detail::CudaNeighborSearch search;
  const int a = search.Upload(d.a.rows.data(), n);
  const int b = search.Upload(d.b.rows.data(), n);
  for (auto _ : state) {
    const detail::NeighborTable t = search.Search(a, b, true);
    benchmark::DoNotOptimize(t.best_index.data());
  }
  SetCounters(state, n);
}
BENCHMARK(BM_CudaNeighborSearch)->Arg(8192)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif

BENCHMARK(BM_MatchDescriptorsCpu)->Arg(8192)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_NeighborKernel)
    ->Args({8192, static_cast<int>(detail::CpuKernel::kPortable)})
    ->Args({8192, static_cast<int>(detail::CpuKernel::kAvx2)})
    ->Args({8192, static_cast<int>(detail::CpuKernel::kAvx512)})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_OpenCvBfMatcherKnn)->Arg(8192)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MatchDescriptorsCuda)->Arg(8192)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace facet::sfm

BENCHMARK_MAIN();
