// SIFT features: detection and description through OpenCV (cv::SIFT), RootSIFT normalisation
// (Arandjelović & Zisserman, "Three things everyone should know to improve object retrieval",
// CVPR 2012), and a per-image cache on disk so that reruns skip finished images.
//
// Keypoint coordinates follow the camera models' pixel convention (geometry/camera.h): the image
// spans [0, W] x [0, H], so the pixel centre OpenCV calls (x, y) is (x + 0.5, y + 0.5) here
// (OpenCV's SIFT keypoints also sit 0.25 px off, which ExtractSift corrects: see features.cpp).
// They are always expressed in the *file's* pixel size (after EXIF orientation), whatever size
// the detector ran at.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/image.h"
#include "datasets/image_folder.h"

namespace facet::sfm {

inline constexpr int kDescriptorDim = 128;

struct Keypoint {
  float x = 0.0f;            // pixels, COLMAP convention (see above)
  float y = 0.0f;
  float scale = 0.0f;        // detection scale in pixels of the file (cv::KeyPoint::size / 2 scaled)
  float orientation = 0.0f;  // radians
};

// One row per keypoint. RootSIFT descriptors are stored as COLMAP does: the L1-normalised square
// root, L2-normalised, times 512, rounded and clamped to [0, 255].
using Descriptors = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, kDescriptorDim, Eigen::RowMajor>;

struct ImageFeatures {
  std::vector<Keypoint> keypoints{};
  Descriptors descriptors{};  // descriptors.rows() == keypoints.size()
};

struct SiftOptions {
  // The detector runs on the image downscaled so that max(W, H) <= max_image_size; > 0.
  int max_image_size = 3200;
  // Keep at most this many features; > 0. Which ones: see keep_largest_scales.
  int max_num_features = 8192;
  // true: the features of the largest scales (COLMAP's rule: coarse features survive viewpoint
  // and resolution changes best, while a full-resolution photo's strongest responses are often
  // fine texture); false: the strongest responses. Ties by response, then position.
  bool keep_largest_scales = true;
  // OpenCV's contrastThreshold (COLMAP's peak_threshold 0.02/3 corresponds to about 0.02); > 0.
  double contrast_threshold = 0.02;
  // OpenCV's / COLMAP's edge threshold; > 0.
  double edge_threshold = 10.0;
  // RootSIFT (true) or plain SIFT descriptors scaled to bytes.
  bool root_sift = true;

  // Throws facet::Error naming the first field out of range.
  void Check() const;
  // A short string that changes whenever an option that affects the output changes (cache key).
  std::string Fingerprint() const;
};

// Detects and describes SIFT features in `image` (RGB or gray, any size; converted to gray and
// downscaled inside to max_image_size). Keypoints come back in `image`'s pixel coordinates.
// Deterministic for a given image and options.
ImageFeatures ExtractSift(ImageView<const std::uint8_t> image, const SiftOptions& options = {});

// Binary cache file of one image's features (magic, version, counts, keypoints, descriptors).
// ReadFeatures throws facet::Error on a missing, truncated or corrupt file.
void WriteFeatures(const std::filesystem::path& path, const ImageFeatures& features);
ImageFeatures ReadFeatures(const std::filesystem::path& path);

struct FolderFeatures {
  // One entry per folder entry, in the folder's order; empty features for skipped images.
  std::vector<ImageFeatures> features{};
  // Indices into the folder's entries of images that could not be read ("skipped with a
  // warning"), with the reason.
  std::vector<std::pair<std::size_t, std::string>> failed{};
  std::size_t num_from_cache = 0;  // images whose features were read from the cache
};

// Extracts features of every image of `folder` in parallel (oneTBB, bounded memory: at most a few
// decoded images per thread at a time), with a progress bar. When `cache_dir` is not empty, each
// image's features are cached there under a name derived from the image name, and reused when the
// file's size, modification time and the options' fingerprint are unchanged. Unreadable or
// truncated images are logged as warnings naming the file and listed in `failed`.
FolderFeatures ExtractFolderFeatures(const datasets::ImageFolder& folder,
                                     const SiftOptions& options,
                                     const std::filesystem::path& cache_dir = {});

}  // namespace facet::sfm
