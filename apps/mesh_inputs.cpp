#include "apps/mesh_inputs.h"

#include <algorithm>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/colmap_model.h"
#include "datasets/gaussian_splats.h"
#include "datasets/gltf.h"
#include "datasets/pcd.h"
#include "datasets/ply.h"

namespace facet::apps {

namespace fs = std::filesystem;

std::string_view ToString(MeshInputKind kind) {
  switch (kind) {
    case MeshInputKind::kRgbdTum:
      return "TUM RGB-D sequence";
    case MeshInputKind::kRgbdRedwood:
      return "Redwood RGB-D sequence";
    case MeshInputKind::kSplats:
      return "3DGS splats";
    case MeshInputKind::kPoints:
      return "point cloud";
    case MeshInputKind::kMesh:
      return "mesh";
    case MeshInputKind::kNerf:
      return "NeRF snapshot";
  }
  return "?";
}

namespace {

// The COLMAP model of a workspace (OUT/sparse/0), of a COLMAP layout (scene/sparse/0 or
// scene/sparse), or the folder itself; empty when there is none.
fs::path FindModel(const fs::path& folder) {
  for (const fs::path& candidate : {folder / "sparse" / "0", folder / "sparse", folder}) {
    if (fs::is_directory(candidate) && datasets::FindColmapModel(candidate)) return candidate;
  }
  return {};
}

bool IsSplatPly(const datasets::PlyHeader& header) {
  const datasets::PlyElement* vertex = header.FindElement("vertex");
  return vertex != nullptr && vertex->FindProperty("opacity") >= 0 &&
         vertex->FindProperty("scale_0") >= 0 && vertex->FindProperty("rot_0") >= 0;
}

}  // namespace

fs::path FindCameraModel(const fs::path& folder) {
  const fs::path model = FindModel(folder);
  FACET_CHECK(!model.empty(),
              "mesh: '{}' holds no COLMAP model (cameras, images, points3D; itself, sparse/0 or "
              "sparse)",
              folder.string());
  return model;
}

MeshInput ClassifyMeshInput(const fs::path& path) {
  FACET_CHECK(fs::exists(path), "mesh: '{}' does not exist", path.string());
  MeshInput input;
  input.path = path;
  if (fs::is_directory(path)) {
    if (fs::exists(path / "rgb.txt") && fs::exists(path / "depth.txt")) {
      input.kind = MeshInputKind::kRgbdTum;
      return input;
    }
    if (fs::is_directory(path / "depth") &&
        (fs::is_directory(path / "image") || fs::is_directory(path / "color") ||
         fs::is_directory(path / "rgb"))) {
      input.kind = MeshInputKind::kRgbdRedwood;
      return input;
    }
    input.model = FindModel(path);
    if (fs::exists(path / "splats.ply")) {
      input.kind = MeshInputKind::kSplats;
      input.file = path / "splats.ply";
      return input;
    }
    FACET_CHECK(!input.model.empty(),
                "mesh: '{}' is not a facet workspace (splats.ply or sparse/0), a COLMAP model or "
                "an RGB-D folder (TUM: rgb.txt + depth.txt; Redwood: depth/ + image/)",
                path.string());
    input.kind = MeshInputKind::kPoints;
    return input;
  }
  input.file = path;
  const std::string ext = LowercaseExtension(path);
  if (ext == ".glb") {
    input.kind = MeshInputKind::kMesh;
  } else if (ext == ".pcd") {
    input.kind = MeshInputKind::kPoints;
  } else if (ext == ".ply") {
    const datasets::PlyHeader header = datasets::ReadPlyHeader(path);
    const datasets::PlyElement* face = header.FindElement("face");
    if (face != nullptr && face->count > 0) {
      input.kind = MeshInputKind::kMesh;
    } else if (IsSplatPly(header)) {
      input.kind = MeshInputKind::kSplats;
      input.model = FindModel(path.parent_path().empty() ? fs::path(".") : path.parent_path());
    } else {
      input.kind = MeshInputKind::kPoints;
    }
  } else if (ext == ".bin") {
    input.kind = MeshInputKind::kNerf;
  } else {
    FACET_THROW(
        "mesh: cannot read '{}': give a .ply (points, mesh or 3DGS splats), .pcd, .glb or NeRF "
        ".bin file, "
        "a facet workspace, a COLMAP model or an RGB-D folder",
        path.string());
  }
  return input;
}

datasets::RgbdSequence ReadRgbdInput(const MeshInput& input, const RgbdInputOptions& options) {
  datasets::RgbdSequence sequence;
  std::optional<geometry::Camera> camera;
  if (!options.intrinsics.empty()) camera = datasets::ReadSequenceCameraFile(options.intrinsics);
  if (input.kind == MeshInputKind::kRgbdTum) {
    datasets::TumReadOptions tum;
    tum.camera = camera;
    sequence = datasets::ReadTumSequence(input.path, tum);
    if (options.depth_scale > 0.0) sequence.depth_scale = options.depth_scale;
  } else {
    FACET_CHECK(input.kind == MeshInputKind::kRgbdRedwood, "'{}' is not an RGB-D folder",
                input.path.string());
    if (!camera && fs::exists(input.path / "cameras.txt")) {
      camera = datasets::ReadSequenceCameraFile(input.path / "cameras.txt");
    }
    if (!camera) {
      // Open3D's PrimeSenseDefault, the intrinsics of the Redwood sequences.
      camera = geometry::CameraFromOpenCvIntrinsics(525.0, 525.0, 319.5, 239.5, 640, 480);
    }
    datasets::RedwoodReadOptions redwood;
    if (options.depth_scale > 0.0) redwood.depth_scale = options.depth_scale;
    redwood.trajectory_log = options.trajectory;
    if (redwood.trajectory_log.empty()) {
      std::vector<fs::path> logs;
      for (const auto& entry : fs::directory_iterator(input.path)) {
        if (entry.is_regular_file() && LowercaseExtension(entry.path()) == ".log") {
          logs.push_back(entry.path());
        }
      }
      FACET_CHECK(logs.size() == 1 || (!options.require_poses && logs.empty()),
                  "'{}' has {} trajectory .log files; name the one with the camera poses "
                  "with --trajectory",
                  input.path.string(), logs.size());
      // Relative to the sequence folder, as ReadRedwoodSequence reads it.
      if (!logs.empty()) redwood.trajectory_log = logs.front().filename();
    }
    sequence = datasets::ReadRedwoodSequence(input.path, *camera, redwood);
  }
  if (!options.require_poses) return sequence;
  std::erase_if(sequence.frames, [](const datasets::RgbdFrame& f) { return !f.world_from_cam; });
  FACET_CHECK(!sequence.frames.empty(),
              "mesh: no frame of '{}' has a camera pose (TUM: groundtruth.txt; Redwood: a "
              "trajectory .log): TSDF fusion needs posed frames (run `facet slam` first)",
              input.path.string());
  return sequence;
}

geometry::PointCloud ReadPointsInput(const MeshInput& input,
                                     std::vector<Eigen::Vector3d>* camera_centers) {
  geometry::PointCloud cloud;
  if (!input.file.empty()) {
    cloud = LowercaseExtension(input.file) == ".pcd" ? datasets::ReadPcd(input.file)
                                                     : datasets::ReadPointCloudPly(input.file);
  }
  if (!input.model.empty()) {
    const datasets::Scene scene = datasets::ReadColmapModel(input.model);
    if (input.file.empty()) {
      for (const auto& [id, point] : scene.points3d) {
        cloud.points.push_back(point.xyz);
        cloud.colors.push_back(point.color.cast<float>() / 255.0f);
      }
    }
    if (camera_centers != nullptr) {
      for (const auto& [id, image] : scene.images) {
        if (image.IsRegistered()) camera_centers->push_back(CameraCenter(*image.cam_from_world));
      }
    }
  }
  FACET_CHECK(!cloud.empty(), "mesh: '{}' holds no points", input.path.string());
  return cloud;
}

geometry::TriangleMesh ReadMeshInput(const MeshInput& input) {
  geometry::TriangleMesh mesh = LowercaseExtension(input.file) == ".glb"
                                    ? datasets::ReadGlb(input.file)
                                    : datasets::ReadMeshPly(input.file);
  FACET_CHECK(!mesh.triangles.empty(), "mesh: '{}' has no triangles", input.file.string());
  return mesh;
}

SplatsInput ReadSplatsInput(const MeshInput& input, int max_views, int orbit_views,
                            int render_size) {
  SplatsInput out;
  out.model = splatting::FromSplats(datasets::ReadGaussianPly(input.file));
  FACET_CHECK(!out.model.empty(), "mesh: '{}' holds no Gaussians", input.file.string());
  if (!input.model.empty()) {
    const datasets::Scene scene = datasets::ReadColmapModel(input.model);
    std::vector<const datasets::Image*> registered;
    for (const auto& [id, image] : scene.images) {
      if (image.IsRegistered()) registered.push_back(&image);
    }
    const std::size_t step =
        std::max<std::size_t>(1, (registered.size() + std::size_t(max_views) - 1) / max_views);
    for (std::size_t i = 0; i < registered.size(); i += step) {
      const geometry::Camera& camera = scene.cameras.at(registered[i]->camera_id);
      // The pinhole part of the camera: renders need no distortion.
      geometry::Camera pinhole = geometry::Camera::Create(
          geometry::CameraModelId::kPinhole, camera.FocalX(), camera.width, camera.height);
      const Eigen::Vector2d pp = camera.PrincipalPoint();
      pinhole.params = {camera.FocalX(), camera.FocalY(), pp.x(), pp.y()};
      out.views.push_back({pinhole, *registered[i]->cam_from_world});
    }
  }
  if (out.views.empty()) {
    out.views = splatting::OrbitViews(splatting::RobustBounds(out.model), orbit_views, render_size);
    out.orbit = true;
  }
  return out;
}

}  // namespace facet::apps
