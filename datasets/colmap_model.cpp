#include "datasets/colmap_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cmath>
#include <limits>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "datasets/detail/colmap_common.h"

namespace facet::datasets {
namespace fs = std::filesystem;

namespace detail {
namespace {

// COLMAP 3.8's models that facet does not implement (src/base/camera_models.h), for messages.
struct UnsupportedModel {
  int id;
  std::string_view name;
};
constexpr UnsupportedModel kUnsupportedModels[] = {
    {7, "FOV"}, {8, "SIMPLE_RADIAL_FISHEYE"}, {9, "RADIAL_FISHEYE"}, {10, "THIN_PRISM_FISHEYE"}};

constexpr std::string_view kSupportedModels =
    "SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV, OPENCV_FISHEYE, FULL_OPENCV";

std::string UnsupportedMessage(const std::string& what) {
  return fmt::format(
      "{} is not supported by facet (it reads {}); undistort the images with `colmap "
      "image_undistorter` (which writes a PINHOLE model) or reconstruct with a supported model",
      what, kSupportedModels);
}

bool AllFinite(const Eigen::Ref<const Eigen::VectorXd>& values) { return values.allFinite(); }

}  // namespace

std::string UnsupportedCameraModelMessage(int model_id) {
  for (const UnsupportedModel& model : kUnsupportedModels) {
    if (model.id == model_id) {
      return UnsupportedMessage(fmt::format("camera model {} ({})", model.id, model.name));
    }
  }
  return UnsupportedMessage(fmt::format("camera model id {} (not a COLMAP 3.8 model)", model_id));
}

std::string UnsupportedCameraModelMessage(const std::string& model_name) {
  for (const UnsupportedModel& model : kUnsupportedModels) {
    if (model.name == model_name) {
      return UnsupportedMessage(fmt::format("camera model {} (id {})", model.name, model.id));
    }
  }
  return UnsupportedMessage(fmt::format("camera model '{}' (not a COLMAP 3.8 model)", model_name));
}

std::optional<geometry::Rigid3> PoseFromColmap(const std::array<double, 7>& qvec_tvec) {
  for (double v : qvec_tvec) {
    if (!std::isfinite(v)) return std::nullopt;
  }
  Eigen::Quaterniond rotation(qvec_tvec[0], qvec_tvec[1], qvec_tvec[2], qvec_tvec[3]);
  const double norm = rotation.norm();  // finite inputs can still overflow the sum of squares
  if (!(norm > 0.0) || !std::isfinite(norm)) return std::nullopt;
  if (std::abs(norm - 1.0) > 4.0 * std::numeric_limits<double>::epsilon()) rotation.normalize();
  return geometry::Rigid3(rotation, Eigen::Vector3d(qvec_tvec[4], qvec_tvec[5], qvec_tvec[6]));
}

std::array<double, 7> PoseToColmap(const geometry::Rigid3& cam_from_world) {
  const Eigen::Quaterniond& q = cam_from_world.rotation;
  const Eigen::Vector3d& t = cam_from_world.translation;
  return {q.w(), q.x(), q.y(), q.z(), t.x(), t.y(), t.z()};
}

void CheckWritable(const Scene& scene, bool text) {
  scene.Check();
  const std::string_view to = text ? "COLMAP text model" : "COLMAP binary model";
  for (const auto& [id, camera] : scene.cameras) {
    FACET_CHECK(id.IsValid(), "cannot write a {}: camera id {} is reserved for 'no camera'", to,
                id.value);
  }
  for (const auto& [id, image] : scene.images) {
    FACET_CHECK(id.IsValid(), "cannot write a {}: image id {} is reserved for 'no image'", to,
                id.value);
    if (!image.IsRegistered()) {
      for (std::size_t k = 0; k < image.points2d.size(); ++k) {
        FACET_CHECK(!image.points2d[k].point3d_id.IsValid(),
                    "cannot write a {}: image {} ('{}') is not registered but its keypoint {} "
                    "observes 3D point {}; COLMAP models hold registered images only, so "
                    "register the image or remove its observations",
                    to, id, image.name, k, image.points2d[k].point3d_id);
      }
      continue;  // skipped by the writers
    }
    FACET_CHECK(!image.name.empty(), "cannot write a {}: image {} has an empty name", to, id);
    FACET_CHECK(image.name.find('\0') == std::string::npos,
                "cannot write a {}: the name of image {} contains a NUL character", to, id);
    if (text) {
      constexpr std::string_view kSpace = " \t\r\n\v\f";
      FACET_CHECK(image.name.find_first_of("\r\n") == std::string::npos &&
                      kSpace.find(image.name.front()) == std::string_view::npos &&
                      kSpace.find(image.name.back()) == std::string_view::npos,
                  "cannot write a {}: the name of image {} ('{}') has a line break or leading or "
                  "trailing white space, which images.txt cannot hold (write a binary model)",
                  to, id, image.name);
    }
    FACET_CHECK(image.points2d.size() <= std::numeric_limits<std::uint32_t>::max(),
                "cannot write a {}: image {} has {} keypoints, more than COLMAP's 32-bit "
                "point2D_idx can address",
                to, id, image.points2d.size());
    const std::array<double, 7> pose = PoseToColmap(*image.cam_from_world);
    FACET_CHECK(AllFinite(Eigen::Map<const Eigen::VectorXd>(pose.data(), 7)) &&
                    image.cam_from_world->rotation.norm() > 0.0,
                "cannot write a {}: image {} ('{}') has a non-finite or zero-rotation pose", to, id,
                image.name);
    for (std::size_t k = 0; k < image.points2d.size(); ++k) {
      FACET_CHECK(image.points2d[k].xy.allFinite(),
                  "cannot write a {}: keypoint {} of image {} is not finite", to, k, id);
    }
  }
  for (const auto& [id, point] : scene.points3d) {
    FACET_CHECK(id.IsValid(), "cannot write a {}: 3D point id {} is reserved for 'no point'", to,
                id.value);
    FACET_CHECK(point.xyz.allFinite() && std::isfinite(point.error),
                "cannot write a {}: 3D point {} has a non-finite position or error", to, id);
    for (const TrackElement& element : point.track) {
      FACET_CHECK(scene.images.at(element.image_id).IsRegistered(),
                  "cannot write a {}: 3D point {} is observed by image {}, which is not "
                  "registered; COLMAP models hold registered images only",
                  to, id, element.image_id);
    }
  }
}

std::size_t NumObservations(const Scene& scene) {
  std::size_t count = 0;
  for (const auto& [id, image] : scene.images) {
    if (!image.IsRegistered()) continue;
    for (const Point2D& point : image.points2d) count += point.point3d_id.IsValid() ? 1 : 0;
  }
  return count;
}

void CheckReadScene(const Scene& scene, const fs::path& folder) {
  try {
    scene.Check();
  } catch (const Error& e) {
    FACET_THROW("the COLMAP model in '{}' is inconsistent: {} (re-export it with COLMAP)",
                folder.string(), e.what());
  }
}

void PrepareOutputFolder(const fs::path& folder) {
  std::error_code ec;
  FACET_CHECK(!folder.empty(), "cannot write a COLMAP model: the output folder name is empty");
  if (fs::is_directory(folder, ec)) return;
  FACET_CHECK(!fs::exists(folder, ec),
              "cannot write a COLMAP model into '{}': it exists and is not a folder",
              folder.string());
  fs::create_directories(folder, ec);
  FACET_CHECK(!ec, "cannot create the folder '{}' for a COLMAP model: {}", folder.string(),
              ec.message());
}

}  // namespace detail

std::optional<ColmapFormat> FindColmapModel(const fs::path& folder) {
  auto all_exist = [&](std::initializer_list<const char*> names) {
    std::error_code ec;
    for (const char* name : names) {
      if (!fs::is_regular_file(folder / name, ec)) return false;
    }
    return true;
  };
  if (all_exist({detail::kCamerasBin, detail::kImagesBin, detail::kPoints3DBin})) {
    return ColmapFormat::kBinary;
  }
  if (all_exist({detail::kCamerasTxt, detail::kImagesTxt, detail::kPoints3DTxt})) {
    return ColmapFormat::kText;
  }
  return std::nullopt;
}

Scene ReadColmapModel(const fs::path& folder) {
  std::error_code ec;
  FACET_CHECK(fs::is_directory(folder, ec), "cannot read a COLMAP model from '{}': no such folder",
              folder.string());
  if (const auto format = FindColmapModel(folder)) {
    return *format == ColmapFormat::kBinary ? ReadColmapModelBinary(folder)
                                            : ReadColmapModelText(folder);
  }
  // Name, per format, the files that are there and those that are missing.
  std::vector<std::string> problems;
  bool any = false;
  for (const auto& names :
       {std::array{detail::kCamerasBin, detail::kImagesBin, detail::kPoints3DBin},
        std::array{detail::kCamerasTxt, detail::kImagesTxt, detail::kPoints3DTxt}}) {
    std::vector<std::string> found, missing;
    for (const char* name : names) {
      (fs::is_regular_file(folder / name, ec) ? found : missing).emplace_back(name);
    }
    if (found.empty()) continue;
    any = true;
    problems.push_back(
        fmt::format("found {} but not {}", fmt::join(found, ", "), fmt::join(missing, ", ")));
  }
  if (!any) {
    std::string hint;
    for (const char* sub : {"sparse/0", "0", "sparse"}) {
      if (FindColmapModel(folder / sub)) {
        hint = fmt::format(" (did you mean '{}'?)", (folder / sub).string());
        break;
      }
    }
    FACET_THROW(
        "no COLMAP model in '{}': expected cameras, images and points3D as .bin or .txt files{}",
        folder.string(), hint);
  }
  FACET_THROW(
      "incomplete COLMAP model in '{}': {}; a model needs cameras, images and points3D in one "
      "format (.bin or .txt)",
      folder.string(), fmt::join(problems, "; "));
}

}  // namespace facet::datasets
