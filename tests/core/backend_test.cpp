#include "core/backend.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace facet {
namespace {

TEST(Backend, CpuIsAlwaysAvailable) { EXPECT_EQ(ResolveBackend("cpu"), Backend::kCpu); }

TEST(Backend, AutoPicksTheCpuWithoutCudaOrADevice) {
  if (CudaBuilt() && CudaDeviceCount() > 0) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_EQ(ResolveBackend("auto"), Backend::kCpu);
}

TEST(Backend, AutoPicksCudaWhenBuiltWithADevicePresent) {
  if (!CudaBuilt() || CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  EXPECT_EQ(ResolveBackend("auto"), Backend::kCuda);
  EXPECT_EQ(ResolveBackend("cuda"), Backend::kCuda);
  EXPECT_FALSE(CudaDeviceName(0).empty());
}

TEST(Backend, AskingForCudaWithoutADeviceIsAClearError) {
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "a CUDA device is present";
  try {
    ResolveBackend("cuda");
    FAIL() << "expected facet::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--device cpu"), std::string::npos) << e.what();
  }
}

TEST(Backend, UnknownNamesAreRejected) { EXPECT_THROW(ResolveBackend("gpu0"), Error); }

TEST(Backend, DeviceCountIsZeroWithoutCudaBuilt) {
  if (CudaBuilt()) GTEST_SKIP() << "CUDA is built";
  EXPECT_EQ(CudaDeviceCount(), 0);
  EXPECT_NE(DescribeCuda().find("not built"), std::string::npos);
}

TEST(Backend, MaxThreadsCanBeCappedAndRestored) {
  const int all = MaxThreads();
  EXPECT_GE(all, 1);
  EXPECT_EQ(SetMaxThreads(1), 1);
  EXPECT_EQ(SetMaxThreads(0), all);
  EXPECT_THROW(SetMaxThreads(-2), Error);
}

}  // namespace
}  // namespace facet
