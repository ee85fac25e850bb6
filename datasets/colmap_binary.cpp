// COLMAP's binary model files (layout in colmap_model.h).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/colmap_model.h"
#include "datasets/detail/atomic_files.h"
#include "datasets/detail/colmap_common.h"

namespace facet::datasets {
namespace fs = std::filesystem;
namespace {

// The smallest record of each kind, to bound counts by the bytes left before allocating.
constexpr std::uint64_t kMinCameraBytes = 4 + 4 + 8 + 8 + 3 * 8;   // 3 parameters
constexpr std::uint64_t kMinImageBytes = 4 + 7 * 8 + 4 + 1 + 8;    // empty name
constexpr std::uint64_t kMinPoint3DBytes = 8 + 3 * 8 + 3 + 8 + 8;  // empty track
constexpr std::uint64_t kKeypointBytes = 8 + 8 + 8;
constexpr std::uint64_t kTrackElementBytes = 4 + 4;

// A bounds-checked little-endian cursor over a whole file held in memory. Every error names the
// file and the byte offset where the failing field starts.
class ByteReader {
 public:
  ByteReader(std::span<const std::uint8_t> bytes, const fs::path& path)
      : bytes_(bytes), path_(path) {}

  std::uint64_t Offset() const { return offset_; }
  std::uint64_t Remaining() const { return bytes_.size() - offset_; }

  template <typename T>
  T Read(std::string_view what) {
    static_assert(std::is_arithmetic_v<T>);
    if (Remaining() < sizeof(T)) {
      Fail(offset_, fmt::format("{} is cut off: the file ends at byte {}", what, bytes_.size()));
    }
    std::array<std::uint8_t, sizeof(T)> raw{};
    std::memcpy(raw.data(), bytes_.data() + offset_, sizeof(T));
    if constexpr (std::endian::native == std::endian::big) std::reverse(raw.begin(), raw.end());
    T value;
    std::memcpy(&value, raw.data(), sizeof(T));
    offset_ += sizeof(T);
    return value;
  }

  double ReadFinite(std::string_view what) {
    const std::uint64_t at = offset_;
    const double value = Read<double>(what);
    if (!std::isfinite(value)) Fail(at, fmt::format("{} is not finite ({})", what, value));
    return value;
  }

  // A NUL-terminated string; the terminator must lie inside the file.
  std::string ReadCString(std::string_view what) {
    const auto begin = bytes_.begin() + static_cast<std::ptrdiff_t>(offset_);
    const auto end = std::find(begin, bytes_.end(), std::uint8_t{0});
    if (end == bytes_.end()) Fail(offset_, fmt::format("{} has no terminating NUL", what));
    std::string text(begin, end);
    offset_ += text.size() + 1;
    return text;
  }

  // Throws unless `count` records of at least `min_bytes` each fit in the rest of the file, so
  // that a corrupt count can drive neither an allocation nor a long loop. `at`: the count's offset.
  void CheckCount(std::uint64_t count, std::uint64_t min_bytes, std::uint64_t at,
                  std::string_view what) const {
    if (count > Remaining() / min_bytes) {
      Fail(at, fmt::format("{} {} need at least {} bytes each, but only {} bytes follow", count,
                           what, min_bytes, Remaining()));
    }
  }

  void ExpectEnd(std::string_view what) const {
    if (Remaining() != 0) {
      Fail(offset_, fmt::format("{} unexpected bytes follow the last {}", Remaining(), what));
    }
  }

  [[noreturn]] void Fail(std::uint64_t at, const std::string& problem) const {
    FACET_THROW("cannot read '{}': at byte {}, {} (the file is corrupt or not a COLMAP {} file)",
                path_.string(), at, problem, path_.filename().string());
  }

 private:
  std::span<const std::uint8_t> bytes_;
  const fs::path& path_;
  std::uint64_t offset_ = 0;
};

class ByteWriter {
 public:
  template <typename T>
  void Write(T value) {
    static_assert(std::is_arithmetic_v<T>);
    std::array<std::uint8_t, sizeof(T)> raw{};
    std::memcpy(raw.data(), &value, sizeof(T));
    if constexpr (std::endian::native == std::endian::big) std::reverse(raw.begin(), raw.end());
    bytes_.insert(bytes_.end(), raw.begin(), raw.end());
  }
  void WriteCString(const std::string& text) {
    bytes_.insert(bytes_.end(), text.begin(), text.end());
    bytes_.push_back(0);
  }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

void ReadCameras(const fs::path& path, Scene* scene) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  ByteReader in(bytes, path);
  const std::uint64_t count = in.Read<std::uint64_t>("the number of cameras");
  in.CheckCount(count, kMinCameraBytes, 0, "cameras");
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = in.Offset();
    const CameraId id(in.Read<std::uint32_t>("a camera id"));
    const std::int32_t model_id = in.Read<std::int32_t>("a camera model id");
    const std::uint64_t width = in.Read<std::uint64_t>("a camera width");
    const std::uint64_t height = in.Read<std::uint64_t>("a camera height");
    const auto model = geometry::CameraModelFromId(model_id);
    if (!model) {
      in.Fail(at,
              fmt::format("camera {}: {}", id, detail::UnsupportedCameraModelMessage(model_id)));
    }
    if (!id.IsValid()) in.Fail(at, fmt::format("camera id {} is reserved", id.value));
    constexpr std::uint64_t kMaxSize = std::numeric_limits<int>::max();
    if (width == 0 || height == 0 || width > kMaxSize || height > kMaxSize) {
      in.Fail(at, fmt::format("camera {} has an invalid size {}x{}", id, width, height));
    }
    geometry::Camera camera;
    camera.model = *model;
    camera.width = static_cast<int>(width);
    camera.height = static_cast<int>(height);
    camera.params.resize(static_cast<std::size_t>(geometry::CameraModelNumParams(*model)));
    for (double& p : camera.params) p = in.ReadFinite("a camera parameter");
    try {
      camera.Check();
    } catch (const Error& e) {
      in.Fail(at, fmt::format("camera {}: {}", id, e.what()));
    }
    if (!scene->cameras.emplace(id, std::move(camera)).second) {
      in.Fail(at, fmt::format("camera id {} appears twice", id));
    }
  }
  in.ExpectEnd("camera");
}

void ReadImages(const fs::path& path, Scene* scene) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  ByteReader in(bytes, path);
  const std::uint64_t count = in.Read<std::uint64_t>("the number of images");
  in.CheckCount(count, kMinImageBytes, 0, "images");
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = in.Offset();
    Image image;
    image.id = ImageId(in.Read<std::uint32_t>("an image id"));
    std::array<double, 7> qvec_tvec{};
    for (double& v : qvec_tvec) v = in.Read<double>("an image pose");
    image.camera_id = CameraId(in.Read<std::uint32_t>("the camera id of an image"));
    image.name = in.ReadCString("an image name");
    const std::uint64_t count_at = in.Offset();
    const std::uint64_t num_points2d = in.Read<std::uint64_t>("the number of keypoints");
    in.CheckCount(num_points2d, kKeypointBytes, count_at, "keypoints");
    image.points2d.resize(num_points2d);
    for (Point2D& point : image.points2d) {
      point.xy.x() = in.ReadFinite("a keypoint x");
      point.xy.y() = in.ReadFinite("a keypoint y");
      point.point3d_id = Point3DId(in.Read<std::uint64_t>("a keypoint's 3D point id"));
    }
    if (!image.id.IsValid()) in.Fail(at, fmt::format("image id {} is reserved", image.id.value));
    image.cam_from_world = detail::PoseFromColmap(qvec_tvec);
    if (!image.cam_from_world) {
      in.Fail(at, fmt::format("image {} has a non-finite pose or a zero quaternion", image.id));
    }
    const ImageId id = image.id;
    if (!scene->images.emplace(id, std::move(image)).second) {
      in.Fail(at, fmt::format("image id {} appears twice", id));
    }
  }
  in.ExpectEnd("image");
}

void ReadPoints3D(const fs::path& path, Scene* scene) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  ByteReader in(bytes, path);
  const std::uint64_t count = in.Read<std::uint64_t>("the number of 3D points");
  in.CheckCount(count, kMinPoint3DBytes, 0, "3D points");
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = in.Offset();
    const Point3DId id(in.Read<std::uint64_t>("a 3D point id"));
    Point3D point;
    for (int k = 0; k < 3; ++k) point.xyz[k] = in.ReadFinite("a 3D point coordinate");
    for (int k = 0; k < 3; ++k) point.color[k] = in.Read<std::uint8_t>("a 3D point colour");
    point.error = in.ReadFinite("a 3D point error");
    const std::uint64_t length_at = in.Offset();
    const std::uint64_t track_length = in.Read<std::uint64_t>("a track length");
    in.CheckCount(track_length, kTrackElementBytes, length_at, "track elements");
    point.track.resize(track_length);
    for (TrackElement& element : point.track) {
      element.image_id = ImageId(in.Read<std::uint32_t>("a track image id"));
      element.point2d_idx = in.Read<std::uint32_t>("a track keypoint index");
    }
    if (!id.IsValid()) in.Fail(at, fmt::format("3D point id {} is reserved", id.value));
    if (!scene->points3d.emplace(id, std::move(point)).second) {
      in.Fail(at, fmt::format("3D point id {} appears twice", id));
    }
  }
  in.ExpectEnd("3D point");
}

}  // namespace

Scene ReadColmapModelBinary(const fs::path& folder) {
  Scene scene;
  ReadCameras(folder / detail::kCamerasBin, &scene);
  ReadImages(folder / detail::kImagesBin, &scene);
  ReadPoints3D(folder / detail::kPoints3DBin, &scene);
  detail::CheckReadScene(scene, folder);
  return scene;
}

void WriteColmapModelBinary(const fs::path& folder, const Scene& scene) {
  detail::CheckWritable(scene, /*text=*/false);
  detail::PrepareOutputFolder(folder);
  ByteWriter cameras_bin, images_bin, points3d_bin;
  {
    ByteWriter& out = cameras_bin;
    out.Write<std::uint64_t>(scene.cameras.size());
    for (const auto& [id, camera] : scene.cameras) {
      out.Write<std::uint32_t>(id.value);
      out.Write<std::int32_t>(static_cast<std::int32_t>(camera.model));
      out.Write<std::uint64_t>(static_cast<std::uint64_t>(camera.width));
      out.Write<std::uint64_t>(static_cast<std::uint64_t>(camera.height));
      for (double p : camera.params) out.Write<double>(p);
    }
  }
  {
    ByteWriter& out = images_bin;
    out.Write<std::uint64_t>(scene.NumRegisteredImages());
    for (const auto& [id, image] : scene.images) {
      if (!image.IsRegistered()) continue;
      out.Write<std::uint32_t>(id.value);
      for (double v : detail::PoseToColmap(*image.cam_from_world)) out.Write<double>(v);
      out.Write<std::uint32_t>(image.camera_id.value);
      out.WriteCString(image.name);
      out.Write<std::uint64_t>(image.points2d.size());
      for (const Point2D& point : image.points2d) {
        out.Write<double>(point.xy.x());
        out.Write<double>(point.xy.y());
        out.Write<std::uint64_t>(point.point3d_id.value);  // all bits set: none, as COLMAP's
      }
    }
  }
  {
    ByteWriter& out = points3d_bin;
    out.Write<std::uint64_t>(scene.points3d.size());
    for (const auto& [id, point] : scene.points3d) {
      out.Write<std::uint64_t>(id.value);
      for (int k = 0; k < 3; ++k) out.Write<double>(point.xyz[k]);
      for (int k = 0; k < 3; ++k) out.Write<std::uint8_t>(point.color[k]);
      out.Write<double>(point.error);
      out.Write<std::uint64_t>(point.track.size());
      for (const TrackElement& element : point.track) {
        out.Write<std::uint32_t>(element.image_id.value);
        out.Write<std::uint32_t>(element.point2d_idx);
      }
    }
  }
  const detail::PendingFile files[] = {{folder / detail::kCamerasBin, cameras_bin.view()},
                                       {folder / detail::kImagesBin, images_bin.view()},
                                       {folder / detail::kPoints3DBin, points3d_bin.view()}};
  detail::WriteFilesAtomically(files);
}

}  // namespace facet::datasets
