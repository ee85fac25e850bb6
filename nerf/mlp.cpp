#include "nerf/mlp.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

#include "core/error.h"
#include "nerf/detail/mlp_block.h"

namespace facet::nerf {
namespace {

// Rows per block: large enough for efficient matrix products, small enough that a block's
// activations (hidden_dims x rows floats) stay in the L2 cache.
constexpr std::size_t kBlockRows = 256;
// Backward keeps one weight-gradient partial per chunk; the chunk count depends only on n.
constexpr std::size_t kMaxChunks = 64;

// The per-thread buffers of the block loops, grown as needed and kept between calls.
std::vector<float>& ThreadScratch(std::size_t size) {
  thread_local std::vector<float> scratch;
  if (scratch.size() < size) scratch.resize(size);
  return scratch;
}

}  // namespace

void MlpOptions::Check() const {
  FACET_CHECK(input_dims >= 1 && input_dims <= 1024, "Mlp input_dims must be in [1, 1024] (got {})",
              input_dims);
  FACET_CHECK(output_dims >= 1 && output_dims <= 1024,
              "Mlp output_dims must be in [1, 1024] (got {})", output_dims);
  FACET_CHECK(hidden_dims >= 1 && hidden_dims <= 1024,
              "Mlp hidden_dims must be in [1, 1024] (got {})", hidden_dims);
  FACET_CHECK(hidden_layers >= 0 && hidden_layers <= kMaxHiddenLayers,
              "Mlp hidden_layers must be in [0, {}] (got {})", kMaxHiddenLayers, hidden_layers);
}

MlpLayer MlpLayerAt(const MlpOptions& options, int layer) {
  FACET_CHECK(layer >= 0 && layer <= options.hidden_layers, "Mlp layer {} out of range [0, {}]",
              layer, options.hidden_layers);
  const auto in_dims = [&](int l) { return l == 0 ? options.input_dims : options.hidden_dims; };
  const auto out_dims = [&](int l) {
    return l == options.hidden_layers ? options.output_dims : options.hidden_dims;
  };
  MlpLayer result;
  for (int l = 0; l < layer; ++l) result.offset += std::size_t(in_dims(l)) * out_dims(l);
  result.rows = out_dims(layer);
  result.cols = in_dims(layer);
  return result;
}

std::size_t MlpParamCount(const MlpOptions& options) {
  const MlpLayer last = MlpLayerAt(options, options.hidden_layers);
  return last.offset + std::size_t(last.rows) * last.cols;
}

Mlp::Mlp(const MlpOptions& options, std::uint32_t seed) : options_(options) {
  options_.Check();
  params_.resize(MlpParamCount(options_));
  std::mt19937 rng(seed);
  for (int l = 0; l < layer_count(); ++l) {
    const MlpLayer layer = MlpLayerAt(options_, l);
    const float scale = std::sqrt(6.0f / float(layer.rows + layer.cols));
    for (std::size_t i = 0; i < std::size_t(layer.rows) * layer.cols; ++i) {
      // 24 random bits to [0, 1): the same weights with every standard library.
      const float u = float(rng() >> 8) * (1.0f / 16777216.0f);
      params_[layer.offset + i] = scale * (2.0f * u - 1.0f);
    }
  }
}

void Mlp::Forward(std::span<const float> input, std::size_t n, std::span<float> output,
                  Context* ctx) const {
  const MlpOptions& o = options_;
  FACET_CHECK(input.size() == n * o.input_dims && output.size() == n * o.output_dims,
              "Mlp::Forward: {} inputs and {} outputs for {} samples of {} -> {}", input.size(),
              output.size(), n, o.input_dims, o.output_dims);
  const std::size_t hidden_size = n * o.hidden_dims;
  if (ctx != nullptr) {
    ctx->input = input;
    ctx->n = n;
    ctx->activations.resize(std::size_t(o.hidden_layers) * hidden_size);
  }
  const detail::MlpBlockKernels& kernels = detail::SelectMlpBlockKernels();
  const std::size_t blocks = (n + kBlockRows - 1) / kBlockRows;
  oneapi::tbb::parallel_for(
      oneapi::tbb::blocked_range<std::size_t>(0, blocks, 1),
      [&](const oneapi::tbb::blocked_range<std::size_t>& range) {
        float* scratch =
            ctx != nullptr ? nullptr : ThreadScratch(2 * kBlockRows * o.hidden_dims).data();
        std::array<float*, kMaxHiddenLayers> hidden{};
        for (std::size_t block = range.begin(); block != range.end(); ++block) {
          const std::size_t r0 = block * kBlockRows;
          const std::size_t rows = std::min(kBlockRows, n - r0);
          for (int l = 0; l < o.hidden_layers; ++l) {
            hidden[l] = ctx != nullptr
                            ? ctx->activations.data() + l * hidden_size + r0 * o.hidden_dims
                            : scratch + (l % 2) * kBlockRows * o.hidden_dims;
          }
          kernels.forward(o, params_.data(), input.data() + r0 * o.input_dims, std::ptrdiff_t(rows),
                          std::span<float* const>(hidden.data(), o.hidden_layers),
                          output.data() + r0 * o.output_dims);
        }
      },
      oneapi::tbb::simple_partitioner());
}

void Mlp::Backward(const Context& ctx, std::span<const float> d_output, std::span<float> d_params,
                   std::span<float> d_input) const {
  const MlpOptions& o = options_;
  const std::size_t n = ctx.n;
  const std::size_t hidden_size = n * o.hidden_dims;
  FACET_CHECK(ctx.input.size() == n * o.input_dims &&
                  ctx.activations.size() == std::size_t(o.hidden_layers) * hidden_size,
              "Mlp::Backward: the context does not come from a Forward of this {} -> {} network",
              o.input_dims, o.output_dims);
  FACET_CHECK(d_output.size() == n * o.output_dims && d_params.size() == params_.size() &&
                  (d_input.empty() || d_input.size() == n * o.input_dims),
              "Mlp::Backward: {} output gradients, {} parameter gradients and {} input gradients "
              "for {} samples and {} parameters",
              d_output.size(), d_params.size(), d_input.size(), n, params_.size());
  if (n == 0) return;
  const std::size_t param_count = params_.size();
  // Chunks of whole blocks, fixed by n.
  const std::size_t blocks = (n + kBlockRows - 1) / kBlockRows;
  const std::size_t blocks_per_chunk = (blocks + kMaxChunks - 1) / kMaxChunks;
  const std::size_t chunks = (blocks + blocks_per_chunk - 1) / blocks_per_chunk;
  ctx.partials.resize(chunks * param_count);

  const detail::MlpBlockKernels& kernels = detail::SelectMlpBlockKernels();
  oneapi::tbb::parallel_for(
      oneapi::tbb::blocked_range<std::size_t>(0, chunks, 1),
      [&](const oneapi::tbb::blocked_range<std::size_t>& range) {
        float* scratch = ThreadScratch(2 * kBlockRows * o.hidden_dims).data();
        std::array<const float*, kMaxHiddenLayers> hidden{};
        for (std::size_t chunk = range.begin(); chunk != range.end(); ++chunk) {
          float* partial = ctx.partials.data() + chunk * param_count;
          std::fill(partial, partial + param_count, 0.0f);
          const std::size_t block_end = std::min(blocks, (chunk + 1) * blocks_per_chunk);
          for (std::size_t block = chunk * blocks_per_chunk; block < block_end; ++block) {
            const std::size_t r0 = block * kBlockRows;
            const std::size_t rows = std::min(kBlockRows, n - r0);
            for (int l = 0; l < o.hidden_layers; ++l) {
              hidden[l] = ctx.activations.data() + l * hidden_size + r0 * o.hidden_dims;
            }
            kernels.backward(o, params_.data(), ctx.input.data() + r0 * o.input_dims,
                             std::span<const float* const>(hidden.data(), o.hidden_layers),
                             d_output.data() + r0 * o.output_dims, std::ptrdiff_t(rows), partial,
                             d_input.empty() ? nullptr : d_input.data() + r0 * o.input_dims,
                             scratch);
          }
        }
      },
      oneapi::tbb::simple_partitioner());

  // d_params += partials in chunk order: the same sums for any thread count.
  oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, param_count, 1024),
                            [&](const oneapi::tbb::blocked_range<std::size_t>& range) {
                              for (std::size_t i = range.begin(); i != range.end(); ++i) {
                                float sum = 0.0f;
                                for (std::size_t c = 0; c < chunks; ++c) {
                                  sum += ctx.partials[c * param_count + i];
                                }
                                d_params[i] += sum;
                              }
                            });
}

const char* ToString(MlpCudaKernel kernel) {
  switch (kernel) {
    case MlpCudaKernel::kCublas:
      return "cublas";
    case MlpCudaKernel::kFused:
      return "fused";
    case MlpCudaKernel::kAuto:
      break;
  }
  return "auto";
}

MlpCudaKernel ParseMlpCudaKernel(const std::string& name) {
  for (const MlpCudaKernel k :
       {MlpCudaKernel::kAuto, MlpCudaKernel::kCublas, MlpCudaKernel::kFused}) {
    if (name == ToString(k)) return k;
  }
  FACET_THROW("unknown MLP kernel '{}': use auto, cublas or fused", name);
}

}  // namespace facet::nerf
