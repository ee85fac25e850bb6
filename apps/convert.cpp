// `facet convert`: converts between the formats facet reads and writes (datasets/convert.h).
#include "datasets/convert.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "apps/command.h"
#include "apps/usage_error.h"
#include "core/timer.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;

struct ConvertArgs {
  fs::path input;
  fs::path output;
  bool keep_order = false;
  datasets::ConvertOptions options;
};

void RunConvert(const ConvertArgs& args) {
  datasets::ConvertOptions options = args.options;
  options.sort_splats = !args.keep_order;
  const datasets::ConversionPlan plan = datasets::PlanConversion(args.input, args.output, options);
  if (!plan.Supported()) {
    throw UsageError(plan.problem + "\nsupported conversions:\n" +
                     datasets::SupportedConversionsText());
  }
  const Timer timer;
  const std::string summary = datasets::Convert(args.input, args.output, plan, options);
  spdlog::info("convert: {} in {:.2f} s", summary, timer.ElapsedSeconds());
}

std::string Footer() {
  return "Conversions (the input's format is read from the input; the output's from --to or its "
         "name):\n" +
         datasets::SupportedConversionsText() +
         "\n\nImage paths: transforms.json -> COLMAP names each image by its file_path relative "
         "to the json's folder, so give COLMAP that folder as image_path. COLMAP -> "
         "transforms.json writes the image names as file_path: put the json in COLMAP's image "
         "folder (e.g. -o images/transforms.json).\n"
         "Lossy: .splat keeps only SH band 0 and 8-bit colour, opacity and rotation; "
         "transforms.json keeps no keypoints or 3D points. Coordinates are never changed (no axis "
         "flip for glTF).\n\n"
         "Examples:\n"
         "  facet convert sparse/0 -o sparse_txt                 # COLMAP .bin -> .txt\n"
         "  facet convert sparse/0 -o images/transforms.json     # COLMAP -> transforms.json\n"
         "  facet convert transforms.json -o sparse/0 --text     # transforms.json -> COLMAP .txt\n"
         "  facet convert splats.ply -o splats.splat             # 3DGS PLY -> .splat\n"
         "  facet convert mesh.ply -o mesh.glb                   # mesh PLY -> glTF binary\n"
         "  facet convert cloud.pcd -o cloud.ply --text          # PCD -> ASCII PLY";
}

}  // namespace

Subcommand RegisterConvert(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* sub = app.add_subcommand(
      "convert",
      "Convert between COLMAP models, transforms.json, 3DGS .ply/.splat, meshes and point clouds");
  sub->add_option("input", args->input,
                  "Input: a COLMAP model folder, or a .json, .ply, .splat, .glb or .pcd file")
      ->required();
  sub->add_option("-o,--output", args->output,
                  "Output file, or folder for a COLMAP model (created when missing)")
      ->required();
  std::vector<std::string> targets(datasets::kConvertTargets.begin(),
                                   datasets::kConvertTargets.end());
  sub->add_option("--to", args->options.to,
                  "Output format, overriding the output's name (ply: 3DGS, mesh or points, "
                  "following the input)")
      ->check(CLI::IsMember(targets));
  sub->add_flag("--text", args->options.text,
                "Text encoding: COLMAP .txt, ASCII PLY (meshes, points) or ASCII PCD");
  sub->add_flag("--keep-order", args->keep_order,
                ".splat output: keep the input order (default: most important splats first, as "
                "antimatter15's convert.py)");
  sub->footer(Footer());
  return {sub, [args](const GlobalOptions&) { RunConvert(*args); }};
}

}  // namespace facet::apps
