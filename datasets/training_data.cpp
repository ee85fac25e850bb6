#include "datasets/training_data.h"

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "core/parallel_for.h"
#include "datasets/colmap_model.h"
#include "datasets/transforms_json.h"
#include "geometry/undistort.h"

namespace facet::datasets {
namespace {

namespace fs = std::filesystem;
using geometry::Camera;
using geometry::CameraModelId;

// Where the cameras and the photos of an input are.
struct Source {
  bool transforms = false;
  fs::path model{};                    // COLMAP model folder (workspaces and COLMAP inputs)
  fs::path json{};                     // transforms.json
  std::vector<fs::path> image_dirs{};  // photo folder candidates, in order of preference
};

// True when `folder` holds any file of a COLMAP model, so that ReadColmapModel's message names
// what is missing or malformed rather than "no model found".
bool HasColmapFiles(const fs::path& folder) {
  for (const char* stem : {"cameras", "images", "points3D"}) {
    for (const char* ext : {".bin", ".txt"}) {
      if (fs::is_regular_file(folder / (std::string(stem) + ext))) return true;
    }
  }
  return false;
}

// The photo folder a facet workspace recorded (apps/sfm.cpp), if any.
std::optional<fs::path> WorkspaceImageDir(const fs::path& summary_path) {
  const std::vector<std::uint8_t> bytes = ReadFile(summary_path);
  const auto summary = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  FACET_CHECK(!summary.is_discarded() && summary.is_object(),
              "'{}' is not a valid sfm_summary.json (rerun `facet sfm`)", summary_path.string());
  const auto it = summary.find("image_dir");
  if (it == summary.end() || !it->is_string()) return std::nullopt;
  return fs::path(it->get<std::string>());
}

// COLMAP and Inria layouts: scene/images beside scene/sparse/0 (or scene/sparse), or the photos
// inside the model folder. A model inside a facet workspace (OUT/sparse/0) prefers the folder the
// workspace recorded.
std::vector<fs::path> ColmapImageDirs(const fs::path& model) {
  std::vector<fs::path> dirs;
  const fs::path summary = (model / ".." / ".." / "sfm_summary.json").lexically_normal();
  if (fs::is_regular_file(summary)) {
    if (auto recorded = WorkspaceImageDir(summary)) dirs.push_back(*recorded);
  }
  for (const fs::path relative : {"../../images", "../images", "images"}) {
    dirs.push_back((model / relative).lexically_normal());
  }
  return dirs;
}

Source ResolveInput(const fs::path& input) {
  FACET_CHECK(fs::exists(input),
              "'{}' does not exist (give a facet workspace, a COLMAP model "
              "folder or a transforms.json)",
              input.string());
  Source source;
  if (fs::is_regular_file(input)) {
    FACET_CHECK(input.extension() == ".json",
                "'{}' is a file but not a transforms.json (give a facet workspace, a COLMAP model "
                "folder or a transforms.json)",
                input.string());
    source.transforms = true;
    source.json = input;
    return source;
  }
  const fs::path summary = input / "sfm_summary.json";
  if (fs::is_regular_file(summary)) {
    source.model = input / "sparse" / "0";
    FACET_CHECK(HasColmapFiles(source.model),
                "'{}' holds sfm_summary.json but no model in sparse/0 (did `facet sfm` finish?)",
                input.string());
    source.image_dirs = ColmapImageDirs(source.model);  // the recorded folder first
    return source;
  }
  for (const fs::path& model : {input, input / "sparse" / "0"}) {
    if (HasColmapFiles(model)) {
      source.model = model;
      source.image_dirs = ColmapImageDirs(model);
      return source;
    }
  }
  if (fs::is_regular_file(input / "transforms.json")) {
    source.transforms = true;
    source.json = input / "transforms.json";
    return source;
  }
  FACET_THROW(
      "'{}' is not a training input: it holds no sfm_summary.json (facet workspace), no COLMAP "
      "model (cameras, images, points3D .bin or .txt) in itself or in sparse/0, and no "
      "transforms.json",
      input.string());
}

// The photo folder: the explicit one, else the first candidate holding the first image.
fs::path FindImageDir(const Source& source, const TrainingDataOptions& options,
                      const std::string& first_name) {
  if (!options.image_dir.empty()) {
    FACET_CHECK(fs::is_directory(options.image_dir), "image folder '{}' does not exist",
                options.image_dir.string());
    return options.image_dir;
  }
  std::string tried;
  for (const fs::path& dir : source.image_dirs) {
    if (fs::is_regular_file(dir / first_name)) return dir;
    tried += fmt::format("{}'{}'{}", tried.empty() ? "" : ", ", dir.string(),
                         fs::is_directory(dir) ? " (lacks it)" : "");
  }
  FACET_THROW(
      "cannot find the photos of the model in '{}': no folder holds its first image '{}'; tried "
      "{} (give the photo folder explicitly)",
      source.model.string(), first_name, tried);
}

// One camera of the model as the trainer gets it.
struct CameraPlan {
  Camera source{};        // as in the model: the photos' size
  Camera undistorted{};   // PINHOLE
  Camera output{};        // PINHOLE at the training size
  bool resample = false;  // the photo needs undistorting
};

CameraPlan MakePlan(const Camera& camera, const TrainingDataOptions& options) {
  CameraPlan plan;
  plan.source = camera;
  plan.resample = camera.HasDistortion();
  // COLMAP's image_undistorter (rescale, blank_pixels 0): the largest pinhole view with no blank
  // border, which would otherwise be learned as black floaters. Undistorted cameras come back as
  // PINHOLE of the same size and intrinsics.
  plan.undistorted = geometry::UndistortCamera(camera, {.rescale = true});
  const Eigen::Vector2i size =
      TrainingImageSize(plan.undistorted.width, plan.undistorted.height, options);
  plan.output = ScaleCamera(plan.undistorted, size.x(), size.y());
  return plan;
}

// Area-averaging resize (cv::INTER_AREA), which maps pixel corners to pixel corners as
// ScaleCamera assumes.
ImageU8 Resize(const ImageU8& image, int width, int height) {
  const int type = CV_8UC(image.channels());
  const cv::Mat src(image.height(), image.width(), type, const_cast<std::uint8_t*>(image.data()));
  ImageU8 out(width, height, image.channels());
  cv::Mat dst(height, width, type, out.data());
  cv::resize(src, dst, cv::Size(width, height), 0.0, 0.0, cv::INTER_AREA);
  return out;
}

ImageU8 LoadPhoto(const fs::path& path, const CameraPlan& plan, const std::string& name,
                  const Eigen::Vector3f* composite_over, bool rgba) {
  ImageU8 photo = rgba                        ? ReadImage<std::uint8_t>(path, {.channels = 4})
                  : composite_over != nullptr ? LoadRgbaOverBackground(path, *composite_over)
                                              : ReadImage<std::uint8_t>(path, {.channels = 3});
  if (composite_over == nullptr && !rgba && photo.width() == plan.source.height &&
      photo.height() == plan.source.width && photo.width() != photo.height()) {
    // COLMAP 3.8 reads pixels as stored, ignoring the EXIF orientation that facet applies: a
    // model COLMAP made from rotated phone photos has the stored size.
    ImageU8 stored =
        ReadImage<std::uint8_t>(path, {.channels = 3, .apply_exif_orientation = false});
    if (stored.width() == plan.source.width && stored.height() == plan.source.height) {
      photo = std::move(stored);
    }
  }
  FACET_CHECK(photo.width() == plan.source.width && photo.height() == plan.source.height,
              "image '{}' ('{}') is {}x{}, but its camera is {}x{} (are these the photos the "
              "cameras were made from?)",
              name, path.string(), photo.width(), photo.height(), plan.source.width,
              plan.source.height);
  if (plan.resample)
    photo = geometry::UndistortImage<std::uint8_t>(photo.view(), plan.source, plan.undistorted);
  if (photo.width() != plan.output.width || photo.height() != plan.output.height) {
    photo = Resize(photo, plan.output.width, plan.output.height);
  }
  return photo;
}

void CheckPhotosExist(const std::vector<std::pair<std::string, fs::path>>& photos,
                      const fs::path& folder) {
  std::vector<std::string> missing;
  for (const auto& [name, path] : photos) {
    if (!fs::is_regular_file(path)) missing.push_back(name);
  }
  if (missing.empty()) return;
  std::string list;
  for (std::size_t i = 0; i < std::min<std::size_t>(missing.size(), 5); ++i) {
    list += fmt::format("{}'{}'", i ? ", " : "", missing[i]);
  }
  FACET_THROW("{} of {} images are missing from '{}': {}{}", missing.size(), photos.size(),
              folder.string(), list, missing.size() > 5 ? ", ..." : "");
}

}  // namespace

void TrainingDataOptions::Check() const {
  FACET_CHECK(downscale >= 1, "downscale must be an integer >= 1 (got {})", downscale);
  FACET_CHECK(max_size >= 0, "max_size must be >= 0 pixels, 0 for no cap (got {})", max_size);
  FACET_CHECK(holdout_every >= 0, "holdout_every must be >= 0, 0 for no hold-out (got {})",
              holdout_every);
  FACET_CHECK(
      background.allFinite() && background.minCoeff() >= 0.0f && background.maxCoeff() <= 1.0f,
      "background must be an sRGB colour in [0, 1] (got {} {} {})", background.x(), background.y(),
      background.z());
}

Camera ScaleCamera(const Camera& camera, int width, int height) {
  FACET_CHECK(
      camera.model == CameraModelId::kPinhole || camera.model == CameraModelId::kSimplePinhole,
      "ScaleCamera takes SIMPLE_PINHOLE or PINHOLE cameras (got {}; undistort first)",
      camera.ModelName());
  camera.Check();
  FACET_CHECK(width > 0 && height > 0, "cannot scale a camera to {}x{} pixels", width, height);
  const double sx = static_cast<double>(width) / camera.width;
  const double sy = static_cast<double>(height) / camera.height;
  const Eigen::Vector2d principal = camera.PrincipalPoint();
  Camera out;
  out.model = CameraModelId::kPinhole;
  out.width = width;
  out.height = height;
  out.params = {camera.FocalX() * sx, camera.FocalY() * sy, principal.x() * sx, principal.y() * sy};
  return out;
}

Eigen::Vector2i TrainingImageSize(int width, int height, const TrainingDataOptions& options) {
  options.Check();
  FACET_CHECK(width > 0 && height > 0, "image size {}x{} is not positive", width, height);
  const auto round = [](double v) { return std::max(1, static_cast<int>(std::lround(v))); };
  Eigen::Vector2i size(round(double(width) / options.downscale),
                       round(double(height) / options.downscale));
  if (options.max_size > 0 && size.maxCoeff() > options.max_size) {
    // Relative to the original size, so that the longer side comes out exactly max_size.
    const double s = double(options.max_size) / std::max(width, height);
    size = Eigen::Vector2i(round(width * s), round(height * s));
  }
  return size;
}

TrainingData LoadTrainingData(const fs::path& input, const TrainingDataOptions& options) {
  options.Check();
  const Source source = ResolveInput(input);
  TrainingData data;
  // Paths of the photos by image id.
  std::map<ImageId, fs::path> paths;
  fs::path folder;
  if (source.transforms) {
    TransformsDataset dataset = ReadTransformsJson(source.json, {.background = options.background});
    for (const TransformsFrame& frame : dataset.frames) {
      paths[frame.image_id] = frame.image_path;
    }
    data.scene = std::move(dataset.scene);
    data.background = options.background;
    folder = source.json.parent_path();
  } else {
    data.scene = ReadColmapModel(source.model);
    data.background = Eigen::Vector3f::Zero();
  }
  data.has_points = !data.scene.points3d.empty();

  // Registered images, sorted by name: the hold-out rule counts in this order.
  std::vector<const Image*> images;
  for (const auto& [id, image] : data.scene.images) {
    if (image.IsRegistered()) images.push_back(&image);
  }
  FACET_CHECK(!images.empty(), "'{}' has no registered images to train on", input.string());
  std::sort(images.begin(), images.end(),
            [](const Image* a, const Image* b) { return a->name < b->name; });
  if (options.load_images) {
    if (!source.transforms) {
      folder = FindImageDir(source, options, images.front()->name);
      for (const Image* image : images) paths[image->id] = folder / image->name;
    }
    std::vector<std::pair<std::string, fs::path>> photos;
    for (const Image* image : images) photos.emplace_back(image->name, paths.at(image->id));
    CheckPhotosExist(photos, folder);
  }

  std::map<CameraId, CameraPlan> plans;
  std::set<std::string> distorted_models;
  std::size_t num_distorted = 0;
  for (const Image* image : images) {
    auto it = plans.find(image->camera_id);
    if (it == plans.end()) {
      it =
          plans
              .emplace(image->camera_id, MakePlan(data.scene.cameras.at(image->camera_id), options))
              .first;
    }
    if (it->second.resample) {
      ++num_distorted;
      distorted_models.insert(std::string(it->second.source.ModelName()));
    }
  }
  if (num_distorted > 0 && options.load_images) {
    std::string models;
    for (const std::string& m : distorted_models) models += (models.empty() ? "" : ", ") + m;
    spdlog::info(
        "training data: undistorting {} of {} images ({} cameras) into PINHOLE cameras, as "
        "COLMAP's image_undistorter",
        num_distorted, images.size(), models);
  }

  std::vector<TrainingView> views(images.size());
  const Eigen::Vector3f* composite_over = source.transforms ? &options.background : nullptr;
  const bool keep_alpha = source.transforms && options.keep_alpha;
  ParallelFor(static_cast<std::int64_t>(images.size()), [&](std::int64_t i) {
    const Image& image = *images[i];
    const CameraPlan& plan = plans.at(image.camera_id);
    TrainingView& view = views[i];
    view.name = image.name;
    view.camera = plan.output;
    view.cam_from_world = *image.cam_from_world;
    if (options.load_images) {
      view.image = LoadPhoto(paths.at(image.id), plan, image.name, composite_over, keep_alpha);
    }
    view.held_out = options.holdout_every > 0 && i % options.holdout_every == 0;
  });

  for (TrainingView& view : views) {
    data.image_bytes += view.image.size() * sizeof(std::uint8_t);
    if (keep_alpha && !data.has_alpha) {
      const std::size_t pixels = std::size_t(view.image.width()) * view.image.height();
      for (std::size_t p = 0; p < pixels && !data.has_alpha; ++p) {
        data.has_alpha = view.image.data()[4 * p + 3] != 255;
      }
    }
    (view.held_out ? data.test : data.train).push_back(std::move(view));
  }
  FACET_CHECK(!data.train.empty(),
              "'{}': all {} images are held out for evaluation (holdout_every = {}); use more "
              "images or holdout_every = 0",
              input.string(), images.size(), options.holdout_every);

  // Inria's getNerfppNorm over the training cameras.
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  for (const TrainingView& view : data.train) mean += geometry::CameraCenter(view.cam_from_world);
  mean /= static_cast<double>(data.train.size());
  double max_distance = 0.0;
  for (const TrainingView& view : data.train) {
    max_distance =
        std::max(max_distance, (geometry::CameraCenter(view.cam_from_world) - mean).norm());
  }
  data.camera_center = mean.cast<float>();
  data.scene_extent = max_distance > 0.0 ? static_cast<float>(1.1 * max_distance) : 1.0f;

  if (options.load_images) {
    spdlog::info(
        "training data: {} training and {} held-out views from '{}' ({:.1f} MiB of pixels)",
        data.train.size(), data.test.size(), input.string(), data.image_bytes / (1024.0 * 1024.0));
  } else {
    spdlog::info("training data: the cameras of {} views from '{}' (no photos read)",
                 data.train.size() + data.test.size(), input.string());
  }
  return data;
}

}  // namespace facet::datasets
