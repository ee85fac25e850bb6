#include "sfm/detail/verified_pairs_io.h"

#include <cstring>

#include "core/error.h"
#include "core/file_io.h"

namespace facet::sfm::detail {
namespace {

constexpr char kMagic[4] = {'F', 'C', 'T', 'V'};
constexpr std::uint32_t kVersion = 1;

template <typename T>
void Put(std::vector<std::uint8_t>& out, const T& value) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

class Reader {
 public:
  Reader(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& path)
      : bytes_(bytes), path_(path) {}
  template <typename T>
  T Get() {
    Need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  void Need(std::size_t n) const {
    FACET_CHECK(n <= bytes_.size() - pos_,
                "{}: truncated verified-pairs cache; delete it (it is recomputed)", path_.string());
  }
  const std::uint8_t* Take(std::size_t n) {
    Need(n);
    const std::uint8_t* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  bool AtEnd() const { return pos_ == bytes_.size(); }

 private:
  const std::vector<std::uint8_t>& bytes_;
  const std::filesystem::path& path_;
  std::size_t pos_ = 0;
};

}  // namespace

void WriteVerifiedPairs(const std::filesystem::path& path, const std::string& key,
                        const std::vector<ImagePairGeometry>& pairs,
                        std::size_t num_pairs_matched) {
  std::vector<std::uint8_t> out;
  out.insert(out.end(), kMagic, kMagic + 4);
  Put(out, kVersion);
  Put(out, static_cast<std::uint64_t>(key.size()));
  out.insert(out.end(), key.begin(), key.end());
  Put(out, static_cast<std::uint64_t>(num_pairs_matched));
  Put(out, static_cast<std::uint64_t>(pairs.size()));
  for (const ImagePairGeometry& p : pairs) {
    const TwoViewGeometry& g = p.geometry;
    Put(out, p.image1);
    Put(out, p.image2);
    Put(out, static_cast<std::int32_t>(g.config));
    Put(out, static_cast<std::uint8_t>(g.has_pose));
    for (const double v : {g.cam2_from_cam1.rotation.w(), g.cam2_from_cam1.rotation.x(),
                           g.cam2_from_cam1.rotation.y(), g.cam2_from_cam1.rotation.z(),
                           g.cam2_from_cam1.translation.x(), g.cam2_from_cam1.translation.y(),
                           g.cam2_from_cam1.translation.z(), g.median_tri_angle_deg}) {
      Put(out, v);
    }
    Put(out, static_cast<std::uint64_t>(g.inlier_matches.size()));
    for (const FeatureMatch& m : g.inlier_matches) {
      Put(out, m.idx1);
      Put(out, m.idx2);
    }
  }
  WriteFileAtomically(path, out);
}

std::optional<CachedPairs> ReadVerifiedPairs(const std::filesystem::path& path,
                                             const std::string& key, std::size_t num_images) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  Reader in(bytes, path);
  const std::uint8_t* magic = in.Take(4);
  FACET_CHECK(std::memcmp(magic, kMagic, 4) == 0,
              "{}: not a facet verified-pairs cache; delete it (it is recomputed)", path.string());
  if (in.Get<std::uint32_t>() != kVersion) return std::nullopt;
  const auto key_size = in.Get<std::uint64_t>();
  in.Need(key_size);
  const std::uint8_t* key_bytes = in.Take(key_size);
  if (std::string(reinterpret_cast<const char*>(key_bytes), key_size) != key) return std::nullopt;
  CachedPairs cached;
  cached.num_pairs_matched = in.Get<std::uint64_t>();
  const auto num_pairs = in.Get<std::uint64_t>();
  // Each pair takes at least 77 bytes: a corrupt count cannot make us allocate much.
  in.Need(num_pairs * 77);
  cached.pairs.resize(num_pairs);
  for (ImagePairGeometry& p : cached.pairs) {
    p.image1 = in.Get<std::uint32_t>();
    p.image2 = in.Get<std::uint32_t>();
    const auto config = in.Get<std::int32_t>();
    FACET_CHECK(p.image1 < num_images && p.image2 < num_images && p.image1 != p.image2 &&
                    config >= 0 && config <= static_cast<int>(TwoViewConfig::kWatermark),
                "{}: corrupt verified-pairs cache; delete it (it is recomputed)", path.string());
    TwoViewGeometry& g = p.geometry;
    g.config = static_cast<TwoViewConfig>(config);
    g.has_pose = in.Get<std::uint8_t>() != 0;
    double v[8];
    for (double& x : v) x = in.Get<double>();
    g.cam2_from_cam1.rotation = Eigen::Quaterniond(v[0], v[1], v[2], v[3]);
    g.cam2_from_cam1.translation = Eigen::Vector3d(v[4], v[5], v[6]);
    g.median_tri_angle_deg = v[7];
    const auto num_matches = in.Get<std::uint64_t>();
    in.Need(num_matches * 8);
    g.inlier_matches.resize(num_matches);
    for (FeatureMatch& m : g.inlier_matches) {
      m.idx1 = in.Get<std::uint32_t>();
      m.idx2 = in.Get<std::uint32_t>();
    }
  }
  FACET_CHECK(in.AtEnd(),
              "{}: trailing bytes in verified-pairs cache; delete it (it is recomputed)",
              path.string());
  return cached;
}

}  // namespace facet::sfm::detail
