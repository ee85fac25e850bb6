// Compute backends. Every heavy kernel has a CPU implementation (the reference, multi-threaded
// with oneTBB) and, when facet is built with CUDA, a CUDA one. The user picks with
// `--device auto|cpu|cuda`; "auto" means CUDA when it was built and a device is present.
#pragma once

#include <string>
#include <string_view>

namespace facet {

enum class Backend { kCpu, kCuda };

std::string_view ToString(Backend backend);

// True when this binary contains the CUDA fast path (built with FACET_CUDA=ON/AUTO and nvcc).
bool CudaBuilt();
// Number of usable CUDA devices; 0 when CUDA is not built, no driver is installed or any query
// fails (without a GPU the runtime reports cudaErrorInsufficientDriver, not "no device").
int CudaDeviceCount();
// "NVIDIA H200 (compute 9.0, 139 GiB)" for device `index`, or an empty string.
std::string CudaDeviceName(int index = 0);

// One line for `facet --version` and logs: whether CUDA was built, its runtime version and the
// devices found, e.g. "CUDA 13.0 built, 1 device: NVIDIA H200 (compute 9.0, 139 GiB)".
std::string DescribeCuda();

// "auto", "cpu" or "cuda". Asking for "cuda" in a binary without CUDA, or on a machine without a
// device, throws facet::Error saying so and suggesting --device cpu.
Backend ResolveBackend(std::string_view request);

// Caps the number of worker threads oneTBB uses in this process (`--threads N`); 0 restores the
// default (all hardware threads). Returns the number now in effect.
int SetMaxThreads(int max_threads);
int MaxThreads();

}  // namespace facet
