#include "nerf/trainer.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "nerf/render.h"

namespace facet::nerf {

void NerfTrainOptions::Check() const {
  FACET_CHECK(rays_per_batch >= 1, "NeRF rays_per_batch must be >= 1 (got {})", rays_per_batch);
  FACET_CHECK(std::isfinite(learning_rate) && learning_rate > 0.0f,
              "NeRF learning_rate must be > 0 (got {})", learning_rate);
  FACET_CHECK(std::isfinite(network_l2) && network_l2 >= 0.0f,
              "NeRF network_l2 must be >= 0 (got {})", network_l2);
  FACET_CHECK(planned_steps >= 0, "NeRF planned_steps must be >= 0 (got {})", planned_steps);
  FACET_CHECK(learning_rate_decay > 0.0f && learning_rate_decay <= 1.0f,
              "NeRF learning_rate_decay must be in (0, 1] (got {})", learning_rate_decay);
  FACET_CHECK(max_samples_per_batch >= 0, "NeRF max_samples_per_batch must be >= 0 (got {})",
              max_samples_per_batch);
  FACET_CHECK(occupancy_update_every >= 1, "NeRF occupancy_update_every must be >= 1 (got {})",
              occupancy_update_every);
  FACET_CHECK(loss != ColourLossKind::kHuber || (std::isfinite(huber_delta) && huber_delta > 0),
              "NeRF huber_delta must be > 0 (got {})", huber_delta);
  occupancy.Check();
  marching.Check();
  rendering.Check();
}

namespace {

using datasets::TrainingView;

Eigen::Vector3f CameraCenterF(const geometry::Rigid3& cam_from_world) {
  return geometry::CameraCenter(cam_from_world).cast<float>();
}

// A photo's colour at a pixel in [0, 1] over `background` (RGBA photos are composited).
Eigen::Vector3f PhotoColour(const ImageU8& image, int x, int y, const float* background) {
  const std::uint8_t* p = &image(x, y, 0);
  Eigen::Vector3f c(p[0], p[1], p[2]);
  c /= 255.0f;
  if (image.channels() == 4) {
    const float a = p[3] / 255.0f;
    for (int k = 0; k < 3; ++k) c[k] = a * c[k] + (1.0f - a) * background[k];
  }
  return c;
}

geometry::Camera CheckedPinhole(const geometry::Camera& camera) {
  FACET_CHECK(camera.model == geometry::CameraModelId::kPinhole,
              "NeRF renders PINHOLE cameras (got {}); undistort first", camera.ModelName());
  return camera;
}

}  // namespace

void SceneBox(const datasets::TrainingData& data, Eigen::Vector3f* aabb_min,
              Eigen::Vector3f* aabb_max) {
  FACET_CHECK(!data.train.empty(), "NeRF needs at least one training view");
  if (data.has_points && data.scene.points3d.size() >= 10) {
    std::vector<float> axis[3];
    for (const auto& [id, point] : data.scene.points3d) {
      for (int a = 0; a < 3; ++a) axis[a].push_back(float(point.xyz[a]));
    }
    for (int a = 0; a < 3; ++a) {
      std::sort(axis[a].begin(), axis[a].end());
      const float lo = axis[a][axis[a].size() / 100];
      const float hi = axis[a][axis[a].size() - 1 - axis[a].size() / 100];
      const float pad = 0.05f * (hi - lo) + 1e-6f;
      (*aabb_min)[a] = lo - pad;
      (*aabb_max)[a] = hi + pad;
    }
    return;
  }
  std::vector<geometry::Rigid3> poses;
  Eigen::Vector3d centroid = Eigen::Vector3d::Zero();
  for (const TrainingView& view : data.train) {
    poses.push_back(view.cam_from_world);
    centroid += geometry::CameraCenter(view.cam_from_world);
  }
  centroid /= double(data.train.size());
  // Cameras that do not converge (parallel axes) keep the cameras' centroid.
  const Eigen::Vector3d centre = geometry::PointNearestToOpticalAxes(poses).value_or(centroid);
  double distance = 0.0;
  for (const TrainingView& view : data.train) {
    distance += (geometry::CameraCenter(view.cam_from_world) - centre).norm();
  }
  distance /= double(data.train.size());
  const float half = float(std::max(0.375 * distance, 1e-3));
  *aabb_min = centre.cast<float>() - Eigen::Vector3f::Constant(half);
  *aabb_max = centre.cast<float>() + Eigen::Vector3f::Constant(half);
}

NerfTrainer::NerfTrainer(const datasets::TrainingData& data, const Eigen::Vector3f& aabb_min,
                         const Eigen::Vector3f& aabb_max, const NerfFieldOptions& field,
                         const NerfTrainOptions& options)
    : data_(data),
      options_(options),
      field_(field, aabb_min, aabb_max, options.seed),
      occupancy_(aabb_min, aabb_max, options.occupancy),
      grid_adam_(field_.grid().ParamCount(), {.learning_rate = options.learning_rate}),
      density_adam_(field_.density_net().ParamCount(),
                    {.learning_rate = options.learning_rate, .l2 = options.network_l2}),
      color_adam_(field_.color_net().ParamCount(),
                  {.learning_rate = options.learning_rate, .l2 = options.network_l2}),
      rng_(options.seed) {
  options_.Check();
  FACET_CHECK(!data.train.empty(), "NeRF needs at least one training view");
  for (const TrainingView& view : data.train) CheckedPinhole(view.camera);
}

std::int64_t PlannedStepsWithin(double budget_seconds, std::int64_t steps_done, double seconds_done,
                                std::int64_t step_cap) {
  FACET_CHECK(budget_seconds > 0.0 && std::isfinite(budget_seconds),
              "PlannedStepsWithin: the time budget must be positive and finite (got {})",
              budget_seconds);
  if (!(seconds_done > 0.0) || steps_done <= 0) return step_cap;
  const double expected = double(steps_done) * budget_seconds / seconds_done;
  return std::max(steps_done, std::min(step_cap, std::int64_t(std::llround(expected))));
}

void NerfTrainer::SetPlannedSteps(int planned_steps) {
  FACET_CHECK(planned_steps >= 0, "NeRF planned_steps must be >= 0 (got {})", planned_steps);
  options_.planned_steps = planned_steps;
}

float LearningRateScale(const NerfTrainOptions& options, std::int64_t step) {
  if (options.planned_steps <= 0) return 1.0f;
  float scale = 1.0f;
  for (const double milestone : {0.5, 0.75, 0.9}) {
    if (double(step) >= milestone * options.planned_steps) scale *= options.learning_rate_decay;
  }
  return scale;
}

void NerfTrainer::SetStep(std::int64_t step) {
  FACET_CHECK(step >= 0, "NeRF step must be >= 0 (got {})", step);
  step_ = step;
}

std::string NerfTrainer::RngState() const {
  std::ostringstream out;
  out << rng_;
  return out.str();
}

void NerfTrainer::SetRngState(const std::string& state) {
  std::istringstream in(state);
  std::mt19937 rng;
  in >> rng;
  FACET_CHECK(!in.fail(), "NeRF: the saved random generator state is malformed");
  rng_ = rng;
}

void NerfTrainer::MakeBatch() {
  const std::size_t n = std::size_t(options_.rays_per_batch);
  batch_.origins.resize(3 * n);
  batch_.directions.resize(3 * n);
  batch_.targets.resize(3 * n);
  batch_.backgrounds.resize(3 * n);
  std::uniform_int_distribution<std::size_t> pick_view(0, data_.train.size() - 1);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (std::size_t r = 0; r < n; ++r) {
    const TrainingView& view = data_.train[pick_view(rng_)];
    const float x = unit(rng_) * float(view.image.width());
    const float y = unit(rng_) * float(view.image.height());
    const int px = std::min(int(x), view.image.width() - 1);
    const int py = std::min(int(y), view.image.height() - 1);
    float* background = &batch_.backgrounds[3 * r];
    for (int k = 0; k < 3; ++k) {
      // Random backgrounds make RGBA scenes learn transparency instead of a fixed colour.
      background[k] = data_.has_alpha ? unit(rng_) : data_.background[k];
    }
    const Eigen::Vector3f target = PhotoColour(view.image, px, py, background);
    const Eigen::Matrix3f world_from_cam =
        view.cam_from_world.rotation.inverse().toRotationMatrix().cast<float>();
    const Eigen::Vector3f origin = CameraCenterF(view.cam_from_world);
    const Eigen::Vector3f direction = PixelRayDirection(view.camera, world_from_cam, x, y);
    for (int k = 0; k < 3; ++k) {
      batch_.origins[3 * r + k] = origin[k];
      batch_.directions[3 * r + k] = direction[k];
      batch_.targets[3 * r + k] = target[k];
    }
  }
}

void NerfTrainer::UpdateOccupancy() {
  const NerfField& field = field_;
  // The grid holds optical thickness over the smallest step, sigma * min_step, as instant-ngp's
  // (its threshold 0.01 means "1% opacity within one step"): raw sigma against 0.01 would keep
  // nearly empty space.
  const float min_step = ResolveMarchParams(occupancy_, options_.marching).min_step;
  occupancy_.Update(
      [&field, min_step](std::span<const float> positions, std::size_t n,
                         std::span<float> density) {
        field.Density(positions, n, density);
        for (float& d : density) d *= min_step;
      },
      int(std::min<std::int64_t>(step_, 1 << 30)), options_.seed + std::uint32_t(step_));
}

NerfStepStats NerfTrainer::Step() {
  if (step_ % options_.occupancy_update_every == 0) UpdateOccupancy();
  MakeBatch();
  return TrainOnBatch(batch_);
}

void NerfRayBatch::Check() const {
  const std::size_t n = size();
  FACET_CHECK(n >= 1 && origins.size() == 3 * n && directions.size() == 3 * n &&
                  targets.size() == 3 * n && backgrounds.size() == 3 * n,
              "NeRF: a ray batch needs n >= 1 origins, directions, targets and backgrounds (got "
              "{}, {}, {}, {} floats)",
              origins.size(), directions.size(), targets.size(), backgrounds.size());
}

NerfStepStats NerfTrainer::Step(const NerfRayBatch& batch) {
  batch.Check();
  if (step_ % options_.occupancy_update_every == 0) UpdateOccupancy();
  return TrainOnBatch(batch);
}

NerfStepStats NerfTrainer::TrainOnBatch(const NerfRayBatch& batch) {
  const std::size_t n_rays = batch.size();
  const RaySamples samples =
      MarchRays(batch.origins, batch.directions, n_rays, occupancy_, options_.marching,
                options_.seed * 7919u + std::uint32_t(step_) + 1u);
  // The rays kept: the longest prefix whose samples fit the budget (at least one ray), so that a
  // batch's memory stays bounded while the grid still marks everything occupied.
  std::size_t rays = n_rays;
  if (options_.max_samples_per_batch > 0) {
    const auto& offsets = samples.ray_offsets;
    rays = std::size_t(std::upper_bound(offsets.begin() + 1, offsets.end(),
                                        std::uint32_t(options_.max_samples_per_batch)) -
                       (offsets.begin() + 1));
    rays = std::max<std::size_t>(rays, 1);
  }
  const std::size_t n = samples.ray_offsets[rays];
  const std::span<const float> positions(samples.positions.data(), 3 * n);
  const std::span<const float> directions(samples.directions.data(), 3 * n);
  sigma_.resize(n);
  rgb_.resize(3 * n);
  field_.Forward(positions, directions, n, sigma_, rgb_);

  const CompositeSamples composite{
      std::span<const std::uint32_t>(samples.ray_offsets.data(), rays + 1),
      std::span<const float>(samples.t.data(), n), std::span<const float>(samples.dt.data(), n),
      sigma_, rgb_};
  const std::span<const float> backgrounds(batch.backgrounds.data(), 3 * rays);
  const std::span<const float> targets(batch.targets.data(), 3 * rays);
  colour_.resize(3 * rays);
  opacity_.resize(rays);
  depth_.resize(rays);
  samples_used_.resize(rays);
  RenderRays(composite, backgrounds, options_.rendering,
             {colour_, opacity_, depth_, samples_used_});
  d_colour_.resize(3 * rays);
  NerfStepStats stats;
  stats.rays = rays;
  stats.loss = ColourLoss(colour_, targets, options_.loss, options_.huber_delta, d_colour_);
  double squared = 0.0;
  for (std::size_t i = 0; i < 3 * rays; ++i) {
    squared += double(colour_[i] - targets[i]) * double(colour_[i] - targets[i]);
  }
  stats.psnr = -10.0 * std::log10(std::max(squared / double(3 * rays), 1e-12));

  d_sigma_.resize(n);
  d_rgb_.resize(3 * n);
  RenderRaysBackward(composite, backgrounds, samples_used_, d_colour_, {}, {}, d_sigma_, d_rgb_);
  // Cleared before (not after) the backward pass, so that they hold this step's gradients after.
  field_.ZeroGradients();
  field_.Backward(d_sigma_, d_rgb_);
  const float lr_scale = LearningRateScale(options_, step_);
  grid_adam_.Step(field_.grid().params(), field_.grid_gradient(), lr_scale);
  density_adam_.Step(field_.density_net().params(), field_.density_gradient(), lr_scale);
  color_adam_.Step(field_.color_net().params(), field_.color_gradient(), lr_scale);

  ++step_;
  stats.step = step_;
  stats.samples = n;
  stats.occupied = occupancy_.OccupiedFraction();
  return stats;
}

ImageF32 NerfTrainer::Render(const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                             const Eigen::Vector3f& background) const {
  return RenderNerf(field_, occupancy_, camera, cam_from_world, background, options_.marching,
                    options_.rendering)
      .colour;
}

double RenderPsnr(const ImageF32& render, const ImageU8& photo, const Eigen::Vector3f& background) {
  FACET_CHECK(render.channels() == 3 && (photo.channels() == 3 || photo.channels() == 4) &&
                  render.width() == photo.width() && render.height() == photo.height(),
              "PSNR of a {}x{}x{} render against a {}x{}x{} photo: the sizes must match (RGB "
              "render, RGB or RGBA photo)",
              render.width(), render.height(), render.channels(), photo.width(), photo.height(),
              photo.channels());
  const float bg[3] = {background.x(), background.y(), background.z()};
  double squared = 0.0;
  for (int y = 0; y < render.height(); ++y) {
    for (int x = 0; x < render.width(); ++x) {
      const Eigen::Vector3f truth = PhotoColour(photo, x, y, bg);
      for (int k = 0; k < 3; ++k) {
        const double e = double(render(x, y, k)) - double(truth[k]);
        squared += e * e;
      }
    }
  }
  const double mse = squared / (3.0 * render.width() * render.height());
  return -10.0 * std::log10(std::max(mse, 1e-12));
}

double NerfTrainer::EvaluatePsnr(const std::vector<datasets::TrainingView>& views) const {
  FACET_CHECK(!views.empty(), "NeRF evaluation needs at least one view");
  double total = 0.0;
  for (const TrainingView& view : views) {
    total += RenderPsnr(Render(view.camera, view.cam_from_world, data_.background), view.image,
                        data_.background);
  }
  return total / double(views.size());
}

}  // namespace facet::nerf
