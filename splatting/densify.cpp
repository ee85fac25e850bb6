#include "splatting/densify.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"
#include "splatting/detail/densify_ops.h"
#include "splatting/kernels/project.h"

namespace facet::splatting {
namespace {

using detail::HasMoments;
using detail::Logit;
using detail::Sigmoid;

// Inria's reset_opacity: opacities are clamped to at most this value.
constexpr float kResetOpacity = 0.01f;
// Per-Gaussian loops are cheap; hand each task at least this many.
constexpr std::int64_t kGrain = 1024;

// Random draws of one step come from an engine seeded with (seed, iteration, purpose), so that a
// strategy's result depends only on its inputs (and a resumed run repeats an uninterrupted one).
enum class Draw : std::uint32_t { kSplit = 1, kRelocate = 2, kAdd = 3 };

std::mt19937_64 MakeRng(std::uint64_t seed, std::int64_t iteration, Draw purpose) {
  const auto it = static_cast<std::uint64_t>(iteration);
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(it), static_cast<std::uint32_t>(it >> 32),
                    static_cast<std::uint32_t>(purpose)};
  return std::mt19937_64(seq);
}

void CheckShapes(const Gaussians& g, const char* who) {
  const std::int64_t n = g.size();
  for (int k = 0; k < Gaussians::kNumGroups; ++k) {
    const auto group = static_cast<Gaussians::Group>(k);
    FACET_CHECK(static_cast<std::int64_t>(g.Data(group).size()) == n * g.Width(group),
                "{}: parameter group {} holds {} floats, expected {} x {}", who, k,
                g.Data(group).size(), n, g.Width(group));
  }
}

float MaxScale(const Gaussians& g, std::int64_t i) {
  const float* s = g.log_scales.data() + 3 * i;
  return std::exp(std::max({s[0], s[1], s[2]}));
}

// A keep mask for Gaussians::Compact and Adam::Compact (std::vector<bool> is not contiguous).
std::unique_ptr<bool[]> AllTrue(std::int64_t n) {
  auto keep = std::make_unique<bool[]>(static_cast<std::size_t>(n));
  std::fill_n(keep.get(), n, true);
  return keep;
}

// ---------------------------------------------------------------------------------------------
// Kerbl et al. 2023, sec. 5.2, as graphdeco-inria/gaussian-splatting runs it (train.py,
// scene/gaussian_model.py densify_and_prune), with gsplat's DefaultStrategy bookkeeping of the
// screen radii (carried over to clones and split children, reset with the gradient statistics).
// The reference zeroes its max radii before pruning (graphdeco-inria issue #123), so its
// screen-size pruning never fires; here it is off by default too (max_screen_size 0) and fires
// when set.
class DefaultStrategy final : public DensificationStrategy {
 public:
  DefaultStrategy(const DefaultStrategyOptions& options, float extent)
      : options_(options), extent_(extent) {}

  std::string Name() const override { return "default"; }

  void Observe(std::int64_t iteration, const Gaussians& params,
               const ViewGradientStats& stats) override;

  double AddRegularization(const Gaussians& /*params*/, Gaussians* /*grads*/) override {
    return 0.0;
  }

  DensifyResult Step(std::int64_t iteration, Gaussians& params, Adam& adam,
                     float lr_means) override;

  // Step's schedule: a refinement or an opacity reset inside the window.
  bool Acts(std::int64_t iteration) const override {
    if (iteration >= options_.refine_stop) return false;
    return Densifies(iteration) || Resets(iteration);
  }

 private:
  bool Densifies(std::int64_t iteration) const {
    return iteration > options_.refine_start && iteration % options_.refine_every == 0;
  }
  // The reference also resets once at refine_start on white-background scenes (train.py), which
  // clears the floaters that random initialisation leaves in front of the white.
  bool Resets(std::int64_t iteration) const {
    return (options_.reset_every > 0 && iteration % options_.reset_every == 0) ||
           (options_.reset_at_refine_start && iteration == options_.refine_start);
  }
  void ResetStats(std::int64_t n) {
    grad_accum_.assign(static_cast<std::size_t>(n), 0.0f);
    view_count_.assign(static_cast<std::size_t>(n), 0);
    max_radii_.assign(static_cast<std::size_t>(n), 0);
  }
  void Refine(std::int64_t iteration, Gaussians& params, Adam& adam, bool moments,
              DensifyResult* result);
  void ResetOpacity(Gaussians& params, Adam& adam, bool moments, DensifyResult* result) const;

  DefaultStrategyOptions options_;
  float extent_;
  // Per Gaussian, since the last refinement: sum over the views that drew it of the NDC
  // mean-gradient norm, the number of such views, and the largest screen radius (px).
  std::vector<float> grad_accum_;
  std::vector<std::int32_t> view_count_;
  std::vector<std::int32_t> max_radii_;
};

void DefaultStrategy::Observe(std::int64_t iteration, const Gaussians& params,
                              const ViewGradientStats& stats) {
  // The reference gathers statistics only while it still densifies.
  if (iteration >= options_.refine_stop) return;
  const std::int64_t n = params.size();
  const std::span<const float> grads =
      options_.absolute_gradient ? stats.v_mean2d_abs : stats.v_mean2d;
  FACET_CHECK(stats.width > 0 && stats.height > 0,
              "DefaultStrategy::Observe: image size {}x{} must be positive", stats.width,
              stats.height);
  FACET_CHECK(static_cast<std::int64_t>(grads.size()) == 2 * n,
              "DefaultStrategy::Observe: {} holds {} floats for {} Gaussians (expected 2 each)",
              options_.absolute_gradient ? "v_mean2d_abs" : "v_mean2d", grads.size(), n);
  FACET_CHECK(static_cast<std::int64_t>(stats.radii.size()) == n,
              "DefaultStrategy::Observe: {} radii for {} Gaussians", stats.radii.size(), n);
  // A model resized behind the strategy's back (a loaded checkpoint) starts afresh.
  if (static_cast<std::int64_t>(grad_accum_.size()) != n) ResetStats(n);
  // Pixel gradients -> NDC (x_ndc = 2 x_px / W - 1 ...): Inria's viewspace-point gradient.
  const float half_w = 0.5f * static_cast<float>(stats.width);
  const float half_h = 0.5f * static_cast<float>(stats.height);
  ParallelFor(
      n,
      [&](std::int64_t i) {
        const std::int32_t radius = stats.radii[i];
        if (radius <= 0) return;
        const float gx = grads[2 * i] * half_w;
        const float gy = grads[2 * i + 1] * half_h;
        grad_accum_[i] += std::sqrt(gx * gx + gy * gy);
        ++view_count_[i];
        max_radii_[i] = std::max(max_radii_[i], radius);
      },
      kGrain);
}

DensifyResult DefaultStrategy::Step(std::int64_t iteration, Gaussians& params, Adam& adam,
                                    float /*lr_means*/) {
  DensifyResult result;
  if (iteration >= options_.refine_stop) return result;
  const bool densify = Densifies(iteration);
  const bool reset = Resets(iteration);
  if (!densify && !reset) return result;
  CheckShapes(params, "DefaultStrategy::Step");
  const bool moments = HasMoments(adam, params, "DefaultStrategy::Step");
  if (densify) Refine(iteration, params, adam, moments, &result);
  if (reset) ResetOpacity(params, adam, moments, &result);
  return result;
}

void DefaultStrategy::Refine(std::int64_t iteration, Gaussians& params, Adam& adam, bool moments,
                             DensifyResult* result) {
  const std::int64_t n = params.size();
  if (static_cast<std::int64_t>(grad_accum_.size()) != n) ResetStats(n);

  // Candidates: mean NDC gradient >= threshold; clone the small, split the large.
  enum Kind : std::uint8_t { kNone, kClone, kSplit };
  const float size_limit = options_.percent_dense * extent_;
  std::vector<float> grad(static_cast<std::size_t>(n));
  std::vector<Kind> kind(static_cast<std::size_t>(n));
  ParallelFor(
      n,
      [&](std::int64_t i) {
        grad[i] = view_count_[i] > 0 ? grad_accum_[i] / static_cast<float>(view_count_[i]) : 0.0f;
        kind[i] = grad[i] < options_.grad_threshold   ? kNone
                  : MaxScale(params, i) <= size_limit ? kClone
                                                      : kSplit;
      },
      kGrain);

  // The cap: the largest gradients first (ties: lower index), while the growth fits.
  if (options_.max_gaussians > 0) {
    std::vector<std::int64_t> order;
    for (std::int64_t i = 0; i < n; ++i) {
      if (kind[i] != kNone) order.push_back(i);
    }
    std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return grad[a] != grad[b] ? grad[a] > grad[b] : a < b;
    });
    std::int64_t budget = std::max<std::int64_t>(0, options_.max_gaussians - n);
    for (const std::int64_t i : order) {
      const std::int64_t cost = kind[i] == kClone ? 1 : options_.split_children - 1;
      if (cost <= budget) {
        budget -= cost;
      } else {
        kind[i] = kNone;
      }
    }
  }

  std::vector<std::int64_t> clones, splits;
  for (std::int64_t i = 0; i < n; ++i) {
    if (kind[i] == kClone) clones.push_back(i);
    if (kind[i] == kSplit) splits.push_back(i);
  }
  // Screen radii of the grown model, for the pruning below: copies inherit their parent's.
  std::vector<std::int32_t> radii = max_radii_;

  // Clone (densify_and_clone): exact copies appended at the end.
  params.AppendCopies(clones);
  for (const std::int64_t i : clones) radii.push_back(max_radii_[i]);

  // Split (densify_and_split): `split_children` copies of each parent, child-major as torch's
  // repeat(N, 1); each child's mean is drawn from the parent, N(mean, R diag(s^2) R^T), and its
  // scale is the parent's divided by split_scale_divisor (Inria: 0.8 * N).
  std::vector<std::int64_t> children;
  children.reserve(splits.size() * static_cast<std::size_t>(options_.split_children));
  for (int c = 0; c < options_.split_children; ++c) {
    children.insert(children.end(), splits.begin(), splits.end());
  }
  const std::int64_t first_child = params.size();
  params.AppendCopies(children);
  std::mt19937_64 rng = MakeRng(options_.seed, iteration, Draw::kSplit);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const float log_divisor = std::log(options_.split_scale_divisor);
  for (std::size_t j = 0; j < children.size(); ++j) {
    const std::int64_t p = children[j];
    const std::int64_t k = first_child + static_cast<std::int64_t>(j);
    const float* q = params.quats.data() + 4 * p;
    const float* s = params.log_scales.data() + 3 * p;
    kernels::Vec3<float> z;
    z.x = normal(rng) * std::exp(s[0]);
    z.y = normal(rng) * std::exp(s[1]);
    z.z = normal(rng) * std::exp(s[2]);
    const kernels::Vec3<float> offset =
        kernels::QuatToRotation(kernels::Quat<float>{q[0], q[1], q[2], q[3]}) * z;
    params.means[3 * k] = params.means[3 * p] + offset.x;
    params.means[3 * k + 1] = params.means[3 * p + 1] + offset.y;
    params.means[3 * k + 2] = params.means[3 * p + 2] + offset.z;
    for (int a = 0; a < 3; ++a) params.log_scales[3 * k + a] = s[a] - log_divisor;
    radii.push_back(max_radii_[p]);
  }
  if (moments) adam.AppendZeros(static_cast<std::int64_t>(clones.size() + children.size()));

  // Prune: split parents, the transparent, and (after the first opacity reset) the too large.
  const std::int64_t total = params.size();
  auto keep = AllTrue(total);
  for (const std::int64_t i : splits) keep[i] = false;
  const bool prune_large = options_.reset_every > 0 && iteration > options_.reset_every;
  const float world_limit = options_.max_world_size * extent_;
  ParallelFor(
      total,
      [&](std::int64_t i) {
        bool prune = Sigmoid(params.opacities[i]) < options_.prune_opacity;
        if (prune_large) {
          prune = prune || MaxScale(params, i) > world_limit ||
                  (options_.max_screen_size > 0.0f &&
                   static_cast<float>(radii[i]) > options_.max_screen_size);
        }
        if (prune) keep[i] = false;
      },
      kGrain);
  const std::span<const bool> keep_span(keep.get(), static_cast<std::size_t>(total));
  params.Compact(keep_span);
  if (moments) adam.Compact(keep_span);

  result->added += static_cast<std::int64_t>(clones.size() + children.size());
  result->removed += total - params.size();
  ResetStats(params.size());
}

void DefaultStrategy::ResetOpacity(Gaussians& params, Adam& adam, bool moments,
                                   DensifyResult* result) const {
  // Inria: inverse_sigmoid(min(sigmoid(o), 0.01)), i.e. min(o, logit(0.01)); Adam restarts the
  // opacities from zero moments.
  const float cap = Logit(kResetOpacity);
  ParallelFor(
      params.size(),
      [&](std::int64_t i) { params.opacities[i] = std::min(params.opacities[i], cap); }, kGrain);
  if (moments) adam.ZeroGroup(Gaussians::kOpacities);
  result->opacity_reset = true;
}

// ---------------------------------------------------------------------------------------------
// Kheradmand et al. 2024, as gsplat's MCMCStrategy runs it (strategy/mcmc.py, strategy/ops.py
// relocate, sample_add, inject_noise_to_position). As the authors' code (3dgs-mcmc
// replace_tensors_to_optimizer), the moments of every source Gaussian are zeroed; those of the
// relocated slots are zeroed too, since they belonged to the dead Gaussian.
class McmcStrategy final : public DensificationStrategy {
 public:
  explicit McmcStrategy(const McmcStrategyOptions& options) : options_(options) {}

  std::string Name() const override { return "mcmc"; }

  // MCMC needs no view statistics.
  void Observe(std::int64_t /*iteration*/, const Gaussians& /*params*/,
               const ViewGradientStats& /*stats*/) override {}

  double AddRegularization(const Gaussians& params, Gaussians* grads) override;

  DensifyResult Step(std::int64_t iteration, Gaussians& params, Adam& adam,
                     float lr_means) override;

  // The position noise (eq. 10) moves the means after every step.
  bool Acts(std::int64_t /*iteration*/) const override { return true; }

 private:
  std::int64_t RelocateDead(std::int64_t iteration, Gaussians& params, Adam& adam, bool moments);
  std::int64_t AddNew(std::int64_t iteration, Gaussians& params, Adam& adam, bool moments);
  // Applies eq. 9 to each distinct source: its opacity and scale become those of one of its
  // (occurrences + 1) copies. `alpha`: the opacities before any change.
  void SplitSources(Gaussians& params, std::span<const std::int64_t> sources,
                    std::span<const float> alpha) const;

  McmcStrategyOptions options_;
};

double McmcStrategy::AddRegularization(const Gaussians& params, Gaussians* grads) {
  FACET_CHECK(grads != nullptr, "McmcStrategy::AddRegularization: grads is null");
  CheckShapes(params, "McmcStrategy::AddRegularization");
  CheckShapes(*grads, "McmcStrategy::AddRegularization (grads)");
  const std::int64_t n = params.size();
  FACET_CHECK(grads->size() == n && grads->max_sh_degree == params.max_sh_degree,
              "McmcStrategy::AddRegularization: gradients for {} Gaussians of degree {}, model "
              "has {} of degree {}",
              grads->size(), grads->max_sh_degree, n, params.max_sh_degree);
  if (n == 0 || (options_.opacity_reg == 0.0f && options_.scale_reg == 0.0f)) return 0.0;
  // L = opacity_reg * mean_i sigmoid(o_i) + scale_reg * mean_ij exp(s_ij) (gsplat's
  // simple_trainer: .mean() over every element). Partial sums per fixed block, added in order,
  // so the loss does not depend on the scheduling.
  const double w_opacity = options_.opacity_reg / static_cast<double>(n);
  const double w_scale = options_.scale_reg / (3.0 * static_cast<double>(n));
  const std::int64_t blocks = (n + kGrain - 1) / kGrain;
  std::vector<double> opacity_sums(static_cast<std::size_t>(blocks));
  std::vector<double> scale_sums(static_cast<std::size_t>(blocks));
  ParallelFor(blocks, [&](std::int64_t b) {
    double so = 0.0, ss = 0.0;
    for (std::int64_t i = b * kGrain; i < std::min(n, (b + 1) * kGrain); ++i) {
      const double a = 1.0 / (1.0 + std::exp(-static_cast<double>(params.opacities[i])));
      so += a;
      grads->opacities[i] += static_cast<float>(w_opacity * a * (1.0 - a));
      for (std::int64_t j = 3 * i; j < 3 * i + 3; ++j) {
        const double e = std::exp(static_cast<double>(params.log_scales[j]));
        ss += e;
        grads->log_scales[j] += static_cast<float>(w_scale * e);
      }
    }
    opacity_sums[b] = so;
    scale_sums[b] = ss;
  });
  return w_opacity * std::accumulate(opacity_sums.begin(), opacity_sums.end(), 0.0) +
         w_scale * std::accumulate(scale_sums.begin(), scale_sums.end(), 0.0);
}

DensifyResult McmcStrategy::Step(std::int64_t iteration, Gaussians& params, Adam& adam,
                                 float lr_means) {
  CheckShapes(params, "McmcStrategy::Step");
  DensifyResult result;
  if (iteration < options_.refine_stop && iteration > options_.refine_start &&
      iteration % options_.refine_every == 0) {
    const bool moments = HasMoments(adam, params, "McmcStrategy::Step");
    result.added += RelocateDead(iteration, params, adam, moments);
    result.added += AddNew(iteration, params, adam, moments);
  }
  // Eq. 10, after every step (gsplat: also after refine_stop).
  detail::InjectPositionNoise(params, lr_means * options_.noise_lr, options_.seed,
                              static_cast<std::uint64_t>(iteration));
  return result;
}

void McmcStrategy::SplitSources(Gaussians& params, std::span<const std::int64_t> sources,
                                std::span<const float> alpha) const {
  std::vector<std::int32_t> count =
      detail::CountOccurrences(sources, static_cast<std::int64_t>(alpha.size()));
  for (const std::int64_t s : sources) {
    if (count[s] == 0) continue;  // done
    const detail::Relocated r = detail::Relocate(alpha[s], count[s] + 1, options_.min_opacity);
    count[s] = 0;
    params.opacities[s] = Logit(r.opacity);
    const float log_factor = std::log(r.scale_factor);
    for (int a = 0; a < 3; ++a) params.log_scales[3 * s + a] += log_factor;
  }
}

std::int64_t McmcStrategy::RelocateDead(std::int64_t iteration, Gaussians& params, Adam& adam,
                                        bool moments) {
  const std::int64_t n = params.size();
  std::vector<float> alpha(static_cast<std::size_t>(n));
  ParallelFor(
      n, [&](std::int64_t i) { alpha[i] = Sigmoid(params.opacities[i]); }, kGrain);
  std::vector<std::int64_t> dead, alive;
  std::vector<float> alive_alpha;
  for (std::int64_t i = 0; i < n; ++i) {
    if (alpha[i] <= options_.min_opacity) {
      dead.push_back(i);
    } else {
      alive.push_back(i);
      alive_alpha.push_back(alpha[i]);
    }
  }
  if (dead.empty() || alive.empty()) return 0;
  // Sources drawn among the live ones with probability proportional to opacity.
  std::mt19937_64 rng = MakeRng(options_.seed, iteration, Draw::kRelocate);
  std::vector<std::int64_t> sources =
      detail::MultinomialSample(alive_alpha, static_cast<std::int64_t>(dead.size()), rng);
  for (std::int64_t& s : sources) s = alive[s];
  SplitSources(params, sources, alpha);
  ParallelFor(static_cast<std::int64_t>(dead.size()),
              [&](std::int64_t j) { detail::CopyGaussian(params, sources[j], dead[j]); });
  if (moments) {
    std::vector<std::int64_t> touched = dead;
    touched.insert(touched.end(), sources.begin(), sources.end());
    adam.ZeroMoments(touched);
  }
  return static_cast<std::int64_t>(dead.size());
}

std::int64_t McmcStrategy::AddNew(std::int64_t iteration, Gaussians& params, Adam& adam,
                                  bool moments) {
  const std::int64_t n = params.size();
  const auto grown = static_cast<std::int64_t>((1.0 + static_cast<double>(options_.growth_rate)) *
                                               static_cast<double>(n));
  const std::int64_t count = std::min(options_.max_gaussians, grown) - n;
  if (count <= 0) return 0;
  std::vector<float> alpha(static_cast<std::size_t>(n));
  ParallelFor(
      n, [&](std::int64_t i) { alpha[i] = Sigmoid(params.opacities[i]); }, kGrain);
  if (std::none_of(alpha.begin(), alpha.end(), [](float a) { return a > 0.0f; })) return 0;
  std::mt19937_64 rng = MakeRng(options_.seed, iteration, Draw::kAdd);
  const std::vector<std::int64_t> sources = detail::MultinomialSample(alpha, count, rng);
  SplitSources(params, sources, alpha);
  params.AppendCopies(sources);
  if (moments) {
    adam.ZeroMoments(sources);
    adam.AppendZeros(count);
  }
  return count;
}

void CheckExtent(float scene_extent, const char* who) {
  FACET_CHECK(std::isfinite(scene_extent) && scene_extent > 0.0f,
              "{}: the scene extent must be positive and finite (got {})", who, scene_extent);
}

}  // namespace

void DefaultStrategyOptions::Check() const {
  FACET_CHECK(refine_start >= 0, "DefaultStrategyOptions::refine_start must be >= 0 (got {})",
              refine_start);
  FACET_CHECK(refine_stop >= 0, "DefaultStrategyOptions::refine_stop must be >= 0 (got {})",
              refine_stop);
  FACET_CHECK(refine_every >= 1, "DefaultStrategyOptions::refine_every must be >= 1 (got {})",
              refine_every);
  FACET_CHECK(reset_every >= 0,
              "DefaultStrategyOptions::reset_every must be >= 0 (0: never; got {})", reset_every);
  FACET_CHECK(std::isfinite(grad_threshold) && grad_threshold > 0.0f,
              "DefaultStrategyOptions::grad_threshold must be positive (got {})", grad_threshold);
  FACET_CHECK(std::isfinite(percent_dense) && percent_dense > 0.0f,
              "DefaultStrategyOptions::percent_dense must be positive (got {})", percent_dense);
  FACET_CHECK(std::isfinite(split_scale_divisor) && split_scale_divisor > 0.0f,
              "DefaultStrategyOptions::split_scale_divisor must be positive (got {})",
              split_scale_divisor);
  FACET_CHECK(split_children >= 2 && split_children <= 64,
              "DefaultStrategyOptions::split_children must be in 2-64 (got {})", split_children);
  FACET_CHECK(prune_opacity >= 0.0f && prune_opacity < 1.0f,
              "DefaultStrategyOptions::prune_opacity must be in [0, 1) (got {})", prune_opacity);
  FACET_CHECK(max_screen_size >= 0.0f,
              "DefaultStrategyOptions::max_screen_size must be >= 0 (px, 0 = off; got {})",
              max_screen_size);
  FACET_CHECK(max_world_size > 0.0f,
              "DefaultStrategyOptions::max_world_size must be positive (got {})", max_world_size);
  FACET_CHECK(max_gaussians >= 0,
              "DefaultStrategyOptions::max_gaussians must be >= 0 (0: no cap; got {})",
              max_gaussians);
}

void McmcStrategyOptions::Check() const {
  FACET_CHECK(max_gaussians >= 1, "McmcStrategyOptions::max_gaussians must be >= 1 (got {})",
              max_gaussians);
  FACET_CHECK(refine_start >= 0, "McmcStrategyOptions::refine_start must be >= 0 (got {})",
              refine_start);
  FACET_CHECK(refine_stop >= 0, "McmcStrategyOptions::refine_stop must be >= 0 (got {})",
              refine_stop);
  FACET_CHECK(refine_every >= 1, "McmcStrategyOptions::refine_every must be >= 1 (got {})",
              refine_every);
  FACET_CHECK(std::isfinite(growth_rate) && growth_rate >= 0.0f,
              "McmcStrategyOptions::growth_rate must be >= 0 (got {})", growth_rate);
  FACET_CHECK(min_opacity > 0.0f && min_opacity < 1.0f,
              "McmcStrategyOptions::min_opacity must be in (0, 1) (got {})", min_opacity);
  FACET_CHECK(std::isfinite(noise_lr) && noise_lr >= 0.0f,
              "McmcStrategyOptions::noise_lr must be >= 0 (got {})", noise_lr);
  FACET_CHECK(std::isfinite(opacity_reg) && opacity_reg >= 0.0f,
              "McmcStrategyOptions::opacity_reg must be >= 0 (got {})", opacity_reg);
  FACET_CHECK(std::isfinite(scale_reg) && scale_reg >= 0.0f,
              "McmcStrategyOptions::scale_reg must be >= 0 (got {})", scale_reg);
}

std::unique_ptr<DensificationStrategy> MakeDefaultStrategy(const DefaultStrategyOptions& options,
                                                           float scene_extent) {
  options.Check();
  CheckExtent(scene_extent, "MakeDefaultStrategy");
  return std::make_unique<DefaultStrategy>(options, scene_extent);
}

std::unique_ptr<DensificationStrategy> MakeMcmcStrategy(const McmcStrategyOptions& options,
                                                        float scene_extent) {
  options.Check();
  CheckExtent(scene_extent, "MakeMcmcStrategy");
  return std::make_unique<McmcStrategy>(options);
}

}  // namespace facet::splatting
