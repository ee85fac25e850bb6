#include "sfm/features.h"

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numbers>
#include <numeric>

#include "core/error.h"
#include "core/file_io.h"
#include "sfm/detail/fnv_hash.h"
#include "sfm/detail/gray_image.h"

namespace facet::sfm {
namespace {

// Cache file layout (little-endian): "FCTF", u32 version, u32 keypoint count, u32 descriptor
// dimension, then per keypoint 4 float32 (x, y, scale, orientation), then the descriptors row by
// row (count x 128 bytes), then a u64 FNV-1a hash of everything before it.
constexpr char kMagic[4] = {'F', 'C', 'T', 'F'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 16;
constexpr std::size_t kKeypointBytes = 16;
constexpr std::size_t kChecksumBytes = 8;
constexpr std::size_t kBytesPerFeature = kKeypointBytes + kDescriptorDim;
// Far more features than any detector keeps; bounds a cache file at about 2.4 GB.
constexpr std::uint64_t kMaxStoredFeatures = std::uint64_t{1} << 24;

void AppendU32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void AppendU64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void AppendF32(std::vector<std::uint8_t>& out, float v) {
  AppendU32(out, std::bit_cast<std::uint32_t>(v));
}
std::uint32_t LoadU32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}
std::uint64_t LoadU64(const std::uint8_t* p) {
  return std::uint64_t{LoadU32(p)} | std::uint64_t{LoadU32(p + 4)} << 32;
}
float LoadF32(const std::uint8_t* p) { return std::bit_cast<float>(LoadU32(p)); }

// OpenCV puts pixel centres at integers, facet (COLMAP) at +0.5. OpenCV's SIFT also reports its
// keypoints 0.25 px too far right and down: it detects on the image upsampled x2 with a
// half-pixel-centred bilinear resize (upsampled pixel j samples input position j/2 - 0.25) but
// maps keypoints back by halving alone (sift.dispatch.cpp, createInitialImage and
// detectAndCompute; measured: Gaussian blobs come out +0.25 px off). Hence +0.5 - 0.25.
constexpr double kOpenCvToColmapPx = 0.25;

// Strict total orders on OpenCV keypoints. Position, angle and octave break the remaining ties so
// that the order never depends on OpenCV's thread timing (its detector gathers keypoints from
// per-thread lists).
bool TieBreak(const cv::KeyPoint& a, const cv::KeyPoint& b) {
  if (a.pt.y != b.pt.y) return a.pt.y < b.pt.y;
  if (a.pt.x != b.pt.x) return a.pt.x < b.pt.x;
  if (a.angle != b.angle) return a.angle < b.angle;
  return a.octave < b.octave;
}

// Strongest response first, then larger scale.
bool StrongerKeypoint(const cv::KeyPoint& a, const cv::KeyPoint& b) {
  if (a.response != b.response) return a.response > b.response;
  if (a.size != b.size) return a.size > b.size;
  return TieBreak(a, b);
}

// Larger scale first, then stronger response (SiftOptions::keep_largest_scales).
bool LargerKeypoint(const cv::KeyPoint& a, const cv::KeyPoint& b) {
  if (a.size != b.size) return a.size > b.size;
  if (a.response != b.response) return a.response > b.response;
  return TieBreak(a, b);
}

// One descriptor row as bytes. RootSIFT (Arandjelović & Zisserman 2012) as COLMAP stores it
// (feature/utils.cc): L1-normalise, square root (the result has unit L2 norm), x512, round,
// clamp to a byte. Plain SIFT: L2-normalise, x512, round, clamp.
void DescriptorToBytes(const float* in, bool root_sift, std::uint8_t* out) {
  double norm = 0.0;
  for (int k = 0; k < kDescriptorDim; ++k) {
    norm += root_sift ? std::abs(in[k]) : double{in[k]} * in[k];
  }
  if (!root_sift) norm = std::sqrt(norm);
  const double inv = norm > 0.0 ? 1.0 / norm : 0.0;
  for (int k = 0; k < kDescriptorDim; ++k) {
    double v = std::abs(in[k]) * inv;
    if (root_sift) v = std::sqrt(v);
    out[k] = static_cast<std::uint8_t>(std::clamp(std::round(512.0 * v), 0.0, 255.0));
  }
}

}  // namespace

void SiftOptions::Check() const {
  FACET_CHECK(max_image_size > 0 && max_image_size <= 65536,
              "SiftOptions::max_image_size must be in 1-65536 pixels (got {})", max_image_size);
  FACET_CHECK(max_num_features > 0 && max_num_features <= (1 << 22),
              "SiftOptions::max_num_features must be in 1-4194304 (got {})", max_num_features);
  FACET_CHECK(std::isfinite(contrast_threshold) && contrast_threshold > 0.0,
              "SiftOptions::contrast_threshold must be positive (got {})", contrast_threshold);
  FACET_CHECK(std::isfinite(edge_threshold) && edge_threshold > 0.0,
              "SiftOptions::edge_threshold must be positive (got {})", edge_threshold);
}

std::string SiftOptions::Fingerprint() const {
  // The OpenCV version is part of the key: another detector build may place keypoints differently.
  return fmt::format("sift1 opencv{} size{} n{} c{} e{} {} {}", CV_VERSION, max_image_size,
                     max_num_features, contrast_threshold, edge_threshold,
                     root_sift ? "rootsift" : "sift", keep_largest_scales ? "scale" : "response");
}

ImageFeatures ExtractSift(ImageView<const std::uint8_t> image, const SiftOptions& options) {
  options.Check();
  FACET_CHECK(!image.empty(), "cannot extract SIFT features from an empty {}x{} image",
              image.width(), image.height());
  cv::Mat gray = detail::ToGray(image);

  // Downscale so that the longer side fits max_image_size; keypoints are mapped back per axis
  // with the exact size ratio, in the convention where the image spans [0, W] x [0, H].
  double scale_x = 1.0;
  double scale_y = 1.0;
  const int max_dim = std::max(image.width(), image.height());
  if (max_dim > options.max_image_size) {
    const double s = static_cast<double>(options.max_image_size) / max_dim;
    const int width = std::max(1, static_cast<int>(std::lround(image.width() * s)));
    const int height = std::max(1, static_cast<int>(std::lround(image.height() * s)));
    cv::Mat small;
    cv::resize(gray, small, cv::Size(width, height), 0, 0, cv::INTER_AREA);
    gray = small;
    scale_x = static_cast<double>(image.width()) / width;
    scale_y = static_cast<double>(image.height()) / height;
  }

  // OpenCV runs SIFT's inner loops on oneTBB (its parallel framework on Debian), so calling it
  // from facet's own TBB loops shares one worker pool instead of oversubscribing the cores.
  // With nfeatures > 0 OpenCV keeps the strongest responses *including every keypoint tied with
  // the last one* (KeyPointsFilter::retainBest), before computing descriptors; sorting that set
  // by a total order and cutting it gives exactly the strongest max_num_features, independent of
  // thread timing.
  // Keeping the largest scales: detect and describe everything (one pyramid; describing only the
  // kept ones would build it twice), then keep those below.
  cv::Ptr<cv::SIFT> sift =
      cv::SIFT::create(options.keep_largest_scales ? 0 : options.max_num_features, 3,
                       options.contrast_threshold, options.edge_threshold, 1.6, CV_32F);
  std::vector<cv::KeyPoint> keypoints;
  cv::Mat raw;
  sift->detectAndCompute(gray, cv::noArray(), keypoints, raw);
  ImageFeatures features;
  if (keypoints.empty()) return features;
  FACET_CHECK(raw.rows == static_cast<int>(keypoints.size()) && raw.cols == kDescriptorDim &&
                  raw.type() == CV_32F,
              "OpenCV's SIFT returned {}x{} descriptors for {} keypoints (expected {} floats each)",
              raw.rows, raw.cols, keypoints.size(), kDescriptorDim);
  std::vector<int> order(keypoints.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return options.keep_largest_scales ? LargerKeypoint(keypoints[a], keypoints[b])
                                       : StrongerKeypoint(keypoints[a], keypoints[b]);
  });
  if (order.size() > static_cast<std::size_t>(options.max_num_features)) {
    order.resize(static_cast<std::size_t>(options.max_num_features));
  }

  features.keypoints.resize(order.size());
  features.descriptors.resize(static_cast<Eigen::Index>(order.size()), kDescriptorDim);
  const double scale_mean = 0.5 * (scale_x + scale_y);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const cv::KeyPoint& kp = keypoints[static_cast<std::size_t>(order[i])];
    Keypoint& out = features.keypoints[i];
    out.x = static_cast<float>((kp.pt.x + kOpenCvToColmapPx) * scale_x);
    out.y = static_cast<float>((kp.pt.y + kOpenCvToColmapPx) * scale_y);
    out.scale = static_cast<float>(0.5 * kp.size * scale_mean);
    double angle = kp.angle * std::numbers::pi / 180.0;
    if (angle < 0.0 || angle >= 2.0 * std::numbers::pi) angle = 0.0;
    out.orientation = static_cast<float>(angle);
    DescriptorToBytes(raw.ptr<float>(order[i]), options.root_sift,
                      features.descriptors.row(static_cast<Eigen::Index>(i)).data());
  }
  return features;
}

void WriteFeatures(const std::filesystem::path& path, const ImageFeatures& features) {
  const std::size_t n = features.keypoints.size();
  FACET_CHECK(static_cast<std::size_t>(features.descriptors.rows()) == n,
              "cannot write '{}': {} keypoints but {} descriptors", path.string(), n,
              features.descriptors.rows());
  FACET_CHECK(n <= kMaxStoredFeatures, "cannot write '{}': {} features is more than the {} allowed",
              path.string(), n, kMaxStoredFeatures);
  std::vector<std::uint8_t> bytes;
  bytes.reserve(kHeaderBytes + n * kBytesPerFeature + kChecksumBytes);
  bytes.insert(bytes.end(), kMagic, kMagic + 4);
  AppendU32(bytes, kVersion);
  AppendU32(bytes, static_cast<std::uint32_t>(n));
  AppendU32(bytes, kDescriptorDim);
  for (const Keypoint& kp : features.keypoints) {
    AppendF32(bytes, kp.x);
    AppendF32(bytes, kp.y);
    AppendF32(bytes, kp.scale);
    AppendF32(bytes, kp.orientation);
  }
  const std::uint8_t* rows = features.descriptors.data();
  bytes.insert(bytes.end(), rows, rows + n * kDescriptorDim);
  AppendU64(bytes, detail::Fnv1a64(bytes));
  WriteFileAtomically(path, bytes);
}

ImageFeatures ReadFeatures(const std::filesystem::path& path) {
  const std::uint64_t max_bytes = kHeaderBytes + kMaxStoredFeatures * kBytesPerFeature + 8;
  const std::vector<std::uint8_t> bytes = ReadFile(path, max_bytes);
  const auto corrupt = [&](const std::string& what) {
    FACET_THROW("cannot read features from '{}': {} (delete the file to extract again)",
                path.string(), what);
  };
  if (bytes.size() < kHeaderBytes + kChecksumBytes) corrupt("the file is truncated");
  if (std::memcmp(bytes.data(), kMagic, 4) != 0) corrupt("not a facet features file");
  const std::uint32_t version = LoadU32(bytes.data() + 4);
  if (version != kVersion) corrupt(fmt::format("unsupported version {}", version));
  const std::uint64_t n = LoadU32(bytes.data() + 8);
  const std::uint32_t dim = LoadU32(bytes.data() + 12);
  if (dim != kDescriptorDim) corrupt(fmt::format("descriptor dimension {} is not 128", dim));
  // Sizes are checked before anything is allocated: a corrupt count cannot ask for more memory
  // than the file's own size justifies.
  const std::uint64_t expected = kHeaderBytes + n * kBytesPerFeature + kChecksumBytes;
  if (bytes.size() != expected) {
    corrupt(fmt::format("{} features need {} bytes but the file has {} ({})", n, expected,
                        bytes.size(), bytes.size() < expected ? "truncated" : "trailing data"));
  }
  const std::size_t payload = bytes.size() - kChecksumBytes;
  if (LoadU64(bytes.data() + payload) !=
      detail::Fnv1a64(std::span<const std::uint8_t>(bytes.data(), payload))) {
    corrupt("the checksum does not match (the file is damaged)");
  }

  ImageFeatures features;
  features.keypoints.resize(n);
  const std::uint8_t* p = bytes.data() + kHeaderBytes;
  for (Keypoint& kp : features.keypoints) {
    kp = {LoadF32(p), LoadF32(p + 4), LoadF32(p + 8), LoadF32(p + 12)};
    p += kKeypointBytes;
    if (!std::isfinite(kp.x) || !std::isfinite(kp.y) || !std::isfinite(kp.scale) ||
        !std::isfinite(kp.orientation)) {
      corrupt("a keypoint has a non-finite coordinate");
    }
  }
  features.descriptors.resize(static_cast<Eigen::Index>(n), kDescriptorDim);
  std::memcpy(features.descriptors.data(), p, n * kDescriptorDim);
  return features;
}

}  // namespace facet::sfm
