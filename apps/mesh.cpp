// `facet mesh`: a closed, manifold, coloured triangle mesh from RGB-D frames (TSDF fusion),
// trained splats (TSDF fusion of their rendered depth), points (screened Poisson) or another mesh
// (re-meshing through its signed distance field), cleaned, decimated and written as .glb, .ply
// or .obj.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/command.h"
#include "apps/mesh_inputs.h"
#include "apps/usage_error.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "core/memory.h"
#include "core/progress.h"
#include "core/timer.h"
#include "datasets/gltf.h"
#include "datasets/obj.h"
#include "datasets/ply.h"
#include "datasets/training_data.h"
#include "geometry/mesh_checks.h"
#include "geometry/mesh_photo_colors.h"
#include "geometry/mesh_processing.h"
#include "geometry/mesh_sdf.h"
#include "geometry/normals.h"
#include "geometry/poisson.h"
#include "geometry/tsdf_volume.h"
#include "nerf/nerf_mesh.h"
#include "nerf/snapshot.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;

struct MeshArgs {
  fs::path input;
  fs::path output;
  std::string method = "auto";
  double voxel = 0.0;
  int resolution = 0;
  double truncation = 0.0;
  int depth = 8;
  double trim = 0.0;
  std::size_t faces = 0;
  int smooth = 0;
  double min_component = 0.01;
  bool open = false;
  bool no_colors = false;
  RgbdInputOptions rgbd;
  int every = 1;
  double depth_max = 3.0;
  int views = 200;
  int orbit_views = 96;
  int render_size = 800;
  bool render_size_given = false;
  fs::path model;
  fs::path images;
  std::vector<double> crop;
  fs::path summary;
};

std::optional<geometry::Bounds3> CropBox(const std::vector<double>& crop) {
  if (crop.empty()) return std::nullopt;
  geometry::Bounds3 box;
  box.Extend(Eigen::Vector3d(crop[0], crop[1], crop[2]));
  box.Extend(Eigen::Vector3d(crop[3], crop[4], crop[5]));
  if (!(crop[0] < crop[3] && crop[1] < crop[4] && crop[2] < crop[5])) {
    throw UsageError("--crop wants MINX MINY MINZ MAXX MAXY MAXZ with each min below its max");
  }
  return box;
}

std::string ResolveMethod(const std::string& method, MeshInputKind kind) {
  const bool rgbd = kind == MeshInputKind::kRgbdTum || kind == MeshInputKind::kRgbdRedwood;
  if (method == "auto") {
    if (rgbd || kind == MeshInputKind::kSplats || kind == MeshInputKind::kNerf) return "tsdf";
    return kind == MeshInputKind::kMesh ? "sdf" : "poisson";
  }
  const bool ok =
      (method == "tsdf" &&
       (rgbd || kind == MeshInputKind::kSplats || kind == MeshInputKind::kNerf)) ||
      (method == "poisson" && (kind == MeshInputKind::kPoints || kind == MeshInputKind::kMesh)) ||
      (method == "sdf" && kind == MeshInputKind::kMesh);
  if (!ok) {
    throw UsageError(
        fmt::format("--method {} does not apply to a {} (tsdf: RGB-D folders, splats and NeRFs; "
                    "poisson: points "
                    "and meshes; sdf: meshes)",
                    method, ToString(kind)));
  }
  return method;
}

geometry::TriangleMesh MeshRgbd(const MeshInput& input, const MeshArgs& args, Backend backend) {
  const datasets::RgbdSequence sequence = ReadRgbdInput(input, args.rgbd);
  geometry::TsdfVolume::Options options;
  options.voxel_size = args.voxel > 0.0 ? args.voxel : 0.01;
  options.truncation = args.truncation;
  options.depth_max = args.depth_max;
  options.with_color = !args.no_colors;
  options.backend = backend;
  options.crop = CropBox(args.crop);
  geometry::TsdfVolume volume(options);
  const std::int64_t frames = (std::int64_t(sequence.frames.size()) + args.every - 1) / args.every;
  ProgressBar bar(frames, {.label = "tsdf", .unit = "frames"});
  for (std::size_t i = 0; i < sequence.frames.size(); i += std::size_t(args.every)) {
    const datasets::RgbdFrame& frame = sequence.frames[i];
    const ImageF32 depth = datasets::LoadDepthMeters(frame.depth_path, sequence.depth_scale);
    ImageU8 rgb;
    if (options.with_color) rgb = ReadImage<std::uint8_t>(frame.color_path, {.channels = 3});
    volume.Integrate(depth.view(), rgb.view(), sequence.camera, *frame.CamFromWorld());
    bar.Add();
  }
  bar.Finish();
  spdlog::info("mesh: fused {} frames into {} voxel blocks ({:.0f} MiB), voxel {:.4g}",
               volume.frame_count(), volume.grid().block_count(), volume.MemoryBytes() / 1048576.0,
               options.voxel_size);
  geometry::SurfaceExtractionOptions extraction;
  extraction.unknown = args.open ? geometry::SurfaceExtractionOptions::Unknown::kOpen
                                 : geometry::SurfaceExtractionOptions::Unknown::kClose;
  extraction.backend = backend;
  return volume.ExtractMesh(extraction);
}

geometry::TriangleMesh MeshSplats(const MeshInput& input, const MeshArgs& args, Backend backend) {
  MeshInput with_model = input;
  if (!args.model.empty()) with_model.model = FindCameraModel(args.model);
  const SplatsInput splats =
      ReadSplatsInput(with_model, args.views, args.orbit_views, args.render_size);
  spdlog::info("mesh: {} Gaussians, rendered from {} {}", splats.model.size(), splats.views.size(),
               splats.orbit ? "orbit views" : "training cameras");
  splatting::SplatFusionOptions options;
  options.voxel_size = args.voxel;
  if (args.resolution > 0) options.resolution = args.resolution;
  options.truncation = args.truncation;
  options.max_size = args.render_size;
  options.backend = backend;
  options.crop = CropBox(args.crop);
  ProgressBar bar(std::int64_t(splats.views.size()), {.label = "tsdf", .unit = "views"});
  const geometry::TsdfVolume volume = FuseSplats(splats.model, splats.views, options, &bar);
  bar.Finish();
  geometry::SurfaceExtractionOptions extraction;
  extraction.unknown = args.open ? geometry::SurfaceExtractionOptions::Unknown::kOpen
                                 : geometry::SurfaceExtractionOptions::Unknown::kClose;
  extraction.backend = backend;
  extraction.colors = !args.no_colors;
  return volume.ExtractMesh(extraction);
}

// A NeRF snapshot: depth and colour rendered from an orbit of views around its scene box (the
// snapshot holds no cameras), fused by TSDF (nerf/nerf_mesh.h).
geometry::TriangleMesh MeshNerfSnapshot(const MeshInput& input, const MeshArgs& args) {
  const nerf::NerfSnapshot snapshot = nerf::ReadNerfSnapshot(input.file);
  const nerf::NerfField field = nerf::FieldOf(snapshot);
  nerf::OccupancyGrid grid(snapshot.aabb_min, snapshot.aabb_max, snapshot.occupancy_options);
  grid.SetValues(snapshot.occupancy);
  // NeRF renders cost a ray march per pixel on the CPU: smaller views than for splats.
  const int size = args.render_size_given ? args.render_size : 256;
  std::vector<nerf::NerfMeshView> views;
  for (const splatting::SplatFusionView& view : splatting::OrbitViews(
           geometry::Bounds3{snapshot.aabb_min.cast<double>(), snapshot.aabb_max.cast<double>()},
           args.orbit_views, size)) {
    views.push_back({view.camera, view.cam_from_world});
  }
  spdlog::info("mesh: NeRF of {} steps, rendered from {} orbit views at {}x{}", snapshot.step,
               views.size(), size, size);
  nerf::NerfMeshOptions options;
  options.voxel_size = args.voxel;
  if (args.resolution > 0) options.resolution = args.resolution;
  options.truncation = args.truncation;
  geometry::TsdfVolume volume = nerf::FuseNerf(field, grid, views, options);
  geometry::SurfaceExtractionOptions extraction;
  extraction.unknown = args.open ? geometry::SurfaceExtractionOptions::Unknown::kOpen
                                 : geometry::SurfaceExtractionOptions::Unknown::kClose;
  extraction.colors = !args.no_colors;
  return volume.ExtractMesh(extraction);
}

// Colours the mesh of a workspace or COLMAP model from its photos (undistorted, at most 800 px),
// where each vertex is visible; keeps the points' colours when the photos cannot be found.
void ColorFromPhotos(const MeshInput& input, const MeshArgs& args, geometry::TriangleMesh& mesh) {
  datasets::TrainingDataOptions data;
  data.max_size = 800;
  data.holdout_every = 0;
  if (!args.images.empty()) data.image_dir = args.images;
  datasets::TrainingData photos;
  try {
    photos = datasets::LoadTrainingData(input.path, data);
  } catch (const Error& e) {
    spdlog::warn("mesh: colours from the sparse points only: the photos could not be loaded ({})",
                 e.what());
    return;
  }
  std::vector<geometry::PhotoView> views;
  for (const datasets::TrainingView& view : photos.train) {
    views.push_back({view.camera, view.cam_from_world, view.image.view()});
  }
  geometry::PhotoColorOptions options;
  options.two_sided = true;  // Poisson may close a room around the cameras (seen from inside)
  const std::size_t seen = geometry::ColorVerticesFromPhotos(mesh, views, options);
  spdlog::info("mesh: coloured {} of {} vertices from {} photos", seen, mesh.vertices.size(),
               views.size());
}

geometry::TriangleMesh MeshPoints(const MeshInput& input, const MeshArgs& args) {
  geometry::PointCloud cloud;
  std::vector<Eigen::Vector3d> centers;
  if (input.kind == MeshInputKind::kMesh) {
    geometry::TriangleMesh mesh = ReadMeshInput(input);
    mesh.ComputeVertexNormals();
    cloud.points = mesh.vertices;
    cloud.normals = mesh.vertex_normals;
    if (mesh.HasVertexColors()) cloud.colors = mesh.vertex_colors;
  } else {
    cloud = ReadPointsInput(input, &centers);
  }
  if (!cloud.HasNormals()) {
    spdlog::info("mesh: {} points without normals: estimating and orienting them", cloud.size());
    geometry::EstimateNormals(cloud);
    if (!centers.empty()) {
      geometry::OrientNormalsTowardsCameras(cloud, centers);
    } else {
      geometry::OrientNormalsConsistently(cloud);
    }
  }
  geometry::PoissonOptions options;
  options.depth = args.depth;
  options.density_trim_quantile = args.trim;
  geometry::PoissonResult result = geometry::ReconstructPoisson(cloud, options);
  if (cloud.HasColors() && !args.no_colors && !result.mesh.triangles.empty()) {
    geometry::TransferVertexColors(result.mesh, cloud);
  }
  if (!input.model.empty() && !args.no_colors && !result.mesh.triangles.empty()) {
    ColorFromPhotos(input, args, result.mesh);
  }
  spdlog::info("mesh: Poisson depth {} ({:.4g} voxel), {} unknowns, {:.1f} s", options.depth,
               result.stats.voxel_size, result.stats.finest_unknowns, result.stats.total_seconds);
  return std::move(result.mesh);
}

geometry::TriangleMesh MeshMesh(const MeshInput& input, const MeshArgs& args) {
  const geometry::TriangleMesh mesh = ReadMeshInput(input);
  geometry::MeshSdfOptions options;
  const geometry::Bounds3 bounds = geometry::ComputeBounds(mesh.vertices);
  options.voxel_size = args.voxel > 0.0
                           ? args.voxel
                           : bounds.Extent().norm() / (args.resolution > 0 ? args.resolution : 256);
  spdlog::info("mesh: re-meshing {} triangles through their signed distance field, voxel {:.4g}",
               mesh.triangles.size(), options.voxel_size);
  return geometry::RemeshWatertight(mesh, options);
}

void WriteMesh(const fs::path& path, const geometry::TriangleMesh& mesh) {
  const std::string ext = LowercaseExtension(path);
  if (ext == ".ply") {
    datasets::WriteMeshPly(path, mesh);
  } else if (ext == ".obj") {
    datasets::WriteObj(path, mesh);
  } else {
    datasets::WriteGlb(path, mesh);
  }
}

void RunMesh(const MeshArgs& args, const GlobalOptions& global) {
  const std::string ext = LowercaseExtension(args.output);
  if (ext != ".glb" && ext != ".ply" && ext != ".obj") {
    throw UsageError("the output must be a .glb, .ply or .obj file, got '" + args.output.string() +
                     "'");
  }
  if (args.trim > 0.0 && !args.open) {
    throw UsageError("--trim opens the mesh where Poisson invented it: add --open to allow that");
  }
  if (args.every < 1 || args.render_size < 16 || args.views < 1 || args.orbit_views < 1) {
    throw UsageError("--every, --views and --orbit-views must be >= 1 and --render-size >= 16");
  }
  const Timer timer;
  const MeshInput input = ClassifyMeshInput(args.input);
  const std::string method = ResolveMethod(args.method, input.kind);
  spdlog::info("mesh: {} '{}' -> {}", ToString(input.kind), args.input.string(), method);

  // --device auto: the CUDA TSDF integration and marching cubes when a device is present (they
  // passed their GPU tests and give the CPU's triangles).
  const Backend backend = global.backend;
  geometry::TriangleMesh mesh;
  if (method == "tsdf") {
    mesh = input.kind == MeshInputKind::kSplats ? MeshSplats(input, args, backend)
           : input.kind == MeshInputKind::kNerf ? MeshNerfSnapshot(input, args)
                                                : MeshRgbd(input, args, backend);
  } else if (method == "poisson") {
    mesh = MeshPoints(input, args);
  } else {
    mesh = MeshMesh(input, args);
  }
  FACET_CHECK(!mesh.triangles.empty(),
              "mesh: the {} surface of '{}' is empty (no surface was observed or the input "
              "encloses nothing); try a smaller --voxel",
              method, args.input.string());
  const double surface_seconds = timer.ElapsedSeconds();

  nlohmann::json cleanup = nlohmann::json::object();
  if (args.min_component > 0.0) {
    geometry::SmallComponentOptions small;
    small.min_area_fraction = args.min_component;
    cleanup["small_components_removed"] = geometry::RemoveSmallComponents(mesh, small);
  }
  if (args.faces > 0 && mesh.triangles.size() > args.faces) {
    geometry::DecimationOptions decimation;
    decimation.target_triangles = args.faces;
    const geometry::DecimationReport report = geometry::DecimateQuadric(mesh, decimation);
    cleanup["decimated_from"] = report.initial_triangles;
    if (!report.reached_target) {
      spdlog::warn(
          "mesh: decimation stopped at {} triangles (no further collapse keeps the "
          "surface closed and well shaped)",
          report.final_triangles);
    }
  }
  if (args.smooth > 0) {
    geometry::TaubinOptions taubin;
    taubin.iterations = args.smooth;
    geometry::TaubinSmooth(mesh, taubin);
  }
  if (args.no_colors) mesh.vertex_colors.clear();
  mesh.ComputeVertexNormals();

  const geometry::WatertightReport check = geometry::CheckWatertight(mesh);
  FACET_CHECK(args.open || check.watertight || !cleanup.contains("decimated_from"),
              "mesh: decimating to {} triangles made the surface unsound ({}); nothing was "
              "written. Ask for more --faces, mesh at a coarser --voxel / --resolution instead, "
              "or pass --open to write it anyway",
              args.faces, check.reason);
  FACET_CHECK(args.open || check.watertight,
              "mesh: the result is not watertight ({}); nothing was written. Report this as a "
              "bug, or pass --open to write it anyway",
              check.reason);
  if (args.output.has_parent_path()) fs::create_directories(args.output.parent_path());
  WriteMesh(args.output, mesh);
  const double seconds = timer.ElapsedSeconds();
  spdlog::info("mesh: wrote {}: {} vertices, {} triangles, {} component{}, {}{}, {:.1f} s",
               args.output.string(), mesh.vertices.size(), mesh.triangles.size(), check.components,
               check.components == 1 ? "" : "s",
               check.watertight ? "watertight" : "not watertight: " + check.reason,
               check.watertight ? fmt::format(", genus {}", check.genus) : "", seconds);
  if (!args.summary.empty()) {
    const nlohmann::json summary = {{"input", args.input.string()},
                                    {"input_kind", std::string(ToString(input.kind))},
                                    {"method", method},
                                    {"output", args.output.string()},
                                    {"vertices", mesh.vertices.size()},
                                    {"triangles", mesh.triangles.size()},
                                    {"components", check.components},
                                    {"watertight", check.watertight},
                                    {"reason", check.reason},
                                    {"genus", check.genus},
                                    {"boundary_edges", check.boundary_edges},
                                    {"non_manifold_edges", check.non_manifold_edges},
                                    {"self_intersections", check.self_intersections},
                                    {"cleanup", cleanup},
                                    {"surface_seconds", surface_seconds},
                                    {"seconds", seconds},
                                    {"peak_memory_bytes", PeakResidentBytes()}};
    WriteFileAtomically(args.summary, summary.dump(2) + "\n");
  }
}

}  // namespace

Subcommand RegisterMesh(CLI::App& app) {
  auto args = std::make_shared<MeshArgs>();
  CLI::App* sub = app.add_subcommand(
      "mesh", "Make a watertight, coloured mesh from RGB-D frames, splats, points or a mesh");
  sub->footer(
      "INPUT and the method --method auto picks:\n"
      "  RGB-D folder (TUM: rgb.txt + depth.txt + groundtruth.txt; Redwood: depth/ + image/ + a "
      "trajectory .log) -> tsdf\n"
      "  facet workspace with splats.ply, or a 3DGS .ply -> tsdf over depth rendered from the "
      "splats (at the workspace's cameras, or --orbit-views around the splats)\n"
      "  point cloud .ply/.pcd, or a workspace/COLMAP model without splats -> poisson (normals "
      "estimated when missing)\n"
      "  mesh .ply/.glb -> sdf (re-meshed through its signed distance field: holes closed, "
      "self-intersections merged)\n"
      "  NeRF snapshot .bin (facet nerf) -> tsdf over depth rendered from --orbit-views around "
      "its scene box\n"
      "The result is closed, manifold and consistently oriented unless --open is given: facet "
      "checks it and fails rather than write a broken mesh. Output .glb (passes the Khronos "
      "glTF validator), .ply or .obj, with vertex colours and normals.\n"
      "Examples:\n"
      "  facet mesh out/ -o out/mesh.glb\n"
      "  facet mesh rgbd-livingroom/ -o room.glb --voxel 0.01 --faces 200000\n"
      "  facet mesh bunny_points.ply -o bunny.glb --depth 9\n"
      "  facet mesh scan_with_holes.ply -o closed.obj --voxel 0.002");
  sub->add_option("input", args->input, "RGB-D folder, workspace, splats/points/mesh file")
      ->required();
  sub->add_option("-o,--output", args->output, "Output .glb, .ply or .obj")->required();
  sub->add_option("--method", args->method, "Surface method")
      ->check(CLI::IsMember({"auto", "tsdf", "poisson", "sdf"}))
      ->capture_default_str();
  sub->add_option("--voxel", args->voxel,
                  "Voxel size in scene units (default: 0.01 for RGB-D; otherwise from "
                  "--resolution)");
  sub->add_option("--resolution", args->resolution,
                  "Voxels along the bounding-box diagonal when --voxel is not given (splats: "
                  "default 512; sdf: default 256)");
  sub->add_option("--trunc", args->truncation, "TSDF truncation in scene units (default 4 voxels)");
  sub->add_option("--depth", args->depth, "Poisson octree depth (2^depth cells across)")
      ->capture_default_str();
  sub->add_option("--trim", args->trim,
                  "Poisson: remove the surface where the sample density is below this quantile "
                  "(0-1; opens the mesh where it was invented over holes: needs --open)");
  sub->add_option("--faces", args->faces, "Decimate to at most this many triangles (0 = keep)");
  sub->add_option("--smooth", args->smooth, "Taubin smoothing iterations")->capture_default_str();
  sub->add_option("--min-component", args->min_component,
                  "Remove components smaller than this fraction of the largest's area (0 = keep)")
      ->capture_default_str();
  sub->add_flag("--open", args->open,
                "Do not close the surface where nothing was observed, and write it even when it "
                "is not watertight");
  sub->add_flag("--no-colors", args->no_colors, "Do not write vertex colours");
  sub->add_option("--trajectory", args->rgbd.trajectory, "Redwood: camera trajectory .log");
  sub->add_option("--intrinsics", args->rgbd.intrinsics,
                  "RGB-D: cameras.txt with the colour camera (default: the folder's, else "
                  "TUM's / PrimeSense's)");
  sub->add_option("--depth-scale", args->rgbd.depth_scale,
                  "RGB-D: raw depth units per metre (default: TUM 5000, Redwood 1000)");
  sub->add_option("--every", args->every, "RGB-D: fuse every Nth frame")->capture_default_str();
  sub->add_option("--depth-max", args->depth_max, "RGB-D: ignore depths beyond this (metres)")
      ->capture_default_str();
  sub->add_option("--views", args->views, "Splats: at most this many training cameras")
      ->capture_default_str();
  sub->add_option("--orbit-views", args->orbit_views,
                  "Splats without cameras: views on a sphere around them")
      ->capture_default_str();
  CLI::Option* render_size =
      sub->add_option("--render-size", args->render_size,
                      "Splats and NeRFs: longest side of the renders (px; NeRF default 256)")
          ->capture_default_str();
  sub->add_option("--model", args->model,
                  "Splats: the workspace or COLMAP model whose cameras to render from (default: "
                  "the one beside the splats)");
  sub->add_option("--images", args->images,
                  "Poisson on a workspace or COLMAP model: the photos to colour the mesh from "
                  "(default: the workspace's)");
  sub->add_option("--crop", args->crop,
                  "tsdf: fuse only inside this box (MINX MINY MINZ MAXX MAXY MAXZ, scene units)")
      ->expected(6);
  sub->add_option("--summary", args->summary, "Write a JSON summary here");
  return {sub, [args, render_size](const GlobalOptions& global) {
            args->render_size_given = render_size->count() > 0;
            RunMesh(*args, global);
          }};
}

}  // namespace facet::apps
