// `facet view`: renders splats (3DGS .ply / .splat, or a facet workspace), a mesh (.ply with
// faces, .glb) or a point cloud with the Vulkan viewer (viewer/), and with --layers a
// workspace's layers together (splats, mesh.glb, sparse points, camera frustums, a grid). For now
// only offscreen: one frame from one camera written as an image; the interactive window is not
// built yet.
#include <Eigen/Geometry>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numbers>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "apps/command.h"
#include "apps/mesh_inputs.h"
#include "apps/usage_error.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "datasets/colmap_model.h"
#include "datasets/gaussian_splats.h"
#include "viewer/mesh_pipeline.h"
#include "viewer/offscreen.h"
#include "viewer/scene_lines.h"
#include "viewer/splat_renderer.h"
#include "viewer/splat_view.h"
#include "viewer/vulkan_context.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;
using geometry::Camera;
using geometry::Rigid3;

struct ViewArgs {
  fs::path input;
  bool offscreen = false;
  fs::path screenshot;
  std::string size = "1280x720";
  std::string camera = "orbit:0";
  int sh_degree = 3;
  std::string background = "0,0,0";
  fs::path model;      // --model: the cameras of index:N (default: the input workspace's)
  std::string layers;  // --layers: empty for the input's default
};

// The layers --layers names (a bit each).
enum Layer : unsigned {
  kLayerSplats = 1u << 0,
  kLayerMesh = 1u << 1,
  kLayerPoints = 1u << 2,
  kLayerCameras = 1u << 3,
  kLayerGrid = 1u << 4,
};

// "" (the input's default) or a comma list of splats, mesh, points, cameras, grid.
unsigned ParseLayers(const std::string& text) {
  if (text.empty()) return 0;
  unsigned layers = 0;
  std::istringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name == "splats") {
      layers |= kLayerSplats;
    } else if (name == "mesh") {
      layers |= kLayerMesh;
    } else if (name == "points") {
      layers |= kLayerPoints;
    } else if (name == "cameras") {
      layers |= kLayerCameras;
    } else if (name == "grid") {
      layers |= kLayerGrid;
    } else {
      throw UsageError("--layers takes a comma list of splats, mesh, points, cameras, grid (got '" +
                       name + "' in '" + text + "')");
    }
  }
  if (layers == 0) throw UsageError("--layers names no layer (got '" + text + "')");
  return layers;
}

// What is shown: the requested layers the input has, and the COLMAP model of a workspace.
struct Content {
  std::optional<datasets::GaussianSplats> splats;
  std::optional<geometry::TriangleMesh> mesh;
  std::optional<geometry::PointCloud> points;
  fs::path model;                        // empty without one
  std::optional<datasets::Scene> scene;  // read from `model`
  unsigned layers = 0;
};

// `requested`: ParseLayers's; 0 takes the input's default (a workspace: splats and, with a model,
// cameras; a file: what it is). Throws facet::Error when a requested layer is not in the input.
Content LoadContent(const fs::path& path, unsigned requested, const fs::path& model_override) {
  FACET_CHECK(fs::exists(path), "view: '{}' does not exist", path.string());
  Content content;
  const bool splat_file = !fs::is_directory(path) && LowercaseExtension(path) == ".splat";
  MeshInput input;
  if (splat_file) {
    input.kind = MeshInputKind::kSplats;
  } else {
    input = ClassifyMeshInput(path);
    content.model = input.model;
  }
  if (!model_override.empty()) content.model = FindCameraModel(model_override);
  const bool workspace = fs::is_directory(path);
  const fs::path workspace_mesh = path / "mesh.glb";
  unsigned layers = requested;
  if (layers == 0) {
    switch (input.kind) {
      case MeshInputKind::kSplats:
        layers = kLayerSplats | (workspace && !content.model.empty() ? kLayerCameras : 0u);
        break;
      case MeshInputKind::kMesh:
        layers = kLayerMesh;
        break;
      case MeshInputKind::kPoints:
        layers = kLayerPoints;
        break;
      default:
        FACET_THROW(
            "view: cannot show '{}' ({}): give splats (.ply, .splat, a facet workspace), a "
            "mesh (.ply, .glb) or a point cloud (.ply, .pcd)",
            path.string(), ToString(input.kind));
    }
  }
  const auto missing = [&](const char* layer, const char* what) {
    FACET_THROW("view: --layers {}: '{}' has no {}", layer, path.string(), what);
  };
  if (layers & kLayerSplats) {
    if (splat_file) {
      content.splats = datasets::ReadSplat(path);
    } else if (input.kind == MeshInputKind::kSplats) {
      content.splats = datasets::ReadGaussianPly(input.file);
    } else {
      missing("splats", "splats (a 3DGS .ply or .splat, or a workspace's splats.ply)");
    }
  }
  if (layers & kLayerMesh) {
    if (input.kind == MeshInputKind::kMesh) {
      content.mesh = ReadMeshInput(input);
    } else if (workspace && fs::exists(workspace_mesh)) {
      MeshInput mesh_input;
      mesh_input.kind = MeshInputKind::kMesh;
      mesh_input.file = workspace_mesh;
      content.mesh = ReadMeshInput(mesh_input);
    } else {
      missing("mesh", "mesh (a .ply with faces, a .glb, or a workspace's mesh.glb)");
    }
  }
  if (!content.model.empty()) content.scene = datasets::ReadColmapModel(content.model);
  if (layers & kLayerPoints) {
    if (input.kind == MeshInputKind::kPoints) {
      content.points = ReadPointsInput(input, nullptr);
    } else if (content.scene && !content.scene->points3d.empty()) {
      content.points.emplace();
      for (const auto& [id, point] : content.scene->points3d) {
        content.points->points.push_back(point.xyz);
        content.points->colors.push_back(point.color.cast<float>() / 255.0f);
      }
    } else {
      missing("points", "points (a point cloud, or a COLMAP model with sparse points)");
    }
  }
  if ((layers & kLayerCameras) && !content.scene) {
    missing("cameras", "COLMAP model (sparse/0) with the cameras; --model gives one");
  }
  content.layers = layers;
  return content;
}

// The positions that frame the view: the first shown of splats, mesh, points.
std::vector<Eigen::Vector3d> ContentPositions(const Content& content) {
  std::vector<Eigen::Vector3d> out;
  if (content.splats) {
    for (const Eigen::Vector3f& p : content.splats->positions) out.push_back(p.cast<double>());
  } else if (content.mesh) {
    out = content.mesh->vertices;
  } else if (content.points) {
    out = content.points->points;
  }
  return out;
}

// The registered cameras' centres when the cameras layer is shown.
std::vector<Eigen::Vector3d> ShownCameraCentres(const Content& content) {
  std::vector<Eigen::Vector3d> out;
  if (!(content.layers & kLayerCameras) || !content.scene) return out;
  for (const auto& [id, image] : content.scene->images) {
    if (image.IsRegistered()) out.push_back(image.cam_from_world->Inverse().translation);
  }
  return out;
}

// Centre and radius of the robust bounds: per axis, the 5th to 95th percentile of the positions
// (stray splats and outlier points do not move the camera away), grown to hold every shown
// camera centre (a few cameras would otherwise fall outside the percentiles). Unit sphere when
// empty.
void RobustBounds(const Content& content, Eigen::Vector3d* centre, double* radius) {
  std::vector<Eigen::Vector3d> positions = ContentPositions(content);
  std::erase_if(positions, [](const Eigen::Vector3d& p) { return !p.allFinite(); });
  const std::vector<Eigen::Vector3d> cameras = ShownCameraCentres(content);
  if (positions.empty() && cameras.empty()) {
    *centre = Eigen::Vector3d::Zero(), *radius = 1.0;
    return;
  }
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(INFINITY), hi = -lo;
  if (!positions.empty()) {
    std::vector<double> xs(positions.size());
    for (int k = 0; k < 3; ++k) {
      for (std::size_t i = 0; i < positions.size(); ++i) xs[i] = positions[i][k];
      std::sort(xs.begin(), xs.end());
      lo[k] = xs[xs.size() * 5 / 100];
      hi[k] = xs[std::min(xs.size() - 1, xs.size() * 95 / 100)];
    }
  }
  for (const Eigen::Vector3d& c : cameras) lo = lo.cwiseMin(c), hi = hi.cwiseMax(c);
  *centre = 0.5 * (lo + hi);
  *radius = std::max(0.5 * (hi - lo).norm(), 1e-6);
}

// PINHOLE camera of `width` x `height` with a vertical field of view of `fov_deg`.
Camera FovCamera(int width, int height, double fov_deg) {
  const double f = 0.5 * height / std::tan(0.5 * fov_deg * std::numbers::pi / 180.0);
  Camera camera;
  camera.model = geometry::CameraModelId::kPinhole;
  camera.width = width, camera.height = height;
  camera.params = {f, f, 0.5 * width, 0.5 * height};
  return camera;
}

// cam_from_world of a camera at `eye` looking at `target` with `up` pointing up in the image
// (COLMAP camera frame: x right, y down, z forward).
// Scene up: the mean of the registered cameras' up (-y) axes, else +z.
Eigen::Vector3d SceneUp(const datasets::Scene* scene) {
  std::vector<Rigid3> poses;
  if (scene != nullptr) {
    for (const auto& [id, image] : scene->images) {
      if (image.cam_from_world) poses.push_back(*image.cam_from_world);
    }
  }
  return geometry::UpFromCameras(poses);
}

// The model camera of the view, scaled uniformly to fit `width` x `height` and centred there
// (a different aspect shows more of the scene, never a stretched one).
Camera FitCamera(const Camera& model, int width, int height) {
  const double s = std::min(double(width) / model.width, double(height) / model.height);
  const Eigen::Vector2d pp = model.PrincipalPoint();
  Camera camera;
  camera.model = geometry::CameraModelId::kPinhole;
  camera.width = width, camera.height = height;
  camera.params = {model.FocalX() * s, model.FocalY() * s,
                   pp.x() * s + 0.5 * (width - model.width * s),
                   pp.y() * s + 0.5 * (height - model.height * s)};
  return camera;
}

Rigid3 ReadPoseFile(const fs::path& path) {
  std::ifstream file(path);
  FACET_CHECK(file.good(), "view: cannot open camera file '{}'", path.string());
  Eigen::Matrix4d m;
  for (int i = 0; i < 16; ++i) {
    FACET_CHECK(file >> m(i / 4, i % 4),
                "view: '{}' is not a 4x4 cam_from_world matrix (16 numbers, row by row)",
                path.string());
  }
  const Eigen::Matrix3d r = m.topLeftCorner<3, 3>();
  FACET_CHECK(m.row(3).isApprox(Eigen::RowVector4d(0, 0, 0, 1), 1e-9) &&
                  (r * r.transpose()).isApprox(Eigen::Matrix3d::Identity(), 1e-4) &&
                  r.determinant() > 0.0,
              "view: '{}' is not a rigid cam_from_world (rotation and translation, last row "
              "0 0 0 1)",
              path.string());
  return Rigid3(Eigen::Quaterniond(r).normalized(), m.topRightCorner<3, 1>());
}

struct View {
  Camera camera;
  Rigid3 cam_from_world;
};

View ChooseView(const ViewArgs& args, const Content& content, int width, int height) {
  const std::optional<datasets::Scene>& scene = content.scene;
  const std::string& spec = args.camera;
  if (spec.starts_with("orbit:")) {
    double azimuth_deg = 0.0;
    try {
      azimuth_deg = std::stod(spec.substr(6));
    } catch (const std::exception&) {
      throw UsageError("--camera orbit:DEG needs an angle in degrees (got '" + spec + "')");
    }
    Eigen::Vector3d centre;
    double radius = 1.0;
    RobustBounds(content, &centre, &radius);
    const Eigen::Vector3d up = SceneUp(scene ? &*scene : nullptr);
    const Eigen::Vector3d any =
        std::abs(up.x()) < 0.9 ? Eigen::Vector3d::UnitX() : Eigen::Vector3d::UnitY();
    const Eigen::Vector3d e1 = (any - any.dot(up) * up).normalized();
    const Eigen::Vector3d e2 = up.cross(e1);
    const double az = azimuth_deg * std::numbers::pi / 180.0, el = std::numbers::pi / 6.0;
    const Eigen::Vector3d dir =
        std::cos(el) * (std::cos(az) * e1 + std::sin(az) * e2) + std::sin(el) * up;
    // The bounds' sphere fills the 60 degree vertical field of view: distance r / sin(30).
    return {FovCamera(width, height, 60.0),
            geometry::LookAt(centre + 2.0 * radius * dir, centre, up)};
  }
  if (spec.starts_with("index:")) {
    int index = -1;
    try {
      index = std::stoi(spec.substr(6));
    } catch (const std::exception&) {
    }
    if (index < 0) throw UsageError("--camera index:N needs N >= 0 (got '" + spec + "')");
    FACET_CHECK(scene.has_value(),
                "view: --camera {} needs a COLMAP model with the cameras (a facet workspace's "
                "sparse/0); '{}' has none",
                spec, args.input.string());
    int i = 0;
    for (const auto& [id, image] : scene->images) {
      if (!image.cam_from_world) continue;
      if (i++ == index) {
        return {FitCamera(scene->cameras.at(image.camera_id), width, height),
                *image.cam_from_world};
      }
    }
    FACET_THROW("view: --camera {}: the model in '{}' has {} registered images", spec,
                content.model.string(), i);
  }
  return {FovCamera(width, height, 60.0), ReadPoseFile(spec)};
}

Eigen::Vector3f ParseBackground(const std::string& text) {
  Eigen::Vector3f rgb;
  char c1 = 0, c2 = 0;
  std::istringstream in(text);
  if (!(in >> rgb.x() >> c1 >> rgb.y() >> c2 >> rgb.z()) || c1 != ',' || c2 != ',' ||
      !(in >> std::ws).eof() || (rgb.array() < 0.0f).any() || (rgb.array() > 1.0f).any()) {
    throw UsageError("--background takes R,G,B in [0, 1] (got '" + text + "')");
  }
  return rgb;
}

void ParseSize(const std::string& text, int* width, int* height) {
  char x = 0;
  std::istringstream in(text);
  if (!(in >> *width >> x >> *height) || x != 'x' || !(in >> std::ws).eof() || *width < 1 ||
      *height < 1 || *width > 16384 || *height > 16384) {
    throw UsageError("--size takes WxH, each 1-16384 (got '" + text + "')");
  }
}

// The cameras' frustums (at a depth of 10% of the bounds' radius) and the grid (10 x 10 cells
// over three radii, in the scene's up plane through the 5th percentile of the positions' height)
// that content.layers asks for, as DrawLines segments.
geometry::PointCloud SceneLines(const Content& content) {
  geometry::PointCloud lines;
  if (!(content.layers & (kLayerCameras | kLayerGrid))) return lines;
  Eigen::Vector3d centre;
  double radius = 1.0;
  RobustBounds(content, &centre, &radius);
  if ((content.layers & kLayerCameras) && content.scene) {
    lines = viewer::FrustumLines(*content.scene, 0.1 * radius);
  }
  if (content.layers & kLayerGrid) {
    const Eigen::Vector3d up = SceneUp(content.scene ? &*content.scene : nullptr);
    std::vector<double> heights;
    for (const Eigen::Vector3d& p : ContentPositions(content)) {
      if (p.allFinite()) heights.push_back((p - centre).dot(up));
    }
    std::sort(heights.begin(), heights.end());
    const double floor = heights.empty() ? 0.0 : heights[heights.size() * 5 / 100];
    const geometry::PointCloud grid = viewer::GridLines(centre + floor * up, up, 1.5 * radius, 10);
    lines.points.insert(lines.points.end(), grid.points.begin(), grid.points.end());
    lines.colors.insert(lines.colors.end(), grid.colors.begin(), grid.colors.end());
  }
  return lines;
}

void RunView(const ViewArgs& args) {
  if (!args.offscreen) {
    throw UsageError("the interactive viewer is not built yet; use --offscreen --screenshot FILE");
  }
  if (args.screenshot.empty()) throw UsageError("--offscreen needs --screenshot FILE");
  int width = 0, height = 0;
  ParseSize(args.size, &width, &height);
  const Eigen::Vector3f background = ParseBackground(args.background);
  const unsigned layers = ParseLayers(args.layers);
  const Content content = LoadContent(args.input, layers, args.model);
  const View view = ChooseView(args, content, width, height);
  const geometry::PointCloud lines = SceneLines(content);

  const viewer::VulkanContext context;
  spdlog::info("view: rendering on {}", context.DeviceName());
  // Splats blend into a float target; the opaque layers are drawn into it first, with depth.
  const VkFormat color_format = content.splats ? viewer::OffscreenTarget::kHdrColorFormat
                                               : viewer::OffscreenTarget::kColorFormat;
  std::optional<viewer::GpuMesh> mesh, points, gpu_lines;
  if (content.mesh) mesh.emplace(context, *content.mesh);
  if (content.points) points.emplace(context, *content.points);
  if (!lines.empty()) gpu_lines.emplace(context, lines);
  const viewer::MeshPipelines pipelines(context, color_format,
                                        viewer::OffscreenTarget::kDepthFormat);
  viewer::MeshDrawOptions options;
  options.point_size_px = 2.0f;
  const auto draw_opaque = [&](VkCommandBuffer cmd) {
    if (mesh) pipelines.DrawTriangles(cmd, *mesh, view.camera, view.cam_from_world, options);
    if (points) pipelines.DrawPoints(cmd, *points, view.camera, view.cam_from_world, options);
    if (gpu_lines) {
      pipelines.DrawLines(cmd, *gpu_lines, view.camera, view.cam_from_world, options);
    }
  };
  ImageU8 image;
  if (content.splats) {
    viewer::SplatDrawOptions splat_options;
    splat_options.sh_degree = args.sh_degree;
    const viewer::GpuSplats splats(context, *content.splats);
    const viewer::SplatRenderer renderer(context, color_format,
                                         viewer::OffscreenTarget::kDepthFormat);
    const viewer::SplatImage result =
        viewer::RenderSplatsOffscreen(context, renderer, splats, view.camera, view.cam_from_world,
                                      splat_options, background, draw_opaque);
    spdlog::info("view: {} of {} splats visible", result.visible, splats.count());
    image = result.rgb;
  } else {
    const viewer::OffscreenTarget target(context, width, height, color_format);
    image = target.Render(background, draw_opaque).rgb;
  }
  WriteImage(args.screenshot, image);
  spdlog::info("view: wrote {} ({}x{})", args.screenshot.string(), width, height);
}

}  // namespace

Subcommand RegisterView(CLI::App& app) {
  auto args = std::make_shared<ViewArgs>();
  CLI::App* sub = app.add_subcommand(
      "view", "Render splats, a mesh or a point cloud with the Vulkan viewer (offscreen for now)");
  sub->add_option("input", args->input,
                  "3DGS .ply or .splat, mesh .ply/.glb, point cloud .ply/.pcd, or a facet "
                  "workspace (splats.ply + sparse/0)")
      ->required();
  sub->add_flag("--offscreen", args->offscreen, "Render one frame without a window");
  sub->add_option("--screenshot", args->screenshot, "Image to write (.png or .jpg)");
  sub->add_option("--size", args->size, "Image size WxH")->capture_default_str();
  sub->add_option("--camera", args->camera,
                  "orbit:DEG (around the content's robust bounds, 30 degrees up, 60 degree field "
                  "of view), index:N (the workspace model's N-th registered camera), or a text "
                  "file holding a 4x4 cam_from_world matrix")
      ->capture_default_str();
  sub->add_option("--model", args->model,
                  "A COLMAP model or workspace whose cameras index:N uses (default: the input "
                  "workspace's sparse/0)");
  sub->add_option("--layers", args->layers,
                  "What to draw, a comma list of splats, mesh, points (a workspace: its model's "
                  "sparse points), cameras (the model's camera frustums), grid (a ground grid). "
                  "Default: a workspace's splats,cameras; a file's content");
  sub->add_option("--sh-degree", args->sh_degree, "Splats: SH degree evaluated")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  sub->add_option("--background", args->background, "Background colour R,G,B in [0, 1]")
      ->capture_default_str();
  sub->footer(
      "Example: facet view out/ --offscreen --screenshot view.png --camera index:0\n"
      "         facet view out/ --layers splats,mesh,cameras,grid --offscreen --screenshot a.png\n"
      "The interactive window is not built yet.");
  return {sub, [args](const GlobalOptions&) { RunView(*args); }};
}

}  // namespace facet::apps
