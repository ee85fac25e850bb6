// The device-resident trainer (TrainOptions::backend = kCuda, splatting/cuda/train_step_cuda.h)
// against the CPU trainer on a tiny hand-made scene: 6 views at 48x32 of 300 random Gaussians
// rendered by the CPU rasterizer, trained from the same initialisation and seed. Both run the
// same arithmetic up to float rounding (rasterizer_cuda.h), so the losses agree closely over the
// first iterations and the models stay close after 60. Part of splatting_cuda_test (label gpu);
// skips without a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/error.h"
#include "splatting/trainer.h"

namespace facet::splatting {
namespace {

constexpr int kWidth = 48;
constexpr int kHeight = 32;
constexpr int kViews = 6;

// Cameras on a circle of radius 3 around the origin (tilted up and down in turn), looking at it.
datasets::TrainingData TinyScene() {
  InitOptions truth_init;
  truth_init.max_sh_degree = 1;
  truth_init.random_count = 300;
  truth_init.initial_opacity = 0.6f;
  truth_init.seed = 11;
  const Gaussians truth =
      InitRandom(Eigen::Vector3f::Constant(-0.6f), Eigen::Vector3f::Constant(0.6f), truth_init);
  datasets::TrainingData data;
  data.background = Eigen::Vector3f::Zero();
  data.camera_center = Eigen::Vector3f::Zero();
  data.scene_extent = 1.1f * 3.0f;
  const RenderSettings settings{data.background, 0, false};
  for (int v = 0; v < kViews; ++v) {
    const double a = 2.0 * M_PI * v / kViews;
    const Eigen::Vector3d c(3.0 * std::cos(a), v % 2 == 0 ? 0.6 : -0.6, 3.0 * std::sin(a));
    const Eigen::Vector3d z = (-c).normalized();
    const Eigen::Vector3d x = Eigen::Vector3d::UnitY().cross(z).normalized();
    const Eigen::Vector3d y = z.cross(x);
    Eigen::Matrix3d r;
    r.row(0) = x.transpose();
    r.row(1) = y.transpose();
    r.row(2) = z.transpose();
    datasets::TrainingView view;
    view.name = "view" + std::to_string(v);
    view.camera =
        geometry::Camera::Create(geometry::CameraModelId::kPinhole, 40.0, kWidth, kHeight);
    view.cam_from_world = geometry::Rigid3(Eigen::Quaterniond(r), -(r * c));
    const ImageF32 render = RenderView(truth, view, settings);
    view.image.Reset(kWidth, kHeight, 3);
    for (std::int64_t i = 0; i < std::int64_t(kWidth) * kHeight * 3; ++i) {
      view.image.data()[i] =
          std::uint8_t(std::lround(255.0f * std::clamp(render.data()[i], 0.0f, 1.0f)));
    }
    data.train.push_back(std::move(view));
  }
  return data;
}

Gaussians Init() {
  InitOptions init;
  init.max_sh_degree = 1;
  init.random_count = 200;
  init.seed = 5;
  return InitRandom(Eigen::Vector3f::Constant(-0.8f), Eigen::Vector3f::Constant(0.8f), init);
}

TrainOptions Options(Backend backend) {
  TrainOptions options;
  options.iterations = 60;
  options.max_sh_degree = 1;
  options.sh_increase_every = 30;
  options.seed = 7;
  options.backend = backend;
  return options;
}

// ||a - b|| / max(||a||, 1e-3 sqrt(size)) per group: relative, with a floor for groups that
// start at zero (sh_rest).
void ExpectModelsClose(const Gaussians& cpu, const Gaussians& cuda, double tolerance,
                       int groups = Gaussians::kNumGroups) {
  ASSERT_EQ(cpu.size(), cuda.size());
  ASSERT_EQ(cpu.max_sh_degree, cuda.max_sh_degree);
  for (int g = 0; g < groups; ++g) {
    const auto a = cpu.Data(Gaussians::Group(g));
    const auto b = cuda.Data(Gaussians::Group(g));
    double diff = 0.0, norm = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
      norm += double(a[i]) * a[i];
    }
    const double floor = 1e-3 * std::sqrt(double(a.size()));
    EXPECT_LT(std::sqrt(diff) / std::max(std::sqrt(norm), floor), tolerance) << "group " << g;
  }
}

TEST(CudaTrainer, FollowsTheCpuTrainer) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  const datasets::TrainingData data = TinyScene();
  Trainer cpu(data, Init(), Options(Backend::kCpu));
  Trainer cuda(data, Init(), Options(Backend::kCuda));
  double first_loss = 0.0, last_loss = 0.0;
  while (!cpu.Done()) {
    const IterationStats a = cpu.Step();
    const IterationStats b = cuda.Step();
    ASSERT_EQ(a.num_gaussians, b.num_gaussians) << a.iteration;
    if (a.iteration <= 20) {
      EXPECT_NEAR(b.loss, a.loss, 1e-3 * a.loss) << "iteration " << a.iteration;
      EXPECT_NEAR(b.psnr, a.psnr, 1e-2) << "iteration " << a.iteration;
    }
    if (a.iteration == 1) first_loss = b.loss;
    last_loss = b.loss;
  }
  EXPECT_LT(last_loss, first_loss);  // it trains
  ExpectModelsClose(cpu.Model(), cuda.Model(), 1e-2);
  EXPECT_GT(cuda.PeakDeviceBytes(), 0);
  EXPECT_EQ(cpu.PeakDeviceBytes(), 0);
  // Rendering and evaluation use the device model.
  const ImageF32 a = cpu.Render(data.train[0]);
  const ImageF32 b = cuda.Render(data.train[0]);
  double diff = 0.0;
  for (std::int64_t i = 0; i < std::int64_t(kWidth) * kHeight * 3; ++i) {
    diff = std::max(diff, double(std::abs(a.data()[i] - b.data()[i])));
  }
  EXPECT_LT(diff, 2e-2);
  const auto ma = cpu.Evaluate(data.train);
  const auto mb = cuda.Evaluate(data.train);
  ASSERT_EQ(ma.size(), mb.size());
  for (std::size_t i = 0; i < ma.size(); ++i) EXPECT_NEAR(ma[i].psnr, mb[i].psnr, 0.1);
}

// Densification and an opacity reset inside the run: the host copy is downloaded, changed and
// uploaded again (model and Adam moments), and a checkpoint written mid-run restores the state.
TEST(CudaTrainer, DensifiesOnTheHostBetweenDeviceSteps) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  const datasets::TrainingData data = TinyScene();
  const auto options = [](Backend backend) {
    TrainOptions o = Options(backend);
    o.default_strategy.refine_start = 10;
    o.default_strategy.refine_every = 10;
    o.default_strategy.reset_every = 30;
    o.default_strategy.refine_stop = 20000;  // scaled to the 60 iterations: 40
    return o;
  };
  Trainer cpu(data, Init(), options(Backend::kCpu));
  Trainer cuda(data, Init(), options(Backend::kCuda));
  bool reset = false;
  while (!cpu.Done()) {
    const IterationStats a = cpu.Step();
    const IterationStats b = cuda.Step();
    ASSERT_EQ(a.num_gaussians, b.num_gaussians) << a.iteration;
    EXPECT_EQ(a.densify.opacity_reset, b.densify.opacity_reset) << a.iteration;
    reset = reset || b.densify.opacity_reset;
    EXPECT_EQ(cuda.Model().size(), b.num_gaussians);
  }
  EXPECT_TRUE(reset);
  ExpectModelsClose(cpu.Model(), cuda.Model(), 1e-2, Gaussians::kShRest);
  // The higher SH bands start at zero when they are switched on (iteration 30) and mostly see
  // gradients at the level of float rounding here; Adam normalises those to full-size steps, so
  // the order of the device's atomic gradient sums can flip their sign. What holds regardless is
  // Adam's step bound (Kingma & Ba 2015, sec. 2.1): each step moves a parameter by at most
  // lr (1 - beta1) / sqrt(1 - beta2), so two runs differ by at most twice that per step.
  const TrainOptions o = options(Backend::kCpu);
  const AdamOptions adam;
  const double step_bound =
      o.sh_rest_lr * std::max(1.0, (1.0 - adam.beta1) / std::sqrt(1.0 - adam.beta2));
  const double bound = 2.0 * step_bound * double(o.iterations - o.sh_increase_every);
  const auto a = cpu.Model().Data(Gaussians::kShRest);
  const auto b = cuda.Model().Data(Gaussians::kShRest);
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  std::printf("sh_rest: largest difference %.3g (bound %.3g)\n", worst, bound);
  EXPECT_LE(worst, bound);
}

TEST(CudaTrainer, CheckpointRoundTripsTheDeviceState) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  const datasets::TrainingData data = TinyScene();
  Trainer a(data, Init(), Options(Backend::kCuda));
  for (int i = 0; i < 25; ++i) a.Step();
  const auto path = std::filesystem::temp_directory_path() / "facet_trainer_cuda_test.ckpt";
  a.SaveCheckpoint(path);
  Trainer b(data, Init(), Options(Backend::kCuda));
  b.LoadCheckpoint(path);
  std::filesystem::remove(path);
  ASSERT_EQ(b.Iteration(), 25);
  // The same state: the first step renders the same bits; later ones differ only by the order
  // of the backward pass's atomic gradient sums.
  EXPECT_EQ(a.Step().loss, b.Step().loss);
  for (int i = 0; i < 4; ++i) {
    const double la = a.Step().loss, lb = b.Step().loss;
    EXPECT_NEAR(la, lb, 1e-5 * la);
  }
  ExpectModelsClose(a.Model(), b.Model(), 1e-4);
}

TEST(CudaTrainer, WithoutADeviceTheConstructorThrows) {
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "a CUDA device is present";
  const datasets::TrainingData data = TinyScene();
  EXPECT_THROW(Trainer(data, Init(), Options(Backend::kCuda)), Error);
}

}  // namespace
}  // namespace facet::splatting
