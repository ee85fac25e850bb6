// `facet view`'s window as users open it, under a virtual X server (xvfb-run): a real GLFW
// window, swapchain and ImGui overlay for a few frames (--frames) with the Khronos validation
// layer on (--validate fails the run on any message). The window's last frame (--screenshot)
// must be the offscreen frame of the same camera; a workspace opens with all its layers; bad
// input and an empty file are handled. Skipped without xvfb-run or a Vulkan device.
#include <gtest/gtest.h>

#include <algorithm>
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

namespace facet {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::TempDir;

bool HaveXvfb() { return std::system("command -v xvfb-run >/dev/null 2>&1") == 0; }

// `facet view INPUT EXTRA` in a window on a fresh virtual display.
CommandResult ViewInWindow(const fs::path& input, const std::string& extra) {
  return testing::RunCommand(fmt::format(
      "xvfb-run -a -s '-screen 0 1024x768x24' '{}' view '{}' --quiet --validate {} 2>&1",
      FACET_BINARY, input.string(), extra));
}

class ViewWindowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveXvfb()) GTEST_SKIP() << "no xvfb-run (install xvfb and xauth)";
    splats_ = dir_ / "splats.ply";
    datasets::WriteGaussianPly(splats_, RedAndGreenSplats());
    // One offscreen frame tells whether there is a Vulkan device at all.
    const CommandResult probe = testing::RunCommand(
        fmt::format("'{}' view '{}' --quiet --offscreen --size 8x8 --screenshot '{}'", FACET_BINARY,
                    splats_.string(), (dir_ / "probe.png").string()));
    if (probe.output.find("no Vulkan device") != std::string::npos) {
      GTEST_SKIP() << "no Vulkan device (install mesa-vulkan-drivers)";
    }
    ASSERT_EQ(probe.exit_code, 0) << probe.output;
  }

  TempDir dir_;
  fs::path splats_;
};

TEST_F(ViewWindowTest, WindowShowsTheOffscreenFrameWithoutValidationMessages) {
  const fs::path offscreen = dir_ / "offscreen.png", window = dir_ / "window.png";
  const std::string view = "--size 200x150 --camera orbit:40 --background 0.2,0.2,0.3 ";
  const CommandResult off =
      testing::RunCommand(fmt::format("'{}' view '{}' --quiet --offscreen --screenshot '{}' {}",
                                      FACET_BINARY, splats_.string(), offscreen.string(), view));
  ASSERT_EQ(off.exit_code, 0) << off.output;
  const CommandResult shown =
      ViewInWindow(splats_, view + "--frames 3 --screenshot '" + window.string() + "'");
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  const ImageU8 a = ReadImage<std::uint8_t>(offscreen), b = ReadImage<std::uint8_t>(window);
  ASSERT_EQ(b.width(), 200);
  ASSERT_EQ(b.height(), 150);
  // The same camera (the window's orbit camera starts at --camera's pose and field of view) and
  // the same renderer: the same pixels (to a level of rounding), and the splats are in them.
  EXPECT_EQ(PixelsDiffering(a, b, 3), 0);
  EXPECT_GT(PixelsAwayFrom(b, 51, 51, 77), 50);
}

TEST_F(ViewWindowTest, WorkspaceOpensWithEveryLayer) {
  // splats.ply + sparse/0 (two cameras, sparse points) + images/ (the photos, as thumbnails).
  const fs::path workspace = dir_ / "ws";
  fs::create_directories(workspace / "sparse/0");
  fs::create_directories(workspace / "images");
  fs::copy_file(splats_, workspace / "splats.ply");
  datasets::Scene scene;
  scene.cameras[datasets::CameraId(1)] =
      geometry::Camera::Create(geometry::CameraModelId::kPinhole, 80.0, 80, 60);
  for (int i = 0; i < 2; ++i) {
    datasets::Image image;
    image.id = datasets::ImageId(i + 1);
    image.name = "view" + std::to_string(i) + ".png";
    image.camera_id = datasets::CameraId(1);
    const Eigen::Quaterniond turned(Eigen::AngleAxisd(0.4 * i, Eigen::Vector3d::UnitY()));
    image.cam_from_world = geometry::Rigid3(turned, Eigen::Vector3d(0, 0, 2));
    scene.images[image.id] = image;
    ImageU8 photo(80, 60, 3);
    std::fill(photo.data(), photo.data() + photo.size(), std::uint8_t(40 + 100 * i));
    WriteImage(workspace / "images" / image.name, photo);
  }
  for (int i = 0; i < 20; ++i) {
    datasets::Point3D point;
    point.xyz = Eigen::Vector3d(0.05 * i - 0.5, 0.3, 0.0);
    point.color.setConstant(255);
    scene.points3d[datasets::Point3DId(i + 1)] = point;
  }
  datasets::WriteColmapModelBinary(workspace / "sparse/0", scene);
  const CommandResult shown = ViewInWindow(workspace,
                                           "--size 240x160 --frames 2 --camera index:1 --layers "
                                           "splats,points,cameras,grid,photos");
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
}

TEST_F(ViewWindowTest, EmptyFileOpensAndBadInputFailsWithOneLine) {
  const fs::path empty = dir_ / "empty.ply";
  datasets::WriteGaussianPly(empty, datasets::GaussianSplats{});
  const CommandResult opened = ViewInWindow(empty, "--size 64x48 --frames 2");
  EXPECT_EQ(opened.exit_code, 0) << opened.output;

  const fs::path corrupt = dir_ / "corrupt.ply";
  WriteFileAtomically(corrupt, std::string_view("not a ply\n"));
  const CommandResult failed = ViewInWindow(corrupt, "--size 64x48 --frames 2");
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  EXPECT_NE(failed.output.find("corrupt.ply"), std::string::npos) << failed.output;
  EXPECT_EQ(std::count(failed.output.begin(), failed.output.end(), '\n'), 1) << failed.output;
}

}  // namespace
}  // namespace facet
