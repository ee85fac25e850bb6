// The correspondence graph: for every keypoint of every image, the keypoints of other images it
// was matched to by a verified two-view geometry. Tracks (the 3D points' observations) are grown
// along its edges by the incremental mapper, as in COLMAP's CorrespondenceGraph.
//
// Images are indices 0..n-1 (the mapper's image order). Built once, then read-only and cheap to
// query: the correspondences of a keypoint are a contiguous span.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "sfm/two_view_geometry.h"

namespace facet::sfm {

struct Correspondence {
  std::uint32_t image = 0;    // image index
  std::uint32_t point2d = 0;  // keypoint index in that image
};

struct ImagePairGeometry {
  std::uint32_t image1 = 0;  // image1 < image2
  std::uint32_t image2 = 0;
  TwoViewGeometry geometry{};
};

class CorrespondenceGraph {
 public:
  // `num_points2d[i]` is the keypoint count of image i; `pairs` the verified pairs (pairs whose
  // geometry is not verified are ignored). Throws facet::Error for an index out of range.
  CorrespondenceGraph(std::span<const std::uint32_t> num_points2d,
                      std::vector<ImagePairGeometry> pairs);

  std::size_t NumImages() const { return offsets_.size(); }
  // Correspondences of keypoint `point2d` of `image`.
  std::span<const Correspondence> Find(std::uint32_t image, std::uint32_t point2d) const {
    const auto& off = offsets_[image];
    return {corrs_.data() + off[point2d], corrs_.data() + off[point2d + 1]};
  }
  bool HasCorrespondences(std::uint32_t image, std::uint32_t point2d) const {
    return offsets_[image][point2d + 1] > offsets_[image][point2d];
  }
  // Keypoints of `image` with at least one correspondence.
  std::uint32_t NumObservations(std::uint32_t image) const { return num_observations_[image]; }
  // Number of correspondences of `image` in total (over all its keypoints).
  std::uint64_t NumCorrespondences(std::uint32_t image) const;
  // The verified pairs, sorted by (image1, image2).
  const std::vector<ImagePairGeometry>& Pairs() const { return pairs_; }
  // Images sharing a verified pair with `image`, with the pair's inlier count.
  const std::vector<std::pair<std::uint32_t, std::uint32_t>>& Neighbors(std::uint32_t image) const {
    return neighbors_[image];
  }
  // Index into Pairs() of the pair (a, b) in either order, or -1.
  std::int64_t FindPair(std::uint32_t a, std::uint32_t b) const;

 private:
  std::vector<ImagePairGeometry> pairs_;
  std::vector<std::vector<std::uint64_t>> offsets_;  // per image: num_points2d + 1 offsets
  std::vector<Correspondence> corrs_;
  std::vector<std::uint32_t> num_observations_;
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> neighbors_;
};

}  // namespace facet::sfm
