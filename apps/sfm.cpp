// `facet sfm`: structure from motion on a folder of photos (sfm/pipeline.h), written as COLMAP
// sparse models under OUT/sparse/<k>/ with a summary in OUT/sfm_summary.json.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <string>

#include "apps/command.h"
#include "apps/usage_error.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/timer.h"
#include "datasets/colmap_model.h"
#include "sfm/pipeline.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;

struct SfmArgs {
  fs::path images;
  fs::path output;
  std::string camera_model = "SIMPLE_RADIAL";
  std::string matcher = "auto";
  bool text = false;
  bool resume = false;
  sfm::SfmOptions options;
};

sfm::PairMode ParseMatcher(const std::string& name) {
  if (name == "auto") return sfm::PairMode::kAuto;
  if (name == "exhaustive") return sfm::PairMode::kExhaustive;
  if (name == "sequential") return sfm::PairMode::kSequential;
  if (name == "retrieval") return sfm::PairMode::kRetrieval;
  throw UsageError(
      fmt::format("--matcher must be auto, exhaustive, sequential or retrieval (got '{}')", name));
}

// Everything that changes the result, so that --resume only reuses a matching run.
std::string RunFingerprint(const SfmArgs& args) {
  const auto& o = args.options;
  return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}", fs::absolute(args.images).string(),
                     args.camera_model, args.matcher, o.pairs.overlap, o.single_camera,
                     o.sift.Fingerprint(), o.mapper.refine_principal_point, o.default_focal_factor,
                     args.text);
}

nlohmann::json ModelJson(const sfm::ModelSummary& s, const std::string& path) {
  return {{"path", path},
          {"registered_images", s.num_registered},
          {"points", s.num_points},
          {"mean_track_length", s.mean_track_length},
          {"mean_observations_per_image", s.mean_observations_per_image},
          {"mean_reprojection_error_px", s.mean_reprojection_error_px}};
}

void PrintSummary(const nlohmann::json& summary) {
  const auto& models = summary["models"];
  for (std::size_t k = 0; k < models.size(); ++k) {
    const auto& m = models[k];
    spdlog::info(
        "sfm: model {}: {} images, {} points, mean track length {:.2f}, mean reprojection error "
        "{:.3f} px -> {}",
        k, m["registered_images"].get<std::size_t>(), m["points"].get<std::size_t>(),
        m["mean_track_length"].get<double>(), m["mean_reprojection_error_px"].get<double>(),
        m["path"].get<std::string>());
  }
  if (models.size() > 1) {
    spdlog::warn("sfm: the photos form {} separate models (they could not be joined into one)",
                 models.size());
  }
  const std::size_t total = summary["images"].get<std::size_t>();
  const auto& missing = summary["not_registered"];
  std::size_t registered = 0;
  for (const auto& m : models) registered += m["registered_images"].get<std::size_t>();
  const auto& skipped = summary["skipped"];
  if (missing.empty() && skipped.empty()) {
    spdlog::info("sfm: {} of {} images registered", registered, total);
    return;
  }
  std::string details;
  auto join = [&](const std::string& label, const nlohmann::json& list, const char* separator) {
    if (list.empty()) return;
    details += "; " + label + ": ";
    for (std::size_t i = 0; i < list.size(); ++i) {
      details += (i ? separator : "") + list[i].get<std::string>();
    }
  };
  join("not registered", missing, ", ");
  join("unreadable, skipped", skipped, "; ");
  spdlog::warn("sfm: {} of {} images registered{}", registered, total, details);
}

void RunSfmCommand(SfmArgs args, const GlobalOptions& global) {
  const auto model = geometry::CameraModelFromName(args.camera_model);
  if (!model)
    throw UsageError(fmt::format("--camera-model: unknown model '{}'", args.camera_model));
  args.options.camera_model = *model;
  args.options.pairs.mode = ParseMatcher(args.matcher);
  args.options.matching.backend = global.backend;
  args.options.Check();
  FACET_CHECK(fs::is_directory(args.images), "sfm: {} is not a folder of photos",
              args.images.string());

  const fs::path summary_path = args.output / "sfm_summary.json";
  const std::string fingerprint = RunFingerprint(args);
  if (args.resume && fs::exists(summary_path)) {
    const auto bytes = ReadFile(summary_path);
    const auto summary = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (!summary.is_discarded() && summary.value("fingerprint", "") == fingerprint) {
      spdlog::info("sfm: --resume: {} holds a finished run with these options",
                   args.output.string());
      PrintSummary(summary);
      return;
    }
  }
  fs::create_directories(args.output);
  const Timer timer;
  const sfm::SfmResult result = sfm::RunSfm(args.images, args.output / "database", args.options);
  if (result.models.empty()) {
    // Without a model every readable image is unregistered.
    const std::size_t readable = result.not_registered.size();
    FACET_CHECK(readable >= 2,
                "sfm: {} holds only {} readable image{}; structure from motion needs at least two "
                "overlapping photos",
                args.images.string(), readable, readable == 1 ? "" : "s");
    const bool exhaustive =
        args.options.pairs.mode == sfm::PairMode::kExhaustive ||
        (args.options.pairs.mode == sfm::PairMode::kAuto &&
         readable <= static_cast<std::size_t>(args.options.pairs.exhaustive_max_images));
    FACET_THROW(
        "sfm: no model could be built from {} images ({} of {} pairs verified); the photos "
        "need more overlap and texture{}",
        readable, result.num_verified_pairs, result.num_pairs,
        exhaustive ? "" : ", or try --matcher exhaustive");
  }

  // Every image found is registered, not registered or skipped. (image_names lacks the files
  // whose header could not be read, which are in `skipped`.)
  std::size_t registered = 0;
  for (const auto& scene : result.models) registered += scene.NumRegisteredImages();
  nlohmann::json summary;
  summary["fingerprint"] = fingerprint;
  // The photos' folder, absolute, so that `facet splat OUT` finds the images of the model.
  summary["image_dir"] = fs::absolute(args.images).lexically_normal().string();
  summary["images"] = registered + result.not_registered.size() + result.skipped.size();
  summary["not_registered"] = result.not_registered;
  summary["skipped"] = result.skipped;
  summary["pairs_matched"] = result.num_pairs;
  summary["pairs_verified"] = result.num_verified_pairs;
  summary["models"] = nlohmann::json::array();
  for (std::size_t k = 0; k < result.models.size(); ++k) {
    const fs::path folder = args.output / "sparse" / std::to_string(k);
    fs::create_directories(folder);
    datasets::WriteColmapModelBinary(folder, result.models[k]);
    if (args.text) datasets::WriteColmapModelText(folder, result.models[k]);
    summary["models"].push_back(ModelJson(sfm::Summarize(result.models[k]),
                                          (fs::path("sparse") / std::to_string(k)).string()));
  }
  // Models of an earlier run beyond this one's count would be mistaken for results.
  for (std::size_t k = result.models.size();; ++k) {
    const fs::path stale = args.output / "sparse" / std::to_string(k);
    if (!fs::exists(stale)) break;
    fs::remove_all(stale);
  }
  summary["seconds"] = {{"features", result.timings.features_s},
                        {"matching", result.timings.matching_s},
                        {"mapping", result.timings.mapping_s},
                        {"total", timer.ElapsedSeconds()}};
  WriteFileAtomically(summary_path, summary.dump(2) + "\n");
  PrintSummary(summary);
  spdlog::info("sfm: done in {:.1f} s (features {:.1f} s, matching {:.1f} s, mapping {:.1f} s)",
               timer.ElapsedSeconds(), result.timings.features_s, result.timings.matching_s,
               result.timings.mapping_s);
}

}  // namespace

Subcommand RegisterSfm(CLI::App& app) {
  auto args = std::make_shared<SfmArgs>();
  CLI::App* sub = app.add_subcommand(
      "sfm", "Structure from motion: camera poses and a sparse point cloud from photos");
  sub->footer(
      "Writes OUT/sparse/0/ (COLMAP binary: cameras.bin, images.bin, points3D.bin; more models "
      "in sparse/1, ... when the photos do not connect), OUT/sfm_summary.json and a cache in "
      "OUT/database/ (features per image, verified pairs, the mapper's checkpoint every 30 s) "
      "that reruns reuse. Unreadable photos "
      "are skipped with a warning and listed.\nExample: facet sfm photos/ -o out/");
  sub->add_option("images", args->images, "Folder of JPEG/PNG photos")->required();
  sub->add_option("-o,--output", args->output, "Output folder (workspace)")->required();
  sub->add_option("--camera-model", args->camera_model,
                  "SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV, OPENCV_FISHEYE or "
                  "FULL_OPENCV")
      ->capture_default_str();
  sub->add_flag("--single-camera", args->options.single_camera,
                "One camera for all photos (otherwise one per size, focal prior and EXIF model)");
  sub->add_option("--matcher", args->matcher,
                  "Pairs to match: auto (exhaustive up to 60 photos, retrieval above), "
                  "exhaustive, sequential (video; with loop candidates) or retrieval")
      ->capture_default_str();
  sub->add_option("--overlap", args->options.pairs.overlap,
                  "Sequential matcher: neighbours matched ahead of each photo")
      ->capture_default_str();
  sub->add_option("--max-image-size", args->options.sift.max_image_size,
                  "Features are detected at most at this size (longer side, pixels)")
      ->capture_default_str();
  sub->add_option("--max-num-features", args->options.sift.max_num_features,
                  "Features kept per photo")
      ->capture_default_str();
  sub->add_flag(
      "--refine-principal-point", args->options.mapper.refine_principal_point,
      "Always refine the principal point in the final bundle adjustment (by default it is refined "
      "only with 8+ photos per camera, and kept only if it stays within 2% of the image size)");
  sub->add_flag("--text", args->text, "Also write the models as COLMAP text files");
  sub->add_flag("--resume", args->resume,
                "Reuse a finished run in OUT with the same options instead of recomputing it");
  return {sub, [args](const GlobalOptions& global) { RunSfmCommand(*args, global); }};
}

}  // namespace facet::apps
