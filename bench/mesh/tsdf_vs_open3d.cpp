// tsdf_vs_open3d: TSDF integration throughput (frames/s) of facet's TsdfVolume against Open3D's
// legacy open3d::pipelines::integration::ScalableTSDFVolume on the same RGB-D frames, voxel size,
// truncation and depth cut-off, both fusing colour, side by side in one process; then the mesh
// extraction time of each. Only the Integrate calls are timed: frames are decoded untimed before
// each call (facet integrates the raw 16-bit depth, its conversion included; Open3D gets a ready
// float RGBDImage, as its pipeline builds one anyway).
//
//   tsdf_vs_open3d [FOLDER] [--voxel 0.01] [--trunc 0.04] [--depth-max 3] [--frames N]
//                  [--threads N] [--no-color] [--facet-only] [--mesh-out DIR] [--json FILE]
// FOLDER: a Redwood/Open3D RGB-D folder (depth/*.png in mm, image/*.jpg,
// open3d_trajectory.log), default ../shared/data/rgbd-livingroom; PrimeSense intrinsics.
// --mesh-out DIR writes the meshes as DIR/facet.ply and DIR/open3d.ply; --json FILE the figures
// (objects "facet" and "open3d", seconds) for bench/run_all.sh.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <open3d/camera/PinholeCameraIntrinsic.h>
#include <open3d/geometry/Image.h>
#include <open3d/geometry/RGBDImage.h>
#include <open3d/geometry/TriangleMesh.h>
#include <open3d/io/ImageIO.h>
#include <open3d/io/TriangleMeshIO.h>
#include <open3d/pipelines/integration/ScalableTSDFVolume.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/backend.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/timer.h"
#include "datasets/ply.h"
#include "datasets/rgbd.h"
#include "geometry/tsdf_volume.h"

namespace {

using namespace facet;

// CPU seconds of the whole process (all threads): a measure of work that other processes on a
// shared machine disturb much less than wall time.
double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Figures {
  double integrate_s = 0.0;
  double integrate_cpu_s = 0.0;
  double mesh_s = 0.0;
  double open_mesh_s = 0.0;  // facet: the open surface (Open3D's kind)
  std::size_t open_triangles = 0;
  std::size_t vertices = 0, triangles = 0;
};

Figures RunFacet(const datasets::RgbdSequence& sequence, int frames,
                 const geometry::TsdfVolume::Options& options, const std::string& mesh_out) {
  geometry::TsdfVolume volume(options);
  Figures figures;
  ImageReadOptions color_read;
  color_read.channels = 3;
  for (int f = 0; f < frames; ++f) {
    const datasets::RgbdFrame& frame = sequence.frames[f];
    const ImageU16 depth = ReadImage<std::uint16_t>(frame.depth_path);
    ImageU8 color;
    if (options.with_color) color = ReadImage<std::uint8_t>(frame.color_path, color_read);
    const double cpu = ProcessCpuSeconds();
    const Timer timer;
    volume.Integrate(depth.view(), sequence.depth_scale, color.view(), sequence.camera,
                     *frame.CamFromWorld());
    figures.integrate_s += timer.ElapsedSeconds();
    figures.integrate_cpu_s += ProcessCpuSeconds() - cpu;
  }
  std::printf("facet:  %lld blocks of 8^3 voxels, %.1f MiB\n",
              static_cast<long long>(volume.grid().block_count()),
              volume.MemoryBytes() / 1048576.0);
  const Timer timer;
  const geometry::TriangleMesh mesh = volume.ExtractMesh();
  figures.mesh_s = timer.ElapsedSeconds();
  figures.vertices = mesh.vertices.size();
  figures.triangles = mesh.triangles.size();
  if (!mesh_out.empty())
    datasets::WriteMeshPly(std::filesystem::path(mesh_out) / "facet.ply", mesh);
  // Open3D's behaviour: only cells with eight observed corners, no closing of the surface.
  geometry::SurfaceExtractionOptions open;
  open.unknown = geometry::SurfaceExtractionOptions::Unknown::kOpen;
  const Timer open_timer;
  const geometry::TriangleMesh open_mesh = volume.ExtractMesh(open);
  figures.open_mesh_s = open_timer.ElapsedSeconds();
  figures.open_triangles = open_mesh.triangles.size();
  return figures;
}

Figures RunOpen3d(const datasets::RgbdSequence& sequence, int frames, double voxel, double trunc,
                  double depth_max, bool with_color, const std::string& mesh_out) {
  namespace o3d = open3d;
  using o3d::pipelines::integration::TSDFVolumeColorType;
  o3d::pipelines::integration::ScalableTSDFVolume volume(
      voxel, trunc, with_color ? TSDFVolumeColorType::RGB8 : TSDFVolumeColorType::NoColor);
  const o3d::camera::PinholeCameraIntrinsic intrinsic(
      o3d::camera::PinholeCameraIntrinsicParameters::PrimeSenseDefault);
  Figures figures;
  for (int f = 0; f < frames; ++f) {
    const datasets::RgbdFrame& frame = sequence.frames[f];
    o3d::geometry::Image color, depth;
    FACET_CHECK(o3d::io::ReadImage(frame.color_path.string(), color) &&
                    o3d::io::ReadImage(frame.depth_path.string(), depth),
                "Open3D cannot read frame {}", f);
    const auto rgbd = o3d::geometry::RGBDImage::CreateFromColorAndDepth(
        color, depth, sequence.depth_scale, depth_max, /*convert_rgb_to_intensity=*/false);
    Eigen::Matrix4d extrinsic = Eigen::Matrix4d::Identity();
    extrinsic.topRows<3>() = frame.world_from_cam->Inverse().ToMatrix();
    const double cpu = ProcessCpuSeconds();
    const Timer timer;
    volume.Integrate(*rgbd, intrinsic, extrinsic);
    figures.integrate_s += timer.ElapsedSeconds();
    figures.integrate_cpu_s += ProcessCpuSeconds() - cpu;
  }
  std::printf("Open3D: %zu volume units of 16^3 voxels\n", volume.volume_units_.size());
  const Timer timer;
  const auto mesh = volume.ExtractTriangleMesh();
  figures.mesh_s = timer.ElapsedSeconds();
  figures.vertices = mesh->vertices_.size();
  figures.triangles = mesh->triangles_.size();
  if (!mesh_out.empty()) {
    FACET_CHECK(o3d::io::WriteTriangleMesh(
                    (std::filesystem::path(mesh_out) / "open3d.ply").string(), *mesh),
                "Open3D cannot write its mesh into {}", mesh_out);
  }
  return figures;
}

int Run(int argc, char** argv) {
  CLI::App app{"TSDF integration throughput, facet vs Open3D (bench/mesh/tsdf_vs_open3d.cpp)"};
  std::string folder = FACET_SOURCE_DIR "/../shared/data/rgbd-livingroom";
  double voxel = 0.01, trunc = 0.04, depth_max = 3.0;
  int frames = 0, threads = 0;
  bool no_color = false, facet_only = false;
  std::string mesh_out;
  app.add_option("folder", folder, "Redwood/Open3D RGB-D folder")->capture_default_str();
  app.add_option("--voxel", voxel, "Voxel size, metres")->capture_default_str();
  app.add_option("--trunc", trunc, "Truncation (Open3D's sdf_trunc), metres")
      ->capture_default_str();
  app.add_option("--depth-max", depth_max, "Depth cut-off, metres")->capture_default_str();
  app.add_option("--frames", frames, "Frames to integrate (0: all)")->capture_default_str();
  app.add_option("--threads", threads, "facet's worker threads (0: all cores)");
  app.add_flag("--no-color", no_color, "Fuse depth only");
  app.add_flag("--facet-only", facet_only, "Skip Open3D (for profiling)");
  app.add_option("--mesh-out", mesh_out, "Write facet.ply and open3d.ply into this folder");
  std::string json_path;
  app.add_option("--json", json_path, "Also write the figures here");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) SetMaxThreads(threads);

  datasets::RedwoodReadOptions read;
  read.trajectory_log = "open3d_trajectory.log";
  // Open3D's PrimeSenseDefault (OpenCV's pixel convention) in facet's.
  const geometry::Camera camera =
      geometry::CameraFromOpenCvIntrinsics(525.0, 525.0, 319.5, 239.5, 640, 480);
  const datasets::RgbdSequence sequence = datasets::ReadRedwoodSequence(folder, camera, read);
  if (frames <= 0 || frames > int(sequence.frames.size())) frames = int(sequence.frames.size());
  for (int f = 0; f < frames; ++f) {
    FACET_CHECK(sequence.frames[f].world_from_cam.has_value(), "frame {} has no pose", f);
  }
  const char* omp_threads = std::getenv("OMP_NUM_THREADS");
  std::printf(
      "%s: %d frames, voxel %.4g m, truncation %.4g m, depth <= %.3g m, colour %s, "
      "facet %d threads, Open3D OMP_NUM_THREADS=%s\n",
      folder.c_str(), frames, voxel, trunc, depth_max, no_color ? "no" : "yes", MaxThreads(),
      omp_threads != nullptr ? omp_threads : "(all cores)");

  geometry::TsdfVolume::Options options;
  options.voxel_size = voxel;
  options.truncation = trunc;
  options.depth_max = depth_max;
  options.with_color = !no_color;
  if (!mesh_out.empty()) std::filesystem::create_directories(mesh_out);
  const Figures ours = RunFacet(sequence, frames, options, mesh_out);
  nlohmann::json summary = {{"folder", folder},       {"frames", frames},
                            {"voxel", voxel},         {"truncation", trunc},
                            {"depth_max", depth_max}, {"color", !no_color},
                            {"threads", MaxThreads()}};
  summary["facet"] = {{"integrate_s", ours.integrate_s},
                      {"integrate_cpu_s", ours.integrate_cpu_s},
                      {"frames_per_s", frames / ours.integrate_s},
                      {"mesh_s", ours.mesh_s},
                      {"vertices", ours.vertices},
                      {"triangles", ours.triangles},
                      {"open_mesh_s", ours.open_mesh_s},
                      {"open_triangles", ours.open_triangles}};
  const auto write_json = [&] {
    if (!json_path.empty()) std::ofstream(json_path) << summary.dump(2) << "\n";
  };
  if (facet_only) {
    std::printf(
        "integration  facet %7.1f frames/s (%.2f s), CPU %.2f ms/frame; mesh %.3f s (open %.3f "
        "s)\n",
        frames / ours.integrate_s, ours.integrate_s, 1e3 * ours.integrate_cpu_s / frames,
        ours.mesh_s, ours.open_mesh_s);
    write_json();
    return 0;
  }
  const Figures theirs = RunOpen3d(sequence, frames, voxel, trunc, depth_max, !no_color, mesh_out);

  std::printf(
      "integration  facet %7.1f frames/s (%.2f s)   Open3D %7.1f frames/s (%.2f s)   "
      "ratio %.2fx\n",
      frames / ours.integrate_s, ours.integrate_s, frames / theirs.integrate_s, theirs.integrate_s,
      theirs.integrate_s / ours.integrate_s);
  std::printf(
      "CPU time     facet %7.2f ms/frame               Open3D %7.2f ms/frame              "
      "ratio %.2fx\n",
      1e3 * ours.integrate_cpu_s / frames, 1e3 * theirs.integrate_cpu_s / frames,
      theirs.integrate_cpu_s / ours.integrate_cpu_s);
  std::printf(
      "mesh         facet %7.3f s (%zu vertices, %zu triangles; closed)   Open3D %7.3f s (%zu "
      "vertices, %zu triangles)\n",
      ours.mesh_s, ours.vertices, ours.triangles, theirs.mesh_s, theirs.vertices, theirs.triangles);
  std::printf("mesh (open)  facet %7.3f s (%zu triangles; observed cells only, as Open3D)\n",
              ours.open_mesh_s, ours.open_triangles);
  summary["open3d"] = {{"integrate_s", theirs.integrate_s},
                       {"integrate_cpu_s", theirs.integrate_cpu_s},
                       {"frames_per_s", frames / theirs.integrate_s},
                       {"mesh_s", theirs.mesh_s},
                       {"vertices", theirs.vertices},
                       {"triangles", theirs.triangles}};
  write_json();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Open3D's OpenMP threads otherwise spin between parallel regions and steal facet's cores.
  // libgomp reads its environment when it is loaded, before main, so set it and start again.
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  if (policy == nullptr || std::string(policy) != "PASSIVE") {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);
    std::perror("tsdf_vs_open3d: cannot restart with OMP_WAIT_POLICY=PASSIVE");
    return 1;
  }
  try {
    return Run(argc, argv);
  } catch (const facet::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
