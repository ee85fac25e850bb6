#include "datasets/synthetic/dataset_writer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "core/progress.h"
#include "datasets/colmap_model.h"
#include "datasets/ply.h"
#include "datasets/rgbd.h"
#include "datasets/synthetic/world.h"
#include "datasets/transforms_json.h"

namespace facet::datasets::synthetic {
namespace {

namespace fs = std::filesystem;

constexpr double kTumDepthScale = 5000.0;  // units per metre
constexpr double kFramesPerSecond = 30.0;

ImageU16 EncodeTumDepth(const ImageF32& depth_m) {
  ImageU16 depth(depth_m.width(), depth_m.height(), 1);
  for (int y = 0; y < depth.height(); ++y) {
    for (int x = 0; x < depth.width(); ++x) {
      const double units = std::round(depth_m(x, y) * kTumDepthScale);
      depth(x, y) = units > 0.0 && units < 65535.0 ? static_cast<std::uint16_t>(units) : 0;
    }
  }
  return depth;
}

void WriteTumIndex(const SyntheticScene& synthetic, const fs::path& folder) {
  std::string rgb = "# color images\n# timestamp filename\n";
  std::string depth = "# depth maps\n# timestamp filename\n";
  std::string truth =
      "# ground truth trajectory (world_from_cam)\n# timestamp tx ty tz qx qy qz qw\n";
  for (std::size_t i = 0; i < synthetic.image_order.size(); ++i) {
    const Image& image = synthetic.scene.images.at(synthetic.image_order[i]);
    const double t = static_cast<double>(i) / kFramesPerSecond;
    rgb += fmt::format("{:.6f} images/{}\n", t, image.name);
    depth += fmt::format("{:.6f} depth/{}\n", t, image.name);
    const geometry::Rigid3 world_from_cam = image.cam_from_world->Inverse();
    const Eigen::Quaterniond& q = world_from_cam.rotation;
    const Eigen::Vector3d& c = world_from_cam.translation;
    truth += fmt::format("{:.6f} {:.9f} {:.9f} {:.9f} {:.9f} {:.9f} {:.9f} {:.9f}\n", t, c.x(),
                         c.y(), c.z(), q.x(), q.y(), q.z(), q.w());
  }
  WriteFileAtomically(folder / "rgb.txt", std::string_view(rgb));
  WriteFileAtomically(folder / "depth.txt", std::string_view(depth));
  WriteFileAtomically(folder / "groundtruth.txt", std::string_view(truth));
  // The intrinsics, so that the folder describes itself (TUM folders rely on the sensor's name).
  WriteSequenceCameraFile(folder / "cameras.txt", synthetic.scene.cameras.at(CameraId(1)));
}

}  // namespace

SyntheticScene WriteSyntheticDataset(const SynthOptions& options, const fs::path& folder) {
  options.Check();
  std::error_code ec;
  for (const char* sub : {"images", "ground_truth/sparse"}) {
    fs::create_directories(folder / sub, ec);
    FACET_CHECK(!ec, "cannot create '{}': {}", (folder / sub).string(), ec.message());
  }
  if (options.rgbd) fs::create_directories(folder / "depth", ec);
  FACET_CHECK(!ec, "cannot create '{}': {}", (folder / "depth").string(), ec.message());

  const SyntheticScene synthetic = MakeSyntheticScene(options);
  spdlog::debug("synth: object mesh of {} vertices, {} triangles",
                synthetic.object_mesh.vertices.size(), synthetic.object_mesh.triangles.size());
  const Renderer renderer = MakeRenderer(synthetic);

  ProgressBar bar(options.num_views, {.label = "synth", .unit = "views"});
  for (int i = 0; i < options.num_views; ++i) {
    const RenderedView view = RenderSyntheticView(synthetic, renderer, i);
    const Image& image =
        synthetic.scene.images.at(synthetic.image_order[static_cast<std::size_t>(i)]);
    WriteImage(folder / "images" / image.name, view.rgb);
    if (options.rgbd) WriteImage(folder / "depth" / image.name, EncodeTumDepth(view.depth));
    bar.Add();
  }
  bar.Finish();

  WriteColmapModelText(folder / "ground_truth" / "sparse", synthetic.scene);
  WriteMeshPly(folder / "ground_truth" / "mesh.ply", synthetic.object_mesh);
  const geometry::Bounds3 object = ObjectBounds();
  WriteFileAtomically(
      folder / "ground_truth" / "crop.txt",
      fmt::format("# facet eval --crop-file: MINX MINY MINZ MAXX MAXY MAXZ (metres, world frame)\n"
                  "{:.3f} {:.3f} {:.3f} {:.3f} {:.3f} {:.3f}\n",
                  object.min.x() - 0.03, object.min.y() - 0.03, object.min.z() + 0.01,
                  object.max.x() + 0.03, object.max.y() + 0.03, object.max.z() + 0.03));
  // transforms.json sits beside images/, so its file paths carry the folder.
  Scene with_paths = synthetic.scene;
  for (auto& [id, image] : with_paths.images) image.name = "images/" + image.name;
  WriteTransformsJson(folder / "transforms.json", with_paths);
  if (options.rgbd) WriteTumIndex(synthetic, folder);
  return synthetic;
}

}  // namespace facet::datasets::synthetic
