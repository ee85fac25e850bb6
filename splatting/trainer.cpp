#include "splatting/trainer.h"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <numeric>
#include <sstream>

#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "core/parallel_for.h"
#include "core/timer.h"
#include "splatting/loss.h"

#if defined(FACET_WITH_CUDA)
#include "splatting/cuda/train_step_cuda.h"
#endif

namespace facet::splatting {

#if !defined(FACET_WITH_CUDA)
// Without the CUDA fast path cuda_ stays null; the type only has to be complete.
class CudaTrainState {};
#endif

namespace {

constexpr char kCheckpointMagic[8] = {'F', 'G', 'S', 'C', 'K', 'P', 'T', '1'};
constexpr std::uint32_t kCheckpointVersion = 2;
constexpr std::int64_t kReferenceIterations = 30000;

void ToFloat(ImageView<const std::uint8_t> in, ImageF32* out) {
  if (out->width() != in.width() || out->height() != in.height() ||
      out->channels() != in.channels()) {
    out->Reset(in.width(), in.height(), in.channels());
  }
  const std::int64_t n = std::int64_t(in.width()) * in.channels();
  ParallelFor(in.height(), [&](std::int64_t y) {
    const std::uint8_t* src = in.Row(int(y));
    float* dst = out->view().Row(int(y));
    for (std::int64_t i = 0; i < n; ++i) dst[i] = float(src[i]) * (1.0f / 255.0f);
  });
}

// PSNR and SSIM of `render_view`'s image of every view (EvaluateViews' contract).
std::vector<ViewMetrics> EvaluateRenders(
    const std::vector<datasets::TrainingView>& views,
    const std::function<ImageF32(const datasets::TrainingView&)>& render_view,
    const std::filesystem::path& renders_dir);

template <typename T>
void WritePod(std::ostream& out, const T& value) {
  out.write(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
T ReadPod(std::istream& in, const std::filesystem::path& path) {
  T value{};
  in.read(reinterpret_cast<char*>(&value), sizeof(T));
  FACET_CHECK(in.gcount() == std::streamsize(sizeof(T)),
              "splat checkpoint {} is truncated; delete it or train without --resume",
              path.string());
  return value;
}

}  // namespace

void TrainOptions::Check() const {
  FACET_CHECK(iterations >= 1, "splat: iterations must be >= 1 (got {})", iterations);
  FACET_CHECK(strategy == "default" || strategy == "mcmc",
              "splat: strategy must be 'default' or 'mcmc' (got '{}')", strategy);
  FACET_CHECK(max_sh_degree >= 0 && max_sh_degree <= 3, "splat: SH degree must be 0-3 (got {})",
              max_sh_degree);
  FACET_CHECK(sh_increase_every >= 1, "splat: sh_increase_every must be >= 1 (got {})",
              sh_increase_every);
  FACET_CHECK(lambda_dssim >= 0.0f && lambda_dssim <= 1.0f,
              "splat: lambda_dssim must be in [0, 1] (got {})", lambda_dssim);
  for (float lr :
       {means_lr, means_lr_final, sh_dc_lr, sh_rest_lr, opacity_lr, scale_lr, rotation_lr}) {
    FACET_CHECK(lr >= 0.0f && std::isfinite(lr), "splat: learning rates must be >= 0 (got {})", lr);
  }
  FACET_CHECK(means_lr_steps >= 1, "splat: means_lr_steps must be >= 1 (got {})", means_lr_steps);
  FACET_CHECK(backend == Backend::kCpu || strategy == "default",
              "splat: the CUDA trainer supports the 'default' strategy only (got '{}'); use "
              "--device cpu for '{}'",
              strategy, strategy);
  default_strategy.Check();
  mcmc.Check();
}

StageTimes& StageTimes::operator+=(const StageTimes& o) {
  preprocess += o.preprocess, sort += o.sort, forward += o.forward, loss += o.loss;
  backward += o.backward, optimizer += o.optimizer, densify += o.densify;
  return *this;
}

Trainer::Trainer(const datasets::TrainingData& data, Gaussians initial, const TrainOptions& options)
    : data_(data), options_(options), params_(std::move(initial)), rng_(options.seed) {
  options_.Check();
  params_.Check();
  FACET_CHECK(!data_.train.empty(), "splat: there is no training view");
  FACET_CHECK(!params_.empty(), "splat: the initial model has no Gaussian");
  FACET_CHECK(params_.max_sh_degree >= options_.max_sh_degree,
              "splat: the model stores SH degree {}, training asks for {}", params_.max_sh_degree,
              options_.max_sh_degree);
  // The reference schedules are for 30,000 iterations (densify until 15,000, MCMC until 25,000,
  // positions decay over 30,000). A shorter run keeps the proportions, so that it too ends with
  // a refinement phase on a fixed set (and no opacity reset lands near its end).
  if (options_.iterations < kReferenceIterations) {
    const auto scaled = [&](std::int64_t at) {
      return std::min(at, at * options_.iterations / kReferenceIterations);
    };
    options_.default_strategy.refine_stop = scaled(options_.default_strategy.refine_stop);
    options_.mcmc.refine_stop = scaled(options_.mcmc.refine_stop);
    options_.means_lr_steps = std::min(options_.means_lr_steps, options_.iterations);
  }
  if (data_.background.minCoeff() >= 1.0f) options_.default_strategy.reset_at_refine_start = true;
  strategy_ = MakeStrategy();
  grads_ = Gaussians(params_.size(), params_.max_sh_degree);
  if (options_.backend == Backend::kCuda) {
    FACET_CHECK(CudaBuilt(),
                "splat: this facet was built without CUDA; train with --device cpu (or auto)");
    FACET_CHECK(CudaDeviceCount() > 0,
                "splat: no CUDA device is available; train with --device cpu (or auto)");
#if defined(FACET_WITH_CUDA)
    cuda_ = std::make_unique<CudaTrainState>();
    cuda_->Upload(params_, adam_);
#endif
  }
}

Trainer::~Trainer() = default;

const Gaussians& Trainer::Model() const {
  SyncHost();
  return params_;
}

void Trainer::SyncHost() const {
#if defined(FACET_WITH_CUDA)
  if (cuda_ && host_stale_) {
    cuda_->Download(&params_, &adam_);
    host_stale_ = false;
  }
#endif
}

std::int64_t Trainer::PeakDeviceBytes() const {
#if defined(FACET_WITH_CUDA)
  if (cuda_) return cuda_->PeakDeviceBytes();
#endif
  return 0;
}

std::unique_ptr<DensificationStrategy> Trainer::MakeStrategy() const {
  if (options_.strategy == "mcmc") return MakeMcmcStrategy(options_.mcmc, data_.scene_extent);
  return MakeDefaultStrategy(options_.default_strategy, data_.scene_extent);
}

int Trainer::ActiveShDegree() const {
  return int(
      std::min<std::int64_t>(options_.max_sh_degree, iteration_ / options_.sh_increase_every));
}

const datasets::TrainingView& Trainer::NextView() {
  if (order_pos_ >= order_.size()) {
    order_.resize(data_.train.size());
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    std::shuffle(order_.begin(), order_.end(), rng_);
    order_pos_ = 0;
  }
  return data_.train[order_[order_pos_++]];
}

IterationStats Trainer::Step() {
  IterationStats stats;
  ++iteration_;
  stats.iteration = iteration_;
  const float extent = data_.scene_extent;
  const float lr_means =
      ExponentialLearningRate(options_.means_lr * extent, options_.means_lr_final * extent,
                              iteration_ - 1, options_.means_lr_steps);
  GroupLearningRates lr{};
  lr[Gaussians::kMeans] = lr_means;
  lr[Gaussians::kLogScales] = options_.scale_lr;
  lr[Gaussians::kQuats] = options_.rotation_lr;
  lr[Gaussians::kOpacities] = options_.opacity_lr;
  lr[Gaussians::kShDc] = options_.sh_dc_lr;
  lr[Gaussians::kShRest] = options_.sh_rest_lr;
  const datasets::TrainingView& view = NextView();
  const RasterCamera<float> camera = MakeRasterCamera(view.camera, view.cam_from_world);

  RasterOptions ropts;
  // The reference raises the degree at iterations 1000, 2000, ... before rendering.
  ropts.sh_degree =
      int(std::min<std::int64_t>(options_.max_sh_degree, iteration_ / options_.sh_increase_every));
  ropts.antialiased = options_.antialiased;
  if (options_.random_background) {
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    ropts.background = {u(rng_), u(rng_), u(rng_)};
  } else {
    ropts.background = {data_.background.x(), data_.background.y(), data_.background.z()};
  }
  if (cuda_) {
    StepCuda(view, camera, ropts, lr, lr_means, &stats);
    return stats;
  }

  Timer timer;
  RasterizeForward(params_.View(), camera, ropts, &raster_);
  stats.times.preprocess = raster_.preprocess_seconds;
  stats.times.sort = raster_.sort_seconds;
  stats.times.forward = raster_.blend_seconds;

  timer.Restart();
  ToFloat(view.image.view(), &target_);
  const int w = camera.width, h = camera.height;
  FACET_CHECK(target_.width() == w && target_.height() == h && target_.channels() == 3,
              "splat: image {} is {}x{}x{}, its camera {}x{} (RGB expected)", view.name,
              target_.width(), target_.height(), target_.channels(), w, h);
  if (d_render_.width() != w || d_render_.height() != h) d_render_.Reset(w, h, 3);
  const ImageView<const float> render(raster_.rgb.data(), w, h, 3);
  ImageView<float> d_render = d_render_.view();
  stats.loss = PhotometricLoss(render, target_.view(), &d_render, options_.lambda_dssim);
  stats.times.loss = timer.ElapsedSeconds();

  timer.Restart();
  RasterizeBackward(params_.View(), camera, ropts, raster_,
                    static_cast<const float*>(d_render_.data()), static_cast<const float*>(nullptr),
                    grads_.MutableView(), &grads2d_);
  radii_.resize(params_.size());
  for (std::int64_t i = 0; i < params_.size(); ++i) radii_[i] = raster_.Radius(i);
  strategy_->Observe(iteration_, params_,
                     ViewGradientStats{grads2d_.v_mean2d, grads2d_.v_mean2d_abs, radii_, w, h});
  stats.loss += strategy_->AddRegularization(params_, &grads_);
  stats.times.backward = timer.ElapsedSeconds();

  timer.Restart();
  adam_.Step(params_, grads_, lr);
  stats.times.optimizer = timer.ElapsedSeconds();

  timer.Restart();
  stats.densify = strategy_->Step(iteration_, params_, adam_, lr_means);
  if (grads_.size() != params_.size()) grads_.Resize(params_.size());
  stats.times.densify = timer.ElapsedSeconds();

  stats.psnr = Psnr(render, view.image.view());
  stats.num_gaussians = params_.size();
  return stats;
}

// The device runs forward, loss, backward and Adam as one call; its time is reported as
// `forward` (the stages are not timed apart on the device). The default strategy's Observe reads
// only the statistics and the model's size, which the stale host copy has right, so the host
// model is synchronised only for the iterations where the strategy acts.
void Trainer::StepCuda(const datasets::TrainingView& view, const RasterCamera<float>& camera,
                       const RasterOptions& ropts, const GroupLearningRates& lr, float lr_means,
                       IterationStats* stats) {
#if defined(FACET_WITH_CUDA)
  Timer timer;
  // The default strategy gathers statistics only while it still densifies (Observe).
  const bool want_stats = iteration_ < options_.default_strategy.refine_stop;
  const CudaStepResult result = cuda_->Step(view.image, camera, ropts, options_.lambda_dssim, lr,
                                            cuda_->AdamStep() + 1, want_stats);
  host_stale_ = true;
  stats->loss = result.loss;
  stats->psnr = result.psnr;
  stats->times.forward = timer.ElapsedSeconds();

  timer.Restart();
  if (want_stats) {
    strategy_->Observe(iteration_, params_,
                       ViewGradientStats{cuda_->VMean2d(), cuda_->VMean2dAbs(), cuda_->Radii(),
                                         camera.width, camera.height});
  }
  if (strategy_->Acts(iteration_)) {
    SyncHost();
    stats->densify = strategy_->Step(iteration_, params_, adam_, lr_means);
    cuda_->Upload(params_, adam_);
  }
  stats->times.densify = timer.ElapsedSeconds();
  stats->num_gaussians = cuda_->size();
#else
  (void)view, (void)camera, (void)ropts, (void)lr, (void)lr_means, (void)stats;
  FACET_CHECK(false, "splat: this facet was built without CUDA");
#endif
}

RenderSettings Trainer::Settings() const {
  return {data_.background, ActiveShDegree(), options_.antialiased};
}

ImageF32 Trainer::Render(const datasets::TrainingView& view) const {
#if defined(FACET_WITH_CUDA)
  // On the device, from the device model (no synchronisation of the host copy needed).
  if (cuda_) {
    const RenderSettings settings = Settings();
    RasterOptions ropts;
    ropts.sh_degree = settings.sh_degree;
    ropts.antialiased = settings.antialiased;
    ropts.background = {settings.background.x(), settings.background.y(), settings.background.z()};
    return cuda_->Render(MakeRasterCamera(view.camera, view.cam_from_world), ropts);
  }
#endif
  return RenderView(params_, view, Settings());
}

std::vector<ViewMetrics> Trainer::Evaluate(const std::vector<datasets::TrainingView>& views,
                                           const std::filesystem::path& renders_dir) const {
  if (!cuda_) return EvaluateViews(params_, views, Settings(), renders_dir);
  return EvaluateRenders(
      views, [&](const datasets::TrainingView& view) { return Render(view); }, renders_dir);
}

ImageF32 RenderView(const Gaussians& model, const datasets::TrainingView& view,
                    const RenderSettings& settings) {
  const RasterCamera<float> camera = MakeRasterCamera(view.camera, view.cam_from_world);
  RasterOptions ropts;
  ropts.sh_degree = settings.sh_degree;
  ropts.antialiased = settings.antialiased;
  ropts.background = {settings.background.x(), settings.background.y(), settings.background.z()};
  RasterResult<float> result;
  RasterizeForward(model.View(), camera, ropts, &result);
  ImageF32 image(camera.width, camera.height, 3);
  std::copy(result.rgb.begin(), result.rgb.end(), image.data());
  return image;
}

std::vector<ViewMetrics> EvaluateViews(const Gaussians& model,
                                       const std::vector<datasets::TrainingView>& views,
                                       const RenderSettings& settings,
                                       const std::filesystem::path& renders_dir) {
  return EvaluateRenders(
      views, [&](const datasets::TrainingView& view) { return RenderView(model, view, settings); },
      renders_dir);
}

namespace {

std::vector<ViewMetrics> EvaluateRenders(
    const std::vector<datasets::TrainingView>& views,
    const std::function<ImageF32(const datasets::TrainingView&)>& render_view,
    const std::filesystem::path& renders_dir) {
  if (!renders_dir.empty()) std::filesystem::create_directories(renders_dir);
  std::vector<ViewMetrics> metrics;
  ImageF32 target;
  for (const datasets::TrainingView& view : views) {
    ImageF32 render = render_view(view);
    for (std::size_t i = 0; i < std::size_t(render.width()) * render.height() * 3; ++i) {
      render.data()[i] = std::clamp(render.data()[i], 0.0f, 1.0f);
    }
    ToFloat(view.image.view(), &target);
    metrics.push_back(
        {view.name, Psnr(render.view(), view.image.view()), Ssim(render.view(), target.view())});
    if (!renders_dir.empty()) {
      // The whole relative name, '/' -> '_', so that cam0/1.png and cam1/1.png stay apart.
      std::string flat = view.name;
      std::replace(flat.begin(), flat.end(), '/', '_');
      std::filesystem::path name(flat);
      name.replace_extension(".png");
      WriteImage(renders_dir / name, SideBySide(render.view(), view.image.view()));
    }
  }
  return metrics;
}

}  // namespace

void Trainer::SaveCheckpoint(const std::filesystem::path& path) const {
  SyncHost();
  std::ostringstream out(std::ios::binary);
  out.write(kCheckpointMagic, sizeof(kCheckpointMagic));
  WritePod(out, kCheckpointVersion);
  WritePod(out, iteration_);
  // The effective schedule (TrainOptions scales it to the run's length): a run continued with
  // more iterations keeps the decay and densification window of the run that wrote this.
  WritePod(out, options_.means_lr_steps);
  WritePod(out, options_.default_strategy.refine_stop);
  WritePod(out, options_.mcmc.refine_stop);
  WritePod(out, std::int32_t(params_.max_sh_degree));
  WritePod(out, params_.size());
  for (int g = 0; g < Gaussians::kNumGroups; ++g) {
    const auto data = params_.Data(Gaussians::Group(g));
    out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size_bytes()));
  }
  WritePod(out, std::uint64_t(order_.size()));
  for (std::size_t v : order_) WritePod(out, std::uint64_t(v));
  WritePod(out, std::uint64_t(order_pos_));
  std::ostringstream rng_text;
  rng_text << rng_;
  const std::string rng_state = rng_text.str();
  WritePod(out, std::uint64_t(rng_state.size()));
  out.write(rng_state.data(), std::streamsize(rng_state.size()));
  adam_.Save(out);
  WriteFileAtomically(path, out.str());
}

void Trainer::LoadCheckpoint(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  FACET_CHECK(file.good(), "splat: cannot open checkpoint {}", path.string());
  file.seekg(0, std::ios::end);
  const std::int64_t file_size = file.tellg();
  file.seekg(0);
  char magic[sizeof(kCheckpointMagic)];
  file.read(magic, sizeof(magic));
  FACET_CHECK(file.gcount() == std::streamsize(sizeof(magic)) &&
                  std::memcmp(magic, kCheckpointMagic, sizeof(magic)) == 0,
              "splat: {} is not a facet splat checkpoint", path.string());
  const auto version = ReadPod<std::uint32_t>(file, path);
  FACET_CHECK(version == kCheckpointVersion,
              "splat: checkpoint {} has format version {}, this facet reads {}", path.string(),
              version, kCheckpointVersion);
  const auto iteration = ReadPod<std::int64_t>(file, path);
  const auto means_lr_steps = ReadPod<std::int64_t>(file, path);
  const auto default_refine_stop = ReadPod<std::int64_t>(file, path);
  const auto mcmc_refine_stop = ReadPod<std::int64_t>(file, path);
  FACET_CHECK(means_lr_steps >= 1 && default_refine_stop >= 0 && mcmc_refine_stop >= 0,
              "splat: checkpoint {} is corrupt (schedule)", path.string());
  const auto degree = ReadPod<std::int32_t>(file, path);
  const auto count = ReadPod<std::int64_t>(file, path);
  FACET_CHECK(degree == params_.max_sh_degree && iteration >= 0 && count >= 0,
              "splat: checkpoint {} does not match this run (SH degree {}, expected {}); train "
              "without --resume or with the same options",
              path.string(), degree, params_.max_sh_degree);
  Gaussians loaded(0, degree);
  const std::int64_t floats_per = 3 + 3 + 4 + 1 + 3 + loaded.ShRestStride();
  FACET_CHECK(count <= file_size / std::int64_t(sizeof(float) * floats_per),
              "splat: checkpoint {} is truncated (it claims {} Gaussians)", path.string(), count);
  loaded.Resize(count);
  for (int g = 0; g < Gaussians::kNumGroups; ++g) {
    const auto data = loaded.Data(Gaussians::Group(g));
    file.read(reinterpret_cast<char*>(data.data()), std::streamsize(data.size_bytes()));
    FACET_CHECK(file.gcount() == std::streamsize(data.size_bytes()),
                "splat: checkpoint {} is truncated", path.string());
  }
  const auto num_order = ReadPod<std::uint64_t>(file, path);
  FACET_CHECK(num_order <= data_.train.size(),
              "splat: checkpoint {} was written for {} training views, this run has {}",
              path.string(), num_order, data_.train.size());
  std::vector<std::size_t> order(num_order);
  for (auto& v : order) {
    v = ReadPod<std::uint64_t>(file, path);
    FACET_CHECK(v < data_.train.size(), "splat: checkpoint {} is corrupt (view index)",
                path.string());
  }
  const auto order_pos = ReadPod<std::uint64_t>(file, path);
  FACET_CHECK(order_pos <= num_order, "splat: checkpoint {} is corrupt", path.string());
  const auto rng_size = ReadPod<std::uint64_t>(file, path);
  FACET_CHECK(rng_size < 100000, "splat: checkpoint {} is corrupt", path.string());
  std::string rng_state(rng_size, '\0');
  file.read(rng_state.data(), std::streamsize(rng_size));
  FACET_CHECK(file.gcount() == std::streamsize(rng_size), "splat: checkpoint {} is truncated",
              path.string());
  std::istringstream rng_text(rng_state);
  std::mt19937_64 rng;
  rng_text >> rng;
  FACET_CHECK(!rng_text.fail(), "splat: checkpoint {} is corrupt (random state)", path.string());
  Adam adam;
  adam.Load(file);
  loaded.Check();
  FACET_CHECK(adam.FirstMoment().size() == loaded.size() || adam.FirstMoment().empty(),
              "splat: checkpoint {} is corrupt (optimiser state)", path.string());

  params_ = std::move(loaded);
  adam_ = std::move(adam);
  grads_ = Gaussians(params_.size(), params_.max_sh_degree);
  iteration_ = iteration;
  options_.means_lr_steps = means_lr_steps;
  options_.default_strategy.refine_stop = default_refine_stop;
  options_.mcmc.refine_stop = mcmc_refine_stop;
  strategy_ = MakeStrategy();
  order_ = std::move(order);
  order_pos_ = order_pos;
  rng_ = rng;
#if defined(FACET_WITH_CUDA)
  if (cuda_) {
    cuda_->Upload(params_, adam_);
    host_stale_ = false;
  }
#endif
}

Gaussians InitialModel(const datasets::TrainingData& data, const InitOptions& options,
                       float random_box_fraction) {
  if (data.has_points) return InitFromScene(data.scene, options);
  FACET_CHECK(random_box_fraction > 0.0f, "splat: the random box fraction must be > 0");
  FACET_CHECK(!data.train.empty(), "splat: there is no training view");
  std::vector<geometry::Rigid3> poses;
  for (const auto* views : {&data.train, &data.test}) {
    for (const datasets::TrainingView& v : *views) poses.push_back(v.cam_from_world);
  }
  const Eigen::Vector3d center =
      geometry::PointNearestToOpticalAxes(poses).value_or(data.camera_center.cast<double>());
  const Eigen::Vector3f half = Eigen::Vector3f::Constant(random_box_fraction * data.scene_extent);
  const Eigen::Vector3f c = center.cast<float>();
  return InitRandom(c - half, c + half, options);
}

double Psnr(ImageView<const float> render, ImageView<const std::uint8_t> target) {
  FACET_CHECK(render.width() == target.width() && render.height() == target.height() &&
                  render.channels() == target.channels(),
              "PSNR: images differ in size");
  double sum = 0.0;
  for (int y = 0; y < render.height(); ++y) {
    const float* r = render.Row(y);
    const std::uint8_t* t = target.Row(y);
    for (int i = 0; i < render.width() * render.channels(); ++i) {
      const double d = std::clamp(double(r[i]), 0.0, 1.0) - t[i] / 255.0;
      sum += d * d;
    }
  }
  const double mse = sum / (double(render.width()) * render.height() * render.channels());
  return mse > 0.0 ? -10.0 * std::log10(mse) : 100.0;
}

ImageU8 SideBySide(ImageView<const float> render, ImageView<const std::uint8_t> photo) {
  FACET_CHECK(render.width() == photo.width() && render.height() == photo.height() &&
                  render.channels() == 3 && photo.channels() == 3,
              "side by side: the render and the photo must be RGB images of one size");
  const int w = render.width(), h = render.height();
  ImageU8 out(3 * w, h, 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      double err = 0.0;
      for (int c = 0; c < 3; ++c) {
        const double r = std::clamp(double(render(x, y, c)), 0.0, 1.0);
        out.view()(x, y, c) = std::uint8_t(std::lround(255.0 * r));
        out.view()(w + x, y, c) = photo(x, y, c);
        err += std::abs(r - photo(x, y, c) / 255.0) / 3.0;
      }
      const auto e = std::uint8_t(std::lround(255.0 * std::min(1.0, 4.0 * err)));
      for (int c = 0; c < 3; ++c) out.view()(2 * w + x, y, c) = e;
    }
  }
  return out;
}

}  // namespace facet::splatting
