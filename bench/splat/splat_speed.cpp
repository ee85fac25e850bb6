// splat_speed: training iterations per second of the 3DGS trainer at a fixed resolution and
// Gaussian count, with the per-stage split (project, sort, forward, loss incl. SSIM, backward,
// optimizer), so that it compares with OpenSplat's published CPU figure (0.56 it/s at 640x481
// with 2,937 Gaussians on 11 Sceaux Castle photos, 2 cores) at equal work. Densification is off so
// the count stays fixed; the model starts from the input's sparse cloud, resampled to exactly
// --gaussians points (random subset, or random duplicates when the cloud is smaller).
//
//   splat_speed INPUT [--images DIR] [--max-size 640] [--gaussians 2937] [--iters 60]
//                     [--warmup 5] [--sh-degree 3] [--threads N] [--json FILE]
// INPUT: a facet workspace, COLMAP model folder or transforms.json (as `facet splat`).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>

#include "core/backend.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/timer.h"
#include "splatting/trainer.h"

namespace {

using namespace facet;
using namespace facet::splatting;

Gaussians Resample(const Gaussians& model, std::int64_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> pick;
  if (count <= model.size()) {
    std::vector<std::int64_t> all(model.size());
    for (std::int64_t i = 0; i < model.size(); ++i) all[i] = i;
    std::shuffle(all.begin(), all.end(), rng);
    pick.assign(all.begin(), all.begin() + count);
    std::sort(pick.begin(), pick.end());
  } else {
    for (std::int64_t i = 0; i < model.size(); ++i) pick.push_back(i);
    std::uniform_int_distribution<std::int64_t> u(0, model.size() - 1);
    while (std::int64_t(pick.size()) < count) pick.push_back(u(rng));
  }
  // Copy the picked rows after the originals, then drop the originals.
  Gaussians copy = model;
  copy.AppendCopies(pick);
  std::unique_ptr<bool[]> keep(new bool[copy.size()]);
  for (std::int64_t i = 0; i < copy.size(); ++i) keep[i] = i >= model.size();
  copy.Compact({keep.get(), std::size_t(copy.size())});
  return copy;
}

int Run(int argc, char** argv) {
  CLI::App app{"3DGS training speed at a fixed Gaussian count (bench/splat/splat_speed.cpp)"};
  std::string input, images, json_path;
  int max_size = 640, sh_degree = 3, threads = 0;
  std::int64_t gaussians = 2937, iters = 60, warmup = 5;
  app.add_option("input", input, "Workspace, COLMAP model or transforms.json")->required();
  app.add_option("--images", images, "Photos folder (overrides the workspace's)");
  app.add_option("--max-size", max_size, "Longer image side")->capture_default_str();
  app.add_option("--gaussians", gaussians, "Gaussian count")->capture_default_str();
  app.add_option("--iters", iters, "Timed iterations")->capture_default_str();
  app.add_option("--warmup", warmup, "Untimed iterations first")->capture_default_str();
  app.add_option("--sh-degree", sh_degree, "SH degree used throughout")->capture_default_str();
  app.add_option("--threads", threads, "Worker threads (0: all cores)")->capture_default_str();
  app.add_option("--json", json_path, "Also write the figures here");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) SetMaxThreads(threads);

  datasets::TrainingDataOptions data_options;
  data_options.max_size = max_size;
  data_options.holdout_every = 0;
  if (!images.empty()) data_options.image_dir = images;
  const datasets::TrainingData data = datasets::LoadTrainingData(input, data_options);
  InitOptions init;
  init.max_sh_degree = 3;
  const Gaussians model = Resample(InitialModel(data, init), gaussians, 1);

  TrainOptions options;
  options.iterations = warmup + iters;
  options.default_strategy.refine_start = options.iterations + 1;  // fixed count
  options.default_strategy.reset_every = 0;
  options.sh_increase_every = 1;  // full degree from the start: the steady-state cost
  options.max_sh_degree = sh_degree;
  Trainer trainer(data, model, options);
  for (std::int64_t i = 0; i < warmup; ++i) trainer.Step();
  StageTimes times;
  Timer timer;
  for (std::int64_t i = 0; i < iters; ++i) times += trainer.Step().times;
  const double seconds = timer.ElapsedSeconds();
  const double its = double(iters) / seconds;
  const auto& view = data.train.front();
  std::printf("splat_speed: %dx%d, %lld Gaussians, SH degree %d, %d threads, %lld iterations\n",
              view.image.width(), view.image.height(), static_cast<long long>(model.size()),
              sh_degree, MaxThreads(), static_cast<long long>(iters));
  std::printf("  %.2f it/s (%.1f ms per iteration)\n", its, 1e3 * seconds / double(iters));
  const double n = double(iters);
  std::printf(
      "  per iteration: project %.1f ms, sort %.1f ms, forward %.1f ms, loss+SSIM %.1f ms, "
      "backward %.1f ms, optimizer %.1f ms\n",
      1e3 * times.preprocess / n, 1e3 * times.sort / n, 1e3 * times.forward / n,
      1e3 * times.loss / n, 1e3 * times.backward / n, 1e3 * times.optimizer / n);
  constexpr double kOpenSplatItPerSecond = 0.56;  // OpenSplat 1.1.5 CPU, issue 5's figure
  std::printf("  vs OpenSplat CPU 0.56 it/s (published, same resolution and count): %.1fx\n",
              its / kOpenSplatItPerSecond);
  if (!json_path.empty()) {
    const nlohmann::json j = {{"width", view.image.width()},
                              {"height", view.image.height()},
                              {"gaussians", model.size()},
                              {"threads", MaxThreads()},
                              {"iterations", iters},
                              {"it_per_s", its},
                              {"ms",
                               {{"project", 1e3 * times.preprocess / n},
                                {"sort", 1e3 * times.sort / n},
                                {"forward", 1e3 * times.forward / n},
                                {"loss", 1e3 * times.loss / n},
                                {"backward", 1e3 * times.backward / n},
                                {"optimizer", 1e3 * times.optimizer / n}}},
                              {"peak_memory_bytes", PeakResidentBytes()}};
    std::ofstream(json_path) << j.dump(2) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const facet::Error& e) {
    std::fprintf(stderr, "splat_speed: %s\n", e.what());
    return 1;
  }
}
