// The viewer's splat renderer against facet's CPU rasterizer (splatting/rasterizer.h), the
// reference the acceptance names: same Gaussians, same camera, PSNR >= 35 dB. Every scene
// is drawn both ways: with the compute tile rasterizer (the default) and with quads.
#include "viewer/splat_renderer.h"

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <string>

#include "common/temp_dir.h"
#include "datasets/gaussian_splats.h"
#include "datasets/synthetic/dataset_writer.h"
#include "datasets/training_data.h"
#include "splat_test_util.h"
#include "splatting/gaussians.h"
#include "splatting/rasterizer.h"
#include "splatting/trainer.h"
#include "viewer/offscreen.h"
#include "viewer/shaders/shader_io.h"
#include "viewer/splat_view.h"
#include "vulkan_test_context.h"

namespace facet::viewer {
namespace {

using geometry::Camera;
using geometry::Rigid3;

using test::RandomGaussians;
using test::TestCamera;

// The CPU reference's colour image.
std::vector<float> RenderCpu(const splatting::Gaussians& gaussians, const Camera& camera,
                             const Rigid3& cam_from_world, const SplatDrawOptions& options,
                             const Eigen::Vector3f& background) {
  return test::RasterizeCpu(gaussians, camera, cam_from_world, options, background).rgb;
}

// PSNR in dB of the GPU's 8-bit image against the CPU's float image (clamped to [0, 1]).
double Psnr(const ImageU8& gpu, const std::vector<float>& cpu, int* max_diff_levels) {
  double sum = 0.0;
  *max_diff_levels = 0;
  for (int y = 0; y < gpu.height(); ++y) {
    for (int x = 0; x < gpu.width(); ++x) {
      for (int c = 0; c < 3; ++c) {
        const double ref = std::clamp(cpu[(std::size_t(y) * gpu.width() + x) * 3 + c], 0.0f, 1.0f);
        const double diff = gpu(x, y, c) / 255.0 - ref;
        sum += diff * diff;
        *max_diff_levels = std::max(*max_diff_levels, int(std::lround(std::abs(diff) * 255.0)));
      }
    }
  }
  const double mse = sum / (3.0 * gpu.width() * gpu.height());
  return mse > 0.0 ? 10.0 * std::log10(1.0 / mse) : 99.0;
}

class SplatRendererTest : public test::VulkanTest {
 protected:
  void SetUp() override {
    VulkanTest::SetUp();
    if (context_ == nullptr) return;
    for (const VkFormat format :
         {OffscreenTarget::kColorFormat, OffscreenTarget::kHdrColorFormat}) {
      renderers_[format] =
          std::make_unique<SplatRenderer>(*context_, format, OffscreenTarget::kDepthFormat);
    }
  }
  void TearDown() override {
    renderers_.clear();
    VulkanTest::TearDown();
  }

  // The one-call path the viewer uses: preprocess, GPU radix sort and draw in one command buffer.
  ImageU8 RenderGpu(const GpuSplats& splats, const Camera& camera, const Rigid3& cam_from_world,
                    const SplatDrawOptions& options, const Eigen::Vector3f& background,
                    VkFormat format, std::uint32_t* visible_count = nullptr) {
    SplatImage image = RenderSplatsOffscreen(*context_, *renderers_.at(format), splats, camera,
                                             cam_from_world, options, background);
    if (visible_count != nullptr) *visible_count = image.visible;
    return std::move(image.rgb);
  }

  // Both targets against the CPU render of `gaussians` (the same Gaussians as `splats`), drawn
  // with options.raster.
  struct Comparison {
    std::uint32_t visible = 0;
    double psnr_unorm = 0.0, psnr_hdr = 0.0;   // dB
    int max_diff_unorm = 0, max_diff_hdr = 0;  // levels of 255
  };
  Comparison CompareRaster(const std::string& label, const std::vector<float>& cpu,
                           const GpuSplats& splats, const Camera& camera,
                           const Rigid3& cam_from_world, const SplatDrawOptions& options,
                           const Eigen::Vector3f& background) {
    Comparison out;
    const ImageU8 unorm = RenderGpu(splats, camera, cam_from_world, options, background,
                                    OffscreenTarget::kColorFormat, &out.visible);
    const ImageU8 hdr = RenderGpu(splats, camera, cam_from_world, options, background,
                                  OffscreenTarget::kHdrColorFormat);
    out.psnr_unorm = Psnr(unorm, cpu, &out.max_diff_unorm);
    out.psnr_hdr = Psnr(hdr, cpu, &out.max_diff_hdr);
    std::printf(
        "%s: %u visible; RGBA8 target PSNR %.2f dB (max difference %d/255), RGBA16F "
        "target PSNR %.2f dB (max %d/255)\n",
        label.c_str(), out.visible, out.psnr_unorm, out.max_diff_unorm, out.psnr_hdr,
        out.max_diff_hdr);
    RecordProperty(label + " psnr_db_rgba8", std::to_string(out.psnr_unorm));
    RecordProperty(label + " psnr_db_rgba16f", std::to_string(out.psnr_hdr));
    last_hdr_ = hdr;
    return out;
  }
  // The quads (returned) and the compute tile rasterizer (in `compute`), which is the CPU's
  // algorithm in the same float math: only the final rounding to the target's format differs
  // (<= 1 level per channel on lavapipe; 2 allowed for a device's own exp and FMA contraction).
  Comparison Compare(const char* label, const splatting::Gaussians& gaussians,
                     const GpuSplats& splats, const Camera& camera, const Rigid3& cam_from_world,
                     SplatDrawOptions options, const Eigen::Vector3f& background,
                     Comparison* compute = nullptr) {
    const std::vector<float> cpu =
        RenderCpu(gaussians, camera, cam_from_world, options, background);
    options.raster = SplatRaster::kCompute;
    const Comparison tiles = CompareRaster(std::string(label) + " (compute)", cpu, splats, camera,
                                           cam_from_world, options, background);
    EXPECT_GE(tiles.psnr_unorm, 55.0) << label;
    EXPECT_GE(tiles.psnr_hdr, 55.0) << label;
    EXPECT_LE(tiles.max_diff_unorm, 2) << label;
    EXPECT_LE(tiles.max_diff_hdr, 2) << label;
    if (compute != nullptr) *compute = tiles;
    options.raster = SplatRaster::kQuads;
    const Comparison quads = CompareRaster(std::string(label) + " (quads)", cpu, splats, camera,
                                           cam_from_world, options, background);
    EXPECT_EQ(tiles.visible, quads.visible);
    return quads;
  }

  std::map<VkFormat, std::unique_ptr<SplatRenderer>> renderers_;
  ImageU8 last_hdr_;  // the RGBA16F image of the last Compare (the quads')
};

TEST_F(SplatRendererTest, HandPlacedGaussiansMatchTheCpuRasterizer) {
  // Three overlapping Gaussians at different depths (the back one the largest), one of them
  // elongated and turned; the front one nearly opaque, so the blend order shows.
  splatting::Gaussians g(3, /*max_sh_degree=*/0);
  const float means[3][3] = {{0.0f, 0.0f, 4.0f}, {0.3f, 0.1f, 3.0f}, {-0.2f, -0.15f, 2.0f}};
  const float log_scales[3][3] = {
      {-0.7f, -0.7f, -0.7f}, {-1.0f, -2.5f, -1.0f}, {-2.3f, -2.0f, -2.0f}};
  const float colors[3][3] = {{0.9f, 0.1f, 0.1f}, {0.1f, 0.9f, 0.1f}, {0.1f, 0.2f, 0.9f}};
  const float opacity_logits[3] = {0.0f, 1.0f, 5.0f};
  const Eigen::Quaternionf turned(Eigen::AngleAxisf(0.6f, Eigen::Vector3f::UnitZ()));
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 3; ++k) {
      g.means[3 * i + k] = means[i][k];
      g.log_scales[3 * i + k] = log_scales[i][k];
      g.sh_dc[3 * i + k] = (colors[i][k] - 0.5f) / float(splatting::kernels::kShC0);
    }
    const Eigen::Quaternionf q = i == 1 ? turned : Eigen::Quaternionf::Identity();
    g.quats[4 * i] = q.w(), g.quats[4 * i + 1] = q.x(), g.quats[4 * i + 2] = q.y();
    g.quats[4 * i + 3] = q.z();
    g.opacities[i] = opacity_logits[i];
  }
  const Camera camera = TestCamera();
  const Rigid3 cam_from_world;
  const Eigen::Vector3f background(0.2f, 0.3f, 0.4f);
  SplatDrawOptions options;
  options.sh_degree = 0;
  const GpuSplats splats(*context_, splatting::ToSplats(g));
  const Comparison result =
      Compare("hand-placed", g, splats, camera, cam_from_world, options, background);
  EXPECT_EQ(result.visible, 3u);
  // Three blends into an 8-bit target, each rounding by <= 0.5 level, plus the final rounding.
  EXPECT_LE(result.max_diff_unorm, 2);
  // A half-float target rounds only at the end (half floats: 2^-11 relative per blend).
  EXPECT_LE(result.max_diff_hdr, 1);
  EXPECT_GE(result.psnr_unorm, 35.0);
  // The background stays where no Gaussian reaches (a corner far from all three).
  EXPECT_EQ(last_hdr_(0, 0, 2), std::lround(0.4f * 255.0f));
}

TEST_F(SplatRendererTest, RandomGaussiansMatchTheCpuRasterizerForEveryShDegree) {
  const splatting::Gaussians g = RandomGaussians(2000, 17);
  const Camera camera = TestCamera();
  // A turned camera, so that view directions (SH) and the Jacobian clamp vary across the image.
  const Rigid3 cam_from_world(
      Eigen::Quaterniond(Eigen::AngleAxisd(0.15, Eigen::Vector3d(0.2, 1.0, 0.1).normalized())),
      Eigen::Vector3d(0.1, -0.05, 0.2));
  const Eigen::Vector3f background(0.05f, 0.1f, 0.15f);
  const GpuSplats splats(*context_, splatting::ToSplats(g));
  {
    // The higher bands change the CPU image by more than the tolerance, so matching it at each
    // degree checks the GPU's SH evaluation.
    SplatDrawOptions dc_only, full;
    dc_only.sh_degree = 0;
    const std::vector<float> a = RenderCpu(g, camera, cam_from_world, dc_only, background);
    const std::vector<float> b = RenderCpu(g, camera, cam_from_world, full, background);
    double sum = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
    EXPECT_LT(10.0 * std::log10(a.size() / sum), 35.0);
  }
  for (int degree = 0; degree <= 3; ++degree) {
    SplatDrawOptions options;
    options.sh_degree = degree;
    const std::string label = "2000 random, SH degree " + std::to_string(degree);
    const Comparison result =
        Compare(label.c_str(), g, splats, camera, cam_from_world, options, background);
    EXPECT_GT(result.visible, 1000u);
    EXPECT_GE(result.psnr_unorm, 35.0) << label;
    EXPECT_LE(result.max_diff_hdr, 2) << label;
  }
}

TEST_F(SplatRendererTest, ShippedSplatSceneMatchesTheCpuRasterizer) {
  const std::filesystem::path path = std::filesystem::path(FACET_SOURCE_DIR) /
                                     "../shared/data/splats-small/"
                                     "kacytran1122_try_iter7000_point_cloud.ply";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  const datasets::GaussianSplats file = datasets::ReadGaussianPly(path);
  ASSERT_GT(file.size(), 1000u);
  // Look at the median of the means from outside the central 80% of them.
  std::vector<float> xs[3];
  for (const Eigen::Vector3f& p : file.positions) {
    for (int k = 0; k < 3; ++k) xs[k].push_back(p[k]);
  }
  Eigen::Vector3d centre, spread;
  for (int k = 0; k < 3; ++k) {
    std::sort(xs[k].begin(), xs[k].end());
    centre[k] = xs[k][xs[k].size() / 2];
    spread[k] = xs[k][xs[k].size() * 9 / 10] - xs[k][xs[k].size() / 10];
  }
  const Eigen::Vector3d eye =
      centre + Eigen::Vector3d(0.3, -0.4, -1.0).normalized() * 1.5 * spread.maxCoeff();
  const Eigen::Vector3d forward = (centre - eye).normalized();
  const Eigen::Vector3d right = forward.cross(Eigen::Vector3d::UnitY()).normalized();
  const Eigen::Vector3d down = forward.cross(right);
  Eigen::Matrix3d world_from_cam_rotation;
  world_from_cam_rotation << right, down, forward;
  const Eigen::Matrix3d r = world_from_cam_rotation.transpose();
  const Rigid3 cam_from_world(Eigen::Quaterniond(r), -(r * eye));
  const Camera camera = TestCamera(320, 240);
  const Eigen::Vector3f background(0.0f, 0.0f, 0.0f);
  SplatDrawOptions options;
  options.sh_degree = file.sh_degree;
  const GpuSplats splats(*context_, file);
  const Comparison result = Compare("splats-small", splatting::FromSplats(file), splats, camera,
                                    cam_from_world, options, background);
  int lit = 0;
  for (int y = 0; y < last_hdr_.height(); ++y) {
    for (int x = 0; x < last_hdr_.width(); ++x) {
      lit += last_hdr_(x, y, 0) + last_hdr_(x, y, 1) + last_hdr_(x, y, 2) > 30;
    }
  }
  std::printf("splats-small: %zu Gaussians, SH degree %d, %d%% of the pixels lit\n", file.size(),
              file.sh_degree, 100 * lit / (last_hdr_.width() * last_hdr_.height()));
  EXPECT_GT(lit, last_hdr_.width() * last_hdr_.height() / 10);  // the view shows the scene
  EXPECT_GE(result.psnr_unorm, 35.0);
  // Half floats round each of the ~100 blends of a pixel by <= 2^-12 of its value (0.06 level):
  // a few levels at most, where the 8-bit target drifts by tens.
  EXPECT_GE(result.psnr_hdr, 45.0);
  EXPECT_LE(result.max_diff_hdr, 8);
}

// The second scene: splats trained (briefly, on the CPU) on the built-in synthetic scene,
// seen from a held-out camera.
TEST_F(SplatRendererTest, SplatsTrainedOnTheSyntheticSceneMatchTheCpuRasterizer) {
  const testing::TempDir dir;
  datasets::synthetic::SynthOptions synth;
  synth.num_views = 9;
  synth.width = 80;
  synth.height = 60;
  synth.supersampling = 1;
  synth.mesh_voxel_size = 0.05;
  datasets::synthetic::WriteSyntheticDataset(synth, dir.path() / "synth");
  const datasets::TrainingData data =
      datasets::LoadTrainingData(dir.path() / "synth" / "transforms.json");
  ASSERT_FALSE(data.test.empty());
  splatting::InitOptions init;
  init.random_count = 5000;
  splatting::TrainOptions train;
  train.iterations = 300;
  train.sh_increase_every = 100;  // all bands in use by the end
  splatting::Trainer trainer(data, splatting::InitialModel(data, init), train);
  while (!trainer.Done()) trainer.Step();
  const int sh_degree = trainer.ActiveShDegree();
  const splatting::Gaussians model =
      splatting::FromSplats(splatting::ToSplats(trainer.Model(), sh_degree));
  ASSERT_GT(model.size(), 1000u);

  const datasets::TrainingView& view = data.test.front();
  const Camera camera = datasets::ScaleCamera(view.camera, 160, 120);
  SplatDrawOptions options;
  options.sh_degree = sh_degree;
  const GpuSplats splats(*context_, splatting::ToSplats(model, sh_degree));
  const Comparison result = Compare("synthetic scene", model, splats, camera, view.cam_from_world,
                                    options, data.background);
  std::printf("synthetic scene: %zu Gaussians, SH degree %d\n", model.size(), sh_degree);
  EXPECT_GT(result.visible, model.size() / 4);
  EXPECT_GE(result.psnr_unorm, 35.0);
  EXPECT_GE(result.psnr_hdr, 45.0);
}

TEST_F(SplatRendererTest, EmptyModelDrawsTheBackgroundAndBadOptionsThrow) {
  const GpuSplats splats(*context_, datasets::GaussianSplats{});
  EXPECT_EQ(splats.count(), 0u);
  const ImageU8 gpu = RenderGpu(splats, TestCamera(), Rigid3(), SplatDrawOptions{},
                                Eigen::Vector3f(1.0f, 0.0f, 0.0f), OffscreenTarget::kColorFormat);
  EXPECT_EQ(gpu(80, 60, 0), 255);
  EXPECT_EQ(gpu(80, 60, 1), 0);
  SplatDrawOptions bad;
  bad.sh_degree = 4;
  EXPECT_THROW(bad.Check(), Error);
  datasets::GaussianSplats broken;
  broken.positions.resize(2);
  EXPECT_THROW(GpuSplats(*context_, broken), Error);
}

}  // namespace
}  // namespace facet::viewer
