// `facet undistort`: undistorted photos and a PINHOLE model of them, for tools that accept only
// pinhole cameras (COLMAP's image_undistorter): OUT/images/<name> and OUT/sparse/*.bin.
#include "geometry/undistort.h"

#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apps/command.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "core/parallel_for.h"
#include "core/progress.h"
#include "core/timer.h"
#include "datasets/colmap_model.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;
using datasets::CameraId;
using datasets::Scene;
using geometry::Camera;

struct UndistortArgs {
  fs::path model;
  fs::path images;
  fs::path output;
  int max_image_size = 0;
  double blank_pixels = 0.0;
};

// The cameras of one model camera: as the photos were taken, undistorted at full resolution, and
// as written (downscaled so that the longer side is at most `max_image_size`, as COLMAP's
// Camera::Rescale: the size is rounded and the focal lengths and principal point follow the
// actual per-axis ratios, which keeps the pixel-corner convention exact).
struct CameraChain {
  Camera distorted{};
  Camera undistorted{};
  Camera output{};
};

Camera Downscaled(const Camera& pinhole, int max_image_size) {
  const int longest = std::max(pinhole.width, pinhole.height);
  if (max_image_size <= 0 || longest <= max_image_size) return pinhole;
  const double scale = double(max_image_size) / longest;
  Camera out = pinhole;
  out.width = std::max(1, static_cast<int>(std::lround(scale * pinhole.width)));
  out.height = std::max(1, static_cast<int>(std::lround(scale * pinhole.height)));
  const double sx = double(out.width) / pinhole.width, sy = double(out.height) / pinhole.height;
  out.params = {pinhole.params[0] * sx, pinhole.params[1] * sy, pinhole.params[2] * sx,
                pinhole.params[3] * sy};
  return out;
}

std::map<CameraId, CameraChain> MakeCameras(const Scene& scene, const UndistortArgs& args) {
  const geometry::UndistortOptions options{.rescale = true, .blank_pixels = args.blank_pixels};
  std::map<CameraId, CameraChain> chains;
  for (const auto& [id, camera] : scene.cameras) {
    CameraChain chain{.distorted = camera,
                      .undistorted = geometry::UndistortCamera(camera, options)};
    chain.output = Downscaled(chain.undistorted, args.max_image_size);
    chains.emplace(id, std::move(chain));
  }
  return chains;
}

void CheckImagesPresent(const Scene& scene, const fs::path& image_dir) {
  FACET_CHECK(fs::is_directory(image_dir),
              "image folder '{}' does not exist (give the folder the model's image names are "
              "relative to)",
              image_dir.string());
  std::vector<std::string> missing;
  for (const auto& [id, image] : scene.images) {
    if (!fs::is_regular_file(image_dir / image.name)) missing.push_back(image.name);
  }
  if (missing.empty()) return;
  std::string list;
  for (std::size_t i = 0; i < std::min<std::size_t>(missing.size(), 5); ++i) {
    list += (i ? ", '" : "'") + missing[i] + "'";
  }
  FACET_THROW(
      "{} of the model's {} images are missing from '{}': {}{} (give the folder the "
      "model's image names are relative to)",
      missing.size(), scene.images.size(), image_dir.string(), list,
      missing.size() > 5 ? ", ..." : "");
}

// Area-averaging downscale (cv::INTER_AREA), which maps pixel corners to pixel corners as the
// camera's rescale assumes.
Image<std::uint8_t> Resize(const Image<std::uint8_t>& image, int width, int height) {
  const int type = CV_8UC(image.channels());
  const cv::Mat src(image.height(), image.width(), type, const_cast<std::uint8_t*>(image.data()));
  Image<std::uint8_t> out(width, height, image.channels());
  cv::Mat dst(height, width, type, out.data());
  cv::resize(src, dst, cv::Size(width, height), 0.0, 0.0, cv::INTER_AREA);
  return out;
}

void UndistortOneImage(const fs::path& input, const fs::path& output, const CameraChain& chain) {
  fs::create_directories(output.parent_path());
  const bool unchanged = !chain.distorted.HasDistortion() &&
                         chain.output.width == chain.distorted.width &&
                         chain.output.height == chain.distorted.height;
  if (unchanged) {  // nothing to resample: keep the file's bytes (no JPEG re-encoding)
    WriteFileAtomically(output, ReadFile(input));
    return;
  }
  const Image<std::uint8_t> photo = ReadImage<std::uint8_t>(input);
  FACET_CHECK(photo.width() == chain.distorted.width && photo.height() == chain.distorted.height,
              "'{}' is {}x{} but its camera in the model is {}x{} (is this the folder the model "
              "was made from?)",
              input.string(), photo.width(), photo.height(), chain.distorted.width,
              chain.distorted.height);
  Image<std::uint8_t> undistorted =
      geometry::UndistortImage(photo.view(), chain.distorted, chain.undistorted);
  if (chain.output.width != chain.undistorted.width ||
      chain.output.height != chain.undistorted.height) {
    undistorted = Resize(undistorted, chain.output.width, chain.output.height);
  }
  WriteImage(output, undistorted);
}

// The model in the output cameras: keypoints moved along their rays; a keypoint whose distortion
// cannot be inverted is dropped (tracks are renumbered; 3D points left unobserved are removed).
Scene UndistortModel(const Scene& scene, const std::map<CameraId, CameraChain>& chains) {
  Scene out;
  for (const auto& [id, chain] : chains) out.cameras[id] = chain.output;
  std::map<datasets::ImageId, std::vector<std::int64_t>> new_index;  // old keypoint -> new or -1
  std::size_t num_dropped = 0;
  for (const auto& [id, image] : scene.images) {
    const CameraChain& chain = chains.at(image.camera_id);
    std::vector<Eigen::Vector2d> xy;
    for (const auto& p : image.points2d) xy.push_back(p.xy);
    const auto moved = geometry::UndistortPoints(xy, chain.distorted, chain.output);
    datasets::Image copy = image;
    copy.points2d.clear();
    std::vector<std::int64_t>& index = new_index[id];
    for (std::size_t i = 0; i < moved.size(); ++i) {
      if (!moved[i]) {
        index.push_back(-1);
        ++num_dropped;
        continue;
      }
      index.push_back(static_cast<std::int64_t>(copy.points2d.size()));
      copy.points2d.push_back({*moved[i], image.points2d[i].point3d_id});
    }
    out.images.emplace(id, std::move(copy));
  }
  for (const auto& [id, point] : scene.points3d) {
    datasets::Point3D copy = point;
    copy.track.clear();
    for (const auto& element : point.track) {
      const std::int64_t i = new_index.at(element.image_id)[element.point2d_idx];
      if (i >= 0) copy.track.push_back({element.image_id, static_cast<std::uint32_t>(i)});
    }
    if (!copy.track.empty()) out.points3d.emplace(id, std::move(copy));
  }
  if (num_dropped > 0) {
    spdlog::warn("undistort: dropped {} keypoints whose distortion could not be inverted",
                 num_dropped);
  }
  return out;
}

void RunUndistort(const UndistortArgs& args) {
  const Timer timer;
  const Scene scene = datasets::ReadColmapModel(args.model);
  CheckImagesPresent(scene, args.images);
  const std::map<CameraId, CameraChain> chains = MakeCameras(scene, args);

  std::vector<const datasets::Image*> images;
  for (const auto& [id, image] : scene.images) images.push_back(&image);
  const fs::path image_out = args.output / "images";
  fs::create_directories(image_out);
  ProgressBar bar(static_cast<std::int64_t>(images.size()),
                  {.label = "undistort", .unit = "images"});
  ParallelFor(static_cast<std::int64_t>(images.size()), [&](std::int64_t i) {
    const datasets::Image& image = *images[std::size_t(i)];
    UndistortOneImage(args.images / image.name, image_out / image.name, chains.at(image.camera_id));
    bar.Add();
  });
  bar.Finish();
  // The model last, so that a model in OUT/sparse means its images are all there.
  datasets::WriteColmapModelBinary(args.output / "sparse", UndistortModel(scene, chains));
  spdlog::info("undistort: {} images, {} cameras into {} in {:.1f} s", images.size(), chains.size(),
               args.output.string(), timer.ElapsedSeconds());
}

}  // namespace

Subcommand RegisterUndistort(CLI::App& app) {
  auto args = std::make_shared<UndistortArgs>();
  CLI::App* sub = app.add_subcommand("undistort",
                                     "Undistort the photos of a COLMAP model into PINHOLE cameras");
  sub->add_option("model", args->model, "COLMAP sparse model folder (.bin or .txt)")->required();
  sub->add_option("images", args->images, "Folder the model's image names are relative to")
      ->required();
  sub->add_option("-o,--output", args->output, "Output folder: images/ and sparse/ are written")
      ->required();
  sub->add_option("--max-image-size", args->max_image_size,
                  "Downscale so that the longer side is at most this many pixels (0: keep)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--blank-pixels", args->blank_pixels,
                  "0: crop to pixels that see the photo; 1: keep every photo pixel (blank "
                  "borders); in between: interpolate (COLMAP's blank_pixels)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->footer(
      "Writes OUT/images/<name> (same names and formats; photos without distortion are copied "
      "when not downscaled) and OUT/sparse/{cameras,images,points3D}.bin with PINHOLE cameras, "
      "the keypoints moved with the images, and the same poses and 3D points.\nExample: facet "
      "undistort out/sparse/0 photos/ -o undistorted/ --max-image-size 1600");
  return {sub, [args](const GlobalOptions&) { RunUndistort(*args); }};
}

}  // namespace facet::apps
