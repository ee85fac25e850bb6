// `facet synth`: writes the built-in synthetic scene (see datasets/synthetic/synthetic_scene.h).
#include <spdlog/spdlog.h>

#include <charconv>
#include <filesystem>

#include "apps/command.h"
#include "core/error.h"
#include "core/timer.h"
#include "datasets/synthetic/dataset_writer.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;
using datasets::synthetic::SynthOptions;

struct SynthArgs {
  fs::path output;
  std::string size = "640x480";
  SynthOptions options;
};

void ParseSize(const std::string& text, SynthOptions& options) {
  const std::size_t x = text.find_first_of("xX");
  int w = 0, h = 0;
  const char* end = text.data() + text.size();
  const bool ok = x != std::string::npos &&
                  std::from_chars(text.data(), text.data() + x, w).ptr == text.data() + x &&
                  std::from_chars(text.data() + x + 1, end, h).ptr == end && x > 0 &&
                  x + 1 < text.size();
  FACET_CHECK(ok, "--size must look like 640x480 (got '{}')", text);
  options.width = w;
  options.height = h;
}

void RunSynth(const SynthArgs& args) {
  SynthOptions options = args.options;
  ParseSize(args.size, options);
  options.Check();
  const Timer timer;
  spdlog::info("synth: rendering {} views at {}x{} (seed {}) into {}", options.num_views,
               options.width, options.height, options.seed, args.output.string());
  datasets::synthetic::WriteSyntheticDataset(options, args.output);
  spdlog::info("synth: done in {:.1f} s: images/, transforms.json, ground_truth/{}",
               timer.ElapsedSeconds(),
               options.rgbd ? ", depth/, TUM index files and cameras.txt" : "");
}

}  // namespace

Subcommand RegisterSynth(CLI::App& app) {
  auto args = std::make_shared<SynthArgs>();
  CLI::App* sub = app.add_subcommand(
      "synth", "Render the built-in synthetic scene: photos, ground-truth cameras and mesh");
  sub->footer(
      "Writes images/*.png, transforms.json, ground_truth/sparse/ (the exact cameras as a COLMAP "
      "text model) and ground_truth/mesh.ply (the object's closed mesh); with --rgbd also depth/ "
      "(16-bit, 5000 per metre), rgb.txt, depth.txt, groundtruth.txt and cameras.txt (a TUM "
      "sequence). The same options and seed give the same files.\nExample: facet synth -o "
      "synthetic/ --views 40 --size 640x480");
  sub->add_option("-o,--output", args->output, "Output folder")->required();
  sub->add_option("--views", args->options.num_views, "Number of views")->capture_default_str();
  sub->add_option("--size", args->size, "Image size WIDTHxHEIGHT")->capture_default_str();
  sub->add_option("--seed", args->options.seed, "Seed: textures, trajectory jitter, noise")
      ->capture_default_str();
  sub->add_flag("--rgbd", args->options.rgbd,
                "Hand-held trajectory with 16-bit depth maps (TUM scale 5000)");
  sub->add_flag("--noise", args->options.noise, "Add sensor noise (sigma 2/255)");
  sub->add_option("--distortion", args->options.distortion,
                  "Radial distortion k of a SIMPLE_RADIAL camera (e.g. -0.02); 0 = PINHOLE")
      ->capture_default_str();
  sub->add_option("--supersampling", args->options.supersampling,
                  "Anti-aliasing: S x S samples per pixel")
      ->capture_default_str();
  return {sub, [args](const GlobalOptions&) { RunSynth(*args); }};
}

}  // namespace facet::apps
