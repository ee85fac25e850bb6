#include "apps/view_content.h"

#include <Eigen/Geometry>

#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>
#include <vector>

#include "apps/mesh_inputs.h"
#include "apps/usage_error.h"
#include "core/error.h"
#include "core/file_io.h"
#include "datasets/colmap_model.h"
#include "datasets/gaussian_splats.h"
#include "datasets/rgbd.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;
using geometry::Camera;
using geometry::Rigid3;

// PINHOLE camera of `width` x `height` with a vertical field of view of `fov_deg`.
Camera FovCamera(int width, int height, double fov_deg) {
  const double f = 0.5 * height / std::tan(0.5 * fov_deg * std::numbers::pi / 180.0);
  Camera camera;
  camera.model = geometry::CameraModelId::kPinhole;
  camera.width = width, camera.height = height;
  camera.params = {f, f, 0.5 * width, 0.5 * height};
  return camera;
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

// The pose of orbit:DEG: around the robust bounds, 30 degrees above the horizon, far enough for
// the bounds' sphere to fill a 60 degree vertical field of view (distance r / sin(30)).
Rigid3 OrbitPose(const std::string& spec, const viewer::SceneData& scene) {
  double azimuth_deg = 0.0;
  try {
    azimuth_deg = std::stod(spec.substr(6));
  } catch (const std::exception&) {
    throw UsageError("--camera orbit:DEG needs an angle in degrees (got '" + spec + "')");
  }
  const viewer::SceneBounds bounds = viewer::RobustBounds(scene);
  const Eigen::Vector3d up = viewer::SceneUp(scene);
  const Eigen::Vector3d any =
      std::abs(up.x()) < 0.9 ? Eigen::Vector3d::UnitX() : Eigen::Vector3d::UnitY();
  const Eigen::Vector3d e1 = (any - any.dot(up) * up).normalized();
  const Eigen::Vector3d e2 = up.cross(e1);
  const double az = azimuth_deg * std::numbers::pi / 180.0, el = std::numbers::pi / 6.0;
  const Eigen::Vector3d dir =
      std::cos(el) * (std::cos(az) * e1 + std::sin(az) * e2) + std::sin(el) * up;
  return geometry::LookAt(bounds.centre + 2.0 * bounds.radius * dir, bounds.centre, up);
}

// index:N's registered image: its index among the registered ones, camera and pose.
const datasets::Image& TrainingImage(const std::string& spec, const viewer::SceneData& scene,
                                     int* index_out) {
  int index = -1;
  try {
    index = std::stoi(spec.substr(6));
  } catch (const std::exception&) {
  }
  if (index < 0) throw UsageError("--camera index:N needs N >= 0 (got '" + spec + "')");
  FACET_CHECK(scene.model.has_value(),
              "view: --camera {} needs a COLMAP model with the cameras (a facet workspace's "
              "sparse/0, or --model); '{}' has none",
              spec, scene.name);
  int i = 0;
  for (const auto& [id, image] : scene.model->images) {
    if (!image.cam_from_world) continue;
    if (i++ == index) {
      *index_out = index;
      return image;
    }
  }
  FACET_THROW("view: --camera {}: the model of '{}' has {} registered images", spec, scene.name, i);
}

}  // namespace

std::optional<viewer::SceneLayers> ParseLayers(const std::string& text) {
  if (text.empty()) return std::nullopt;
  viewer::SceneLayers layers;
  bool any = false;
  std::istringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    bool* layer = name == "splats"       ? &layers.splats
                  : name == "mesh"       ? &layers.mesh
                  : name == "points"     ? &layers.points
                  : name == "cameras"    ? &layers.cameras
                  : name == "grid"       ? &layers.grid
                  : name == "photos"     ? &layers.photos
                  : name == "trajectory" ? &layers.trajectory
                                         : nullptr;
    if (layer == nullptr) {
      throw UsageError(
          "--layers takes a comma list of splats, mesh, points, cameras, grid, photos, trajectory "
          "(got '" +
          name + "' in '" + text + "')");
    }
    *layer = any = true;
  }
  if (!any) throw UsageError("--layers names no layer (got '" + text + "')");
  return layers;
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

viewer::SceneData LoadViewScene(const fs::path& path, const ViewLoadOptions& options,
                                std::atomic<float>* progress) {
  const auto report = [progress](float value) {
    if (progress != nullptr) progress->store(value);
  };
  FACET_CHECK(fs::exists(path), "view: '{}' does not exist", path.string());
  viewer::SceneData scene;
  scene.name =
      path.filename().empty() ? path.parent_path().filename().string() : path.filename().string();
  const bool splat_file = !fs::is_directory(path) && LowercaseExtension(path) == ".splat";
  // `facet slam`'s output: trajectory.log and mesh.glb, no splats, no COLMAP model.
  const bool slam_output = fs::is_directory(path) && fs::exists(path / "trajectory.log") &&
                           !fs::exists(path / "splats.ply") && !fs::exists(path / "sparse");
  MeshInput input;
  fs::path model;
  fs::path trajectory = options.trajectory;
  if (splat_file) {
    input.kind = MeshInputKind::kSplats;
  } else if (slam_output) {
    input.kind = MeshInputKind::kMesh;
    input.file = path / "mesh.glb";
    FACET_CHECK(fs::exists(input.file), "view: '{}' has trajectory.log but no mesh.glb",
                path.string());
    if (trajectory.empty()) trajectory = path / "trajectory.log";
  } else {
    input = ClassifyMeshInput(path);
    model = input.model;
  }
  if (!options.model.empty()) model = FindCameraModel(options.model);
  const bool workspace = fs::is_directory(path);
  const fs::path workspace_mesh = path / "mesh.glb";
  viewer::SceneLayers layers;
  if (options.layers) {
    layers = *options.layers;
  } else {
    switch (input.kind) {
      case MeshInputKind::kSplats:
        layers.splats = true;
        layers.cameras = workspace && !model.empty();
        break;
      case MeshInputKind::kMesh:
        layers.mesh = true;
        layers.trajectory = slam_output;
        break;
      case MeshInputKind::kPoints:
        layers.points = true;
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
  const bool has_splats = splat_file || input.kind == MeshInputKind::kSplats;
  if (layers.splats && !has_splats) {
    missing("splats", "splats (a 3DGS .ply or .splat, or a workspace's splats.ply)");
  }
  if (has_splats && (layers.splats || options.load_all)) {
    report(0.02f);
    // Reading the splats is most of a big workspace's load: 2% to 80% of the bar.
    scene.splats = splat_file ? datasets::ReadSplat(path)
                              : datasets::ReadGaussianPly(input.file, [&](double fraction) {
                                  report(float(0.02 + 0.78 * fraction));
                                });
  }
  report(0.8f);
  const bool has_mesh =
      input.kind == MeshInputKind::kMesh || (workspace && fs::exists(workspace_mesh));
  if (layers.mesh && !has_mesh) {
    missing("mesh", "mesh (a .ply with faces, a .glb, or a workspace's mesh.glb)");
  }
  if (has_mesh && (layers.mesh || options.load_all)) {
    MeshInput mesh_input = input;
    if (input.kind != MeshInputKind::kMesh) {
      mesh_input = {};
      mesh_input.kind = MeshInputKind::kMesh;
      mesh_input.file = workspace_mesh;
    }
    scene.mesh = ReadMeshInput(mesh_input);
  }
  report(0.9f);
  if (!model.empty()) {
    scene.model = datasets::ReadColmapModel(model);
    // A workspace keeps its (undistorted) photos in images/ beside sparse/0.
    for (fs::path dir = model; !dir.empty() && dir != dir.parent_path(); dir = dir.parent_path()) {
      if (fs::is_directory(dir / "images")) {
        scene.images_dir = dir / "images";
        break;
      }
    }
  }
  if (input.kind == MeshInputKind::kPoints) {
    scene.points = ReadPointsInput(input, nullptr);
  } else if ((layers.points || options.load_all) && scene.model && !scene.model->points3d.empty()) {
    scene.points.emplace();
    for (const auto& [id, point] : scene.model->points3d) {
      scene.points->points.push_back(point.xyz);
      scene.points->colors.push_back(point.color.cast<float>() / 255.0f);
    }
  }
  if (layers.points && !scene.points) {
    missing("points", "points (a point cloud, or a COLMAP model with sparse points)");
  }
  if (layers.cameras && !scene.model) {
    missing("cameras", "COLMAP model (sparse/0) with the cameras; --model gives one");
  }
  if (!trajectory.empty()) {
    for (const datasets::TrajectoryEntry& entry : datasets::ReadTrajectoryLog(trajectory)) {
      const Eigen::Matrix3d r = entry.world_from_cam.topLeftCorner<3, 3>();
      const geometry::Rigid3 world_from_cam(Eigen::Quaterniond(r).normalized(),
                                            entry.world_from_cam.topRightCorner<3, 1>());
      scene.trajectory.push_back(world_from_cam.Inverse());
    }
    if (!options.trajectory.empty() && !options.layers) layers.trajectory = true;
  }
  if (layers.trajectory && scene.trajectory.empty()) {
    missing("trajectory", "trajectory (a `facet slam` folder's trajectory.log, or --trajectory)");
  }
  if (layers.photos && scene.images_dir.empty()) {
    missing("photos", "photos (a workspace's images/ beside its model)");
  }
  scene.layers = layers;
  if (scene.model && !scene.images_dir.empty() && (layers.photos || options.load_all)) {
    viewer::FrustumThumbnailOptions thumbnails;
    thumbnails.depth = viewer::FrustumDepth(viewer::RobustBounds(scene));
    scene.thumbnails = viewer::LoadFrustumThumbnails(*scene.model, scene.images_dir, thumbnails);
    // The window shows them with the frustums.
    if (options.load_all && !options.layers) scene.layers.photos = layers.cameras;
  }
  report(1.0f);
  return scene;
}

ViewPose ChooseViewPose(const std::string& spec, const viewer::SceneData& scene, int width,
                        int height) {
  ViewPose view;
  if (spec.starts_with("orbit:")) {
    view.camera = FovCamera(width, height, 60.0);
    view.cam_from_world = OrbitPose(spec, scene);
  } else if (spec.starts_with("index:")) {
    const datasets::Image& image = TrainingImage(spec, scene, &view.training_camera);
    view.camera = FitCamera(scene.model->cameras.at(image.camera_id), width, height);
    view.cam_from_world = *image.cam_from_world;
  } else {
    view.camera = FovCamera(width, height, 60.0);
    view.cam_from_world = ReadPoseFile(spec);
  }
  return view;
}

viewer::InitialView ChooseInitialView(const std::string& spec, const viewer::SceneData& scene) {
  viewer::InitialView view;
  if (spec.starts_with("index:")) {
    const datasets::Image& image = TrainingImage(spec, scene, &view.training_camera);
    const Camera& camera = scene.model->cameras.at(image.camera_id);
    view.fov_deg =
        2.0 * std::atan(0.5 * camera.height / camera.FocalY()) * 180.0 / std::numbers::pi;
    view.cam_from_world = *image.cam_from_world;
  } else {
    view.cam_from_world = ChooseViewPose(spec, scene, 640, 480).cam_from_world;
  }
  return view;
}

}  // namespace facet::apps
