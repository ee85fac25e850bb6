#include "datasets/convert.h"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/colmap_model.h"
#include "datasets/detail/srgb.h"
#include "datasets/detail/text_parse.h"
#include "datasets/gaussian_splats.h"
#include "datasets/gltf.h"
#include "datasets/pcd.h"
#include "datasets/ply.h"
#include "datasets/transforms_json.h"

namespace facet::datasets {
namespace {

namespace fs = std::filesystem;
using DF = DataFormat;

// Every supported (input, output) pair; SupportedConversionsText says the same in words.
constexpr std::pair<DF, DF> kConversions[] = {
    {DF::kColmapBinary, DF::kColmapBinary},
    {DF::kColmapBinary, DF::kColmapText},
    {DF::kColmapBinary, DF::kTransformsJson},
    {DF::kColmapBinary, DF::kPointPly},
    {DF::kColmapBinary, DF::kPcd},
    {DF::kColmapText, DF::kColmapBinary},
    {DF::kColmapText, DF::kColmapText},
    {DF::kColmapText, DF::kTransformsJson},
    {DF::kColmapText, DF::kPointPly},
    {DF::kColmapText, DF::kPcd},
    {DF::kTransformsJson, DF::kColmapBinary},
    {DF::kTransformsJson, DF::kColmapText},
    {DF::kGaussianPly, DF::kSplat},
    {DF::kSplat, DF::kGaussianPly},
    {DF::kMeshPly, DF::kGlb},
    {DF::kGlb, DF::kMeshPly},
    {DF::kPcd, DF::kPointPly},
    {DF::kPointPly, DF::kPcd},
};

bool IsSupported(DF from, DF to) {
  return std::find(std::begin(kConversions), std::end(kConversions), std::make_pair(from, to)) !=
         std::end(kConversions);
}

bool IsColmap(DF format) { return format == DF::kColmapBinary || format == DF::kColmapText; }

// What the output should be before the input is known to fit: --to, or the output's name.
enum class Target { kColmap, kColmapBinary, kColmapText, kTransforms, kPly, kSplat, kGlb, kPcd };

std::string_view TargetName(Target target) {
  switch (target) {
    case Target::kColmap:
      return "a COLMAP model";
    case Target::kColmapBinary:
      return "a binary COLMAP model";
    case Target::kColmapText:
      return "a text COLMAP model";
    case Target::kTransforms:
      return "transforms.json";
    case Target::kPly:
      return "PLY";
    case Target::kSplat:
      return ".splat";
    case Target::kGlb:
      return ".glb";
    case Target::kPcd:
      return "PCD";
  }
  return "?";
}

std::optional<Target> TargetFromName(std::string_view to) {
  if (to == "colmap-bin") return Target::kColmapBinary;
  if (to == "colmap-txt") return Target::kColmapText;
  if (to == "transforms") return Target::kTransforms;
  if (to == "ply") return Target::kPly;
  if (to == "splat") return Target::kSplat;
  if (to == "glb") return Target::kGlb;
  if (to == "pcd") return Target::kPcd;
  return std::nullopt;
}

std::optional<Target> TargetFromPath(const fs::path& output) {
  const std::string extension = LowercaseExtension(output);
  if (extension == ".json") return Target::kTransforms;
  if (extension == ".ply") return Target::kPly;
  if (extension == ".splat") return Target::kSplat;
  if (extension == ".glb") return Target::kGlb;
  if (extension == ".pcd") return Target::kPcd;
  std::error_code ec;
  if (extension.empty() || fs::is_directory(output, ec)) return Target::kColmap;
  return std::nullopt;
}

// The output format a target means for this input, or nullopt when the input has no such output.
std::optional<DF> ResolveTarget(Target target, DF input, bool text) {
  switch (target) {
    case Target::kColmap:
      if (text) return DF::kColmapText;
      return input == DF::kColmapBinary ? DF::kColmapText : DF::kColmapBinary;
    case Target::kColmapBinary:
      return DF::kColmapBinary;
    case Target::kColmapText:
      return DF::kColmapText;
    case Target::kTransforms:
      return DF::kTransformsJson;
    case Target::kPly:
      if (input == DF::kSplat) return DF::kGaussianPly;
      if (input == DF::kGlb) return DF::kMeshPly;
      if (input == DF::kPcd || IsColmap(input)) return DF::kPointPly;
      return std::nullopt;
    case Target::kSplat:
      return DF::kSplat;
    case Target::kGlb:
      return DF::kGlb;
    case Target::kPcd:
      return DF::kPcd;
  }
  return std::nullopt;
}

// "a COLMAP model (binary) converts to: ..." from kConversions.
std::string ConvertsTo(DF input) {
  std::string list;
  for (const auto& [from, to] : kConversions) {
    if (from != input) continue;
    list += fmt::format("{}{}", list.empty() ? "" : ", ", DataFormatName(to));
  }
  return fmt::format("a {} converts to: {}", DataFormatName(input), list);
}

// Classifies a PLY by its header, read with the readers' own parser (ReadPlyHeader reads only
// the header), so that classification and reading cannot disagree.
DF ClassifyPly(const fs::path& path) {
  const PlyHeader header = ReadPlyHeader(path);
  const PlyElement* vertex = header.FindElement("vertex");
  if (vertex != nullptr && vertex->FindProperty("f_dc_0") >= 0) return DF::kGaussianPly;
  const PlyElement* face = header.FindElement("face");
  return face != nullptr && face->count > 0 ? DF::kMeshPly : DF::kPointPly;
}

fs::path ColmapFolder(const fs::path& input) {
  std::error_code ec;
  return fs::is_directory(input, ec) ? input : input.parent_path();
}

void CreateParentFolder(const fs::path& output) {
  const fs::path parent = output.parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  FACET_CHECK(!ec, "cannot create the folder '{}' for '{}': {}", parent.string(), output.string(),
              ec.message());
}

std::string SceneCounts(const Scene& scene) {
  return fmt::format("{} cameras, {} images, {} 3D points", scene.cameras.size(),
                     scene.images.size(), scene.points3d.size());
}

std::string CloudCounts(const geometry::PointCloud& cloud) {
  return fmt::format("{} points{}{}", cloud.size(), cloud.HasNormals() ? ", normals" : "",
                     cloud.HasColors() ? ", colours" : "");
}

std::string MeshCounts(const geometry::TriangleMesh& mesh) {
  return fmt::format("{} vertices, {} triangles{}{}", mesh.vertices.size(), mesh.triangles.size(),
                     mesh.HasVertexNormals() ? ", normals" : "",
                     mesh.HasVertexColors() ? ", colours" : "");
}

std::string SplatCounts(const GaussianSplats& splats) {
  return fmt::format("{} Gaussians, SH degree {}", splats.size(), splats.sh_degree);
}

PlyFormat PlyEncoding(const ConvertOptions& options) {
  return options.text ? PlyFormat::kAscii : PlyFormat::kBinaryLittleEndian;
}

// `double_positions`: PLY positions as float64 (COLMAP's points are doubles); PCD is float32.
void WriteCloud(const fs::path& output, DF format, const geometry::PointCloud& cloud,
                const ConvertOptions& options, bool double_positions) {
  CreateParentFolder(output);
  if (format == DF::kPcd) {
    WritePcd(output, cloud, options.text ? PcdFormat::kAscii : PcdFormat::kBinary);
  } else {
    WritePointCloudPly(output, cloud,
                       {.format = PlyEncoding(options), .double_positions = double_positions});
  }
}

// Writes a scene read from COLMAP or transforms.json; returns what was written.
std::string WriteScene(const fs::path& output, DF format, const Scene& scene,
                       const ConvertOptions& options) {
  switch (format) {
    case DF::kColmapBinary:
      WriteColmapModelBinary(output, scene);
      return SceneCounts(scene);
    case DF::kColmapText:
      WriteColmapModelText(output, scene);
      return SceneCounts(scene);
    case DF::kTransformsJson:
      CreateParentFolder(output);
      WriteTransformsJson(output, scene);
      return fmt::format("{} frames; keypoints and 3D points are not stored",
                         scene.NumRegisteredImages());
    case DF::kPointPly:
    case DF::kPcd: {
      geometry::PointCloud cloud;
      cloud.points.reserve(scene.points3d.size());
      cloud.colors.reserve(scene.points3d.size());
      for (const auto& [id, point] : scene.points3d) {
        cloud.points.push_back(point.xyz);
        cloud.colors.emplace_back(detail::Srgb8ToLinear(point.color[0]),
                                  detail::Srgb8ToLinear(point.color[1]),
                                  detail::Srgb8ToLinear(point.color[2]));
      }
      WriteCloud(output, format, cloud, options, /*double_positions=*/true);
      return fmt::format("{} 3D points with colours", cloud.size());
    }
    default:
      FACET_THROW("internal: a scene cannot be written as {}", DataFormatName(format));
  }
}

}  // namespace

std::string_view DataFormatName(DataFormat format) {
  switch (format) {
    case DF::kColmapBinary:
      return "COLMAP model (binary)";
    case DF::kColmapText:
      return "COLMAP model (text)";
    case DF::kTransformsJson:
      return "transforms.json";
    case DF::kGaussianPly:
      return "3DGS PLY";
    case DF::kSplat:
      return ".splat";
    case DF::kMeshPly:
      return "mesh PLY";
    case DF::kGlb:
      return ".glb mesh";
    case DF::kPointPly:
      return "point-cloud PLY";
    case DF::kPcd:
      return "PCD point cloud";
  }
  return "unknown format";
}

void ConvertOptions::Check() const {
  FACET_CHECK(to.empty() || TargetFromName(to).has_value(),
              "ConvertOptions::to must be empty or one of colmap-bin, colmap-txt, transforms, ply, "
              "splat, glb, pcd (got '{}')",
              to);
}

std::optional<DataFormat> DetectInputFormat(const fs::path& input) {
  std::error_code ec;
  const fs::file_status status = fs::status(input, ec);
  FACET_CHECK(fs::exists(status), "input '{}' does not exist (check the path)", input.string());
  if (fs::is_directory(status)) {
    const auto model = FindColmapModel(input);
    FACET_CHECK(model.has_value(),
                "input '{}' is a folder without a complete COLMAP model (cameras, images and "
                "points3D, all .bin or all .txt); give a model folder such as sparse/0",
                input.string());
    return *model == ColmapFormat::kBinary ? DF::kColmapBinary : DF::kColmapText;
  }
  const std::string extension = LowercaseExtension(input);
  const std::string stem = input.stem().string();
  if ((extension == ".bin" || extension == ".txt") &&
      (stem == "cameras" || stem == "images" || stem == "points3D")) {
    return extension == ".bin" ? DF::kColmapBinary : DF::kColmapText;
  }
  if (extension == ".json") return DF::kTransformsJson;
  if (extension == ".ply") return ClassifyPly(input);
  if (extension == ".splat") return DF::kSplat;
  if (extension == ".glb") return DF::kGlb;
  if (extension == ".pcd") return DF::kPcd;
  return std::nullopt;
}

ConversionPlan PlanConversion(const fs::path& input, const fs::path& output,
                              const ConvertOptions& options) {
  options.Check();
  ConversionPlan plan;
  plan.input = DetectInputFormat(input);
  if (!plan.input) {
    plan.problem = fmt::format(
        "cannot tell the format of '{}' from its name (facet converts COLMAP model folders, "
        ".json, .ply, .splat, .glb and .pcd files)",
        input.string());
    return plan;
  }
  const DF from = *plan.input;
  const std::optional<Target> target =
      options.to.empty() ? TargetFromPath(output) : TargetFromName(options.to);
  if (!target) {
    plan.problem = fmt::format(
        "cannot tell the output format from '{}' (name it .json, .ply, .splat, .glb or .pcd, "
        "give a folder for a COLMAP model, or choose with --to); {}",
        output.string(), ConvertsTo(from));
    return plan;
  }
  const std::optional<DF> to = ResolveTarget(*target, from, options.text);
  if (!to || !IsSupported(from, *to)) {
    plan.problem = fmt::format("cannot convert {} '{}' to {} ('{}')", DataFormatName(from),
                               input.string(), TargetName(*target), output.string());
    if ((from == DF::kMeshPly || from == DF::kPointPly) && *target == Target::kSplat) {
      plan.problem +=
          ": it is not a 3DGS PLY (those have f_dc_0, opacity, scale_* and rot_* vertex "
          "properties); convert a mesh PLY to .glb and a point-cloud PLY to .pcd";
    }
    plan.problem += "; " + ConvertsTo(from);
    return plan;
  }
  const bool has_text =
      *to == DF::kColmapText || *to == DF::kMeshPly || *to == DF::kPointPly || *to == DF::kPcd;
  if (options.text && !has_text) {
    plan.problem = fmt::format(
        "--text applies to COLMAP model, mesh or point-cloud PLY and PCD outputs, not to {} "
        "('{}')",
        DataFormatName(*to), output.string());
    return plan;
  }
  plan.output = to;
  return plan;
}

std::string SupportedConversionsText() {
  return "  COLMAP model folder (.bin/.txt) -> COLMAP model folder (binary or text),\n"
         "                                     transforms.json, .ply or .pcd (its 3D points)\n"
         "  transforms.json                 -> COLMAP model folder (binary or text)\n"
         "  3DGS .ply                       -> .splat\n"
         "  .splat                          -> 3DGS .ply\n"
         "  mesh .ply (with faces)          -> .glb\n"
         "  .glb                            -> mesh .ply\n"
         "  .pcd                            -> point-cloud .ply\n"
         "  point-cloud .ply (no faces)     -> .pcd";
}

std::string Convert(const fs::path& input, const fs::path& output, const ConversionPlan& plan,
                    const ConvertOptions& options) {
  options.Check();
  FACET_CHECK(plan.Supported() && IsSupported(*plan.input, *plan.output),
              "cannot convert '{}' to '{}': {}", input.string(), output.string(),
              plan.problem.empty() ? "the plan names no supported conversion" : plan.problem);
  const DF from = *plan.input, to = *plan.output;
  std::string read, written;
  switch (from) {
    case DF::kColmapBinary:
    case DF::kColmapText: {
      const fs::path folder = ColmapFolder(input);
      const Scene scene =
          from == DF::kColmapBinary ? ReadColmapModelBinary(folder) : ReadColmapModelText(folder);
      read = SceneCounts(scene);
      written = WriteScene(output, to, scene, options);
      break;
    }
    case DF::kTransformsJson: {
      const TransformsDataset dataset = ReadTransformsJson(input);
      read =
          fmt::format("{} cameras, {} frames", dataset.scene.cameras.size(), dataset.frames.size());
      written = WriteScene(output, to, dataset.scene, options);
      break;
    }
    case DF::kGaussianPly: {
      const GaussianSplats splats = ReadGaussianPly(input);
      read = SplatCounts(splats);
      CreateParentFolder(output);
      WriteSplat(output, splats, {.sort_by_importance = options.sort_splats});
      written = fmt::format("{} splats{}", splats.size(),
                            splats.sh_degree > 0 ? "; SH bands above 0 dropped" : "");
      break;
    }
    case DF::kSplat: {
      const GaussianSplats splats = ReadSplat(input);
      read = fmt::format("{} splats", splats.size());
      CreateParentFolder(output);
      WriteGaussianPly(output, splats);
      written = SplatCounts(splats);
      break;
    }
    case DF::kMeshPly: {
      const geometry::TriangleMesh mesh = ReadMeshPly(input);
      read = MeshCounts(mesh);
      CreateParentFolder(output);
      WriteGlb(output, mesh);
      written = read;
      break;
    }
    case DF::kGlb: {
      const geometry::TriangleMesh mesh = ReadGlb(input);
      read = MeshCounts(mesh);
      CreateParentFolder(output);
      WriteMeshPly(output, mesh, PlyEncoding(options));
      written = read;
      break;
    }
    case DF::kPointPly:
    case DF::kPcd: {
      const geometry::PointCloud cloud =
          from == DF::kPcd ? ReadPcd(input) : ReadPointCloudPly(input);
      read = CloudCounts(cloud);
      WriteCloud(output, to, cloud, options, /*double_positions=*/false);
      written = read;
      break;
    }
  }
  return fmt::format("read {} '{}' ({}); wrote {} '{}' ({})", DataFormatName(from), input.string(),
                     read, DataFormatName(to), output.string(), written);
}

std::string ConvertFile(const fs::path& input, const fs::path& output,
                        const ConvertOptions& options) {
  const ConversionPlan plan = PlanConversion(input, output, options);
  FACET_CHECK(plan.Supported(), "{}; supported conversions:\n{}", plan.problem,
              SupportedConversionsText());
  return Convert(input, output, plan, options);
}

}  // namespace facet::datasets
