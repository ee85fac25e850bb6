#include "sfm/correspondence_graph.h"

#include <algorithm>

#include "core/error.h"

namespace facet::sfm {

CorrespondenceGraph::CorrespondenceGraph(std::span<const std::uint32_t> num_points2d,
                                         std::vector<ImagePairGeometry> pairs) {
  const std::size_t n = num_points2d.size();
  std::erase_if(pairs, [](const ImagePairGeometry& p) { return !p.geometry.IsVerified(); });
  for (auto& p : pairs) {
    if (p.image1 > p.image2) {
      std::swap(p.image1, p.image2);
      for (auto& m : p.geometry.inlier_matches) std::swap(m.idx1, m.idx2);
    }
    FACET_CHECK(p.image2 < n && p.image1 != p.image2,
                "correspondence graph: invalid image pair ({}, {}) for {} images", p.image1,
                p.image2, n);
  }
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
    return std::pair(a.image1, a.image2) < std::pair(b.image1, b.image2);
  });
  pairs_ = std::move(pairs);

  // Counting pass, then fill (CSR per image).
  offsets_.resize(n);
  for (std::size_t i = 0; i < n; ++i) offsets_[i].assign(num_points2d[i] + 1, 0);
  for (const auto& p : pairs_) {
    for (const auto& m : p.geometry.inlier_matches) {
      FACET_CHECK(m.idx1 < num_points2d[p.image1] && m.idx2 < num_points2d[p.image2],
                  "correspondence graph: match ({}, {}) out of range in pair ({}, {})", m.idx1,
                  m.idx2, p.image1, p.image2);
      ++offsets_[p.image1][m.idx1 + 1];
      ++offsets_[p.image2][m.idx2 + 1];
    }
  }
  // Prefix sums over all images: offsets_[i][k] is where keypoint k of image i starts.
  std::uint64_t total = 0;
  num_observations_.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    auto& off = offsets_[i];
    off[0] = total;
    for (std::size_t k = 1; k < off.size(); ++k) {
      if (off[k] > 0) ++num_observations_[i];
      off[k] += off[k - 1];
    }
    total = off.back();
  }
  corrs_.resize(total);
  std::vector<std::vector<std::uint64_t>> cursor(n);
  for (std::size_t i = 0; i < n; ++i) cursor[i].assign(offsets_[i].begin(), offsets_[i].end() - 1);
  neighbors_.assign(n, {});
  for (const auto& p : pairs_) {
    for (const auto& m : p.geometry.inlier_matches) {
      corrs_[cursor[p.image1][m.idx1]++] = {p.image2, m.idx2};
      corrs_[cursor[p.image2][m.idx2]++] = {p.image1, m.idx1};
    }
    const auto count = static_cast<std::uint32_t>(p.geometry.inlier_matches.size());
    neighbors_[p.image1].emplace_back(p.image2, count);
    neighbors_[p.image2].emplace_back(p.image1, count);
  }
}

std::uint64_t CorrespondenceGraph::NumCorrespondences(std::uint32_t image) const {
  const auto& off = offsets_[image];
  return off.back() - off.front();
}

std::int64_t CorrespondenceGraph::FindPair(std::uint32_t a, std::uint32_t b) const {
  if (a > b) std::swap(a, b);
  const auto it = std::lower_bound(pairs_.begin(), pairs_.end(), std::pair(a, b),
                                   [](const ImagePairGeometry& p, const auto& key) {
                                     return std::pair(p.image1, p.image2) < key;
                                   });
  if (it == pairs_.end() || it->image1 != a || it->image2 != b) return -1;
  return it - pairs_.begin();
}

}  // namespace facet::sfm
