// A folder of photos as structure from motion sees it: the JPEG/PNG files (sorted by name), each
// with its displayed size, EXIF orientation and a focal-length prior in pixels.
//
// Focal prior, in order of preference (COLMAP's ImageReader does the same without the
// focal-plane rule, using a sensor database instead):
//   1. EXIF FocalLengthIn35mmFilm f35:  f_px = f35 / 36 · max(W, H)  (36 mm = full-frame width).
//   2. EXIF FocalLength f_mm and FocalPlaneXResolution r (pixels per unit u mm) for an image of
//      PixelXDimension W0 pixels:  f_px = f_mm · r / u · W / W0  (W0 = W when absent).
//   3. COLMAP's default:  f_px = 1.2 · max(W, H), and `FocalFromExif()` is false.
// A rule whose result is implausible (f_px / max(W, H) outside [kMinFocalRatio, kMaxFocalRatio],
// i.e. a field of view wider than ~180° or narrower than ~3°) is skipped: cameras do write
// nonsense into these tags.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/image.h"
#include "datasets/exif.h"

namespace facet::datasets {

inline constexpr double kMinFocalRatio = 0.1;
inline constexpr double kMaxFocalRatio = 20.0;

enum class FocalSource {
  kExif35mm,        // rule 1 above
  kExifFocalPlane,  // rule 2
  kDefault,         // rule 3
};

struct ImageFolderEntry {
  std::filesystem::path path{};  // the file
  std::string name{};            // path relative to the folder, '/'-separated (Scene image name)
  int width = 0;                 // pixels, after the EXIF orientation (as ReadImage returns it)
  int height = 0;                // pixels, after the EXIF orientation
  int orientation = 1;           // EXIF orientation tag (1-8; 1 when absent or PNG)
  double focal_px = 0.0;         // focal-length prior in pixels at width x height
  FocalSource focal_source = FocalSource::kDefault;
  std::string camera_make{};   // EXIF Make ("" when absent)
  std::string camera_model{};  // EXIF Model ("" when absent)

  bool FocalFromExif() const { return focal_source != FocalSource::kDefault; }
};

struct ImageFolderOptions {
  bool recursive = false;             // also scan sub-folders (names keep their sub-path)
  double default_focal_factor = 1.2;  // rule 3: f_px = factor · max(W, H); in (0, 100]
  bool skip_unreadable = false;       // list unreadable files in `skipped` instead of throwing

  void Check() const;
};

struct ImageFolder {
  std::filesystem::path root{};
  std::vector<ImageFolderEntry> entries{};  // sorted by name
  std::vector<std::string> skipped{};       // "name: reason" for files skipped as unreadable
};

// Lists the .jpg/.jpeg/.png files (extension case-insensitive) of `folder`, sorted by name, and
// reads each one's header (not its pixels). Throws facet::Error when the folder is missing, holds
// no images, or (unless skip_unreadable) a file's header cannot be read.
ImageFolder ScanImageFolder(const std::filesystem::path& folder,
                            const ImageFolderOptions& options = {});

// The focal prior of rules 1-3 for an image of displayed size width x height.
double FocalPriorPx(const ImageHeader& header, double default_focal_factor,
                    FocalSource* source = nullptr);

struct ReconstructionImage {
  ImageU8 image{};        // RGB, EXIF orientation applied, at most max_size on its longer side
  double focal_px = 0.0;  // the entry's focal prior scaled to this image
  double scale = 1.0;     // this image's longer side / the file's longer side
};

// Loads an entry for reconstruction: RGB 8-bit with the EXIF orientation applied (gray images are
// replicated to RGB, 16-bit PNGs scaled to 8 bits, alpha dropped, CMYK JPEGs converted to RGB by
// OpenCV), downscaled with area interpolation so that max(W, H) <= max_size (0: keep the size).
// The size is checked against the scanned entry, so a file changed since the scan is an error.
ReconstructionImage LoadImageForReconstruction(const ImageFolderEntry& entry, int max_size = 0);

}  // namespace facet::datasets
