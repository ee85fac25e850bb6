#include "sfm/features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <thread>

#include "common/corruption.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "sfm/matching.h"
#include "synthetic_views.h"

namespace facet::sfm {
namespace {

namespace fs = std::filesystem;
using facet::testing::TempDir;
using testing::RenderedOrbit;

const ImageU8& View640() { return RenderedOrbit(24, 640, 480).Image(0); }

// Features of the default options on the 640 x 480 view, extracted once.
const ImageFeatures& Features640() {
  static const ImageFeatures features = ExtractSift(View640());
  return features;
}

// Pairs (i in a, j in b) of mutual nearest descriptors that pass the ratio test.
std::vector<FeatureMatch> Match(const ImageFeatures& a, const ImageFeatures& b) {
  return MatchDescriptors(PrepareForMatching(a.descriptors), PrepareForMatching(b.descriptors));
}

double Median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

TEST(Sift, FindsManyFeaturesInsideTheSyntheticView) {
  const ImageFeatures& f = Features640();
  EXPECT_GT(f.keypoints.size(), 500u);
  ASSERT_EQ(static_cast<std::size_t>(f.descriptors.rows()), f.keypoints.size());
  for (const Keypoint& kp : f.keypoints) {
    ASSERT_TRUE(kp.x >= 0.0f && kp.x <= 640.0f && kp.y >= 0.0f && kp.y <= 480.0f)
        << kp.x << ", " << kp.y;
    ASSERT_GT(kp.scale, 0.0f);
    ASSERT_TRUE(kp.orientation >= 0.0f && kp.orientation < 6.2832f) << kp.orientation;
  }
}

TEST(Sift, RootSiftRowsHaveNorm512UpToRounding) {
  // sqrt of an L1-normalised vector has unit L2 norm; x512 and rounding each of the 128 values
  // by at most 0.5 moves the norm by at most 0.5 * sqrt(128) = 5.66 (RootSIFT values stay far
  // below the 255 clamp: each is sqrt of a share of the L1 mass).
  const ImageFeatures& f = Features640();
  for (Eigen::Index i = 0; i < f.descriptors.rows(); ++i) {
    const double norm = f.descriptors.row(i).cast<double>().norm();
    ASSERT_NEAR(norm, 512.0, 0.5 * std::sqrt(128.0)) << "row " << i;
  }
}

TEST(Sift, PlainSiftRowsAlsoHaveNorm512) {
  SiftOptions options;
  options.root_sift = false;
  const ImageFeatures f = ExtractSift(View640(), options);
  ASSERT_GT(f.descriptors.rows(), 500);
  for (Eigen::Index i = 0; i < f.descriptors.rows(); ++i) {
    ASSERT_NEAR(f.descriptors.row(i).cast<double>().norm(), 512.0, 0.5 * std::sqrt(128.0));
  }
  // The same keypoints as with RootSIFT: only the descriptor's normalisation differs.
  ASSERT_EQ(f.keypoints.size(), Features640().keypoints.size());
  EXPECT_EQ(f.keypoints.front().x, Features640().keypoints.front().x);
}

TEST(Sift, IsDeterministicAndKeepsTheLargestScales) {
  const ImageFeatures again = ExtractSift(View640());
  ASSERT_EQ(again.keypoints.size(), Features640().keypoints.size());
  EXPECT_TRUE(again.descriptors == Features640().descriptors);
  for (std::size_t i = 0; i < again.keypoints.size(); ++i) {
    ASSERT_EQ(again.keypoints[i].x, Features640().keypoints[i].x);
    ASSERT_EQ(again.keypoints[i].y, Features640().keypoints[i].y);
    if (i > 0) {
      ASSERT_GE(again.keypoints[i - 1].scale, again.keypoints[i].scale);
    }
  }
  // The 100 largest are the first 100 of the full list (sorted by scale). Their descriptors come
  // from a pyramid that no longer needs the upsampled first octave, so they agree with the full
  // run's to within the blur difference: the same descriptor by any matching standard (unit
  // vectors 0.1 apart where different features are 0.5-1.2 apart).
  SiftOptions options;
  options.max_num_features = 100;
  const ImageFeatures top = ExtractSift(View640(), options);
  ASSERT_EQ(top.keypoints.size(), 100u);
  for (std::size_t i = 0; i < top.keypoints.size(); ++i) {
    EXPECT_EQ(top.keypoints[i].x, Features640().keypoints[i].x);
    EXPECT_EQ(top.keypoints[i].y, Features640().keypoints[i].y);
    const Eigen::VectorXf a = top.descriptors.row(static_cast<Eigen::Index>(i)).cast<float>();
    const Eigen::VectorXf b =
        Features640().descriptors.row(static_cast<Eigen::Index>(i)).cast<float>();
    EXPECT_LT((a.normalized() - b.normalized()).norm(), 0.1) << "feature " << i;
  }
}

TEST(Sift, CanKeepTheStrongestResponsesInstead) {
  SiftOptions all;
  all.keep_largest_scales = false;
  const ImageFeatures full = ExtractSift(View640(), all);
  SiftOptions options = all;
  options.max_num_features = 100;
  const ImageFeatures top = ExtractSift(View640(), options);
  ASSERT_EQ(top.keypoints.size(), 100u);
  ASSERT_GT(full.keypoints.size(), 100u);
  for (std::size_t i = 0; i < top.keypoints.size(); ++i) {
    EXPECT_EQ(top.keypoints[i].x, full.keypoints[i].x);
    EXPECT_EQ(top.keypoints[i].y, full.keypoints[i].y);
    EXPECT_TRUE(top.descriptors.row(static_cast<Eigen::Index>(i)) ==
                full.descriptors.row(static_cast<Eigen::Index>(i)));
  }
}

TEST(Sift, KeypointsOfGaussianBlobsAreAtTheBlobCentres) {
  // Blobs centred at known sub-pixel positions (pixel centres at +0.5): SIFT's DoG extremum of a
  // symmetric blob is its centre, so the mean offset measures the pixel convention. OpenCV's own
  // keypoints are 0.25 px off (see features.cpp); a forgotten +0.5 would be 0.5 px off.
  constexpr int kSize = 400;
  constexpr double kSigma = 4.0;
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  std::vector<Eigen::Vector2d> centres;
  for (int by = 0; by < 8; ++by) {
    for (int bx = 0; bx < 8; ++bx) {
      centres.emplace_back(25.0 + 50.0 * bx + jitter(rng), 25.0 + 50.0 * by + jitter(rng));
    }
  }
  ImageU8 image(kSize, kSize, 1);
  for (int y = 0; y < kSize; ++y) {
    for (int x = 0; x < kSize; ++x) {
      double v = 40.0;
      for (const Eigen::Vector2d& c : centres) {
        v += 180.0 * std::exp(-(Eigen::Vector2d(x + 0.5, y + 0.5) - c).squaredNorm() /
                              (2.0 * kSigma * kSigma));
      }
      image(x, y) = static_cast<std::uint8_t>(std::lround(std::min(255.0, v)));
    }
  }
  const ImageFeatures f = ExtractSift(image);
  Eigen::Vector2d sum = Eigen::Vector2d::Zero();
  int n = 0;
  for (const Keypoint& kp : f.keypoints) {
    for (const Eigen::Vector2d& c : centres) {
      const Eigen::Vector2d offset = Eigen::Vector2d(kp.x, kp.y) - c;
      if (offset.norm() < 1.5 && kp.scale > 0.5 * kSigma) {  // the blob's own keypoint
        sum += offset;
        ++n;
      }
    }
  }
  ASSERT_GE(n, 64);
  // Each centre is found to ~0.05 px (8-bit quantisation of a smooth blob); the mean of 64 is
  // far better, so 0.05 px cleanly separates right from 0.25 px wrong.
  EXPECT_LT(std::abs(sum.x() / n), 0.05);
  EXPECT_LT(std::abs(sum.y() / n), 0.05);
}

TEST(Sift, KeypointsAreInTheInputsPixelsWhenTheDetectorRunsDownscaled) {
  // Detected at half size, mapped back: matched keypoints land on the full-size ones. SIFT's
  // sub-pixel localisation at half size is good to a fraction of a (half-size) pixel, so matches
  // agree within a couple of full-size pixels, and a mistake in the pixel-centre convention
  // would show as a systematic offset of the median (0.5 px for a forgotten +0.5, 0.25 px for
  // OpenCV's upsampling offset, which halves with the image).
  SiftOptions half;
  half.max_image_size = 320;
  const ImageFeatures small = ExtractSift(View640(), half);
  ASSERT_GT(small.keypoints.size(), 200u);
  const std::vector<FeatureMatch> matches = Match(Features640(), small);
  ASSERT_GT(matches.size(), 100u);
  std::vector<double> dx;
  std::vector<double> dy;
  int close = 0;
  for (const FeatureMatch& m : matches) {
    const Keypoint& a = Features640().keypoints[m.idx1];
    const Keypoint& b = small.keypoints[m.idx2];
    dx.push_back(b.x - a.x);
    dy.push_back(b.y - a.y);
    close += std::hypot(b.x - a.x, b.y - a.y) < 2.0 ? 1 : 0;
  }
  EXPECT_GT(close, 0.9 * static_cast<double>(matches.size()));
  EXPECT_LT(std::abs(Median(dx)), 0.25);
  EXPECT_LT(std::abs(Median(dy)), 0.25);
}

TEST(Sift, GrayAndRgbInputsGiveFeatures) {
  ImageU8 gray(View640().width(), View640().height(), 1);
  for (int y = 0; y < gray.height(); ++y) {
    for (int x = 0; x < gray.width(); ++x) gray(x, y) = View640()(x, y, 1);
  }
  EXPECT_GT(ExtractSift(gray).keypoints.size(), 500u);
}

TEST(Sift, OptionsAreChecked) {
  SiftOptions options;
  options.max_num_features = 0;
  EXPECT_THROW(ExtractSift(View640(), options), Error);
  options = {};
  options.contrast_threshold = -1.0;
  EXPECT_THROW(options.Check(), Error);
  EXPECT_THROW(ExtractSift(ImageU8()), Error);
  SiftOptions other;
  other.edge_threshold = 12.0;
  EXPECT_NE(SiftOptions().Fingerprint(), other.Fingerprint());
  EXPECT_EQ(SiftOptions().Fingerprint(), SiftOptions().Fingerprint());
}

ImageFeatures SmallFeatures() {
  ImageFeatures f;
  std::mt19937 rng(3);
  f.keypoints.resize(40);
  f.descriptors.resize(40, kDescriptorDim);
  for (std::size_t i = 0; i < f.keypoints.size(); ++i) {
    f.keypoints[i] = {0.5f + static_cast<float>(i), 100.25f, 1.5f, 0.125f * static_cast<float>(i)};
    for (int k = 0; k < kDescriptorDim; ++k) {
      f.descriptors(static_cast<Eigen::Index>(i), k) = static_cast<std::uint8_t>(rng() % 256);
    }
  }
  return f;
}

TEST(FeaturesFile, RoundTripsExactly) {
  TempDir dir;
  for (const ImageFeatures& f : {SmallFeatures(), ImageFeatures{}, Features640()}) {
    WriteFeatures(dir / "f.fctf", f);
    const ImageFeatures back = ReadFeatures(dir / "f.fctf");
    ASSERT_EQ(back.keypoints.size(), f.keypoints.size());
    for (std::size_t i = 0; i < f.keypoints.size(); ++i) {
      EXPECT_EQ(back.keypoints[i].x, f.keypoints[i].x);
      EXPECT_EQ(back.keypoints[i].y, f.keypoints[i].y);
      EXPECT_EQ(back.keypoints[i].scale, f.keypoints[i].scale);
      EXPECT_EQ(back.keypoints[i].orientation, f.keypoints[i].orientation);
    }
    EXPECT_TRUE(back.descriptors == f.descriptors);
  }
}

TEST(FeaturesFile, TruncatedOrCorruptFilesThrow) {
  TempDir dir(TempDir::kPreferMemory);
  WriteFeatures(dir / "f.fctf", SmallFeatures());
  const std::vector<std::uint8_t> original = ReadFile(dir / "f.fctf");
  EXPECT_THROW(ReadFeatures(dir / "missing.fctf"), Error);
  // Every truncation.
  for (std::size_t size = 0; size < original.size(); size += 7) {
    const std::vector<std::uint8_t> cut(original.begin(),
                                        original.begin() + static_cast<std::ptrdiff_t>(size));
    WriteFileAtomically(dir / "cut.fctf", cut);
    EXPECT_THROW(ReadFeatures(dir / "cut.fctf"), Error) << size << " bytes";
  }
  // A huge keypoint count must be refused before anything is allocated.
  std::vector<std::uint8_t> huge = original;
  huge[8] = huge[9] = huge[10] = huge[11] = 0xff;
  WriteFileAtomically(dir / "huge.fctf", huge);
  EXPECT_THROW(ReadFeatures(dir / "huge.fctf"), Error);
  // Random damage: the checksum catches every change.
  std::mt19937 rng(11);
  int changed = 0;
  for (int i = 0; i < 300; ++i) {
    const std::vector<std::uint8_t> bytes = facet::testing::Mutate(original, rng);
    if (bytes == original) continue;
    ++changed;
    WriteFileAtomically(dir / "m.fctf", bytes);
    EXPECT_THROW(ReadFeatures(dir / "m.fctf"), Error) << "mutation " << i;
  }
  EXPECT_GT(changed, 250);
}

// A folder of three synthetic views (JPEG) and a JPEG cut in half.
struct PhotoFolder {
  TempDir dir;
  PhotoFolder() {
    testing::OrbitViews& orbit = RenderedOrbit(24, 640, 480);
    fs::create_directories(dir / "images");
    for (int i = 0; i < 3; ++i) {
      WriteImage(dir / ("images/view" + std::to_string(i) + ".jpg"), orbit.Image(i));
    }
    std::vector<std::uint8_t> bytes = ReadFile(dir / "images/view0.jpg");
    bytes.resize(bytes.size() / 2);
    WriteFileAtomically(dir / "images/cut.jpg", bytes);
  }
  fs::path Images() const { return dir / "images"; }
  fs::path Cache() const { return dir / "cache"; }
};

TEST(FolderFeatures, TruncatedJpegIsReportedNotThrownAndCacheIsReused) {
  PhotoFolder photos;
  const datasets::ImageFolder folder = datasets::ScanImageFolder(photos.Images());
  ASSERT_EQ(folder.entries.size(), 4u);  // cut.jpg, view0..2 (by name)
  ASSERT_EQ(folder.entries[0].name, "cut.jpg");
  SiftOptions options;
  options.max_image_size = 320;

  const FolderFeatures first = ExtractFolderFeatures(folder, options, photos.Cache());
  ASSERT_EQ(first.features.size(), 4u);
  ASSERT_EQ(first.failed.size(), 1u);
  EXPECT_EQ(first.failed[0].first, 0u);
  EXPECT_NE(first.failed[0].second.find("cut.jpg"), std::string::npos) << first.failed[0].second;
  EXPECT_NE(first.failed[0].second.find("truncated"), std::string::npos) << first.failed[0].second;
  EXPECT_TRUE(first.features[0].keypoints.empty());
  EXPECT_EQ(first.num_from_cache, 0u);
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_GT(first.features[i].keypoints.size(), 200u);
    // Detected at 320 px, reported in the file's 640 x 480 pixels.
    float max_x = 0.0f;
    for (const Keypoint& kp : first.features[i].keypoints) {
      ASSERT_TRUE(kp.x >= 0.0f && kp.x <= 640.0f && kp.y >= 0.0f && kp.y <= 480.0f);
      max_x = std::max(max_x, kp.x);
    }
    EXPECT_GT(max_x, 600.0f);
  }

  const FolderFeatures second = ExtractFolderFeatures(folder, options, photos.Cache());
  EXPECT_EQ(second.num_from_cache, 3u);
  ASSERT_EQ(second.failed.size(), 1u);
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_TRUE(second.features[i].descriptors == first.features[i].descriptors);
  }

  // Changed options invalidate every entry; a rewritten photo invalidates its own.
  SiftOptions other = options;
  other.max_num_features = 500;
  const FolderFeatures third = ExtractFolderFeatures(folder, other, photos.Cache());
  EXPECT_EQ(third.num_from_cache, 0u);
  EXPECT_LE(third.features[1].keypoints.size(), 500u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  WriteImage(photos.Images() / "view1.jpg", RenderedOrbit(24, 640, 480).Image(1));
  const FolderFeatures fourth = ExtractFolderFeatures(folder, other, photos.Cache());
  EXPECT_EQ(fourth.num_from_cache, 2u);
}

TEST(FolderFeatures, DamagedCacheFilesAreExtractedAgain) {
  PhotoFolder photos;
  fs::remove(photos.Images() / "cut.jpg");
  const datasets::ImageFolder folder = datasets::ScanImageFolder(photos.Images());
  SiftOptions options;
  options.max_image_size = 320;
  const FolderFeatures first = ExtractFolderFeatures(folder, options, photos.Cache());
  ASSERT_TRUE(first.failed.empty());
  for (const fs::directory_entry& e : fs::directory_iterator(photos.Cache())) {
    if (e.path().extension() == ".fctf") fs::resize_file(e.path(), 100);
  }
  const FolderFeatures second = ExtractFolderFeatures(folder, options, photos.Cache());
  EXPECT_EQ(second.num_from_cache, 0u);
  EXPECT_TRUE(second.failed.empty());
  for (std::size_t i = 0; i < folder.entries.size(); ++i) {
    EXPECT_TRUE(second.features[i].descriptors == first.features[i].descriptors);
  }
}

TEST(FolderFeatures, FileCoordinatesAgreeWithDetectingOnTheFullImage) {
  PhotoFolder photos;
  fs::remove(photos.Images() / "cut.jpg");
  const datasets::ImageFolder folder = datasets::ScanImageFolder(photos.Images());
  SiftOptions options;
  options.max_image_size = 320;
  const FolderFeatures result = ExtractFolderFeatures(folder, options);  // no cache
  const ImageFeatures full = ExtractSift(ReadImage<std::uint8_t>(folder.entries[0].path));
  const std::vector<FeatureMatch> matches = Match(full, result.features[0]);
  ASSERT_GT(matches.size(), 100u);
  std::vector<double> dx;
  std::vector<double> dy;
  for (const FeatureMatch& m : matches) {
    dx.push_back(result.features[0].keypoints[m.idx2].x - full.keypoints[m.idx1].x);
    dy.push_back(result.features[0].keypoints[m.idx2].y - full.keypoints[m.idx1].y);
  }
  EXPECT_LT(std::abs(Median(dx)), 0.25);
  EXPECT_LT(std::abs(Median(dy)), 0.25);
}

}  // namespace
}  // namespace facet::sfm
