#include "datasets/detail/atomic_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"

namespace facet::datasets::detail {
namespace fs = std::filesystem;
namespace {

fs::path TempPath(const fs::path& path) {
  fs::path tmp = path;
  tmp += ".tmp";
  return tmp;
}

// Makes the renames in `folder` durable. As core/file_io.cpp: a folder that cannot be opened
// (some file systems refuse) or that does not support fsync (EINVAL) is left to the file system.
void SyncFolder(const fs::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  FACET_CHECK(rc == 0 || err == EINVAL, "cannot flush the folder '{}' to disk: {}", folder.string(),
              std::strerror(err));
}

}  // namespace

void WriteFilesAtomically(std::span<const PendingFile> files) {
  std::vector<fs::path> written;  // temporaries complete on disk
  try {
    for (const PendingFile& file : files) {
      WriteFileAtomically(TempPath(file.path), file.bytes);
      written.push_back(TempPath(file.path));
    }
  } catch (...) {
    std::error_code ec;
    for (const fs::path& tmp : written) fs::remove(tmp, ec);  // best effort
    throw;
  }
  std::set<fs::path> folders;
  for (const PendingFile& file : files) {
    std::error_code ec;
    fs::rename(TempPath(file.path), file.path, ec);
    FACET_CHECK(!ec,
                "cannot rename '{}' to '{}': {} (the files written before it are already "
                "replaced; the rest wait in their .tmp files)",
                TempPath(file.path).string(), file.path.string(), ec.message());
    folders.insert(file.path.has_parent_path() ? file.path.parent_path() : fs::path("."));
  }
  for (const fs::path& folder : folders) SyncFolder(folder);
}

}  // namespace facet::datasets::detail
