// ExtractFolderFeatures: SIFT over a photo folder in parallel, with a per-image cache on disk.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <system_error>

#include "core/error.h"
#include "core/file_io.h"
#include "core/parallel_for.h"
#include "core/progress.h"
#include "sfm/detail/fnv_hash.h"
#include "sfm/features.h"

namespace facet::sfm {
namespace {

namespace fs = std::filesystem;

// libjpeg decodes a truncated stream without an error (the missing rows come out grey), so a
// photo cut short by a failed copy would silently feed grey rows to SIFT. This walks the JPEG's
// markers to the end-of-image marker; returns what is wrong, or an empty string.
std::string JpegTruncation(const std::vector<std::uint8_t>& bytes) {
  const std::size_t size = bytes.size();
  if (size < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8) return "not a JPEG file";
  std::size_t pos = 2;
  while (true) {
    while (pos < size && bytes[pos] != 0xFF) ++pos;  // tolerate junk between segments
    while (pos < size && bytes[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= size) return "the file ends before its end-of-image marker (truncated)";
    const std::uint8_t marker = bytes[pos++];
    if (marker == 0xD9) return {};                                       // end of image
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (pos + 2 > size) return "the file ends inside a marker segment (truncated)";
    const std::size_t length = std::size_t{bytes[pos]} << 8 | bytes[pos + 1];
    if (length < 2 || pos + length > size) {
      return "the file ends inside a marker segment (truncated)";
    }
    pos += length;
    if (marker != 0xDA) continue;
    // Entropy-coded scan data: runs until a marker that is neither a stuffed 0xFF00 nor a
    // restart marker.
    while (true) {
      while (pos < size && bytes[pos] != 0xFF) ++pos;
      if (pos + 1 >= size) return "the image data is cut short (truncated)";
      const std::uint8_t next = bytes[pos + 1];
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7) || next == 0xFF) {
        pos += next == 0xFF ? 1 : 2;
        continue;
      }
      break;  // a real marker: the outer loop reads it
    }
  }
}

// Cache file stem: the image name with anything but [A-Za-z0-9._-] replaced, shortened, plus a
// hash of the full name so that "a/b.jpg" and "a_b.jpg" do not collide.
std::string CacheStem(const std::string& name) {
  std::string safe;
  for (const char c : name) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
    safe.push_back(keep ? c : '_');
  }
  if (safe.size() > 80) safe = safe.substr(safe.size() - 80);
  return fmt::format("{}-{:016x}", safe, detail::Fnv1a64(name));
}

// What must be unchanged for a cached result to be reused: the image's name, size and
// modification time, and the options' fingerprint.
std::string CacheKey(const datasets::ImageFolderEntry& entry, const SiftOptions& options) {
  const auto bytes = fs::file_size(entry.path);
  const auto mtime = fs::last_write_time(entry.path).time_since_epoch();
  return fmt::format(
      "facet features cache key 1\nname={}\nsize={}\nmtime_ns={}\noptions={}\n", entry.name, bytes,
      std::chrono::duration_cast<std::chrono::nanoseconds>(mtime).count(), options.Fingerprint());
}

std::string ReadTextOrEmpty(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return {};
  try {
    const std::vector<std::uint8_t> bytes = ReadFile(path, 1 << 16);
    return std::string(bytes.begin(), bytes.end());
  } catch (const Error&) {
    return {};
  }
}

ImageFeatures ExtractImage(const datasets::ImageFolderEntry& entry, const SiftOptions& options) {
  if (const std::string ext = LowercaseExtension(entry.path); ext == ".jpg" || ext == ".jpeg") {
    const std::string problem = JpegTruncation(ReadFile(entry.path));
    FACET_CHECK(problem.empty(), "cannot read image '{}': {}", entry.path.string(), problem);
  }
  const datasets::ReconstructionImage loaded =
      datasets::LoadImageForReconstruction(entry, options.max_image_size);
  ImageFeatures features = ExtractSift(loaded.image, options);
  // To the file's pixels: exact per-axis size ratios (the rounded downscaled size makes them
  // differ slightly from loaded.scale). Coordinates span [0, W] x [0, H] at either size, so the
  // +0.5 pixel-centre convention survives the multiplication.
  const double sx = static_cast<double>(entry.width) / loaded.image.width();
  const double sy = static_cast<double>(entry.height) / loaded.image.height();
  for (Keypoint& kp : features.keypoints) {
    kp.x = static_cast<float>(kp.x * sx);
    kp.y = static_cast<float>(kp.y * sy);
    kp.scale = static_cast<float>(kp.scale * 0.5 * (sx + sy));
  }
  return features;
}

}  // namespace

FolderFeatures ExtractFolderFeatures(const datasets::ImageFolder& folder,
                                     const SiftOptions& options, const fs::path& cache_dir) {
  options.Check();
  const bool use_cache = !cache_dir.empty();
  if (use_cache) {
    std::error_code ec;
    fs::create_directories(cache_dir, ec);
    FACET_CHECK(fs::is_directory(cache_dir), "cannot create the features cache folder '{}': {}",
                cache_dir.string(), ec ? ec.message() : "not a folder");
  }

  const std::size_t n = folder.entries.size();
  FolderFeatures result;
  result.features.resize(n);
  std::mutex mutex;  // guards result.failed and result.num_from_cache
  ProgressBar bar(static_cast<std::int64_t>(n), {.label = "features", .unit = "images"});

  // One image per task: at most one decoded image per worker thread is alive at a time.
  ParallelFor(static_cast<std::int64_t>(n), [&](std::int64_t i) {
    const datasets::ImageFolderEntry& entry = folder.entries[static_cast<std::size_t>(i)];
    const fs::path stem = use_cache ? cache_dir / CacheStem(entry.name) : fs::path();
    const fs::path features_path = fs::path(stem).concat(".fctf");
    const fs::path key_path = fs::path(stem).concat(".key");
    std::string key;
    try {
      if (use_cache) {
        key = CacheKey(entry, options);
        if (ReadTextOrEmpty(key_path) == key) {
          try {
            result.features[i] = ReadFeatures(features_path);
            const std::lock_guard lock(mutex);
            ++result.num_from_cache;
            bar.Add();
            return;
          } catch (const Error& e) {
            spdlog::warn("features cache of '{}' is unusable, extracting again: {}",
                         entry.path.string(), e.what());
          }
        }
      }
      result.features[i] = ExtractImage(entry, options);
    } catch (const std::exception& e) {  // facet::Error, cv::Exception, filesystem_error
      spdlog::warn("skipping image '{}': {}", entry.path.string(), e.what());
      result.features[i] = {};
      const std::lock_guard lock(mutex);
      result.failed.emplace_back(static_cast<std::size_t>(i), e.what());
      bar.Add();
      return;
    }
    if (use_cache) {
      // The key goes last and is removed first, so a crash in between never pairs an old key
      // with new features (or the reverse). Write errors are the cache folder's, not the image's:
      // they propagate.
      std::error_code ec;
      fs::remove(key_path, ec);
      WriteFeatures(features_path, result.features[i]);
      WriteFileAtomically(key_path, key);
    }
    bar.Add();
  });
  bar.Finish();
  std::sort(result.failed.begin(), result.failed.end());
  return result;
}

}  // namespace facet::sfm
