// The NeRF trainer end to end on a tiny analytic scene (sphere_scene.h): a small field learns it
// within seconds, well above what the random initialisation renders, on views it never saw.
#include "nerf/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "core/error.h"
#include "sphere_scene.h"

namespace facet::nerf {
namespace {

using test::SmallField;
using test::SmallTraining;
using test::SphereData;

TEST(NerfTrainer, LearnsASphereFromRgbaPhotos) {
  const datasets::TrainingData data = SphereData();
  Eigen::Vector3f aabb_min, aabb_max;
  SceneBox(data, &aabb_min, &aabb_max);
  EXPECT_LT((aabb_min + Eigen::Vector3f::Constant(0.75f)).norm(), 0.05f);
  EXPECT_LT((aabb_max - Eigen::Vector3f::Constant(0.75f)).norm(), 0.05f);

  NerfTrainer trainer(data, aabb_min, aabb_max, SmallField(), SmallTraining());
  const double before = trainer.EvaluatePsnr(data.test);
  NerfStepStats stats;
  for (int step = 0; step < 300; ++step) stats = trainer.Step();
  const double after = trainer.EvaluatePsnr(data.test);
  std::printf("held-out PSNR %.2f -> %.2f dB, batch PSNR %.2f, occupied %.3f\n", before, after,
              stats.psnr, stats.occupied);
  EXPECT_GT(after, 24.0);
  EXPECT_GT(after, before + 10.0);
  // The empty space around the sphere has been carved out of the occupancy grid.
  EXPECT_LT(stats.occupied, 0.6);
}

// Before the first grid refresh everything is occupied and rays march the whole box: the sample
// budget keeps the batch bounded by dropping rays, never samples of a kept ray.
TEST(NerfTrainer, SampleBudgetBoundsTheBatch) {
  const datasets::TrainingData data = SphereData();
  Eigen::Vector3f aabb_min, aabb_max;
  SceneBox(data, &aabb_min, &aabb_max);
  NerfTrainOptions options = SmallTraining();
  options.max_samples_per_batch = 5000;
  NerfTrainer trainer(data, aabb_min, aabb_max, SmallField(), options);
  const NerfStepStats stats = trainer.Step();
  EXPECT_LE(stats.samples, 5000u);
  EXPECT_GE(stats.rays, 1u);
  EXPECT_LT(stats.rays, std::size_t(options.rays_per_batch));
  // Each kept ray crosses most of the 1.5-unit box at 0.01 steps: far more than 5000 / 1024.
  EXPECT_GT(double(stats.samples) / double(stats.rays), 50.0);
}

TEST(NerfTrainer, SameSeedSameModel) {
  const datasets::TrainingData data = SphereData();
  Eigen::Vector3f aabb_min, aabb_max;
  SceneBox(data, &aabb_min, &aabb_max);
  NerfTrainer a(data, aabb_min, aabb_max, SmallField(), SmallTraining());
  NerfTrainer b(data, aabb_min, aabb_max, SmallField(), SmallTraining());
  for (int step = 0; step < 20; ++step) {
    EXPECT_EQ(a.Step().loss, b.Step().loss) << step;
  }
}

TEST(NerfTrainer, RejectsBadInput) {
  const datasets::TrainingData data = SphereData();
  const Eigen::Vector3f lo = -Eigen::Vector3f::Ones(), hi = Eigen::Vector3f::Ones();
  NerfTrainOptions bad = SmallTraining();
  bad.rays_per_batch = 0;
  EXPECT_THROW(NerfTrainer(data, lo, hi, SmallField(), bad), Error);
  EXPECT_THROW(NerfTrainer(data, hi, lo, SmallField(), SmallTraining()), Error);
  datasets::TrainingData empty;
  EXPECT_THROW(NerfTrainer(empty, lo, hi, SmallField(), SmallTraining()), Error);
}

TEST(NerfTrainer, PlannedStepsWithinATimeBudget) {
  // 100 steps in 2 s: 3000 in 60 s, capped by the step limit, never below the steps done.
  EXPECT_EQ(PlannedStepsWithin(60.0, 100, 2.0, 10000), 3000);
  EXPECT_EQ(PlannedStepsWithin(60.0, 100, 2.0, 2000), 2000);
  EXPECT_EQ(PlannedStepsWithin(1.0, 100, 2.0, 10000), 100);
  EXPECT_EQ(PlannedStepsWithin(60.0, 0, 0.0, 10000), 10000);  // nothing measured yet
  EXPECT_THROW(PlannedStepsWithin(0.0, 100, 2.0, 10000), Error);
  EXPECT_THROW(PlannedStepsWithin(INFINITY, 100, 2.0, 10000), Error);
  // The milestones then fall at 50/75/90% of the budget's steps.
  NerfTrainOptions options;
  options.planned_steps = int(PlannedStepsWithin(60.0, 100, 2.0, 10000));
  EXPECT_EQ(LearningRateScale(options, 1499), 1.0f);
  EXPECT_FLOAT_EQ(LearningRateScale(options, 1500), options.learning_rate_decay);
}

}  // namespace
}  // namespace facet::nerf
