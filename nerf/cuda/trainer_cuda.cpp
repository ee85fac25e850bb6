#include "nerf/cuda/trainer_cuda.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "core/cuda_check.h"
#include "core/device_buffer.h"
#include "core/error.h"
#include "nerf/adam.h"
#include "nerf/cuda/adam_cuda.h"
#include "nerf/cuda/detail/launchers.h"
#include "nerf/cuda/field_cuda.h"
#include "nerf/cuda/occupancy_cuda.h"
#include "nerf/cuda/ray_marching_cuda.h"
#include "nerf/cuda/render_cuda.h"
#include "nerf/cuda/volume_rendering_cuda.h"
#include "nerf/kernels/occupancy.h"

namespace facet::nerf {
namespace {

const NerfTrainOptions& Checked(const NerfTrainOptions& options,
                                const datasets::TrainingData& data) {
  options.Check();
  FACET_CHECK(!data.train.empty(), "NeRF needs at least one training view");
  for (const datasets::TrainingView& view : data.train) {
    FACET_CHECK(view.camera.model == geometry::CameraModelId::kPinhole,
                "NeRF renders PINHOLE cameras (got {}); undistort first", view.camera.ModelName());
    FACET_CHECK(view.image.channels() == 3 || view.image.channels() == 4,
                "NeRF: training photo '{}' has {} channels (3 or 4 expected)", view.name,
                view.image.channels());
  }
  return options;
}

// At least one element, so that no array handed to a CUDA op is null.
std::int64_t AtLeastOne(std::int64_t n) { return std::max<std::int64_t>(n, 1); }

}  // namespace

struct NerfTrainerCuda::Impl {
  Impl(const datasets::TrainingData& data_in, const Eigen::Vector3f& aabb_min,
       const Eigen::Vector3f& aabb_max, const NerfFieldOptions& field_options,
       const NerfTrainOptions& options_in, MlpCudaKernel mlp_kernel)
      : data(data_in),
        options(Checked(options_in, data_in)),
        field(NerfField(field_options, aabb_min, aabb_max, options_in.seed), mlp_kernel),
        occupancy(OccupancyGrid(aabb_min, aabb_max, options_in.occupancy)),
        march(ResolveMarchParams(aabb_min, aabb_max, options_in.occupancy, options_in.marching)) {
    // As NerfTrainer: Adam on every block, weight decay on the networks only.
    adam[0] = {.learning_rate = options.learning_rate};
    adam[1] = {.learning_rate = options.learning_rate, .l2 = options.network_l2};
    adam[2] = adam[1];
    for (int b = 0; b < 3; ++b) {
      m[b].Resize(field.param_count(b));
      v[b].Resize(field.param_count(b));
      m[b].SetZero();
      v[b].SetZero();
    }
    UploadPhotos();
  }

  // The training photos, packed one after the other as 8-bit pixels, and their cameras.
  void UploadPhotos() {
    std::vector<detail::DevicePhoto> host;
    std::uint64_t bytes = 0;
    for (const datasets::TrainingView& view : data.train) {
      detail::DevicePhoto photo;
      photo.view = PinholeViewOf(view.camera, view.cam_from_world);
      photo.width = view.image.width();
      photo.height = view.image.height();
      photo.channels = view.image.channels();
      photo.offset = bytes;
      bytes += std::uint64_t(view.image.size());
      host.push_back(photo);
    }
    photos.Upload(host);
    pixels.Resize(std::int64_t(bytes));
    for (std::size_t i = 0; i < host.size(); ++i) {
      FACET_CUDA_CHECK(cudaMemcpy(pixels.data() + host[i].offset, data.train[i].image.data(),
                                  data.train[i].image.size(), cudaMemcpyHostToDevice));
    }
  }

  void UpdateOccupancy() {
    // The grid holds the optical thickness of the smallest step, as NerfTrainer's.
    occupancy.Update(field, march.min_step, int(std::min<std::int64_t>(step, 1 << 30)),
                     options.seed + std::uint32_t(step));
  }

  void ResizeBatch(std::int64_t n) {
    for (DeviceBuffer<float>* b : {&origins, &directions, &targets, &backgrounds}) b->Resize(3 * n);
  }

  // The step on the n_rays rays in origins, directions, targets and backgrounds.
  NerfStepStats Train(std::int64_t n_rays) {
    MarchRaysCudaInputs in;
    in.n_rays = n_rays;
    in.origins = origins.data();
    in.directions = directions.data();
    in.grid = occupancy.View();
    in.params = march;
    in.jitter_seed = options.seed * 7919u + std::uint32_t(step) + 1u;
    offsets.Resize(n_rays + 1);
    const std::uint32_t total = CountRaySamplesCuda(in, offsets.data(), &march_scratch);
    // The rays kept: the longest prefix whose samples fit the budget (at least one ray).
    std::int64_t rays = n_rays;
    std::int64_t n = total;
    if (options.max_samples_per_batch > 0 && total > std::uint32_t(options.max_samples_per_batch)) {
      const std::vector<std::uint32_t> host = offsets.ToHost();
      rays = std::upper_bound(host.begin() + 1, host.end(),
                              std::uint32_t(options.max_samples_per_batch)) -
             (host.begin() + 1);
      rays = std::max<std::int64_t>(rays, 1);
      n = host[std::size_t(rays)];
    }
    in.n_rays = rays;
    t.Resize(AtLeastOne(n));
    dt.Resize(AtLeastOne(n));
    positions.Resize(3 * AtLeastOne(n));
    sample_directions.Resize(3 * AtLeastOne(n));
    FillRaySamplesCuda(in, offsets.data(), t.data(), dt.data(), positions.data(),
                       sample_directions.data());
    sigma.Resize(AtLeastOne(n));
    rgb.Resize(3 * AtLeastOne(n));
    field.Forward(positions.data(), sample_directions.data(), n, sigma.data(), rgb.data());

    CompositeSamplesCuda samples;
    samples.n_rays = rays;
    samples.ray_offsets = offsets.data();
    samples.t = t.data();
    samples.dt = dt.data();
    samples.sigma = sigma.data();
    samples.rgb = rgb.data();
    samples.background = backgrounds.data();
    samples.background_per_ray = true;
    colour.Resize(3 * rays);
    opacity.Resize(rays);
    depth.Resize(rays);
    used.Resize(rays);
    RenderRaysCuda(samples, options.rendering.transmittance_threshold, colour.data(),
                   opacity.data(), depth.data(), used.data());
    loss.Resize(3 * rays);
    squared.Resize(3 * rays);
    d_colour.Resize(3 * rays);
    detail::LaunchColourLoss(colour.data(), targets.data(), 3 * rays,
                             options.loss == ColourLossKind::kHuber, options.huber_delta,
                             1.0f / float(3 * rays), loss.data(), squared.data(), d_colour.data(),
                             nullptr);
    d_sigma.Resize(AtLeastOne(n));
    d_rgb.Resize(3 * AtLeastOne(n));
    RenderRaysBackwardCuda(samples, used.data(), d_colour.data(), nullptr, nullptr, d_sigma.data(),
                           d_rgb.data());
    field.ZeroGradients();
    field.Backward(d_sigma.data(), d_rgb.data());
    const float lr_scale = LearningRateScale(options, step);
    for (int b = 0; b < 3; ++b) {
      ++adam_steps[b];
      AdamStepCuda(adam[b], adam_steps[b], lr_scale, field.params(b), field.gradient(b),
                   m[b].data(), v[b].data(), field.param_count(b));
    }
    // The statistics (the copies wait for the step's kernels on the default stream).
    NerfStepStats stats;
    double loss_sum = 0.0, squared_sum = 0.0;
    for (const float l : loss.ToHost()) loss_sum += double(l);
    for (const float s : squared.ToHost()) squared_sum += double(s);
    stats.loss = loss_sum / double(3 * rays);
    stats.psnr = -10.0 * std::log10(std::max(squared_sum / double(3 * rays), 1e-12));
    ++step;
    stats.step = step;
    stats.rays = std::size_t(rays);
    stats.samples = std::size_t(n);
    stats.occupied = occupancy.occupied_fraction();
    return stats;
  }

  const datasets::TrainingData& data;
  NerfTrainOptions options;
  NerfFieldCuda field;
  OccupancyGridCuda occupancy;
  kernels::MarchParams march;
  AdamOptions adam[3];
  std::int64_t adam_steps[3] = {0, 0, 0};
  DeviceBuffer<float> m[3], v[3];
  std::int64_t step = 0;
  DeviceBuffer<detail::DevicePhoto> photos;
  DeviceBuffer<std::uint8_t> pixels;
  // One step's arrays (grown, never shrunk).
  DeviceBuffer<float> origins, directions, targets, backgrounds;
  DeviceBuffer<std::uint32_t> offsets, used;
  DeviceBuffer<float> t, dt, positions, sample_directions, sigma, rgb;
  DeviceBuffer<float> colour, opacity, depth, loss, squared, d_colour, d_sigma, d_rgb;
  RayMarchScratchCuda march_scratch;
  NerfRenderWorkspaceCuda render_workspace;  // the held-out renders' arrays
};

NerfTrainerCuda::NerfTrainerCuda(const datasets::TrainingData& data,
                                 const Eigen::Vector3f& aabb_min, const Eigen::Vector3f& aabb_max,
                                 const NerfFieldOptions& field, const NerfTrainOptions& options,
                                 MlpCudaKernel mlp_kernel)
    : impl_(std::make_unique<Impl>(data, aabb_min, aabb_max, field, options, mlp_kernel)) {}

NerfTrainerCuda::~NerfTrainerCuda() = default;

std::int64_t NerfTrainerCuda::step() const { return impl_->step; }

void NerfTrainerCuda::SetPlannedSteps(int planned_steps) {
  FACET_CHECK(planned_steps >= 0, "NeRF planned_steps must be >= 0 (got {})", planned_steps);
  impl_->options.planned_steps = planned_steps;
}

NerfStepStats NerfTrainerCuda::Step() {
  Impl& s = *impl_;
  if (s.step % s.options.occupancy_update_every == 0) s.UpdateOccupancy();
  const std::int64_t n = s.options.rays_per_batch;
  s.ResizeBatch(n);
  detail::BatchParams params;
  // One random stream per (seed, step); the rays index it inside.
  params.seed =
      kernels::Hash32(kernels::Hash32(s.options.seed ^ 0xa511e9b3u) + std::uint32_t(s.step));
  params.photo_count = int(s.data.train.size());
  params.random_background = s.data.has_alpha;
  for (int k = 0; k < 3; ++k) params.background[k] = s.data.background[k];
  detail::LaunchMakeBatch(params, s.photos.data(), s.pixels.data(), n, s.origins.data(),
                          s.directions.data(), s.targets.data(), s.backgrounds.data(), nullptr);
  return s.Train(n);
}

NerfStepStats NerfTrainerCuda::Step(const NerfRayBatch& batch) {
  Impl& s = *impl_;
  batch.Check();
  const std::size_t n = batch.size();
  if (s.step % s.options.occupancy_update_every == 0) s.UpdateOccupancy();
  s.origins.Upload(batch.origins);
  s.directions.Upload(batch.directions);
  s.targets.Upload(batch.targets);
  s.backgrounds.Upload(batch.backgrounds);
  return s.Train(std::int64_t(n));
}

NerfImages NerfTrainerCuda::RenderImages(const geometry::Camera& camera,
                                         const geometry::Rigid3& cam_from_world,
                                         const Eigen::Vector3f& background) const {
  return RenderNerfCuda(impl_->field, impl_->occupancy, camera, cam_from_world, background,
                        impl_->options.marching, impl_->options.rendering,
                        &impl_->render_workspace);
}

ImageF32 NerfTrainerCuda::Render(const geometry::Camera& camera,
                                 const geometry::Rigid3& cam_from_world,
                                 const Eigen::Vector3f& background) const {
  return RenderImages(camera, cam_from_world, background).colour;
}

double NerfTrainerCuda::EvaluatePsnr(const std::vector<datasets::TrainingView>& views) const {
  FACET_CHECK(!views.empty(), "NeRF evaluation needs at least one view");
  const Eigen::Vector3f background = impl_->data.background;
  double total = 0.0;
  for (const datasets::TrainingView& view : views) {
    total +=
        RenderPsnr(Render(view.camera, view.cam_from_world, background), view.image, background);
  }
  return total / double(views.size());
}

void NerfTrainerCuda::Download(NerfTrainer* trainer) const {
  const Impl& s = *impl_;
  s.field.Download(&trainer->field());
  s.occupancy.Download(&trainer->occupancy());
  Adam* adams[3] = {&trainer->grid_adam(), &trainer->density_adam(), &trainer->color_adam()};
  for (int b = 0; b < 3; ++b) {
    adams[b]->SetState(s.m[b].ToHost(), s.v[b].ToHost(), s.adam_steps[b]);
  }
  trainer->SetStep(s.step);
}

void NerfTrainerCuda::Upload(const NerfTrainer& trainer) {
  Impl& s = *impl_;
  s.field.Upload(trainer.field());
  s.occupancy.Upload(trainer.occupancy());
  const Adam* adams[3] = {&trainer.grid_adam(), &trainer.density_adam(), &trainer.color_adam()};
  for (int b = 0; b < 3; ++b) {
    FACET_CHECK(std::int64_t(adams[b]->first_moment().size()) == s.field.param_count(b),
                "NerfTrainerCuda::Upload: the host optimiser state does not match the field");
    s.m[b].Upload(adams[b]->first_moment());
    s.v[b].Upload(adams[b]->second_moment());
    s.adam_steps[b] = adams[b]->step_count();
  }
  s.step = trainer.step();
}

std::vector<float> NerfTrainerCuda::Gradient(int block) const {
  FACET_CHECK(block >= 0 && block < 3, "NerfTrainerCuda::Gradient: block {} (0, 1 or 2)", block);
  return CopyToHost(impl_->field.gradient(block), impl_->field.param_count(block));
}

std::int64_t NerfTrainerCuda::DeviceBytes() const { return DeviceBufferBytes(); }

}  // namespace facet::nerf
