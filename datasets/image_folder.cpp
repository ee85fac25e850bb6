#include "datasets/image_folder.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "datasets/detail/text_parse.h"

namespace facet::datasets {
namespace fs = std::filesystem;
namespace {

bool IsImageFile(const fs::path& path) {
  const std::string ext = LowercaseExtension(path);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

bool Plausible(double focal_px, int max_dim) {
  const double ratio = focal_px / max_dim;
  return std::isfinite(ratio) && ratio >= kMinFocalRatio && ratio <= kMaxFocalRatio;
}

}  // namespace

void ImageFolderOptions::Check() const {
  FACET_CHECK(default_focal_factor > 0.0 && default_focal_factor <= 100.0,
              "ImageFolderOptions::default_focal_factor must be in (0, 100] (got {})",
              default_focal_factor);
}

double FocalPriorPx(const ImageHeader& header, double default_focal_factor, FocalSource* source) {
  const int max_dim = std::max(header.stored_width, header.stored_height);
  auto set = [&](FocalSource s, double f) {
    if (source != nullptr) *source = s;
    return f;
  };
  if (header.exif) {
    const ExifInfo& exif = *header.exif;
    if (exif.focal_length_35mm) {
      const double f = *exif.focal_length_35mm / 36.0 * max_dim;
      if (Plausible(f, max_dim)) return set(FocalSource::kExif35mm, f);
    }
    if (exif.focal_length_mm && exif.focal_plane_x_resolution && exif.focal_plane_unit_mm) {
      // The focal-plane resolution is along the sensor's x axis, i.e. the stored width.
      const double reference_width = exif.pixel_x_dimension.value_or(header.stored_width);
      const double f = *exif.focal_length_mm * *exif.focal_plane_x_resolution /
                       *exif.focal_plane_unit_mm * header.stored_width / reference_width;
      if (Plausible(f, max_dim)) return set(FocalSource::kExifFocalPlane, f);
    }
  }
  return set(FocalSource::kDefault, default_focal_factor * max_dim);
}

ImageFolder ScanImageFolder(const fs::path& folder, const ImageFolderOptions& options) {
  options.Check();
  std::error_code ec;
  FACET_CHECK(fs::is_directory(folder, ec),
              "cannot scan '{}' for images: it is not a folder (pass the folder of photos)",
              folder.string());
  ImageFolder result;
  result.root = folder;
  std::vector<fs::path> files;
  auto add = [&](const fs::directory_entry& entry) {
    if (entry.is_regular_file(ec) && IsImageFile(entry.path())) files.push_back(entry.path());
  };
  try {
    if (options.recursive) {
      for (const auto& entry : fs::recursive_directory_iterator(folder)) add(entry);
    } else {
      for (const auto& entry : fs::directory_iterator(folder)) add(entry);
    }
  } catch (const fs::filesystem_error& e) {
    FACET_THROW("cannot list the images in '{}': {}", folder.string(), e.what());
  }
  std::vector<std::pair<std::string, fs::path>> named;
  named.reserve(files.size());
  for (const fs::path& file : files) {
    named.emplace_back(file.lexically_relative(folder).generic_string(), file);
  }
  std::sort(named.begin(), named.end());

  for (const auto& [name, file] : named) {
    ImageHeader header;
    try {
      header = ReadImageHeader(file);
    } catch (const Error& e) {
      if (!options.skip_unreadable) throw;
      result.skipped.push_back(name + ": " + e.what());
      continue;
    }
    ImageFolderEntry entry;
    entry.path = file;
    entry.name = name;
    entry.width = header.Width();
    entry.height = header.Height();
    entry.orientation = header.Orientation();
    entry.focal_px = FocalPriorPx(header, options.default_focal_factor, &entry.focal_source);
    if (header.exif) {
      entry.camera_make = header.exif->make;
      entry.camera_model = header.exif->model;
    }
    result.entries.push_back(std::move(entry));
  }
  FACET_CHECK(!result.entries.empty(),
              "no readable .jpg, .jpeg or .png images in '{}'{} (check the path{})",
              folder.string(), options.recursive ? " or its sub-folders" : "",
              options.recursive ? "" : "; sub-folders are not scanned");
  return result;
}

ReconstructionImage LoadImageForReconstruction(const ImageFolderEntry& entry, int max_size) {
  FACET_CHECK(max_size >= 0, "max_size must be 0 (keep the size) or positive (got {}) for '{}'",
              max_size, entry.path.string());
  ReconstructionImage result;
  ImageU8 full = ReadImage<std::uint8_t>(entry.path, {.channels = 3});
  FACET_CHECK(full.width() == entry.width && full.height() == entry.height,
              "image '{}' decodes to {}x{}, but its header said {}x{} (the file changed since it "
              "was scanned, or its EXIF orientation is not applied by the decoder)",
              entry.path.string(), full.width(), full.height(), entry.width, entry.height);
  result.focal_px = entry.focal_px;
  const int max_dim = std::max(full.width(), full.height());
  if (max_size == 0 || max_dim <= max_size) {
    result.image = std::move(full);
    return result;
  }
  const double s = static_cast<double>(max_size) / max_dim;
  const int width = std::max(1, static_cast<int>(std::lround(full.width() * s)));
  const int height = std::max(1, static_cast<int>(std::lround(full.height() * s)));
  const cv::Mat source(full.height(), full.width(), CV_8UC3, full.data());
  cv::Mat resized;
  cv::resize(source, resized, cv::Size(width, height), 0, 0, cv::INTER_AREA);
  result.image = ImageU8(width, height, 3);
  for (int y = 0; y < height; ++y) {
    std::memcpy(result.image.view().Row(y), resized.ptr(y), std::size_t(width) * 3);
  }
  result.scale = static_cast<double>(std::max(width, height)) / max_dim;
  result.focal_px = entry.focal_px * result.scale;
  return result;
}

}  // namespace facet::datasets
