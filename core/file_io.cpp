#include "core/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "core/error.h"

namespace facet {
namespace fs = std::filesystem;
namespace {

// fsync through a fresh descriptor: std::ofstream does not expose its own.
void SyncPath(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) {
    FACET_CHECK(directory, "cannot reopen '{}' to flush it: {}", path.string(),
                std::strerror(errno));
    return;  // some file systems refuse to open directories; the rename is still atomic
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // EINVAL: the file system does not support fsync on this kind of file (e.g. some FUSE mounts).
  FACET_CHECK(rc == 0 || err == EINVAL, "cannot flush '{}' to disk: {} (is the disk full?)",
              path.string(), std::strerror(err));
}

}  // namespace

std::string LowercaseExtension(const fs::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return ext;
}

std::vector<std::uint8_t> ReadFile(const fs::path& path, std::uint64_t max_bytes) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  FACET_CHECK(!ec && fs::exists(status), "cannot read '{}': no such file", path.string());
  FACET_CHECK(fs::is_regular_file(status), "cannot read '{}': not a regular file", path.string());
  const std::uint64_t size = fs::file_size(path, ec);
  FACET_CHECK(!ec, "cannot read '{}': {}", path.string(), ec.message());
  FACET_CHECK(size <= max_bytes, "cannot read '{}': {} bytes is more than the {} allowed",
              path.string(), size, max_bytes);

  std::ifstream in(path, std::ios::binary);
  FACET_CHECK(in.is_open(), "cannot open '{}': {}", path.string(), std::strerror(errno));
  std::vector<std::uint8_t> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  FACET_CHECK(static_cast<std::uint64_t>(in.gcount()) == size,
              "cannot read '{}': got {} of {} bytes (was it modified while reading?)",
              path.string(), in.gcount(), size);
  return bytes;
}

void WriteFileAtomically(const fs::path& path, const std::function<void(std::ostream&)>& writer) {
  FACET_CHECK(!path.empty(), "cannot write a file with an empty name");
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  FACET_CHECK(fs::is_directory(parent, ec), "cannot write '{}': folder '{}' does not exist",
              path.string(), parent.string());

  fs::path tmp = path;
  tmp += ".tmp";
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      FACET_CHECK(out.is_open(), "cannot create '{}': {} (check permissions and free space)",
                  tmp.string(), std::strerror(errno));
      writer(out);
      out.flush();
      FACET_CHECK(out.good(), "cannot write '{}': the write failed (is the disk full?)",
                  tmp.string());
    }
    SyncPath(tmp, false);
    fs::rename(tmp, path, ec);
    FACET_CHECK(!ec, "cannot rename '{}' to '{}': {}", tmp.string(), path.string(), ec.message());
  } catch (...) {
    fs::remove(tmp, ec);  // best effort; the original file was never touched
    throw;
  }
  SyncPath(parent, true);  // make the rename itself durable
}

void WriteFileAtomically(const fs::path& path, std::span<const std::uint8_t> bytes) {
  WriteFileAtomically(path, [bytes](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  });
}

void WriteFileAtomically(const fs::path& path, std::string_view text) {
  WriteFileAtomically(path, [text](std::ostream& out) {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  });
}

}  // namespace facet
