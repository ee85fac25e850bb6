#include "core/backend.h"

#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

#include <memory>
#include <mutex>

#include "core/error.h"

#ifdef FACET_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace facet {

std::string_view ToString(Backend backend) {
  switch (backend) {
    case Backend::kCpu:
      return "cpu";
    case Backend::kCuda:
      return "cuda";
  }
  return "unknown";
}

bool CudaBuilt() {
#ifdef FACET_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int CudaDeviceCount() {
#ifdef FACET_WITH_CUDA
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky error so later calls are not confused by it
    return 0;
  }
  return count;
#else
  return 0;
#endif
}

std::string CudaDeviceName([[maybe_unused]] int index) {
#ifdef FACET_WITH_CUDA
  if (index < 0 || index >= CudaDeviceCount()) return {};
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) return {};
  return fmt::format("{} (compute {}.{}, {:.0f} GiB)", prop.name, prop.major, prop.minor,
                     static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
#else
  return {};
#endif
}

std::string DescribeCuda() {
#ifdef FACET_WITH_CUDA
  const std::string built =
      fmt::format("CUDA {}.{} built", CUDART_VERSION / 1000, (CUDART_VERSION % 1000) / 10);
  const int count = CudaDeviceCount();
  if (count == 0) return built + ", no device found";
  return fmt::format("{}, {} device{}: {}", built, count, count == 1 ? "" : "s", CudaDeviceName(0));
#else
  return "CUDA not built (CPU only)";
#endif
}

Backend ResolveBackend(std::string_view request) {
  if (request == "cpu") return Backend::kCpu;
  if (request == "auto") return CudaDeviceCount() > 0 ? Backend::kCuda : Backend::kCpu;
  if (request == "cuda") {
    FACET_CHECK(CudaBuilt(),
                "--device cuda: this facet was built without CUDA (rebuild with -DFACET_CUDA=ON "
                "and the CUDA toolkit installed, or use --device cpu)");
    FACET_CHECK(CudaDeviceCount() > 0,
                "--device cuda: no CUDA device found (check `nvidia-smi` and the driver, or use "
                "--device cpu)");
    return Backend::kCuda;
  }
  FACET_THROW("unknown device '{}': use auto, cpu or cuda", request);
}

namespace {
std::mutex g_threads_mutex;
std::unique_ptr<oneapi::tbb::global_control> g_threads_control;
}  // namespace

int SetMaxThreads(int max_threads) {
  FACET_CHECK(max_threads >= 0, "--threads must be 0 (all cores) or positive (got {})",
              max_threads);
  std::lock_guard lock(g_threads_mutex);
  g_threads_control.reset();
  if (max_threads > 0) {
    g_threads_control = std::make_unique<oneapi::tbb::global_control>(
        oneapi::tbb::global_control::max_allowed_parallelism,
        static_cast<std::size_t>(max_threads));
  }
  return MaxThreads();
}

int MaxThreads() {
  return static_cast<int>(oneapi::tbb::global_control::active_value(
      oneapi::tbb::global_control::max_allowed_parallelism));
}

}  // namespace facet
