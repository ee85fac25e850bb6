// `facet eval MODEL --splats splats.ply`: renders a trained 3DGS scene at the views of MODEL (a
// workspace, COLMAP model or transforms.json, as `facet splat` reads them), reports PSNR and SSIM
// per view and on average, and writes render | photo | error pictures.
#include "apps/eval_splats.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/gaussian_splats.h"
#include "splatting/trainer.h"

namespace facet::apps {

nlohmann::json MetricsJson(const std::vector<splatting::ViewMetrics>& metrics) {
  nlohmann::json views = nlohmann::json::array();
  double psnr = 0.0, ssim = 0.0;
  for (const splatting::ViewMetrics& m : metrics) {
    views.push_back({{"name", m.name}, {"psnr", m.psnr}, {"ssim", m.ssim}});
    psnr += m.psnr;
    ssim += m.ssim;
  }
  const double n = metrics.empty() ? 1.0 : double(metrics.size());
  return {{"views", views},
          {"mean_psnr", psnr / n},
          {"mean_ssim", ssim / n},
          {"ssim", "11x11 Gaussian window (sigma 1.5), zero padding, as the Inria 3DGS ssim()"}};
}

void RunSplatEval(const SplatEvalArgs& args) {
  namespace fs = std::filesystem;
  FACET_CHECK(fs::exists(args.splats), "eval: no splat file {}", args.splats.string());
  const datasets::GaussianSplats splats = args.splats.extension() == ".splat"
                                              ? datasets::ReadSplat(args.splats)
                                              : datasets::ReadGaussianPly(args.splats);
  const splatting::Gaussians model = splatting::FromSplats(splats);
  datasets::TrainingDataOptions options;
  options.holdout_every = args.all_views ? 0 : args.holdout;
  options.downscale = args.downscale;
  options.max_size = args.max_size;
  if (!args.images.empty()) options.image_dir = args.images;
  const datasets::TrainingData data = datasets::LoadTrainingData(args.model, options);
  const std::vector<datasets::TrainingView>& views = args.all_views ? data.train : data.test;
  FACET_CHECK(!views.empty(), "eval: no held-out view (use --all-views or --holdout N)");
  splatting::RenderSettings settings;
  settings.background = data.background;
  settings.sh_degree = model.max_sh_degree;
  settings.antialiased = args.antialiased;
  const auto metrics = splatting::EvaluateViews(model, views, settings, args.renders);

  for (const splatting::ViewMetrics& m : metrics) {
    spdlog::info("eval: {:<24} PSNR {:6.2f} dB  SSIM {:.4f}", m.name, m.psnr, m.ssim);
  }
  nlohmann::json out = MetricsJson(metrics);
  const double psnr = out["mean_psnr"].get<double>(), ssim = out["mean_ssim"].get<double>();
  spdlog::info(
      "eval: {} views of {} ({}): PSNR {:.2f} dB, SSIM {:.4f} (SSIM: 11x11 Gaussian window, "
      "sigma 1.5, zero padding, as Inria's ssim()); pictures (render | photo | error x4) in {}",
      metrics.size(), args.model.string(), args.all_views ? "all" : "held out", psnr, ssim,
      args.renders.string());
  if (!args.json.empty()) {
    out["splats"] = args.splats.string();
    out["gaussians"] = model.size();
    out["renders"] = args.renders.string();
    WriteFileAtomically(args.json, out.dump(2) + "\n");
  }
}

}  // namespace facet::apps
