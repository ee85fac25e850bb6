#include "sfm/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <tuple>

#include "core/error.h"
#include "core/parallel_for.h"
#include "core/progress.h"
#include "core/timer.h"
#include "sfm/correspondence_graph.h"
#include "sfm/detail/mapping_checkpoint_io.h"
#include "sfm/detail/verified_pairs_io.h"

namespace facet::sfm {

namespace fs = std::filesystem;
using datasets::CameraId;
using datasets::ImageId;

void SfmOptions::Check() const {
  sift.Check();
  pairs.Check();
  matching.Check();
  two_view.Check();
  mapper.Check();
  FACET_CHECK(default_focal_factor > 0 && std::isfinite(default_focal_factor),
              "SfmOptions.default_focal_factor must be > 0 (got {})", default_focal_factor);
  FACET_CHECK(checkpoint_interval_s >= 0, "SfmOptions.checkpoint_interval_s must be >= 0 (got {})",
              checkpoint_interval_s);
}

ModelSummary Summarize(const datasets::Scene& scene) {
  ModelSummary s;
  s.num_registered = scene.NumRegisteredImages();
  s.num_points = scene.points3d.size();
  std::size_t track_elements = 0;
  double error_sum = 0.0;
  for (const auto& [id, point] : scene.points3d) {
    track_elements += point.track.size();
    for (const auto& e : point.track) {
      const datasets::Image& image = scene.images.at(e.image_id);
      if (!image.IsRegistered()) continue;
      const auto px =
          scene.cameras.at(image.camera_id).ImgFromCam(*image.cam_from_world * point.xyz);
      if (!px) {
        ++s.num_behind;
        continue;
      }
      error_sum += (*px - image.points2d.at(e.point2d_idx).xy).norm();
      ++s.num_observations;
    }
  }
  const auto ratio = [](double a, std::size_t b) { return b > 0 ? a / double(b) : 0.0; };
  s.mean_track_length = ratio(double(track_elements), s.num_points);
  s.mean_observations_per_image = ratio(double(s.num_observations), s.num_registered);
  s.mean_reprojection_error_px = ratio(error_sum, s.num_observations);
  return s;
}

namespace {

// Cameras: one per distinct (size, focal prior, make, model), or one shared by all images.
std::vector<CameraId> AssignCameras(const datasets::ImageFolder& folder,
                                    const std::vector<char>& usable, const SfmOptions& options,
                                    datasets::Scene& scene) {
  std::map<std::tuple<int, int, double, std::string, std::string>, CameraId> by_key;
  std::vector<CameraId> camera_of(folder.entries.size());
  for (std::size_t i = 0; i < folder.entries.size(); ++i) {
    if (!usable[i]) continue;
    const auto& e = folder.entries[i];
    const double focal =
        e.FocalFromExif() ? e.focal_px : options.default_focal_factor * std::max(e.width, e.height);
    auto key = options.single_camera
                   ? std::tuple<int, int, double, std::string, std::string>{}
                   : std::tuple(e.width, e.height, focal, e.camera_make, e.camera_model);
    auto [it, inserted] =
        by_key.try_emplace(key, CameraId(static_cast<std::uint32_t>(by_key.size() + 1)));
    if (inserted) {
      scene.cameras[it->second] =
          geometry::Camera::Create(options.camera_model, focal, e.width, e.height);
    } else if (options.single_camera) {
      const auto& camera = scene.cameras.at(it->second);
      FACET_CHECK(camera.width == e.width && camera.height == e.height,
                  "--single-camera: {} is {}x{} but the first image is {}x{}; photos of different "
                  "sizes need separate cameras",
                  e.name, e.width, e.height, camera.width, camera.height);
    }
    camera_of[i] = it->second;
  }
  return camera_of;
}

std::string CacheKey(const datasets::ImageFolder& folder, const std::vector<char>& usable,
                     const SfmOptions& options) {
  std::string key = fmt::format(
      "sift {} | pairs {} {} {} {} {} {} {} | match {} {} {} | twoview {} {} {} {} {} {} {} {} {} "
      "{} {} | cameras {} {} {} |",
      options.sift.Fingerprint(), static_cast<int>(options.pairs.mode),
      options.pairs.exhaustive_max_images, options.pairs.overlap, options.pairs.num_neighbors,
      options.pairs.loop_detection, options.pairs.loop_num_neighbors, options.pairs.seed,
      options.matching.max_ratio, options.matching.max_distance, options.matching.cross_check,
      options.two_view.min_num_inliers, options.two_view.max_error_px, options.two_view.confidence,
      options.two_view.max_iterations, options.two_view.min_e_f_inlier_ratio,
      options.two_view.max_h_inlier_ratio, options.two_view.max_panoramic_angle_deg,
      options.two_view.detect_watermark, options.two_view.watermark_min_inlier_ratio,
      options.two_view.watermark_border, options.two_view.seed,
      static_cast<int>(options.camera_model), options.single_camera, options.default_focal_factor);
  for (std::size_t i = 0; i < folder.entries.size(); ++i) {
    const auto& e = folder.entries[i];
    std::error_code ec;
    const auto size = fs::file_size(e.path, ec);
    const auto time = fs::last_write_time(e.path, ec).time_since_epoch().count();
    key += fmt::format("{}:{}:{}:{};", e.name, usable[i] ? size : 0, time, usable[i]);
  }
  return key;
}

// Everything in the mapper's options that changes its result (the checkpoint's key).
std::string MapperFingerprint(const MapperOptions& o) {
  return fmt::format(
      " | mapper {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}",
      o.init_min_num_inliers, o.init_min_tri_angle_deg, o.init_min_num_points,
      o.abs_pose.max_error_px, o.abs_pose.min_num_inliers, o.abs_pose.min_inlier_ratio,
      o.relax_registration, o.relaxed_min_num_inliers, o.max_reg_trials, o.tri_min_angle_deg,
      o.tri_max_error_px, o.filter_max_error_px, o.filter_min_tri_angle_deg, o.local_ba_num_images,
      o.local_ba_refine_intrinsics, o.global_ba_images_ratio, o.global_ba_points_ratio,
      o.min_images_for_intrinsics, o.refine_focal_length, o.refine_extra_params,
      o.refine_principal_point, o.auto_principal_point, static_cast<int>(o.ba.loss),
      o.ba.loss_scale_px, o.min_model_size, o.multiple_models);
}

}  // namespace

void ColorPoints(const datasets::ImageFolder& folder, int max_image_size, datasets::Scene& scene) {
  std::map<std::string, std::size_t> entry_of;
  for (std::size_t i = 0; i < folder.entries.size(); ++i) entry_of[folder.entries[i].name] = i;
  std::vector<const datasets::Image*> images;
  for (const auto& [id, image] : scene.images) {
    if (image.IsRegistered() && entry_of.contains(image.name)) images.push_back(&image);
  }
  // Per image, the colour of each triangulated keypoint; summed per point afterwards.
  std::vector<std::vector<std::pair<datasets::Point3DId, Eigen::Vector3d>>> samples(images.size());
  ParallelFor(static_cast<std::int64_t>(images.size()), [&](std::int64_t k) {
    const datasets::Image& image = *images[k];
    const auto loaded = datasets::LoadImageForReconstruction(
        folder.entries[entry_of.at(image.name)], max_image_size);
    const ImageU8& rgb = loaded.image;
    for (const auto& p : image.points2d) {
      if (!p.point3d_id.IsValid()) continue;
      const int x = std::clamp(static_cast<int>(p.xy.x() * loaded.scale), 0, rgb.width() - 1);
      const int y = std::clamp(static_cast<int>(p.xy.y() * loaded.scale), 0, rgb.height() - 1);
      const std::uint8_t* px = &rgb(x, y, 0);
      samples[k].emplace_back(p.point3d_id, Eigen::Vector3d(px[0], px[1], px[2]));
    }
  });
  std::map<datasets::Point3DId, std::pair<Eigen::Vector3d, int>> sums;
  for (const auto& list : samples) {
    for (const auto& [id, c] : list) {
      auto& s = sums.try_emplace(id, Eigen::Vector3d::Zero(), 0).first->second;
      s.first += c;
      ++s.second;
    }
  }
  for (auto& [id, point] : scene.points3d) {
    const auto it = sums.find(id);
    if (it == sums.end()) continue;
    const Eigen::Vector3d mean = it->second.first / it->second.second;
    for (int c = 0; c < 3; ++c) point.color(c) = static_cast<std::uint8_t>(std::lround(mean(c)));
  }
}

SfmResult RunSfm(const fs::path& image_dir, const fs::path& database_dir,
                 const SfmOptions& options) {
  options.Check();
  datasets::ImageFolderOptions folder_options;
  folder_options.skip_unreadable = true;
  folder_options.default_focal_factor = options.default_focal_factor;
  const datasets::ImageFolder folder = datasets::ScanImageFolder(image_dir, folder_options);
  SfmResult result;
  for (const auto& e : folder.entries) result.image_names.push_back(e.name);
  result.skipped = folder.skipped;
  for (const auto& s : folder.skipped) spdlog::warn("sfm: skipping {}", s);
  if (!database_dir.empty()) fs::create_directories(database_dir / "features");

  // 1. Features.
  Timer timer;
  FolderFeatures features = ExtractFolderFeatures(
      folder, options.sift, database_dir.empty() ? fs::path() : database_dir / "features");
  std::vector<char> usable(folder.entries.size(), 1);
  for (const auto& [index, reason] : features.failed) {
    usable[index] = 0;
    result.skipped.push_back(fmt::format("{}: {}", folder.entries[index].name, reason));
  }
  std::sort(result.skipped.begin(), result.skipped.end());  // name order, as image_names
  FACET_CHECK(std::count(usable.begin(), usable.end(), 1) > 0,
              "sfm: none of the {} images in {} could be read", folder.entries.size(),
              image_dir.string());
  result.timings.features_s = timer.ElapsedSeconds();

  // The scene skeleton: cameras, and every readable image with its keypoints. The mapper sees
  // only readable images, in compact indices.
  datasets::Scene skeleton;
  const std::vector<CameraId> camera_of = AssignCameras(folder, usable, options, skeleton);
  std::vector<ImageId> image_ids;
  std::vector<std::uint32_t> num_points2d;
  std::vector<std::uint32_t> compact_of(folder.entries.size(), ~0u);
  for (std::size_t i = 0; i < folder.entries.size(); ++i) {
    if (!usable[i]) continue;
    const ImageId id(static_cast<std::uint32_t>(i + 1));
    compact_of[i] = static_cast<std::uint32_t>(image_ids.size());
    image_ids.push_back(id);
    num_points2d.push_back(static_cast<std::uint32_t>(features.features[i].keypoints.size()));
    datasets::Image& image = skeleton.images[id];
    image.id = id;
    image.name = folder.entries[i].name;
    image.camera_id = camera_of[i];
    image.points2d.reserve(features.features[i].keypoints.size());
    for (const Keypoint& k : features.features[i].keypoints) {
      image.points2d.push_back({Eigen::Vector2d(k.x, k.y), {}});
    }
  }

  // 2. Matching and verification (cached as a whole).
  timer.Restart();
  const std::string key = CacheKey(folder, usable, options);
  const fs::path cache = database_dir.empty() ? fs::path() : database_dir / "verified_pairs.bin";
  std::optional<detail::CachedPairs> cached;
  if (!cache.empty()) cached = detail::ReadVerifiedPairs(cache, key, folder.entries.size());
  if (cached) {
    spdlog::info("sfm: {} verified pairs from the cache {}", cached->pairs.size(), cache.string());
  } else {
    cached.emplace();
    const std::vector<ImagePair> pairs = SelectImagePairs(features.features, options.pairs);
    const std::vector<PairMatches> matches =
        MatchImagePairs(features.features, pairs, options.matching);
    cached->num_pairs_matched = pairs.size();
    std::vector<ImagePairGeometry> verified(matches.size());
    std::vector<std::vector<Eigen::Vector2d>> points(folder.entries.size());
    for (std::size_t i = 0; i < folder.entries.size(); ++i) {
      for (const Keypoint& k : features.features[i].keypoints) points[i].emplace_back(k.x, k.y);
    }
    ProgressBar bar(static_cast<std::int64_t>(matches.size()),
                    ProgressOptions{.label = "verifying", .unit = "pairs"});
    ParallelFor(static_cast<std::int64_t>(matches.size()), [&](std::int64_t k) {
      const auto [i, j] = matches[k].pair;
      verified[k].image1 = i;
      verified[k].image2 = j;
      TwoViewGeometryOptions two_view = options.two_view;
      two_view.seed = options.two_view.seed + static_cast<std::uint64_t>(k);
      verified[k].geometry = EstimateTwoViewGeometry(skeleton.cameras.at(camera_of[i]), points[i],
                                                     skeleton.cameras.at(camera_of[j]), points[j],
                                                     matches[k].matches, two_view);
      bar.Add();
    });
    bar.Finish();
    std::erase_if(verified, [](const ImagePairGeometry& p) { return !p.geometry.IsVerified(); });
    cached->pairs = std::move(verified);
    if (!cache.empty())
      detail::WriteVerifiedPairs(cache, key, cached->pairs, cached->num_pairs_matched);
  }
  // Descriptors are not needed past matching (about 1 MB per photo): free them before mapping.
  features.features.clear();
  features.features.shrink_to_fit();
  result.num_pairs = cached->num_pairs_matched;
  result.num_verified_pairs = cached->pairs.size();
  result.timings.matching_s = timer.ElapsedSeconds();
  spdlog::info("sfm: {} of {} image pairs verified", result.num_verified_pairs, result.num_pairs);

  // 3. Mapping.
  timer.Restart();
  std::vector<ImagePairGeometry> graph_pairs = std::move(cached->pairs);
  for (ImagePairGeometry& p : graph_pairs) {
    FACET_CHECK(usable[p.image1] && usable[p.image2],
                "sfm: a verified pair names an unreadable image; delete {} (it is recomputed)",
                cache.string());
    p.image1 = compact_of[p.image1];
    p.image2 = compact_of[p.image2];
  }
  const CorrespondenceGraph graph(num_points2d, std::move(graph_pairs));
  {
    // The mapper checkpoints its models every checkpoint_interval_s into database/mapping/; a
    // rerun on the same photos and options continues from there.
    const fs::path checkpoint_dir = database_dir.empty() ? fs::path() : database_dir / "mapping";
    const std::string mapping_key = key + MapperFingerprint(options.mapper);
    std::optional<MapperCheckpoint> checkpoint;
    if (!checkpoint_dir.empty()) {
      checkpoint = detail::ReadMappingCheckpoint(checkpoint_dir, mapping_key);
    }
    ProgressBar bar(static_cast<std::int64_t>(image_ids.size()),
                    ProgressOptions{.label = "mapping", .unit = "images"});
    std::size_t shown = 0;
    Timer since_checkpoint;
    MapperCallbacks callbacks;
    callbacks.on_registered = [&](std::size_t n) {
      if (n > shown) bar.Add(static_cast<std::int64_t>(n - shown));
      shown = n;
    };
    if (!checkpoint_dir.empty()) {
      callbacks.on_checkpoint = [&](const std::vector<datasets::Scene>& finished,
                                    const datasets::Scene* partial, ImageId init1, ImageId init2) {
        if (since_checkpoint.ElapsedSeconds() < options.checkpoint_interval_s) return;
        detail::WriteMappingCheckpoint(checkpoint_dir, mapping_key, finished, partial, init1,
                                       init2);
        since_checkpoint.Restart();
      };
    }
    result.models = RunIncrementalMapper(skeleton, image_ids, graph, options.mapper, callbacks,
                                         checkpoint ? &*checkpoint : nullptr);
    bar.Finish();
    // The models are the caller's now; the checkpoint has served.
    if (!checkpoint_dir.empty()) fs::remove_all(checkpoint_dir);
  }
  for (auto& model : result.models) ColorPoints(folder, 1600, model);
  result.timings.mapping_s = timer.ElapsedSeconds();
  for (std::size_t i = 0; i < folder.entries.size(); ++i) {
    if (!usable[i]) continue;
    const ImageId id(static_cast<std::uint32_t>(i + 1));
    const bool registered = std::any_of(result.models.begin(), result.models.end(),
                                        [&](const auto& m) { return m.images.contains(id); });
    if (!registered) result.not_registered.push_back(folder.entries[i].name);
  }
  return result;
}

}  // namespace facet::sfm
