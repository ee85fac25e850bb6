#include "splatting/adam.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <istream>
#include <ostream>
#include <span>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"

namespace facet::splatting {
namespace {

// Checkpoint layout (little endian): magic, version, beta1, beta2, epsilon (float32), step
// (int64), max_sh_degree (int32), count (int64), then the first and then the second moments,
// group by group in Gaussians::Group order, float32.
constexpr std::uint32_t kMagic = 0x4D414446;  // "FDAM"
constexpr std::uint32_t kVersion = 1;
// Far above any trainable model (2^36 Gaussians), low enough that count * 48 cannot overflow.
constexpr std::int64_t kMaxCount = std::int64_t{1} << 36;
// Floats read per chunk: memory grows with the bytes actually present, never with what a corrupt
// header claims.
constexpr std::int64_t kChunkFloats = std::int64_t{1} << 20;
// Elements per task of the update: it is a few flops per element, so amortise the scheduling.
constexpr std::int64_t kStepGrain = 16384;

template <typename T>
void WriteScalar(std::ostream& out, T value) {
  std::array<char, sizeof(T)> raw;
  std::memcpy(raw.data(), &value, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) std::reverse(raw.begin(), raw.end());
  out.write(raw.data(), sizeof(T));
}

template <typename T>
T ReadScalar(std::istream& in, const char* what) {
  std::array<char, sizeof(T)> raw;
  in.read(raw.data(), sizeof(T));
  FACET_CHECK(in.gcount() == static_cast<std::streamsize>(sizeof(T)),
              "Adam::Load: the stream ends inside the {} (truncated checkpoint)", what);
  if constexpr (std::endian::native == std::endian::big) std::reverse(raw.begin(), raw.end());
  T value;
  std::memcpy(&value, raw.data(), sizeof(T));
  return value;
}

void WriteFloats(std::ostream& out, std::span<const float> values) {
  if constexpr (std::endian::native == std::endian::little) {
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(float)));
  } else {
    for (const float v : values) WriteScalar(out, v);
  }
}

std::vector<float> ReadFloats(std::istream& in, std::int64_t count, const char* what) {
  std::vector<float> values;
  while (static_cast<std::int64_t>(values.size()) < count) {
    const std::int64_t begin = static_cast<std::int64_t>(values.size());
    const std::int64_t chunk = std::min(kChunkFloats, count - begin);
    values.resize(static_cast<std::size_t>(begin + chunk));
    const auto bytes = static_cast<std::streamsize>(chunk * sizeof(float));
    in.read(reinterpret_cast<char*>(values.data() + begin), bytes);
    FACET_CHECK(in.gcount() == bytes,
                "Adam::Load: the stream ends inside the {} (truncated checkpoint)", what);
  }
  if constexpr (std::endian::native == std::endian::big) {
    for (float& v : values) {
      std::array<char, sizeof(float)> raw;
      std::memcpy(raw.data(), &v, sizeof(float));
      std::reverse(raw.begin(), raw.end());
      std::memcpy(&v, raw.data(), sizeof(float));
    }
  }
  return values;
}

// Shapes only (not finiteness): this runs every step.
void CheckShapes(const Gaussians& g, const char* what) {
  FACET_CHECK(g.max_sh_degree >= 0 && g.max_sh_degree <= kernels::kMaxShDegree,
              "Adam::Step: {} has SH degree {} (expected 0-3)", what, g.max_sh_degree);
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto gr = static_cast<Gaussians::Group>(group);
    FACET_CHECK(g.Data(gr).size() == static_cast<std::size_t>(g.size()) * g.Width(gr),
                "Adam::Step: parameter group {} of {} holds {} floats for {} Gaussians of width {}",
                group, what, g.Data(gr).size(), g.size(), g.Width(gr));
  }
}

}  // namespace

void AdamOptions::Check() const {
  FACET_CHECK(beta1 >= 0.0f && beta1 < 1.0f, "AdamOptions::beta1 must be in [0, 1) (got {})",
              beta1);
  FACET_CHECK(beta2 >= 0.0f && beta2 < 1.0f, "AdamOptions::beta2 must be in [0, 1) (got {})",
              beta2);
  FACET_CHECK(std::isfinite(epsilon) && epsilon > 0.0f,
              "AdamOptions::epsilon must be positive and finite (got {})", epsilon);
}

// A schedule of no length (max_steps <= 0) is constant at lr_init: there is nothing to decay
// over. Steps before 0 also get lr_init (the clamp), where the reference returns 0.
float ExponentialLearningRate(float lr_init, float lr_final, std::int64_t step,
                              std::int64_t max_steps) {
  if (lr_init == lr_final || max_steps <= 0) return lr_init;
  FACET_CHECK(
      std::isfinite(lr_init) && lr_init > 0.0f && std::isfinite(lr_final) && lr_final > 0.0f,
      "ExponentialLearningRate: the learning rates must be positive and finite to be "
      "interpolated log-linearly (got {} and {})",
      lr_init, lr_final);
  const double t = std::clamp(static_cast<double>(step) / static_cast<double>(max_steps), 0.0, 1.0);
  return static_cast<float>(std::exp((1.0 - t) * std::log(static_cast<double>(lr_init)) +
                                     t * std::log(static_cast<double>(lr_final))));
}

Adam::Adam(const AdamOptions& options) : options_(options) { options_.Check(); }

void Adam::Step(Gaussians& params, const Gaussians& grads, const GroupLearningRates& lr) {
  CheckShapes(params, "params");
  CheckShapes(grads, "grads");
  FACET_CHECK(grads.max_sh_degree == params.max_sh_degree && grads.size() == params.size(),
              "Adam::Step: gradients of {} Gaussians of SH degree {} for {} parameters of degree "
              "{}",
              grads.size(), grads.max_sh_degree, params.size(), params.max_sh_degree);
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    FACET_CHECK(std::isfinite(lr[group]) && lr[group] >= 0.0f,
                "Adam::Step: the learning rate of group {} must be non-negative and finite (got "
                "{})",
                group, lr[group]);
  }
  if (m_.max_sh_degree != params.max_sh_degree || v_.max_sh_degree != params.max_sh_degree) {
    m_ = Gaussians(params.size(), params.max_sh_degree);
    v_ = Gaussians(params.size(), params.max_sh_degree);
  } else {
    m_.Resize(params.size());
    v_.Resize(params.size());
  }

  ++step_;
  // torch.optim.Adam (single-tensor path): step_size = lr / (1 - b1^t),
  // denom = sqrt(v) / sqrt(1 - b2^t) + eps, p -= step_size * m / denom.
  const double t = static_cast<double>(step_);
  const double bias1 = 1.0 - std::pow(static_cast<double>(options_.beta1), t);
  const auto bias2_sqrt =
      static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(options_.beta2), t)));
  const float b1 = options_.beta1;
  const float b2 = options_.beta2;
  const float eps = options_.epsilon;
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto gr = static_cast<Gaussians::Group>(group);
    float* p = params.Data(gr).data();
    const float* g = grads.Data(gr).data();
    float* m = m_.Data(gr).data();
    float* v = v_.Data(gr).data();
    const auto step_size = static_cast<float>(lr[group] / bias1);
    ParallelFor(
        static_cast<std::int64_t>(params.Data(gr).size()),
        [=](std::int64_t i) {
          m[i] = b1 * m[i] + (1.0f - b1) * g[i];
          v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
          p[i] -= step_size * m[i] / (std::sqrt(v[i]) / bias2_sqrt + eps);
        },
        kStepGrain);
  }
}

void Adam::SetStepCount(std::int64_t step) {
  FACET_CHECK(step >= 0, "Adam::SetStepCount: the step count must be non-negative (got {})", step);
  step_ = step;
}

// Before the first step there are no moments yet (Step creates them to match the parameters),
// so the bookkeeping below has nothing to do.
void Adam::Compact(std::span<const bool> keep) {
  if (step_ == 0 && m_.empty() && v_.empty()) return;
  m_.Compact(keep);
  v_.Compact(keep);
}

void Adam::AppendZeros(std::int64_t count) {
  FACET_CHECK(count >= 0, "Adam::AppendZeros: the count must be non-negative (got {})", count);
  if (step_ == 0 && m_.empty() && v_.empty()) return;
  m_.Resize(m_.size() + count);
  v_.Resize(v_.size() + count);
}

void Adam::ZeroGroup(Gaussians::Group group) {
  for (Gaussians* moments : {&m_, &v_}) {
    const auto data = moments->Data(group);
    std::fill(data.begin(), data.end(), 0.0f);
  }
}

void Adam::ZeroMoments(std::span<const std::int64_t> indices) {
  if (step_ == 0 && m_.empty() && v_.empty()) return;
  for (const std::int64_t index : indices) {
    FACET_CHECK(index >= 0 && index < m_.size(),
                "Adam::ZeroMoments: index {} is outside the {} Gaussians", index, m_.size());
  }
  for (Gaussians* moments : {&m_, &v_}) {
    for (int group = 0; group < Gaussians::kNumGroups; ++group) {
      const auto gr = static_cast<Gaussians::Group>(group);
      const int width = moments->Width(gr);
      const auto data = moments->Data(gr);
      for (const std::int64_t index : indices) {
        std::fill_n(data.begin() + index * width, width, 0.0f);
      }
    }
  }
}

void Adam::Save(std::ostream& out) const {
  WriteScalar(out, kMagic);
  WriteScalar(out, kVersion);
  WriteScalar(out, options_.beta1);
  WriteScalar(out, options_.beta2);
  WriteScalar(out, options_.epsilon);
  WriteScalar(out, step_);
  WriteScalar(out, static_cast<std::int32_t>(m_.max_sh_degree));
  WriteScalar(out, m_.size());
  for (const Gaussians* moments : {&m_, &v_}) {
    for (int group = 0; group < Gaussians::kNumGroups; ++group) {
      WriteFloats(out, moments->Data(static_cast<Gaussians::Group>(group)));
    }
  }
  FACET_CHECK(out.good(), "Adam::Save: writing the optimiser state failed");
}

void Adam::Load(std::istream& in) {
  const auto magic = ReadScalar<std::uint32_t>(in, "header");
  FACET_CHECK(magic == kMagic, "Adam::Load: not an Adam checkpoint (bad magic {:#010x})", magic);
  const auto version = ReadScalar<std::uint32_t>(in, "header");
  FACET_CHECK(version == kVersion, "Adam::Load: unsupported checkpoint version {} (expected {})",
              version, kVersion);
  AdamOptions options;
  options.beta1 = ReadScalar<float>(in, "header");
  options.beta2 = ReadScalar<float>(in, "header");
  options.epsilon = ReadScalar<float>(in, "header");
  options.Check();
  const auto step = ReadScalar<std::int64_t>(in, "header");
  FACET_CHECK(step >= 0, "Adam::Load: negative step count {}", step);
  const auto degree = ReadScalar<std::int32_t>(in, "header");
  FACET_CHECK(degree >= 0 && degree <= kernels::kMaxShDegree,
              "Adam::Load: SH degree {} is outside 0-3", degree);
  const auto count = ReadScalar<std::int64_t>(in, "header");
  FACET_CHECK(count >= 0 && count <= kMaxCount, "Adam::Load: implausible Gaussian count {}", count);

  std::array<Gaussians, 2> moments;
  for (Gaussians& g : moments) {
    g.max_sh_degree = degree;
    for (int group = 0; group < Gaussians::kNumGroups; ++group) {
      const auto gr = static_cast<Gaussians::Group>(group);
      std::vector<float> values = ReadFloats(in, count * g.Width(gr), "moments");
      switch (gr) {
        case Gaussians::kMeans:
          g.means = std::move(values);
          break;
        case Gaussians::kLogScales:
          g.log_scales = std::move(values);
          break;
        case Gaussians::kQuats:
          g.quats = std::move(values);
          break;
        case Gaussians::kOpacities:
          g.opacities = std::move(values);
          break;
        case Gaussians::kShDc:
          g.sh_dc = std::move(values);
          break;
        case Gaussians::kShRest:
          g.sh_rest = std::move(values);
          break;
        case Gaussians::kNumGroups:
          break;
      }
    }
  }
  // Moments are sums of finite gradients; a second moment is never negative.
  moments[0].Check();
  moments[1].Check();
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    for (const float v : moments[1].Data(static_cast<Gaussians::Group>(group))) {
      FACET_CHECK(v >= 0.0f, "Adam::Load: negative second moment in the checkpoint");
    }
  }
  options_ = options;
  step_ = step;
  m_ = std::move(moments[0]);
  v_ = std::move(moments[1]);
}

}  // namespace facet::splatting
