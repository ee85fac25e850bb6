// `facet view`: renders splats (3DGS .ply / .splat, or a facet workspace), a mesh (.ply with
// faces, .glb) or a point cloud with the Vulkan viewer (viewer/). For now only offscreen: one
// frame from one camera written as an image; the interactive window is not built yet.
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
#include "core/image_io.h"
#include "datasets/colmap_model.h"
#include "datasets/gaussian_splats.h"
#include "viewer/mesh_pipeline.h"
#include "viewer/offscreen.h"
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
  fs::path model;  // --model: the cameras of index:N (default: the input workspace's)
};

// What is shown: exactly one of splats, mesh, points; plus the COLMAP model of a workspace.
struct Content {
  std::optional<datasets::GaussianSplats> splats;
  std::optional<geometry::TriangleMesh> mesh;
  std::optional<geometry::PointCloud> points;
  fs::path model;  // empty without one
};

Content LoadContent(const fs::path& path) {
  FACET_CHECK(fs::exists(path), "view: '{}' does not exist", path.string());
  Content content;
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (!fs::is_directory(path) && ext == ".splat") {
    content.splats = datasets::ReadSplat(path);
    return content;
  }
  const MeshInput input = ClassifyMeshInput(path);
  content.model = input.model;
  switch (input.kind) {
    case MeshInputKind::kSplats:
      content.splats = datasets::ReadGaussianPly(input.file);
      break;
    case MeshInputKind::kMesh:
      content.mesh = ReadMeshInput(input);
      break;
    case MeshInputKind::kPoints:
      content.points = ReadPointsInput(input, nullptr);
      break;
    default:
      FACET_THROW(
          "view: cannot show '{}' ({}): give splats (.ply, .splat, a facet workspace), a "
          "mesh (.ply, .glb) or a point cloud (.ply, .pcd)",
          path.string(), ToString(input.kind));
  }
  return content;
}

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

// Centre and radius of the robust bounds: per axis, the 5th to 95th percentile of the positions
// (stray splats and outlier points do not move the camera away). Unit sphere when empty.
void RobustBounds(const Content& content, Eigen::Vector3d* centre, double* radius) {
  std::vector<Eigen::Vector3d> positions = ContentPositions(content);
  std::erase_if(positions, [](const Eigen::Vector3d& p) { return !p.allFinite(); });
  if (positions.empty()) {
    *centre = Eigen::Vector3d::Zero(), *radius = 1.0;
    return;
  }
  Eigen::Vector3d lo, hi;
  std::vector<double> xs(positions.size());
  for (int k = 0; k < 3; ++k) {
    for (std::size_t i = 0; i < positions.size(); ++i) xs[i] = positions[i][k];
    std::sort(xs.begin(), xs.end());
    lo[k] = xs[xs.size() * 5 / 100];
    hi[k] = xs[std::min(xs.size() - 1, xs.size() * 95 / 100)];
  }
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
Rigid3 LookAt(const Eigen::Vector3d& eye, const Eigen::Vector3d& target,
              const Eigen::Vector3d& up) {
  const Eigen::Vector3d forward = (target - eye).normalized();
  const Eigen::Vector3d right = forward.cross(up).normalized();
  const Eigen::Vector3d down = forward.cross(right);
  Eigen::Matrix3d world_from_cam;
  world_from_cam << right, down, forward;
  const Eigen::Matrix3d r = world_from_cam.transpose();
  return Rigid3(Eigen::Quaterniond(r), -(r * eye));
}

// Scene up: the mean of the registered cameras' up (-y) axes, else +z.
Eigen::Vector3d SceneUp(const datasets::Scene* scene) {
  Eigen::Vector3d sum = Eigen::Vector3d::Zero();
  if (scene != nullptr) {
    for (const auto& [id, image] : scene->images) {
      if (image.cam_from_world) {
        sum -= image.cam_from_world->rotation.toRotationMatrix().row(1).transpose();
      }
    }
  }
  return sum.norm() > 1e-9 ? Eigen::Vector3d(sum.normalized()) : Eigen::Vector3d::UnitZ();
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
  std::optional<datasets::Scene> scene;
  if (!content.model.empty()) scene = datasets::ReadColmapModel(content.model);
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
    return {FovCamera(width, height, 60.0), LookAt(centre + 2.0 * radius * dir, centre, up)};
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

void RunView(const ViewArgs& args) {
  if (!args.offscreen) {
    throw UsageError("the interactive viewer is not built yet; use --offscreen --screenshot FILE");
  }
  if (args.screenshot.empty()) throw UsageError("--offscreen needs --screenshot FILE");
  int width = 0, height = 0;
  ParseSize(args.size, &width, &height);
  const Eigen::Vector3f background = ParseBackground(args.background);
  Content content = LoadContent(args.input);
  if (!args.model.empty()) content.model = FindCameraModel(args.model);
  const View view = ChooseView(args, content, width, height);

  const viewer::VulkanContext context;
  spdlog::info("view: rendering on {}", context.DeviceName());
  ImageU8 image;
  if (content.splats) {
    viewer::SplatDrawOptions options;
    options.sh_degree = args.sh_degree;
    const viewer::GpuSplats splats(context, *content.splats);
    const viewer::SplatRenderer renderer(context, viewer::OffscreenTarget::kHdrColorFormat,
                                         viewer::OffscreenTarget::kDepthFormat);
    const viewer::SplatImage result = viewer::RenderSplatsOffscreen(
        context, renderer, splats, view.camera, view.cam_from_world, options, background);
    spdlog::info("view: {} of {} splats visible", result.visible, splats.count());
    image = result.rgb;
  } else {
    const viewer::GpuMesh mesh = content.mesh ? viewer::GpuMesh(context, *content.mesh)
                                              : viewer::GpuMesh(context, *content.points);
    const viewer::MeshPipelines pipelines(context, viewer::OffscreenTarget::kColorFormat,
                                          viewer::OffscreenTarget::kDepthFormat);
    viewer::MeshDrawOptions options;
    options.point_size_px = 2.0f;
    const viewer::OffscreenTarget target(context, width, height);
    image =
        target
            .Render(background,
                    [&](VkCommandBuffer cmd) {
                      if (content.mesh) {
                        pipelines.DrawTriangles(cmd, mesh, view.camera, view.cam_from_world,
                                                options);
                      } else {
                        pipelines.DrawPoints(cmd, mesh, view.camera, view.cam_from_world, options);
                      }
                    })
            .rgb;
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
  sub->add_option("--sh-degree", args->sh_degree, "Splats: SH degree evaluated")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  sub->add_option("--background", args->background, "Background colour R,G,B in [0, 1]")
      ->capture_default_str();
  sub->footer(
      "Example: facet view out/ --offscreen --screenshot view.png --camera index:0\n"
      "The interactive window is not built yet.");
  return {sub, [args](const GlobalOptions&) { RunView(*args); }};
}

}  // namespace facet::apps
