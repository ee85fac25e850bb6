// `facet view --offscreen` as users run it: tiny splat files, a mesh and a workspace render to
// PNGs of the requested size that show the content over the background; the cameras move the
// view; bad input is refused with one line (exit 1), the missing window with a usage error (exit
// 2). Skipped where no Vulkan device exists (install mesa-vulkan-drivers for lavapipe).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "apps/view_test_scenes.h"
#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "core/image.h"
#include "core/image_io.h"
#include "datasets/colmap_model.h"
#include "datasets/gaussian_splats.h"
#include "datasets/gltf.h"
#include "datasets/ply.h"
#include "datasets/rgbd.h"

namespace facet {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::TempDir;

CommandResult View(const fs::path& input, const std::string& extra) {
  return testing::RunCommand(
      fmt::format("'{}' view '{}' --quiet {}", FACET_BINARY, input.string(), extra));
}

class ViewCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    splats_ = dir_ / "splats.ply";
    datasets::WriteGaussianPly(splats_, RedAndGreenSplats());
  }
  // Renders `input`; skips the test when there is no Vulkan device, fails on any other error.
  ImageU8 Render(const fs::path& input, const std::string& extra) {
    const fs::path png = dir_ / "out.png";
    fs::remove(png);
    const CommandResult result =
        View(input, "--offscreen --screenshot '" + png.string() + "' " + extra);
    if (result.exit_code != 0 && result.output.find("no Vulkan device") != std::string::npos) {
      skipped_ = true;
      return {};
    }
    EXPECT_EQ(result.exit_code, 0) << result.output;
    if (result.exit_code != 0) return {};
    return ReadImage<std::uint8_t>(png);
  }

  TempDir dir_;
  fs::path splats_;
  bool skipped_ = false;
};

#define RENDER_OR_SKIP(image, ...)                                                \
  const ImageU8 image = Render(__VA_ARGS__);                                      \
  if (skipped_) GTEST_SKIP() << "no Vulkan device (install mesa-vulkan-drivers)"; \
  ASSERT_FALSE(image.empty())

TEST_F(ViewCliTest, SplatPlyRendersThePixelsItCoversOverTheBackground) {
  RENDER_OR_SKIP(image, splats_, "--size 160x96 --background 0,0,1 --camera orbit:45");
  EXPECT_EQ(image.width(), 160);
  EXPECT_EQ(image.height(), 96);
  EXPECT_EQ(image.channels(), 3);
  // The background where nothing is (the corners: the content's sphere fills the field of view's
  // height, the cross of splats much less).
  EXPECT_EQ(image(0, 0, 0), 0);
  EXPECT_EQ(image(0, 0, 2), 255);
  EXPECT_EQ(image(159, 95, 2), 255);
  // The splats: red and green pixels, and no more than a third of the image.
  int red = 0, green = 0;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      red += image(x, y, 0) > 150 && image(x, y, 2) < 100;
      green += image(x, y, 1) > 150 && image(x, y, 2) < 100;
    }
  }
  EXPECT_GT(red, 20);
  EXPECT_GT(green, 20);
  EXPECT_LT(PixelsAwayFrom(image, 0, 0, 255), 160 * 96 / 3);
}

TEST_F(ViewCliTest, OrbitAzimuthMovesTheCameraAndSplatFormatRendersTheSame) {
  RENDER_OR_SKIP(from_x, splats_, "--size 96x64 --camera orbit:0");
  RENDER_OR_SKIP(from_y, splats_, "--size 96x64 --camera orbit:90");
  // Seen from +x the red line points at the camera (short); from +y it runs across (long).
  EXPECT_GT(PixelsDiffering(from_x, from_y), 100);
  const fs::path splat = dir_ / "splats.splat";
  datasets::WriteSplat(splat, RedAndGreenSplats());
  RENDER_OR_SKIP(from_splat, splat, "--size 96x64 --camera orbit:0");
  // .splat stores colours and opacities in 8 bits and no SH rest: nearly the same image.
  EXPECT_LT(PixelsDiffering(from_x, from_splat), 96 * 64 / 50);
  EXPECT_GT(PixelsAwayFrom(from_splat, 0, 0, 0), 100);
}

TEST_F(ViewCliTest, QuadRasterRendersWhatTheComputeRasterDoes) {
  RENDER_OR_SKIP(compute, splats_, "--size 96x64 --camera orbit:90");
  RENDER_OR_SKIP(quads, splats_, "--size 96x64 --camera orbit:90 --raster quads");
  // The same blend in two orders (front to back in compute, back to front as quads): pixels
  // differ by a level or so of rounding, never by more.
  EXPECT_GT(PixelsAwayFrom(compute, 0, 0, 0), 100);
  EXPECT_EQ(PixelsDiffering(compute, quads, /*threshold=*/3), 0);
  const CommandResult bad = View(
      splats_, "--offscreen --screenshot '" + (dir_ / "bad.png").string() + "' --raster lines");
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_NE(bad.output.find("--raster"), std::string::npos) << bad.output;
}

TEST_F(ViewCliTest, MeshPlyAndEmptySplatFileRender) {
  geometry::TriangleMesh mesh;  // a unit square in z = 0, white
  mesh.vertices = {{-1, -1, 0}, {1, -1, 0}, {1, 1, 0}, {-1, 1, 0}};
  mesh.triangles = {{0, 1, 2}, {0, 2, 3}};
  mesh.vertex_colors.assign(4, Eigen::Vector3f::Ones());
  const fs::path mesh_path = dir_ / "square.ply";
  datasets::WriteMeshPly(mesh_path, mesh);
  RENDER_OR_SKIP(image, mesh_path, "--size 64x48 --background 0,0,0");
  // Seen from 30 degrees up, the square covers the centre and leaves the top corners black.
  EXPECT_GT(image(32, 24, 0), 50);
  EXPECT_EQ(image(0, 0, 0), 0);
  const fs::path empty = dir_ / "empty.ply";
  datasets::WriteGaussianPly(empty, datasets::GaussianSplats{});
  RENDER_OR_SKIP(background, empty, "--size 32x16 --background 0,1,0");
  EXPECT_EQ(PixelsAwayFrom(background, 0, 255, 0), 0);
}

TEST_F(ViewCliTest, WorkspaceCameraIndexRendersFromTheModelsCameras) {
  // A workspace: splats.ply + sparse/0 with two cameras looking at the origin from -z and +x.
  const fs::path workspace = dir_ / "ws";
  fs::create_directories(workspace / "sparse/0");
  fs::copy_file(splats_, workspace / "splats.ply");
  datasets::Scene scene;
  scene.cameras[datasets::CameraId(1)] =
      geometry::Camera::Create(geometry::CameraModelId::kPinhole, 80.0, 80, 60);
  const Eigen::Quaterniond turned(Eigen::AngleAxisd(-M_PI / 2, Eigen::Vector3d::UnitY()));
  const geometry::Rigid3 poses[2] = {
      geometry::Rigid3(Eigen::Quaterniond::Identity(), Eigen::Vector3d(0, 0, 3)),
      geometry::Rigid3(turned, Eigen::Vector3d(0, 0, 3))};
  for (int i = 0; i < 2; ++i) {
    datasets::Image image;
    image.id = datasets::ImageId(i + 1);
    image.name = "view" + std::to_string(i) + ".png";
    image.camera_id = datasets::CameraId(1);
    image.cam_from_world = poses[i];
    scene.images[image.id] = image;
  }
  datasets::WriteColmapModelBinary(workspace / "sparse/0", scene);
  RENDER_OR_SKIP(first, workspace, "--size 80x60 --camera index:0");
  RENDER_OR_SKIP(second, workspace, "--size 80x60 --camera index:1");
  EXPECT_GT(PixelsAwayFrom(first, 0, 0, 0), 50);
  EXPECT_GT(PixelsDiffering(first, second), 50);
  const CommandResult missing = View(
      workspace, "--offscreen --screenshot '" + (dir_ / "x.png").string() + "' --camera index:2");
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("2 registered images"), std::string::npos) << missing.output;
}

// Pixels of the camera frustums' orange (viewer/scene_lines.h: 1, 0.5, 0).
int OrangePixels(const ImageU8& image) {
  int count = 0;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      count += image(x, y, 0) > 200 && image(x, y, 1) > 100 && image(x, y, 1) < 160 &&
               image(x, y, 2) < 50;
    }
  }
  return count;
}

TEST_F(ViewCliTest, WorkspaceLayersShowCamerasSparsePointsAndGrid) {
  // A workspace: splats.ply + sparse/0 with three cameras around the origin and white points.
  const fs::path workspace = dir_ / "ws";
  fs::create_directories(workspace / "sparse/0");
  fs::copy_file(splats_, workspace / "splats.ply");
  datasets::Scene scene;
  scene.cameras[datasets::CameraId(1)] =
      geometry::Camera::Create(geometry::CameraModelId::kPinhole, 80.0, 80, 60);
  for (int i = 0; i < 3; ++i) {
    datasets::Image image;
    image.id = datasets::ImageId(i + 1);
    image.name = "view" + std::to_string(i) + ".png";
    image.camera_id = datasets::CameraId(1);
    const Eigen::Quaterniond turned(Eigen::AngleAxisd(0.5 * i, Eigen::Vector3d::UnitY()));
    image.cam_from_world = geometry::Rigid3(turned, Eigen::Vector3d(0, 0, 2));
    scene.images[image.id] = image;
  }
  for (int i = 0; i < 50; ++i) {
    datasets::Point3D point;
    point.xyz = Eigen::Vector3d(0.02 * i - 0.5, 0.3, 0.01 * i);
    point.color.setConstant(255);
    scene.points3d[datasets::Point3DId(i + 1)] = point;
  }
  datasets::WriteColmapModelBinary(workspace / "sparse/0", scene);
  const std::string size = "--size 160x120 --background 0,0,0 ";

  RENDER_OR_SKIP(cameras_points, workspace, size + "--layers cameras,points");
  EXPECT_GT(OrangePixels(cameras_points), 30);
  int white = 0;
  for (int y = 0; y < 120; ++y) {
    for (int x = 0; x < 160; ++x) white += cameras_points(x, y, 1) > 240;
  }
  EXPECT_GT(white, 10);  // the sparse points (2 px each)
  // The default for a workspace: splats and cameras, the frustums drawn with depth under the
  // blended splats; splats alone show no frustum colour.
  RENDER_OR_SKIP(by_default, workspace, size);
  EXPECT_GT(OrangePixels(by_default), 30);
  RENDER_OR_SKIP(splats_only, workspace, size + "--layers splats");
  EXPECT_EQ(OrangePixels(splats_only), 0);
  EXPECT_GT(PixelsAwayFrom(splats_only, 0, 0, 0), 50);
  RENDER_OR_SKIP(grid, workspace, size + "--layers grid");
  int gray = 0;
  for (int y = 0; y < 120; ++y) {
    for (int x = 0; x < 160; ++x) {
      gray += grid(x, y, 0) > 90 && grid(x, y, 0) < 140 && grid(x, y, 0) == grid(x, y, 1) &&
              grid(x, y, 1) == grid(x, y, 2);
    }
  }
  EXPECT_GT(gray, 200);

  const std::string png = "--offscreen --screenshot '" + (dir_ / "x.png").string() + "' ";
  const CommandResult unknown = View(workspace, png + "--layers splats,bogus");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("'bogus'"), std::string::npos) << unknown.output;
  const CommandResult no_mesh = View(workspace, png + "--layers mesh");
  EXPECT_EQ(no_mesh.exit_code, 1) << no_mesh.output;
  EXPECT_NE(no_mesh.output.find("has no mesh"), std::string::npos) << no_mesh.output;
}

TEST_F(ViewCliTest, SlamFolderShowsItsMeshAndTrajectory) {
  // `facet slam`'s output: mesh.glb (a grey square in the z = 0 plane) and trajectory.log (20
  // poses on a line above it, looking down).
  const fs::path slam = dir_ / "slam";
  fs::create_directories(slam);
  geometry::TriangleMesh mesh;
  mesh.vertices = {{-1, -1, 0}, {1, -1, 0}, {1, 1, 0}, {-1, 1, 0}};
  mesh.triangles = {{0, 1, 2}, {0, 2, 3}};
  mesh.vertex_colors.assign(4, Eigen::Vector3f::Constant(0.5f));
  datasets::WriteGlb(slam / "mesh.glb", mesh);
  std::vector<datasets::TrajectoryEntry> log;
  for (int i = 0; i < 20; ++i) {
    datasets::TrajectoryEntry entry;
    entry.metadata = {i, i, i + 1};
    // Camera z (forward) along world -z: x right, y down -> world x, -y.
    entry.world_from_cam.topLeftCorner<3, 3>() = Eigen::Vector3d(1, -1, -1).asDiagonal();
    entry.world_from_cam.topRightCorner<3, 1>() = Eigen::Vector3d(-0.9 + 0.09 * i, 0.0, 0.8);
    log.push_back(entry);
  }
  datasets::WriteTrajectoryLog(slam / "trajectory.log", log);
  // The cameras' up (their -y axis) is world +y, so orbit:270 looks from +z, the path's side.
  RENDER_OR_SKIP(image, slam, "--size 160x120 --background 0,0,0 --camera orbit:270");
  // The path runs from blue to red (0, 0.3, 1) -> (1, 0.3, 0) over the grey square.
  int blue = 0, red = 0, grey = 0;
  for (int y = 0; y < 120; ++y) {
    for (int x = 0; x < 160; ++x) {
      blue += image(x, y, 2) > 180 && image(x, y, 0) < 80;
      red += image(x, y, 0) > 180 && image(x, y, 2) < 80;
      grey += std::abs(image(x, y, 0) - image(x, y, 2)) < 8 && image(x, y, 0) > 40;
    }
  }
  EXPECT_GT(blue, 5);
  EXPECT_GT(red, 5);
  EXPECT_GT(grey, 500);
  RENDER_OR_SKIP(mesh_only, slam, "--size 160x120 --camera orbit:270 --layers mesh");
  EXPECT_GT(PixelsDiffering(image, mesh_only), 20);
  // --trajectory draws the same path over any input.
  RENDER_OR_SKIP(overlay, slam / "mesh.glb",
                 "--size 160x120 --camera orbit:270 --trajectory '" +
                     (slam / "trajectory.log").string() + "'");
  EXPECT_EQ(PixelsDiffering(image, overlay, 3), 0);
}

TEST_F(ViewCliTest, RefusesBadInputWithOneLine) {
  const TempDir& dir = dir_;
  const fs::path png = dir / "out.png";
  const fs::path corrupt = dir / "corrupt.ply";
  WriteFileAtomically(corrupt, std::string_view("not a ply\n"));
  for (const fs::path& input : {corrupt, dir / "missing.ply"}) {
    const CommandResult result = View(input, "--offscreen --screenshot '" + png.string() + "'");
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    EXPECT_FALSE(fs::exists(png));
  }
  // Without a display the window cannot open: one line saying what to do instead.
  const CommandResult window = testing::RunCommand(fmt::format(
      "env -u DISPLAY -u WAYLAND_DISPLAY '{}' view '{}' --quiet", FACET_BINARY, splats_.string()));
  EXPECT_EQ(window.exit_code, 1) << window.output;
  EXPECT_NE(window.output.find("no display"), std::string::npos) << window.output;
  EXPECT_NE(window.output.find("--offscreen"), std::string::npos) << window.output;
  EXPECT_EQ(std::count(window.output.begin(), window.output.end(), '\n'), 1) << window.output;
}

}  // namespace
}  // namespace facet
