// TempDir: a fresh folder under the system temp directory, removed with its contents when the
// object goes out of scope. Tests write their files here, never into the source tree.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace facet::testing {

class TempDir {
 public:
  enum Location {
    kDisk,
    // tmpfs (/dev/shm) when the machine has one: for files rewritten thousands of times (the fuzz
    // tests), since ext4 flushes each truncated-and-rewritten file (auto_da_alloc), milliseconds
    // apiece.
    kPreferMemory,
  };

  explicit TempDir(Location location = kDisk) {
    std::error_code ec;
    const bool memory = location == kPreferMemory &&
                        std::filesystem::is_directory("/dev/shm", ec) &&
                        ::access("/dev/shm", W_OK) == 0;
    const std::filesystem::path parent =
        memory ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
    std::string pattern = (parent / "facet_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace facet::testing
