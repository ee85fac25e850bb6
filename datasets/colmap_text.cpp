// COLMAP's text model files (layout in colmap_model.h). The writers reproduce COLMAP 3.8's
// Write{Cameras,Images,Points3D}Text byte for byte, header comments included: streams with
// precision 17 print doubles as "%.17g", which fmt's "{:.17g}" matches.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/colmap_model.h"
#include "datasets/detail/atomic_files.h"
#include "datasets/detail/colmap_common.h"
#include "datasets/detail/text_parse.h"

namespace facet::datasets {
namespace fs = std::filesystem;
namespace {

using detail::ParseNumber;

constexpr std::string_view kSpace = detail::kLineSpace;

std::string_view Trim(std::string_view text) {
  const std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

// Lines of a text file held in memory, numbered from 1. A final line break ends the last line
// rather than starting an empty one, as with std::getline.
class LineReader {
 public:
  LineReader(std::string_view text, const fs::path& path) : text_(text), path_(path) {}

  // The next line, trimmed; false at the end of the file.
  bool Next(std::string_view* line) {
    if (position_ >= text_.size()) return false;
    std::size_t end = text_.find('\n', position_);
    if (end == std::string_view::npos) end = text_.size();
    *line = Trim(text_.substr(position_, end - position_));
    position_ = end + 1;
    ++line_number_;
    return true;
  }

  // The next line that is neither empty nor a '#' comment; false at the end of the file.
  bool NextData(std::string_view* line) {
    while (Next(line)) {
      if (!line->empty() && line->front() != '#') return true;
    }
    return false;
  }

  [[noreturn]] void Fail(const std::string& problem) const {
    FACET_THROW("cannot read '{}': line {}: {} (the file is corrupt or not a COLMAP {} file)",
                path_.string(), line_number_, problem, path_.filename().string());
  }

 private:
  std::string_view text_;
  const fs::path& path_;
  std::size_t position_ = 0;
  std::size_t line_number_ = 0;
};

// The white-space separated fields of one line; failures name the line through `reader`.
class Fields {
 public:
  Fields(std::string_view line, const LineReader& reader) : rest_(line), reader_(reader) {}

  bool AtEnd() {
    Skip();
    return rest_.empty();
  }

  std::string_view Next(std::string_view what) {
    Skip();
    if (rest_.empty()) reader_.Fail(fmt::format("{} is missing", what));
    const std::size_t end = std::min(rest_.find_first_of(kSpace), rest_.size());
    const std::string_view token = rest_.substr(0, end);
    rest_.remove_prefix(end);
    return token;
  }

  template <typename T>
  T NextNumber(std::string_view what) {
    return Parse<T>(Next(what), what);
  }

  template <typename T>
  T Parse(std::string_view token, std::string_view what) const {
    const std::optional<T> value = ParseNumber<T>(token);
    if (!value) {
      reader_.Fail(fmt::format("{} '{}' is not {}", what, token.substr(0, 40),
                               std::is_floating_point_v<T> ? "a number"
                               : std::is_signed_v<T>       ? "an integer"
                                                           : "a non-negative integer in range"));
    }
    return *value;
  }

  double NextFinite(std::string_view what) {
    const double value = NextNumber<double>(what);
    if (!std::isfinite(value)) reader_.Fail(fmt::format("{} is not finite", what));
    return value;
  }

  // What is left of the line, trimmed.
  std::string_view Rest() {
    Skip();
    return rest_;
  }

 private:
  void Skip() { rest_ = Trim(rest_); }

  std::string_view rest_;
  const LineReader& reader_;
};

std::string_view AsText(const std::vector<std::uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

void ReadCameras(const fs::path& path, Scene* scene) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  LineReader lines(AsText(bytes), path);
  std::string_view line;
  while (lines.NextData(&line)) {
    Fields fields(line, lines);
    const CameraId id(fields.NextNumber<std::uint32_t>("the camera id"));
    const std::string model_name(fields.Next("the camera model"));
    const auto width = fields.NextNumber<std::uint64_t>("the width");
    const auto height = fields.NextNumber<std::uint64_t>("the height");
    const auto model = geometry::CameraModelFromName(model_name);
    if (!model) {
      lines.Fail(
          fmt::format("camera {}: {}", id, detail::UnsupportedCameraModelMessage(model_name)));
    }
    if (!id.IsValid()) lines.Fail(fmt::format("camera id {} is reserved", id.value));
    constexpr std::uint64_t kMaxSize = std::numeric_limits<int>::max();
    if (width == 0 || height == 0 || width > kMaxSize || height > kMaxSize) {
      lines.Fail(fmt::format("camera {} has an invalid size {}x{}", id, width, height));
    }
    geometry::Camera camera;
    camera.model = *model;
    camera.width = static_cast<int>(width);
    camera.height = static_cast<int>(height);
    while (!fields.AtEnd()) camera.params.push_back(fields.NextFinite("a camera parameter"));
    try {
      camera.Check();
    } catch (const Error& e) {
      lines.Fail(fmt::format("camera {}: {}", id, e.what()));
    }
    if (!scene->cameras.emplace(id, std::move(camera)).second) {
      lines.Fail(fmt::format("camera id {} appears twice", id));
    }
  }
}

void ReadImages(const fs::path& path, Scene* scene) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  LineReader lines(AsText(bytes), path);
  std::string_view line;
  while (lines.NextData(&line)) {
    Fields fields(line, lines);
    Image image;
    image.id = ImageId(fields.NextNumber<std::uint32_t>("the image id"));
    std::array<double, 7> qvec_tvec{};
    for (double& v : qvec_tvec) v = fields.NextNumber<double>("a pose value (QW ... TZ)");
    image.camera_id = CameraId(fields.NextNumber<std::uint32_t>("the camera id"));
    image.name = fields.Rest();  // the rest of the line, so that names may hold spaces
    if (image.name.empty()) lines.Fail(fmt::format("image {} has no name", image.id));
    if (!image.id.IsValid()) lines.Fail(fmt::format("image id {} is reserved", image.id.value));
    image.cam_from_world = detail::PoseFromColmap(qvec_tvec);
    if (!image.cam_from_world) {
      lines.Fail(fmt::format("image {} has a non-finite pose or a zero quaternion", image.id));
    }

    // The keypoint line always follows, empty when the image has no keypoints.
    if (!lines.Next(&line)) {
      lines.Fail(fmt::format("image {} lacks its POINTS2D line (the file is truncated)", image.id));
    }
    Fields points(line, lines);
    while (!points.AtEnd()) {
      Point2D point;
      point.xy.x() = points.NextFinite("a keypoint X");
      point.xy.y() = points.NextFinite("a keypoint Y");
      const std::string_view token = points.Next("a POINT3D_ID");
      point.point3d_id = token == "-1"
                             ? Point3DId::Invalid()
                             : Point3DId(points.Parse<std::uint64_t>(token, "a POINT3D_ID"));
      image.points2d.push_back(point);
    }
    const ImageId id = image.id;
    if (!scene->images.emplace(id, std::move(image)).second) {
      lines.Fail(fmt::format("image id {} appears twice", id));
    }
  }
}

void ReadPoints3D(const fs::path& path, Scene* scene) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  LineReader lines(AsText(bytes), path);
  std::string_view line;
  while (lines.NextData(&line)) {
    Fields fields(line, lines);
    const Point3DId id(fields.NextNumber<std::uint64_t>("the 3D point id"));
    Point3D point;
    for (int k = 0; k < 3; ++k) point.xyz[k] = fields.NextFinite("a coordinate (X, Y, Z)");
    for (int k = 0; k < 3; ++k) {
      const auto channel = fields.NextNumber<unsigned>("a colour (R, G, B)");
      if (channel > 255) lines.Fail(fmt::format("colour {} is not in 0..255", channel));
      point.color[k] = static_cast<std::uint8_t>(channel);
    }
    point.error = fields.NextFinite("the error");
    while (!fields.AtEnd()) {
      TrackElement element;
      element.image_id = ImageId(fields.NextNumber<std::uint32_t>("a track IMAGE_ID"));
      element.point2d_idx = fields.NextNumber<std::uint32_t>("a track POINT2D_IDX");
      point.track.push_back(element);
    }
    if (!id.IsValid()) lines.Fail(fmt::format("3D point id {} is reserved", id.value));
    if (!scene->points3d.emplace(id, std::move(point)).second) {
      lines.Fail(fmt::format("3D point id {} appears twice", id));
    }
  }
}

std::string_view View(const fmt::memory_buffer& buffer) { return {buffer.data(), buffer.size()}; }

}  // namespace

Scene ReadColmapModelText(const fs::path& folder) {
  Scene scene;
  ReadCameras(folder / detail::kCamerasTxt, &scene);
  ReadImages(folder / detail::kImagesTxt, &scene);
  ReadPoints3D(folder / detail::kPoints3DTxt, &scene);
  detail::CheckReadScene(scene, folder);
  return scene;
}

void WriteColmapModelText(const fs::path& folder, const Scene& scene) {
  detail::CheckWritable(scene, /*text=*/true);
  detail::PrepareOutputFolder(folder);
  const std::size_t num_observations = detail::NumObservations(scene);
  fmt::memory_buffer cameras_txt, images_txt, points3d_txt;
  {
    fmt::memory_buffer& out = cameras_txt;
    auto it = std::back_inserter(out);
    fmt::format_to(it,
                   "# Camera list with one line of data per camera:\n"
                   "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n"
                   "# Number of cameras: {}\n",
                   scene.cameras.size());
    for (const auto& [id, camera] : scene.cameras) {
      fmt::format_to(it, "{} {} {} {}", id, camera.ModelName(), camera.width, camera.height);
      for (double p : camera.params) fmt::format_to(it, " {:.17g}", p);
      fmt::format_to(it, "\n");
    }
  }
  {
    const std::size_t num_images = scene.NumRegisteredImages();
    fmt::memory_buffer& out = images_txt;
    auto it = std::back_inserter(out);
    fmt::format_to(it,
                   "# Image list with two lines of data per image:\n"
                   "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
                   "#   POINTS2D[] as (X, Y, POINT3D_ID)\n"
                   "# Number of images: {}, mean observations per image: {:.17g}\n",
                   num_images,
                   num_images == 0 ? 0.0 : static_cast<double>(num_observations) / num_images);
    for (const auto& [id, image] : scene.images) {
      if (!image.IsRegistered()) continue;
      fmt::format_to(it, "{}", id);
      for (double v : detail::PoseToColmap(*image.cam_from_world)) {
        fmt::format_to(it, " {:.17g}", v);
      }
      fmt::format_to(it, " {} {}\n", image.camera_id, image.name);
      const char* separator = "";
      for (const Point2D& point : image.points2d) {
        fmt::format_to(it, "{}{:.17g} {:.17g} ", separator, point.xy.x(), point.xy.y());
        if (point.point3d_id.IsValid()) {
          fmt::format_to(it, "{}", point.point3d_id);
        } else {
          fmt::format_to(it, "-1");
        }
        separator = " ";
      }
      fmt::format_to(it, "\n");
    }
  }
  {
    const std::size_t num_points = scene.points3d.size();
    fmt::memory_buffer& out = points3d_txt;
    auto it = std::back_inserter(out);
    fmt::format_to(it,
                   "# 3D point list with one line of data per point:\n"
                   "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n"
                   "# Number of points: {}, mean track length: {:.17g}\n",
                   num_points,
                   num_points == 0 ? 0.0 : static_cast<double>(num_observations) / num_points);
    for (const auto& [id, point] : scene.points3d) {
      // COLMAP ends the fixed fields with a space, so a point without a track keeps a trailing one.
      fmt::format_to(it, "{} {:.17g} {:.17g} {:.17g} {} {} {} {:.17g} ", id, point.xyz.x(),
                     point.xyz.y(), point.xyz.z(), int{point.color[0]}, int{point.color[1]},
                     int{point.color[2]}, point.error);
      const char* separator = "";
      for (const TrackElement& element : point.track) {
        fmt::format_to(it, "{}{} {}", separator, element.image_id, element.point2d_idx);
        separator = " ";
      }
      fmt::format_to(it, "\n");
    }
  }
  const detail::PendingFile files[] = {{folder / detail::kCamerasTxt, View(cameras_txt)},
                                       {folder / detail::kImagesTxt, View(images_txt)},
                                       {folder / detail::kPoints3DTxt, View(points3d_txt)}};
  detail::WriteFilesAtomically(files);
}

}  // namespace facet::datasets
