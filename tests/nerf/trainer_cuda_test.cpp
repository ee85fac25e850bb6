// The CUDA NeRF trainer (nerf/cuda/trainer_cuda.h) against the CPU trainer on the sphere scene of
// sphere_scene.h: one step on the same rays from the same initial state gives the same loss,
// gradients and updated parameters; a few hundred steps learn the sphere as well as the CPU
// trainer's test asks; a checkpoint of a CUDA run restores and renders the same. Built with CUDA,
// run with `ctest -L gpu`; skips without a device.
#include "nerf/cuda/trainer_cuda.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "common/temp_dir.h"
#include "core/backend.h"
#include "nerf/render.h"
#include "nerf/snapshot.h"
#include "nerf/trainer.h"
#include "sphere_scene.h"

namespace facet::nerf {
namespace {

using test::SmallField;
using test::SmallTraining;
using test::SphereData;

#define SKIP_WITHOUT_DEVICE()                                     \
  do {                                                            \
    if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device"; \
  } while (false)

// Rays through random pixels of the training views over random backgrounds (fixed seed).
NerfRayBatch RandomBatch(const datasets::TrainingData& data, int n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  NerfRayBatch batch;
  for (int r = 0; r < n; ++r) {
    const datasets::TrainingView& view = data.train[std::size_t(r) % data.train.size()];
    const float x = unit(rng) * float(view.image.width());
    const float y = unit(rng) * float(view.image.height());
    const int px = std::min(int(x), view.image.width() - 1);
    const int py = std::min(int(y), view.image.height() - 1);
    const kernels::PinholeView pinhole = PinholeViewOf(view.camera, view.cam_from_world);
    float d[3];
    kernels::PixelRay(pinhole, x, y, d);
    const float alpha = view.image(px, py, 3) / 255.0f;
    for (int k = 0; k < 3; ++k) {
      const float background = unit(rng);
      batch.origins.push_back(pinhole.origin[k]);
      batch.directions.push_back(d[k]);
      batch.backgrounds.push_back(background);
      batch.targets.push_back(alpha * view.image(px, py, k) / 255.0f + (1 - alpha) * background);
    }
  }
  return batch;
}

// ||a - b|| / ||b||.
double RelativeError(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    diff += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
    norm += double(b[i]) * double(b[i]);
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

struct Scene {
  datasets::TrainingData data = SphereData();
  Eigen::Vector3f lo, hi;
  Scene() { SceneBox(data, &lo, &hi); }
};

// The networks of the one-step comparison: the small test field (cuBLAS: its shapes have no fused
// kernel), and instant-ngp's shapes (32 hash features, 64 neurons) through either CUDA path.
struct StepCase {
  const char* name;
  NerfFieldOptions field;
  MlpCudaKernel kernel;
};

NerfFieldOptions InstantNgpNetworks() {
  NerfFieldOptions field = SmallField();
  field.grid.levels = 16;  // 16 x 2 features: the fused kernels' 32 inputs
  field.density_hidden = 64;
  field.color_hidden = 64;
  return field;
}

class NerfTrainerCudaStep : public ::testing::TestWithParam<StepCase> {};

TEST_P(NerfTrainerCudaStep, OneStepOnTheSameRaysMatchesTheCpu) {
  SKIP_WITHOUT_DEVICE();
  const Scene scene;
  const NerfFieldOptions field = GetParam().field;
  NerfTrainOptions options = SmallTraining();
  // A threshold far below the initial field's cell values: every cell stays occupied after the
  // first refresh on both backends, so both march the same samples (no cell within rounding of
  // the threshold), and the batch is well inside the sample budget.
  options.occupancy.threshold = 1e-6f;
  NerfTrainer cpu(scene.data, scene.lo, scene.hi, field, options);
  NerfTrainerCuda gpu(scene.data, scene.lo, scene.hi, field, options, GetParam().kernel);
  const NerfRayBatch batch = RandomBatch(scene.data, 256, 3);
  const NerfStepStats a = cpu.Step(batch);
  const NerfStepStats b = gpu.Step(batch);
  EXPECT_EQ(a.rays, b.rays);
  EXPECT_EQ(a.rays, 256u);
  // Rounding may move a sample across the box's exit: at most one sample per ray in a thousand.
  EXPECT_NEAR(double(b.samples), double(a.samples), 1e-3 * double(a.samples));
  EXPECT_GT(a.samples, 256u * 50u);  // the rays cross the 1.5-unit box at 0.01 steps
  EXPECT_NEAR(b.loss, a.loss, 1e-4 * a.loss);
  EXPECT_NEAR(b.psnr, a.psnr, 1e-3);
  EXPECT_DOUBLE_EQ(b.occupied, a.occupied);

  // Gradients of this step: float rounding only (sums in another order), far below 1%.
  const std::span<const float> cpu_gradients[3] = {
      cpu.field().grid_gradient(), cpu.field().density_gradient(), cpu.field().color_gradient()};
  for (int block = 0; block < 3; ++block) {
    const std::vector<float> g = gpu.Gradient(block);
    EXPECT_LT(RelativeError(g, cpu_gradients[block]), 1e-2) << "block " << block;
  }
  // Parameters after Adam's first step (a move of +-learning_rate along each gradient's sign):
  // equal wherever the gradient is well above rounding.
  NerfTrainer downloaded(scene.data, scene.lo, scene.hi, field, options);
  gpu.Download(&downloaded);
  EXPECT_EQ(downloaded.step(), 1);
  EXPECT_EQ(downloaded.grid_adam().step_count(), 1);
  const std::span<const float> cpu_params[3] = {cpu.field().grid().params(),
                                                cpu.field().density_net().params(),
                                                cpu.field().color_net().params()};
  const std::span<const float> gpu_params[3] = {downloaded.field().grid().params(),
                                                downloaded.field().density_net().params(),
                                                downloaded.field().color_net().params()};
  for (int block = 0; block < 3; ++block) {
    const std::span<const float> g = cpu_gradients[block];
    float largest = 0.0f;
    for (const float x : g) largest = std::max(largest, std::abs(x));
    int compared = 0, different = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      if (std::abs(g[i]) < 1e-3f * largest) continue;
      ++compared;
      if (std::abs(cpu_params[block][i] - gpu_params[block][i]) >
          1e-5f + 1e-4f * std::abs(cpu_params[block][i])) {
        ++different;
      }
    }
    EXPECT_GT(compared, 0) << "block " << block;
    EXPECT_EQ(different, 0) << "block " << block << " of " << compared;
  }
  // The occupancy refresh before the step: the same values to rounding.
  EXPECT_LT(RelativeError(downloaded.occupancy().values(), cpu.occupancy().values()), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(
    Networks, NerfTrainerCudaStep,
    ::testing::Values(StepCase{"SmallCublas", SmallField(), MlpCudaKernel::kAuto},
                      StepCase{"InstantNgpFused", InstantNgpNetworks(), MlpCudaKernel::kFused},
                      StepCase{"InstantNgpCublas", InstantNgpNetworks(), MlpCudaKernel::kCublas}),
    [](const ::testing::TestParamInfo<StepCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(NerfTrainerCuda, LearnsASphereFromRgbaPhotos) {
  SKIP_WITHOUT_DEVICE();
  const Scene scene;
  NerfTrainerCuda trainer(scene.data, scene.lo, scene.hi, SmallField(), SmallTraining());
  const double before = trainer.EvaluatePsnr(scene.data.test);
  NerfStepStats stats;
  for (int step = 0; step < 300; ++step) stats = trainer.Step();
  const double after = trainer.EvaluatePsnr(scene.data.test);
  std::printf("CUDA: held-out PSNR %.2f -> %.2f dB, batch PSNR %.2f, occupied %.3f\n", before,
              after, stats.psnr, stats.occupied);
  // The CPU trainer's test (trainer_test.cpp): the same scene, steps and thresholds.
  EXPECT_GT(after, 24.0);
  EXPECT_GT(after, before + 10.0);
  EXPECT_LT(stats.occupied, 0.6);
  EXPECT_EQ(trainer.step(), 300);
}

TEST(NerfTrainerCuda, SampleBudgetBoundsTheBatch) {
  SKIP_WITHOUT_DEVICE();
  const Scene scene;
  NerfTrainOptions options = SmallTraining();
  options.max_samples_per_batch = 5000;
  NerfTrainerCuda trainer(scene.data, scene.lo, scene.hi, SmallField(), options);
  const NerfStepStats stats = trainer.Step();
  EXPECT_LE(stats.samples, 5000u);
  EXPECT_GE(stats.rays, 1u);
  EXPECT_LT(stats.rays, std::size_t(options.rays_per_batch));
  EXPECT_GT(double(stats.samples) / double(stats.rays), 50.0);
}

TEST(NerfTrainerCuda, CheckpointOfACudaRunRestoresAndRendersTheSame) {
  SKIP_WITHOUT_DEVICE();
  const Scene scene;
  const NerfTrainOptions options = SmallTraining();
  NerfTrainerCuda trainer(scene.data, scene.lo, scene.hi, SmallField(), options);
  for (int step = 0; step < 40; ++step) trainer.Step();
  NerfTrainer host(scene.data, scene.lo, scene.hi, SmallField(), options);
  trainer.Download(&host);
  testing::TempDir dir;
  const auto path = dir.path() / "nerf.bin.ckpt";
  WriteNerfSnapshot(path, SnapshotOf(host, scene.data.background, true));
  const NerfSnapshot snapshot = ReadNerfSnapshot(path);
  EXPECT_EQ(snapshot.step, 40);

  NerfTrainer restored_host(scene.data, scene.lo, scene.hi, SmallField(), options);
  RestoreTrainer(snapshot, &restored_host);
  NerfTrainerCuda restored(scene.data, scene.lo, scene.hi, SmallField(), options);
  restored.Upload(restored_host);
  EXPECT_EQ(restored.step(), 40);
  // The parameters came back bit for bit; the occupancy bits were re-derived on the host, which
  // may flip a cell within rounding of the threshold: renders agree to far below a grey level.
  const double psnr = trainer.EvaluatePsnr(scene.data.test);
  EXPECT_NEAR(restored.EvaluatePsnr(scene.data.test), psnr, 0.05);
  // The device render against the CPU render of the snapshot's field.
  const NerfField field = FieldOf(snapshot);
  const datasets::TrainingView& view = scene.data.test.front();
  const NerfImages cpu =
      RenderNerf(field, restored_host.occupancy(), view.camera, view.cam_from_world,
                 scene.data.background, options.marching, options.rendering);
  const NerfImages gpu =
      restored.RenderImages(view.camera, view.cam_from_world, scene.data.background);
  double colour = 0.0;
  for (std::size_t i = 0; i < cpu.colour.size(); ++i) {
    colour += std::abs(double(cpu.colour.data()[i]) - double(gpu.colour.data()[i]));
  }
  EXPECT_LT(colour / double(cpu.colour.size()), 1e-3);
  // Training continues from the same state: the next step draws the same rays on both.
  const NerfStepStats a = trainer.Step();
  const NerfStepStats b = restored.Step();
  EXPECT_EQ(a.rays, b.rays);
  EXPECT_NEAR(b.loss, a.loss, 1e-3 * a.loss);
}

TEST(NerfTrainerCuda, RejectsBadInput) {
  SKIP_WITHOUT_DEVICE();
  const Scene scene;
  NerfTrainOptions bad = SmallTraining();
  bad.rays_per_batch = 0;
  EXPECT_THROW(NerfTrainerCuda(scene.data, scene.lo, scene.hi, SmallField(), bad), Error);
  datasets::TrainingData empty;
  EXPECT_THROW(NerfTrainerCuda(empty, scene.lo, scene.hi, SmallField(), SmallTraining()), Error);
  NerfTrainerCuda trainer(scene.data, scene.lo, scene.hi, SmallField(), SmallTraining());
  EXPECT_THROW(trainer.Step(NerfRayBatch{}), Error);
}

}  // namespace
}  // namespace facet::nerf
