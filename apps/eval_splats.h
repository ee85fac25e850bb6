// `facet eval --splats`: image quality of a trained 3DGS scene at posed views (eval_splats.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <vector>

#include "splatting/trainer.h"

namespace facet::apps {

struct SplatEvalArgs {
  std::filesystem::path model;   // workspace, COLMAP model or transforms.json with the photos
  std::filesystem::path splats;  // 3DGS .ply or .splat
  std::filesystem::path images;  // photo folder override
  std::filesystem::path renders = "renders";  // side-by-side pictures
  std::filesystem::path json;                 // optional results file
  int holdout = 8;         // the held-out views: every Nth by name (as facet splat)
  bool all_views = false;  // evaluate every view instead
  int downscale = 1;       // as trained
  int max_size = 1600;     // as facet splat's default
  bool antialiased = false;
};

// Per-view and mean PSNR/SSIM as JSON: {"views": [{name, psnr, ssim}], "mean_psnr",
// "mean_ssim", "ssim": the SSIM convention}; means are 0 for no view. Shared by `facet splat
// --eval` and `facet eval --splats`.
nlohmann::json MetricsJson(const std::vector<splatting::ViewMetrics>& metrics);

// Throws facet::Error for a missing or malformed file, or no view to evaluate.
void RunSplatEval(const SplatEvalArgs& args);

}  // namespace facet::apps
