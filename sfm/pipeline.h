// The whole structure-from-motion pipeline on a folder of photos: features (cached per image),
// pair selection and matching, two-view verification (cached per run configuration), the
// incremental mapper (checkpointed), and point colours. `facet sfm` is a thin layer over RunSfm.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "datasets/image_folder.h"
#include "datasets/scene.h"
#include "sfm/features.h"
#include "sfm/incremental_mapper.h"
#include "sfm/matching.h"
#include "sfm/two_view_geometry.h"

namespace facet::sfm {

struct SfmOptions {
  SiftOptions sift{};
  PairSelectionOptions pairs{};
  MatchingOptions matching{};
  TwoViewGeometryOptions two_view{};
  MapperOptions mapper{};
  // Camera model of every camera; COLMAP's default.
  geometry::CameraModelId camera_model = geometry::CameraModelId::kSimpleRadial;
  // One camera for all images (otherwise one per distinct size, focal prior and EXIF make/model).
  bool single_camera = false;
  // Focal prior without EXIF: factor * max(W, H) (COLMAP's default 1.2); > 0.
  double default_focal_factor = 1.2;
  // The mapper's progress is saved in database/mapping/ at most this often (0: after every global
  // refinement), and a rerun continues from it; removed when mapping ends. >= 0.
  double checkpoint_interval_s = 30.0;

  void Check() const;
};

struct SfmTimings {
  double features_s = 0.0;
  double matching_s = 0.0;  // pair selection, matching and verification
  double mapping_s = 0.0;
};

struct SfmResult {
  std::vector<datasets::Scene> models{};      // largest first
  std::vector<std::string> image_names{};     // every image found, in name order
  std::vector<std::string> not_registered{};  // readable images no model holds
  std::vector<std::string> skipped{};         // "name: reason" for unreadable images
  std::size_t num_pairs = 0;                  // pairs matched
  std::size_t num_verified_pairs = 0;         // pairs with a verified two-view geometry
  SfmTimings timings{};
};

struct ModelSummary {
  std::size_t num_registered = 0;
  std::size_t num_points = 0;
  std::size_t num_observations = 0;  // in registered images, in front of their camera
  std::size_t num_behind = 0;        // observations behind their camera (not counted above)
  double mean_track_length = 0.0;    // track elements per point
  double mean_observations_per_image = 0.0;
  double mean_reprojection_error_px = 0.0;  // over num_observations, recomputed from the model
};
// Figures of a sparse model (facet's or COLMAP's), recomputed from its points and cameras.
ModelSummary Summarize(const datasets::Scene& scene);

// Runs the pipeline on the photos of `image_dir`, caching features and verified matches under
// `database_dir` (created when missing; empty path: no cache). Throws facet::Error when the folder
// holds no readable image; an empty `models` means nothing could be reconstructed.
SfmResult RunSfm(const std::filesystem::path& image_dir, const std::filesystem::path& database_dir,
                 const SfmOptions& options = {});

// Sets each point's colour to the mean of its observations' pixels (images loaded at most
// `max_image_size` on the longer side, in parallel).
void ColorPoints(const datasets::ImageFolder& folder, int max_image_size, datasets::Scene& scene);

}  // namespace facet::sfm
