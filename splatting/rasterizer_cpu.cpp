// CPU backend of the tile rasterizer (splatting/rasterizer.h): the kernels of
// splatting/kernels/rasterize.h scheduled with oneTBB, Gaussians in parallel for the per-Gaussian
// passes and tiles in parallel for the per-pixel ones. Within a tile the loops run Gaussian-major
// over the tile's 256 pixels, so that one splat's parameters stay in registers.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <type_traits>

#include "core/error.h"
#include "core/parallel_for.h"
#include "core/timer.h"
#include "splatting/detail/blend_tile_cpu.h"
#include "splatting/kernels/sh.h"
#include "splatting/rasterizer.h"

namespace facet::splatting {
namespace {

using detail::kGrad2DStride;
using detail::kTilePixels;
using detail::TileBackward;
using detail::TileForward;
using detail::TileRange;
using kernels::kTileSize;

template <typename T>
void AtomicAdd(T* target, T value) {
  std::atomic_ref<T>(*target).fetch_add(value, std::memory_order_relaxed);
}

template <typename T>
FACET_ALWAYS_INLINE void BlendTileBackwardAcc(const kernels::Splat2D<T>* splats,
                                              const std::int32_t* ids, const TileRange& t,
                                              TileBackward<T>* st, std::int32_t max_last, T* acc) {
  detail::BlendTileBackwardImpl(splats, ids, t, st, max_last,
                                [acc](std::int32_t id, const T* grad) {
                                  T* a = acc + std::size_t(id) * kGrad2DStride;
                                  for (int j = 0; j < kGrad2DStride; ++j) AtomicAdd(a + j, grad[j]);
                                });
}

// The tile loops, compiled for AVX2+FMA and for the baseline, chosen once at run time (float;
// double, for gradient tests, uses the baseline). Same operations in the same order either way.
// `flatten` inlines the shared kernels into the loops (the vectoriser needs them inline; the
// inliner's size limits otherwise leave SplatAlpha as a call per pixel).
bool UseAvx2() {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return avx2;
}

__attribute__((target("avx2,fma"), flatten)) void BlendTileForwardAvx2(
    const kernels::Splat2D<float>* splats, const std::int32_t* ids, std::int32_t count,
    const TileRange& t, TileForward<float>* st) {
  detail::BlendTileForwardImpl(splats, ids, count, t, st);
}

template <typename T>
__attribute__((flatten)) void BlendTileForward(const kernels::Splat2D<T>* splats,
                                               const std::int32_t* ids, std::int32_t count,
                                               const TileRange& t, TileForward<T>* st) {
  if constexpr (std::is_same_v<T, float>) {
    if (UseAvx2()) return BlendTileForwardAvx2(splats, ids, count, t, st);
  }
  detail::BlendTileForwardImpl(splats, ids, count, t, st);
}

__attribute__((target("avx2,fma"), flatten)) void BlendTileBackwardAvx2(
    const kernels::Splat2D<float>* splats, const std::int32_t* ids, const TileRange& t,
    TileBackward<float>* st, std::int32_t max_last, float* acc) {
  BlendTileBackwardAcc(splats, ids, t, st, max_last, acc);
}

template <typename T>
__attribute__((flatten)) void BlendTileBackward(const kernels::Splat2D<T>* splats,
                                                const std::int32_t* ids, const TileRange& t,
                                                TileBackward<T>* st, std::int32_t max_last,
                                                T* acc) {
  if constexpr (std::is_same_v<T, float>) {
    if (UseAvx2()) return BlendTileBackwardAvx2(splats, ids, t, st, max_last, acc);
  }
  BlendTileBackwardAcc(splats, ids, t, st, max_last, acc);
}

template <typename T>
void CheckInputs(const GaussiansView<T>& g, const RasterCamera<T>& camera,
                 const RasterOptions& options) {
  options.Check();
  FACET_CHECK(camera.width > 0 && camera.height > 0, "rasterizer: invalid image size {}x{}",
              camera.width, camera.height);
  const int rest = 3 * (kernels::NumShCoeffs(options.sh_degree) - 1);
  FACET_CHECK(
      g.count == 0 || rest <= g.sh_rest_stride,
      "rasterizer: SH degree {} needs {} rest coefficients per Gaussian, the model stores {}",
      options.sh_degree, rest, g.sh_rest_stride);
  FACET_CHECK(g.count < (std::int64_t{1} << 31) - 1,
              "rasterizer: {} Gaussians exceed the 2^31 limit", g.count);
}

}  // namespace

void RasterOptions::Check() const {
  FACET_CHECK(sh_degree >= 0 && sh_degree <= kernels::kMaxShDegree,
              "rasterizer: sh_degree must be 0-3 (got {})", sh_degree);
  FACET_CHECK(near_plane > 0.0f, "rasterizer: near_plane must be > 0 (got {})", near_plane);
  FACET_CHECK(low_pass >= 0.0f, "rasterizer: low_pass must be >= 0 (got {})", low_pass);
  FACET_CHECK(clamp_factor > 0.0f, "rasterizer: clamp_factor must be > 0 (got {})", clamp_factor);
  for (float b : background) {
    FACET_CHECK(std::isfinite(b), "rasterizer: the background colour must be finite");
  }
}

template <typename T>
std::int32_t RasterResult<T>::Radius(std::int64_t i) const {
  if (!visible[i]) return 0;
  return std::max(splats[i].radius_x, splats[i].radius_y);
}

RasterCamera<float> MakeRasterCamera(const geometry::Camera& camera,
                                     const geometry::Rigid3& cam_from_world) {
  FACET_CHECK(camera.model == geometry::CameraModelId::kPinhole ||
                  camera.model == geometry::CameraModelId::kSimplePinhole,
              "rasterizer: the camera must be PINHOLE or SIMPLE_PINHOLE (got {}); undistort the "
              "images first (facet undistort)",
              camera.ModelName());
  RasterCamera<float> out;
  const Eigen::Matrix3d r = cam_from_world.rotation.toRotationMatrix();
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) out.view.cam_from_world_rotation(i, j) = float(r(i, j));
  }
  const Eigen::Vector3d& t = cam_from_world.translation;
  out.view.cam_from_world_translation = {float(t.x()), float(t.y()), float(t.z())};
  const Eigen::Vector3d c = -(r.transpose() * t);
  out.center = {float(c.x()), float(c.y()), float(c.z())};
  out.view.fx = float(camera.FocalX());
  out.view.fy = float(camera.FocalY());
  const Eigen::Vector2d pp = camera.PrincipalPoint();
  out.view.cx = float(pp.x());
  out.view.cy = float(pp.y());
  out.view.width = float(camera.width);
  out.view.height = float(camera.height);
  out.width = camera.width;
  out.height = camera.height;
  return out;
}

template <typename T>
void RasterizeForward(const GaussiansView<T>& g, const RasterCamera<T>& camera,
                      const RasterOptions& options, RasterResult<T>* out) {
  CheckInputs(g, camera, options);
  const std::int64_t n = g.count;
  const int width = camera.width, height = camera.height;
  out->width = width;
  out->height = height;
  const int tiles_x = out->TilesX(), tiles_y = out->TilesY();
  const int num_tiles = tiles_x * tiles_y;
  const kernels::ProjectParams<T> params = ProjectParamsOf<T>(options);

  // (1) Preprocess.
  Timer timer;
  out->splats.resize(n);
  out->visible.assign(n, 0);
  std::vector<std::atomic<std::int64_t>> counts(num_tiles);
  ParallelFor(
      n,
      [&](std::int64_t i) {
        kernels::Splat2D<T>& s = out->splats[i];
        if (!kernels::PreprocessGaussian(g, i, camera.view, camera.center, params,
                                         options.antialiased, options.sh_degree, &s)) {
          return;
        }
        const kernels::TileRect rect = kernels::TileBounds(s, tiles_x, tiles_y);
        if (rect.Count() <= 0) return;
        out->visible[i] = 1;
        for (int ty = rect.y0; ty < rect.y1; ++ty) {
          for (int tx = rect.x0; tx < rect.x1; ++tx) {
            counts[ty * tiles_x + tx].fetch_add(1, std::memory_order_relaxed);
          }
        }
      },
      256);

  out->preprocess_seconds = timer.ElapsedSeconds();
  timer.Restart();
  // (2) Bin: offsets by a prefix sum, fill through per-tile cursors, sort each tile by depth.
  out->tile_offsets.assign(num_tiles + 1, 0);
  for (int t = 0; t < num_tiles; ++t) out->tile_offsets[t + 1] = out->tile_offsets[t] + counts[t];
  out->tile_ids.resize(out->tile_offsets[num_tiles]);
  for (int t = 0; t < num_tiles; ++t) counts[t].store(out->tile_offsets[t]);
  ParallelFor(
      n,
      [&](std::int64_t i) {
        if (!out->visible[i]) return;
        const kernels::TileRect rect = kernels::TileBounds(out->splats[i], tiles_x, tiles_y);
        for (int ty = rect.y0; ty < rect.y1; ++ty) {
          for (int tx = rect.x0; tx < rect.x1; ++tx) {
            const std::int64_t slot =
                counts[ty * tiles_x + tx].fetch_add(1, std::memory_order_relaxed);
            out->tile_ids[slot] = static_cast<std::int32_t>(i);
          }
        }
      },
      256);
  const auto& splats = out->splats;
  ParallelFor(num_tiles, [&](std::int64_t t) {
    std::sort(out->tile_ids.begin() + out->tile_offsets[t],
              out->tile_ids.begin() + out->tile_offsets[t + 1],
              [&splats](std::int32_t a, std::int32_t b) {
                return splats[a].depth < splats[b].depth ||
                       (splats[a].depth == splats[b].depth && a < b);
              });
  });

  out->sort_seconds = timer.ElapsedSeconds();
  timer.Restart();
  // (3) Blend each tile front to back.
  const std::size_t pixels = std::size_t(width) * height;
  out->rgb.resize(3 * pixels);
  out->alpha.resize(pixels);
  out->depth.resize(pixels);
  out->n_contrib.resize(pixels);
  out->final_transmittance.resize(pixels);
  out->last_contrib.resize(pixels);
  const T bg[3] = {T(options.background[0]), T(options.background[1]), T(options.background[2])};
  ParallelFor(num_tiles, [&](std::int64_t tile) {
    const TileRange t{int(tile % tiles_x) * kTileSize, int(tile / tiles_x) * kTileSize,
                      std::min(kTileSize, width - int(tile % tiles_x) * kTileSize),
                      std::min(kTileSize, height - int(tile / tiles_x) * kTileSize)};
    TileForward<T> st;
    const std::int64_t begin = out->tile_offsets[tile], end = out->tile_offsets[tile + 1];
    BlendTileForward(splats.data(), out->tile_ids.data() + begin, std::int32_t(end - begin), t,
                     &st);
    for (int ly = 0; ly < t.th; ++ly) {
      for (int lx = 0; lx < t.tw; ++lx) {
        const int p = ly * kTileSize + lx;
        const std::size_t pix = std::size_t(t.ty0 + ly) * width + t.tx0 + lx;
        const T tr = st.trans[p];
        out->rgb[3 * pix] = st.r[p] + tr * bg[0];
        out->rgb[3 * pix + 1] = st.g[p] + tr * bg[1];
        out->rgb[3 * pix + 2] = st.b[p] + tr * bg[2];
        out->alpha[pix] = T(1) - tr;
        out->depth[pix] = tr < T(1) ? st.depth[p] / (T(1) - tr) : T(0);
        out->n_contrib[pix] = st.contrib[p];
        out->final_transmittance[pix] = tr;
        out->last_contrib[pix] = st.last[p];
      }
    }
  });
  out->blend_seconds = timer.ElapsedSeconds();
}

template <typename T>
void RasterizeBackward(const GaussiansView<T>& g, const RasterCamera<T>& camera,
                       const RasterOptions& options, const RasterResult<T>& fwd, const T* v_rgb,
                       const T* v_alpha, const GaussiansMutableView<T>& grads,
                       RasterGradients2D<T>* grads2d) {
  CheckInputs(g, camera, options);
  const std::int64_t n = g.count;
  FACET_CHECK(std::int64_t(fwd.splats.size()) == n && fwd.width == camera.width &&
                  fwd.height == camera.height,
              "rasterizer: the forward result does not match the backward inputs");
  FACET_CHECK(grads.count == n && grads.sh_rest_stride == g.sh_rest_stride,
              "rasterizer: the gradient arrays do not match the Gaussians");
  const int width = fwd.width, tiles_x = fwd.TilesX(), tiles_y = fwd.TilesY();
  const int num_tiles = tiles_x * tiles_y;

  // Per-Gaussian 2D gradients, accumulated over tiles: mean2d (2), conic (3), opacity, colour (3),
  // |mean2d| (2).
  std::vector<T> acc(std::size_t(n) * kGrad2DStride, T(0));
  const T bg[3] = {T(options.background[0]), T(options.background[1]), T(options.background[2])};

  // (4) Each tile back to front.
  ParallelFor(num_tiles, [&](std::int64_t tile) {
    const std::int64_t begin = fwd.tile_offsets[tile], end = fwd.tile_offsets[tile + 1];
    if (begin == end) return;
    const TileRange t{int(tile % tiles_x) * kTileSize, int(tile / tiles_x) * kTileSize,
                      std::min(kTileSize, width - int(tile % tiles_x) * kTileSize),
                      std::min(kTileSize, fwd.height - int(tile / tiles_x) * kTileSize)};
    TileBackward<T> st;
    std::int32_t max_last = 0;
    for (int p = 0; p < kTilePixels; ++p) {
      const int lx = p % kTileSize, ly = p / kTileSize;
      if (lx >= t.tw || ly >= t.th) {  // outside an edge tile: never touched
        st.trans[p] = st.final_trans[p] = T(1);
        st.br[p] = st.bg[p] = st.bb[p] = st.vr[p] = st.vg[p] = st.vb[p] = st.va[p] = st.bg_dot[p] =
            T(0);
        st.last[p] = 0;
        continue;
      }
      const std::size_t pix = std::size_t(t.ty0 + ly) * width + t.tx0 + lx;
      st.trans[p] = st.final_trans[p] = fwd.final_transmittance[pix];
      st.br[p] = st.bg[p] = st.bb[p] = T(0);
      st.vr[p] = v_rgb[3 * pix];
      st.vg[p] = v_rgb[3 * pix + 1];
      st.vb[p] = v_rgb[3 * pix + 2];
      st.va[p] = v_alpha != nullptr ? v_alpha[pix] : T(0);
      st.bg_dot[p] = bg[0] * st.vr[p] + bg[1] * st.vg[p] + bg[2] * st.vb[p];
      st.last[p] = fwd.last_contrib[pix];
      max_last = std::max(max_last, st.last[p]);
    }
    BlendTileBackward(fwd.splats.data(), fwd.tile_ids.data() + begin, t, &st, max_last, acc.data());
  });

  // (5) Per-Gaussian VJP to the parameters.
  const kernels::ProjectParams<T> params = ProjectParamsOf<T>(options);
  if (grads2d != nullptr) {
    grads2d->v_mean2d.assign(2 * std::size_t(n), T(0));
    grads2d->v_mean2d_abs.assign(2 * std::size_t(n), T(0));
  }
  ParallelFor(
      n,
      [&](std::int64_t i) {
        const T* a = acc.data() + std::size_t(i) * kGrad2DStride;
        if (grads2d != nullptr) {
          grads2d->v_mean2d[2 * i] = a[0], grads2d->v_mean2d[2 * i + 1] = a[1];
          grads2d->v_mean2d_abs[2 * i] = a[9], grads2d->v_mean2d_abs[2 * i + 1] = a[10];
        }
        if (!fwd.visible[i]) {
          for (int k = 0; k < 3; ++k) grads.means[3 * i + k] = grads.log_scales[3 * i + k] = T(0);
          for (int k = 0; k < 4; ++k) grads.quats[4 * i + k] = T(0);
          for (int k = 0; k < 3; ++k) grads.sh_dc[3 * i + k] = T(0);
          for (int k = 0; k < grads.sh_rest_stride; ++k) {
            grads.sh_rest[i * grads.sh_rest_stride + k] = T(0);
          }
          grads.opacities[i] = T(0);
          return;
        }
        kernels::PreprocessGaussianVjp(
            g, i, camera.view, camera.center, params, options.antialiased, options.sh_degree,
            fwd.splats[i], kernels::Vec2<T>{a[0], a[1]}, kernels::Sym2<T>{a[2], a[3], a[4]}, a[5],
            kernels::Vec3<T>{a[6], a[7], a[8]}, grads);
      },
      64);
}

#define FACET_INSTANTIATE_RASTERIZER(T)                                                      \
  template struct RasterResult<T>;                                                           \
  template void RasterizeForward<T>(const GaussiansView<T>&, const RasterCamera<T>&,         \
                                    const RasterOptions&, RasterResult<T>*);                 \
  template void RasterizeBackward<T>(const GaussiansView<T>&, const RasterCamera<T>&,        \
                                     const RasterOptions&, const RasterResult<T>&, const T*, \
                                     const T*, const GaussiansMutableView<T>&,               \
                                     RasterGradients2D<T>*);
FACET_INSTANTIATE_RASTERIZER(float)
FACET_INSTANTIATE_RASTERIZER(double)
#undef FACET_INSTANTIATE_RASTERIZER

}  // namespace facet::splatting
