// The per-sample bodies of the fused CUDA MLP (cuda/fused_mlp_cuda.cu): one thread evaluates one
// sample through every layer with its activations in registers and the weights in shared memory,
// instead of one GEMM plus one ReLU pass over global memory per layer (cuda/mlp_cuda.cpp). The
// idea is tiny-cuda-nn's FullyFusedMLP (Müller et al., "Real-time Neural Radiance Caching for
// Path Tracing", 2021); ours keeps full float precision (no half-precision tensor cores), so the
// CPU reference (nerf/mlp.h) is matched to float rounding.
//
// Shapes are compile-time (kIn inputs, kHidden neurons per hidden layer, kOut outputs); the number
// of hidden layers (>= 1) is a run-time argument. The forward pass reads the weights transposed
// (StageForwardWeights), so each input value multiplies a contiguous run of weights, read four at
// a time; the backward pass reads them as stored (Mlp's row-major out x in layout). The weight
// gradients are not computed here: the backward pass writes each hidden layer's gradient
// (dL/d pre-activation) and the caller reduces them against the layer inputs with GEMMs, as
// tiny-cuda-nn does.
//
// The same functions run on the CPU in tests (tests/nerf/fused_mlp_test.cpp), where they are
// checked against Mlp::Forward / Mlp::Backward.
#pragma once

#include <cstdint>

#include "core/host_device.h"

namespace facet::nerf::kernels {

struct Float4 {
  float x, y, z, w;
};

// Four floats from a 16-byte aligned address (one vector load on the device).
FACET_HOST_DEVICE inline Float4 LoadFloat4(const float* p) {
#if defined(__CUDA_ARCH__)
  const float4 v = *reinterpret_cast<const float4*>(p);
  return {v.x, v.y, v.z, v.w};
#else
  return {p[0], p[1], p[2], p[3]};
#endif
}

FACET_HOST_DEVICE inline void StoreFloat4(float* p, float x, float y, float z, float w) {
#if defined(__CUDA_ARCH__)
  *reinterpret_cast<float4*>(p) = make_float4(x, y, z, w);
#else
  p[0] = x;
  p[1] = y;
  p[2] = z;
  p[3] = w;
#endif
}

// values[0, kCount) = row[0, kCount): vector loads when kCount is a multiple of 4 (the row must
// then be 16-byte aligned), scalar ones otherwise.
template <int kCount>
FACET_HOST_DEVICE inline void LoadRow(const float* row, float* values) {
  if constexpr (kCount % 4 == 0) {
    FACET_UNROLL
    for (int k = 0; k < kCount; k += 4) {
      const Float4 v = LoadFloat4(row + k);
      values[k] = v.x;
      values[k + 1] = v.y;
      values[k + 2] = v.z;
      values[k + 3] = v.w;
    }
  } else {
    FACET_UNROLL
    for (int k = 0; k < kCount; ++k) values[k] = row[k];
  }
}

template <int kCount>
FACET_HOST_DEVICE inline void StoreRow(const float* values, float* row) {
  if constexpr (kCount % 4 == 0) {
    FACET_UNROLL
    for (int k = 0; k < kCount; k += 4)
      StoreFloat4(row + k, values[k], values[k + 1], values[k + 2], values[k + 3]);
  } else {
    FACET_UNROLL
    for (int k = 0; k < kCount; ++k) row[k] = values[k];
  }
}

// acc[0, kCount) += x * w[0, kCount) (w 16-byte aligned, kCount a multiple of 4).
template <int kCount>
FACET_HOST_DEVICE inline void Axpy(float x, const float* w, float* acc) {
  FACET_UNROLL
  for (int j = 0; j < kCount; j += 4) {
    const Float4 v = LoadFloat4(w + j);
    acc[j] += v.x * x;
    acc[j + 1] += v.y * x;
    acc[j + 2] += v.z * x;
    acc[j + 3] += v.w * x;
  }
}

template <int kIn, int kHidden, int kOut>
struct FusedMlpShape {
  static_assert(kIn % 4 == 0 && kHidden % 4 == 0, "vector loads need multiples of 4");
  // The last layer's transposed rows are padded to a multiple of 4 with zero weights.
  static constexpr int kOutPadded = (kOut + 3) / 4 * 4;

  // Floats of the forward pass's staged (transposed) weights for `hidden_layers` hidden layers.
  FACET_HOST_DEVICE static constexpr std::int64_t ForwardWeightFloats(int hidden_layers) {
    return std::int64_t(kIn) * kHidden + std::int64_t(hidden_layers - 1) * kHidden * kHidden +
           std::int64_t(kHidden) * kOutPadded;
  }
  // Floats of the backward pass's weights (Mlp's parameter count).
  FACET_HOST_DEVICE static constexpr std::int64_t BackwardWeightFloats(int hidden_layers) {
    return std::int64_t(kIn) * kHidden + std::int64_t(hidden_layers - 1) * kHidden * kHidden +
           std::int64_t(kHidden) * kOut;
  }

  // staged[s] for s = thread, thread + threads, ... < ForwardWeightFloats: every layer's weights
  // transposed (in x out, row-major), the last layer's rows padded to kOutPadded. `params` in
  // Mlp's layout. Called by all threads of a block, each with its index.
  FACET_HOST_DEVICE static void StageForwardWeights(const float* params, int hidden_layers,
                                                    float* staged, int thread, int threads) {
    const std::int64_t first = std::int64_t(kIn) * kHidden;
    const std::int64_t last = first + std::int64_t(hidden_layers - 1) * kHidden * kHidden;
    const std::int64_t total = ForwardWeightFloats(hidden_layers);
    for (std::int64_t s = thread; s < total; s += threads) {
      if (s < first) {  // staged k * kHidden + j = W0[j * kIn + k]
        const int k = int(s / kHidden), j = int(s % kHidden);
        staged[s] = params[std::int64_t(j) * kIn + k];
      } else if (s < last) {  // middle layers: W[j * kHidden + k]
        const std::int64_t layer = (s - first) / (kHidden * kHidden);
        const int r = int((s - first) % (kHidden * kHidden));
        const int k = r / kHidden, j = r % kHidden;
        staged[s] = params[first + layer * kHidden * kHidden + std::int64_t(j) * kHidden + k];
      } else {  // last layer: staged k * kOutPadded + o = W[o * kHidden + k], zero padding
        const int r = int(s - last);
        const int k = r / kOutPadded, o = r % kOutPadded;
        staged[s] = o < kOut ? params[last + std::int64_t(o) * kHidden + k] : 0.0f;
      }
    }
  }

  // One sample forward: out[kOut] = the network at in[kIn] (16-byte aligned). `act`, when not null, receives the
  // post-ReLU activations of hidden layer l at act + l * act_stride (kHidden floats each,
  // 16-byte aligned). `staged` from StageForwardWeights.
  FACET_HOST_DEVICE static void Forward(const float* staged, int hidden_layers, const float* in,
                                        float* out, float* act, std::int64_t act_stride) {
    float a[kHidden];
    FACET_UNROLL
    for (int j = 0; j < kHidden; ++j) a[j] = 0.0f;
    // Not unrolled: unrolled, ptxas hoists the loads of all kIn x kHidden weights and spills
    // ~3.5 KB per thread (sm_90); four inputs at a time, it needs ~170 registers and no spills.
    FACET_NO_UNROLL
    for (int k = 0; k < kIn; k += 4) {
      const Float4 x = LoadFloat4(in + k);
      Axpy<kHidden>(x.x, staged + k * kHidden, a);
      Axpy<kHidden>(x.y, staged + (k + 1) * kHidden, a);
      Axpy<kHidden>(x.z, staged + (k + 2) * kHidden, a);
      Axpy<kHidden>(x.w, staged + (k + 3) * kHidden, a);
    }
    Relu(a, act);
    const float* w = staged + kIn * kHidden;
    for (int l = 1; l < hidden_layers; ++l, w += kHidden * kHidden) {
      float b[kHidden];
      FACET_UNROLL
      for (int j = 0; j < kHidden; ++j) b[j] = 0.0f;
      FACET_UNROLL
      for (int k = 0; k < kHidden; ++k) Axpy<kHidden>(a[k], w + k * kHidden, b);
      FACET_UNROLL
      for (int j = 0; j < kHidden; ++j) a[j] = b[j];
      Relu(a, act == nullptr ? nullptr : act + l * act_stride);
    }
    float o[kOutPadded];
    FACET_UNROLL
    for (int j = 0; j < kOutPadded; ++j) o[j] = 0.0f;
    FACET_UNROLL
    for (int k = 0; k < kHidden; ++k) Axpy<kOutPadded>(a[k], w + k * kOutPadded, o);
    StoreRow<kOut>(o, out);
  }

  // One sample backward, given d_out[kOut] = dL/d(output) and the sample's activations (as
  // Forward wrote them): g + l * g_stride receives dL/d(pre-activation of hidden layer l)
  // (kHidden floats, 16-byte aligned) for every hidden layer, and d_in[kIn] = dL/d(input) when
  // not null. `weights` in Mlp's layout (row-major out x in per layer).
  FACET_HOST_DEVICE static void Backward(const float* weights, int hidden_layers, const float* act,
                                         std::int64_t act_stride, const float* d_out, float* g,
                                         std::int64_t g_stride, float* d_in) {
    float cur[kHidden];
    {
      float d[kOut];
      LoadRow<kOut>(d_out, d);
      const float* w = weights + BackwardWeightFloats(hidden_layers) - kOut * kHidden;
      FACET_UNROLL
      for (int k = 0; k < kHidden; ++k) cur[k] = 0.0f;
      FACET_UNROLL
      for (int o = 0; o < kOut; ++o) Axpy<kHidden>(d[o], w + o * kHidden, cur);
    }
    const int last = hidden_layers - 1;
    MaskAndStore(cur, act + last * act_stride, g + last * g_stride);
    for (int l = last; l >= 1; --l) {
      const float* w = weights + kIn * kHidden + std::int64_t(l - 1) * kHidden * kHidden;
      float next[kHidden];
      FACET_UNROLL
      for (int k = 0; k < kHidden; ++k) next[k] = 0.0f;
      FACET_UNROLL
      for (int j = 0; j < kHidden; ++j) Axpy<kHidden>(cur[j], w + j * kHidden, next);
      FACET_UNROLL
      for (int k = 0; k < kHidden; ++k) cur[k] = next[k];
      MaskAndStore(cur, act + (l - 1) * act_stride, g + (l - 1) * g_stride);
    }
    if (d_in == nullptr) return;
    float d[kIn];
    FACET_UNROLL
    for (int k = 0; k < kIn; ++k) d[k] = 0.0f;
    FACET_UNROLL
    for (int j = 0; j < kHidden; ++j) Axpy<kIn>(cur[j], weights + j * kIn, d);
    StoreRow<kIn>(d, d_in);
  }

 private:
  FACET_HOST_DEVICE static void Relu(float* a, float* act) {
    FACET_UNROLL
    for (int j = 0; j < kHidden; ++j) a[j] = a[j] > 0.0f ? a[j] : 0.0f;
    if (act != nullptr) StoreRow<kHidden>(a, act);
  }

  // g = 0 where the layer's ReLU output is not positive (its derivative from the output, as the
  // CPU path), then stored.
  FACET_HOST_DEVICE static void MaskAndStore(float* g, const float* act, float* out) {
    float a[kHidden];
    LoadRow<kHidden>(act, a);
    FACET_UNROLL
    for (int k = 0; k < kHidden; ++k)
      if (!(a[k] > 0.0f)) g[k] = 0.0f;
    StoreRow<kHidden>(g, out);
  }
};

}  // namespace facet::nerf::kernels
