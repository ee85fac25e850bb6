// The 3DGS trainer (splatting/trainer.h) on the built-in synthetic scene at 64x48: training
// drives the held-out PSNR up within a few hundred iterations, checkpoints restore the exact
// state, and the loader's inputs feed it; plus the shared 3DGS files render.
#include "splatting/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/temp_dir.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/progress.h"
#include "datasets/gaussian_splats.h"
#include "datasets/synthetic/dataset_writer.h"
#include "datasets/synthetic/synthetic_scene.h"
#include "splatting/rasterizer.h"

namespace facet::splatting {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetProgressQuiet(true);
    dir_ = new TempDir(TempDir::kPreferMemory);
    datasets::synthetic::SynthOptions options;
    options.num_views = 16;
    options.width = 64;
    options.height = 48;
    options.supersampling = 3;  // anti-aliased: the procedural textures alias badly without
    options.mesh_voxel_size = 0.03;
    datasets::synthetic::WriteSyntheticDataset(options, dir_->path() / "synth");
    data_ = new datasets::TrainingData(datasets::LoadTrainingData(dir_->path() / "synth"));
    // A coloured point cloud standing in for SfM's sparse points: every 3rd pixel of each view
    // unprojected with the renderer's depth.
    const datasets::synthetic::SyntheticScene synthetic =
        datasets::synthetic::MakeSyntheticScene(options);
    const datasets::synthetic::Renderer renderer = datasets::synthetic::MakeRenderer(synthetic);
    points_ = new std::vector<Eigen::Vector3f>();
    colors_ = new std::vector<Eigen::Vector3f>();
    for (const auto& [id, image] : synthetic.scene.images) {
      const auto view = renderer.Render(*image.cam_from_world, true, 0);
      const geometry::Camera& camera = synthetic.scene.cameras.at(image.camera_id);
      const Eigen::Matrix3d r = image.cam_from_world->rotation.toRotationMatrix();
      const Eigen::Vector3d& t = image.cam_from_world->translation;
      for (int y = 1; y < options.height; y += 3) {
        for (int x = 1; x < options.width; x += 3) {
          const float z = view.depth.view()(x, y);
          if (!(z > 0.0f) || !std::isfinite(z)) continue;
          const Eigen::Vector3d x_in_cam(
              (x + 0.5 - camera.PrincipalPoint().x()) / camera.FocalX() * z,
              (y + 0.5 - camera.PrincipalPoint().y()) / camera.FocalY() * z, z);
          points_->push_back((r.transpose() * (x_in_cam - t)).cast<float>());
          colors_->push_back(Eigen::Vector3f(view.rgb.view()(x, y, 0), view.rgb.view()(x, y, 1),
                                             view.rgb.view()(x, y, 2)) /
                             255.0f);
        }
      }
    }
  }
  static void TearDownTestSuite() {
    delete points_;
    delete colors_;
    delete data_;
    delete dir_;
  }

  static TrainOptions FastOptions(std::int64_t iterations) {
    TrainOptions options;
    options.iterations = iterations;
    options.default_strategy.refine_start = 100;
    options.default_strategy.refine_every = 50;
    options.default_strategy.reset_every = 0;
    options.sh_increase_every = 100;
    options.means_lr_steps = iterations;
    options.seed = 3;
    return options;
  }

  // Random initialisation (no points in the data: transforms.json).
  static Gaussians Init(std::int64_t count) {
    InitOptions init;
    init.random_count = count;
    init.seed = 5;
    return InitialModel(*data_, init);
  }
  // From the depth-unprojected cloud.
  static Gaussians InitFromCloud() { return InitFromPoints(*points_, *colors_); }

  static double MeanPsnr(const std::vector<ViewMetrics>& metrics) {
    double sum = 0.0;
    for (const ViewMetrics& m : metrics) sum += m.psnr;
    return sum / double(metrics.size());
  }

  static TempDir* dir_;
  static datasets::TrainingData* data_;
  static std::vector<Eigen::Vector3f>* points_;
  static std::vector<Eigen::Vector3f>* colors_;
};

TempDir* TrainerTest::dir_ = nullptr;
datasets::TrainingData* TrainerTest::data_ = nullptr;
std::vector<Eigen::Vector3f>* TrainerTest::points_ = nullptr;
std::vector<Eigen::Vector3f>* TrainerTest::colors_ = nullptr;

TEST_F(TrainerTest, TrainingRaisesTheHeldOutPsnr) {
  ASSERT_EQ(data_->test.size(), 2u);  // views 0 and 8 of 16
  ASSERT_FALSE(data_->has_points);
  ASSERT_GT(points_->size(), 3000u);
  Trainer trainer(*data_, InitFromCloud(), FastOptions(400));
  const double before = MeanPsnr(trainer.Evaluate(data_->test));
  double first_loss = 0.0, last_loss = 0.0;
  while (!trainer.Done()) {
    const IterationStats s = trainer.Step();
    if (s.iteration <= 20) first_loss += s.loss / 20.0;
    if (s.iteration > 380) last_loss += s.loss / 20.0;
  }
  const double after = MeanPsnr(trainer.Evaluate(data_->test));
  EXPECT_LT(last_loss, 0.5 * first_loss);
  std::printf("held-out PSNR %.2f -> %.2f dB\n", before, after);
  EXPECT_GT(after, before + 8.0);
  EXPECT_GT(after, 24.0);
  EXPECT_EQ(trainer.ActiveShDegree(), 3);
  EXPECT_NE(trainer.Model().size(), std::int64_t(points_->size()));  // densification ran
  const auto metrics = trainer.Evaluate(data_->test);
  for (const ViewMetrics& m : metrics) {
    EXPECT_GT(m.ssim, 0.5) << m.name;
    EXPECT_LE(m.ssim, 1.0) << m.name;
  }
}

TEST_F(TrainerTest, McmcKeepsItsBudget) {
  TrainOptions options = FastOptions(200);
  options.strategy = "mcmc";
  options.mcmc.max_gaussians = 2500;
  options.mcmc.refine_start = 50;
  options.mcmc.refine_every = 25;
  Trainer trainer(*data_, Init(1500), options);
  const double before = MeanPsnr(trainer.Evaluate(data_->test));
  std::int64_t largest = 0;
  while (!trainer.Done()) largest = std::max(largest, trainer.Step().num_gaussians);
  EXPECT_LE(largest, 2500);
  EXPECT_GT(largest, 1500);
  const double after = MeanPsnr(trainer.Evaluate(data_->test));
  std::printf("mcmc held-out PSNR %.2f -> %.2f dB\n", before, after);
  EXPECT_GT(after, before + 5.0);
}

TEST_F(TrainerTest, CheckpointRestoresModelOptimizerAndIteration) {
  const fs::path path = dir_->path() / "ckpt" / "a.ckpt";
  fs::create_directories(path.parent_path());
  Trainer a(*data_, Init(800), FastOptions(60));
  for (int i = 0; i < 30; ++i) a.Step();
  a.SaveCheckpoint(path);
  Trainer b(*data_, Init(10), FastOptions(60));
  b.LoadCheckpoint(path);
  EXPECT_EQ(b.Iteration(), 30);
  ASSERT_EQ(b.Model().size(), a.Model().size());
  for (int g = 0; g < Gaussians::kNumGroups; ++g) {
    const auto x = a.Model().Data(Gaussians::Group(g));
    const auto y = b.Model().Data(Gaussians::Group(g));
    ASSERT_TRUE(std::equal(x.begin(), x.end(), y.begin())) << "group " << g;
  }
  // Both continue the same run: the same next view, hence nearly the same loss (the backward
  // pass sums tiles in parallel, so results agree to rounding, not bit for bit).
  const double la = a.Step().loss, lb = b.Step().loss;
  EXPECT_NEAR(la, lb, 1e-4 * std::abs(la));
  EXPECT_EQ(a.Iteration(), b.Iteration());
}

TEST_F(TrainerTest, CorruptOrForeignCheckpointsAreRefused) {
  const fs::path good = dir_->path() / "ckpt" / "good.ckpt";
  fs::create_directories(good.parent_path());
  Trainer a(*data_, Init(200), FastOptions(10));
  a.Step();
  a.SaveCheckpoint(good);
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path bad = dir_->path() / "ckpt" / "bad.ckpt";
  for (std::size_t cut :
       {std::size_t(0), std::size_t(5), std::size_t(20), bytes.size() / 2, bytes.size() - 1}) {
    std::ofstream(bad, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), std::streamsize(cut));
    Trainer b(*data_, Init(200), FastOptions(10));
    EXPECT_THROW(b.LoadCheckpoint(bad), Error) << "cut at " << cut;
    EXPECT_EQ(b.Iteration(), 0);
  }
  std::string garbled = bytes;
  garbled[0] = 'X';
  std::ofstream(bad, std::ios::binary | std::ios::trunc)
      .write(garbled.data(), std::streamsize(garbled.size()));
  Trainer c(*data_, Init(200), FastOptions(10));
  EXPECT_THROW(c.LoadCheckpoint(bad), Error);
  EXPECT_THROW(c.LoadCheckpoint(dir_->path() / "missing.ckpt"), Error);
}

TEST_F(TrainerTest, RejectsBadOptions) {
  TrainOptions options = FastOptions(10);
  options.strategy = "greedy";
  EXPECT_THROW(Trainer(*data_, Init(100), options), Error);
  options = FastOptions(10);
  options.lambda_dssim = 1.5f;
  EXPECT_THROW(Trainer(*data_, Init(100), options), Error);
  options = FastOptions(10);
  options.max_sh_degree = 3;
  InitOptions init;
  init.max_sh_degree = 1;
  init.random_count = 50;
  EXPECT_THROW(Trainer(*data_, InitialModel(*data_, init), options), Error);
  // The CUDA trainer runs the default strategy only.
  options = FastOptions(10);
  options.strategy = "mcmc";
  options.backend = Backend::kCuda;
  EXPECT_THROW(options.Check(), Error);
  // Without a CUDA build or a device, asking for it is an error, not a silent CPU run.
  if (!CudaBuilt() || CudaDeviceCount() == 0) {
    options = FastOptions(10);
    options.backend = Backend::kCuda;
    EXPECT_THROW(Trainer(*data_, Init(100), options), Error);
  }
}

TEST(Psnr, KnownValues) {
  ImageF32 render(4, 2, 3, 0.5f);
  ImageU8 photo(4, 2, 3, 0);
  // Every value differs by 0.5: MSE 0.25, PSNR 10 log10(4) = 6.02 dB.
  EXPECT_NEAR(Psnr(render.view(), photo.view()), 10.0 * std::log10(4.0), 1e-6);
  ImageU8 same(4, 2, 3, 255);
  ImageF32 white(4, 2, 3, 1.3f);  // clamped to 1
  EXPECT_EQ(Psnr(white.view(), same.view()), 100.0);
}

// The shared 3DGS scene (a trained INRIA PLY and a .splat file) loads and renders: a camera
// looking at the splats' centre from outside their bounds sees a non-empty, finite image.
TEST(SharedSplats, PlyAndSplatFilesRender) {
  const fs::path dir = fs::path(FACET_SOURCE_DIR "/../shared/data") / "splats-small";
  if (!fs::exists(dir)) GTEST_SKIP() << "no shared data at " << dir;
  for (const char* name :
       {"kacytran1122_try_iter7000_point_cloud.ply", "kacytran1122_try_model.splat"}) {
    const fs::path path = dir / name;
    const datasets::GaussianSplats splats =
        path.extension() == ".ply" ? datasets::ReadGaussianPly(path) : datasets::ReadSplat(path);
    const Gaussians g = FromSplats(splats);
    ASSERT_GT(g.size(), 1000) << name;
    // Median position and spread, robust to floaters.
    Eigen::Vector3f center = Eigen::Vector3f::Zero();
    for (std::int64_t i = 0; i < g.size(); ++i) {
      center += Eigen::Vector3f(g.means[3 * i], g.means[3 * i + 1], g.means[3 * i + 2]);
    }
    center /= float(g.size());
    RasterCamera<float> cam;
    for (int i = 0; i < 9; ++i) cam.view.cam_from_world_rotation.m[i] = (i % 4 == 0) ? 1.0f : 0.0f;
    const float back = 6.0f;
    // Camera at center - back * z looking along +z: t = -R c_cam = -(center - back z).
    cam.view.cam_from_world_translation = {-center.x(), -center.y(), -(center.z() - back)};
    cam.center = {center.x(), center.y(), center.z() - back};
    cam.view.fx = cam.view.fy = 100.0f;
    cam.view.cx = 64.0f;
    cam.view.cy = 48.0f;
    cam.view.width = 128.0f;
    cam.view.height = 96.0f;
    cam.width = 128;
    cam.height = 96;
    RasterOptions options;
    options.sh_degree = g.max_sh_degree;
    RasterResult<float> r;
    RasterizeForward(g.View(), cam, options, &r);
    double coverage = 0.0;
    for (float a : r.alpha) coverage += a;
    coverage /= double(r.alpha.size());
    for (float v : r.rgb) ASSERT_TRUE(std::isfinite(v)) << name;
    EXPECT_GT(coverage, 0.05) << name;
  }
}

}  // namespace
}  // namespace facet::splatting
