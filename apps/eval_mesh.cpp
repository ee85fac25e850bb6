#include "apps/eval_mesh.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/gltf.h"
#include "datasets/ply.h"
#include "geometry/mesh_checks.h"
#include "geometry/mesh_processing.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;

geometry::TriangleMesh ReadAnyMesh(const fs::path& path) {
  FACET_CHECK(fs::is_regular_file(path), "eval: mesh '{}' does not exist", path.string());
  const std::string ext = LowercaseExtension(path);
  if (ext == ".glb") return datasets::ReadGlb(path);
  FACET_CHECK(ext == ".ply", "eval: '{}' is not a .glb or .ply mesh", path.string());
  return datasets::ReadMeshPly(path);
}

geometry::Bounds3 CropBox(const MeshEvalArgs& args) {
  std::vector<double> values = args.crop;
  if (!args.crop_file.empty()) {
    const std::vector<std::uint8_t> bytes = ReadFile(args.crop_file, 1 << 16);
    std::istringstream lines(std::string(bytes.begin(), bytes.end()));
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line.substr(0, line.find('#')));
      for (double v; words >> v;) values.push_back(v);
    }
  }
  FACET_CHECK(
      values.size() == 6 && values[0] < values[3] && values[1] < values[4] && values[2] < values[5],
      "eval: the crop box must be MINX MINY MINZ MAXX MAXY MAXZ with each min below its "
      "max (got {} numbers{})",
      values.size(), args.crop_file.empty() ? "" : " in " + args.crop_file.string());
  geometry::Bounds3 box;
  box.Extend(Eigen::Vector3d(values[0], values[1], values[2]));
  box.Extend(Eigen::Vector3d(values[3], values[4], values[5]));
  return box;
}

}  // namespace

nlohmann::ordered_json EvaluateMesh(const MeshEvalArgs& args,
                                    const std::optional<geometry::Sim3>& gt_from_mesh,
                                    std::string* text) {
  geometry::TriangleMesh mesh = ReadAnyMesh(args.mesh);
  const geometry::TriangleMesh truth = ReadAnyMesh(args.ground_truth);
  FACET_CHECK(!mesh.triangles.empty() && !truth.triangles.empty(),
              "eval: '{}' or '{}' has no triangles", args.mesh.string(),
              args.ground_truth.string());
  const geometry::WatertightReport topology = geometry::CheckWatertight(mesh);
  if (gt_from_mesh) {
    for (Eigen::Vector3d& v : mesh.vertices) v = *gt_from_mesh * v;
  }
  const double diagonal = geometry::ComputeBounds(truth.vertices).Extent().norm();
  const bool cropped = !args.crop.empty() || !args.crop_file.empty();
  const geometry::Bounds3 box = cropped ? CropBox(args) : geometry::Bounds3{};
  const geometry::TriangleMesh mesh_in = cropped ? geometry::CropMesh(mesh, box) : mesh;
  const geometry::TriangleMesh truth_in = cropped ? geometry::CropMesh(truth, box) : truth;
  FACET_CHECK(!mesh_in.triangles.empty() && !truth_in.triangles.empty(),
              "eval: nothing of the {} is inside the crop box (is the model aligned with the "
              "ground truth? give --ground-truth cameras)",
              mesh_in.triangles.empty() ? "mesh" : "ground truth");
  const double threshold = args.threshold_fraction * diagonal;
  const geometry::SurfaceDistance d =
      geometry::CompareSurfaces(mesh_in, truth_in, threshold, 200000, /*seed=*/1);
  *text += fmt::format(
      "mesh           {} triangles, {}; chamfer {:.4g} ({:.3f}% of the ground truth's diagonal "
      "{:.4g}), accuracy {:.4g}, completeness {:.4g}, F-score {:.3f} at {:.4g}{}{}\n",
      mesh.triangles.size(),
      topology.watertight ? "watertight" : "not watertight (" + topology.reason + ")", d.chamfer,
      100.0 * d.chamfer / diagonal, diagonal, d.accuracy, d.completeness, d.f_score, threshold,
      cropped ? ", cropped to the box" : "", gt_from_mesh ? ", aligned by the cameras" : "");
  return {{"mesh", args.mesh.string()},
          {"triangles", mesh.triangles.size()},
          {"watertight", topology.watertight},
          {"chamfer", d.chamfer},
          {"chamfer_percent_of_diagonal", 100.0 * d.chamfer / diagonal},
          {"diagonal", diagonal},
          {"accuracy", d.accuracy},
          {"completeness", d.completeness},
          {"precision", d.precision},
          {"recall", d.recall},
          {"f_score", d.f_score},
          {"threshold", threshold},
          {"cropped", cropped},
          {"aligned", gt_from_mesh.has_value()}};
}

}  // namespace facet::apps
