// CPU backend of the tile rasterizer (splatting/rasterizer.h): the kernels of
// splatting/kernels/rasterize.h scheduled with oneTBB, Gaussians in parallel for the per-Gaussian
// passes and tiles in parallel for the per-pixel ones. Within a tile the loops run Gaussian-major
// over the tile's 256 pixels, so that one splat's parameters stay in registers.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/parallel_for.h"
#include "core/timer.h"
#include "splatting/kernels/sh.h"
#include "splatting/rasterizer.h"

namespace facet::splatting {
namespace {

using kernels::kTileSize;
constexpr int kTilePixels = kTileSize * kTileSize;

template <typename T>
kernels::ProjectParams<T> ProjectParamsOf(const RasterOptions& options) {
  kernels::ProjectParams<T> params;
  params.near_plane = T(options.near_plane);
  params.low_pass = T(options.low_pass);
  params.clamp_factor = T(options.clamp_factor);
  return params;
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

// The pixels of a tile a splat can reach: its screen box [mean - radius, mean + radius] (beyond it
// alpha < 1/255, which blending skips anyway) intersected with the tile, as [x0, x1) x [y0, y1)
// in tile-local coordinates. Restricting the per-pixel loops to it changes no result.
template <typename T>
void SplatPixelRange(const kernels::Splat2D<T>& s, int tx0, int ty0, int tw, int th, int* x0,
                     int* x1, int* y0, int* y1) {
  *x0 = std::max(0, int(std::floor(s.mean2d.x - T(s.radius_x))) - tx0);
  *x1 = std::min(tw, int(std::ceil(s.mean2d.x + T(s.radius_x))) + 1 - tx0);
  *y0 = std::max(0, int(std::floor(s.mean2d.y - T(s.radius_y))) - ty0);
  *y1 = std::min(th, int(std::ceil(s.mean2d.y + T(s.radius_y))) + 1 - ty0);
}

template <typename T>
void AtomicAdd(T* target, T value) {
  std::atomic_ref<T>(*target).fetch_add(value, std::memory_order_relaxed);
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
    const int tx0 = int(tile % tiles_x) * kTileSize, ty0 = int(tile / tiles_x) * kTileSize;
    const int tw = std::min(kTileSize, width - tx0), th = std::min(kTileSize, height - ty0);
    const int count = tw * th;
    T trans[kTilePixels], color[kTilePixels][3], depth[kTilePixels], px[kTilePixels],
        py[kTilePixels];
    std::int32_t last[kTilePixels], contrib[kTilePixels];
    bool done[kTilePixels];
    for (int p = 0; p < count; ++p) {
      trans[p] = T(1);
      color[p][0] = color[p][1] = color[p][2] = depth[p] = T(0);
      last[p] = contrib[p] = 0;
      done[p] = false;
      px[p] = T(tx0 + p % tw) + T(0.5);
      py[p] = T(ty0 + p / tw) + T(0.5);
    }
    int remaining = count;
    const std::int64_t begin = out->tile_offsets[tile], end = out->tile_offsets[tile + 1];
    for (std::int64_t k = begin; k < end && remaining > 0; ++k) {
      const kernels::Splat2D<T>& s = splats[out->tile_ids[k]];
      int x0, x1, y0, y1;
      SplatPixelRange(s, tx0, ty0, tw, th, &x0, &x1, &y0, &y1);
      const T cutoff = kernels::SplatPowerCutoff(s.opacity);
      for (int ly = y0; ly < y1; ++ly)
        for (int lx = x0; lx < x1; ++lx) {
          const int p = ly * tw + lx;
          const T dx = s.mean2d.x - px[p], dy = s.mean2d.y - py[p];
          if (done[p] || kernels::SplatPower(s.conic, dx, dy) < cutoff) continue;
          T vis;
          const T alpha = kernels::SplatAlpha(s.conic, s.opacity, dx, dy, &vis);
          if (alpha == T(0)) continue;
          const T next = trans[p] * (T(1) - alpha);
          if (next < T(kernels::kMinTransmittance)) {  // this splat is not blended (reference)
            done[p] = true;
            --remaining;
            continue;
          }
          const T w = alpha * trans[p];
          color[p][0] += w * s.color.x;
          color[p][1] += w * s.color.y;
          color[p][2] += w * s.color.z;
          depth[p] += w * s.depth;
          trans[p] = next;
          last[p] = static_cast<std::int32_t>(k - begin + 1);
          ++contrib[p];
        }
    }
    for (int p = 0; p < count; ++p) {
      const std::size_t pix = std::size_t(ty0 + p / tw) * width + tx0 + p % tw;
      for (int c = 0; c < 3; ++c) out->rgb[3 * pix + c] = color[p][c] + trans[p] * bg[c];
      out->alpha[pix] = T(1) - trans[p];
      out->depth[pix] = trans[p] < T(1) ? depth[p] / (T(1) - trans[p]) : T(0);
      out->n_contrib[pix] = contrib[p];
      out->final_transmittance[pix] = trans[p];
      out->last_contrib[pix] = last[p];
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
  constexpr int kStride = 11;
  std::vector<T> acc(std::size_t(n) * kStride, T(0));
  const T bg[3] = {T(options.background[0]), T(options.background[1]), T(options.background[2])};

  // (4) Each tile back to front.
  ParallelFor(num_tiles, [&](std::int64_t tile) {
    const std::int64_t begin = fwd.tile_offsets[tile], end = fwd.tile_offsets[tile + 1];
    if (begin == end) return;
    const int tx0 = int(tile % tiles_x) * kTileSize, ty0 = int(tile / tiles_x) * kTileSize;
    const int tw = std::min(kTileSize, width - tx0), th = std::min(kTileSize, fwd.height - ty0);
    const int count = tw * th;
    kernels::PixelBackward<T> state[kTilePixels];
    T px[kTilePixels], py[kTilePixels];
    std::int32_t last[kTilePixels];
    std::int32_t max_last = 0;
    for (int p = 0; p < count; ++p) {
      const std::size_t pix = std::size_t(ty0 + p / tw) * width + tx0 + p % tw;
      kernels::PixelBackward<T>& s = state[p];
      s.transmittance = s.final_transmittance = fwd.final_transmittance[pix];
      s.behind = {T(0), T(0), T(0)};
      s.v_rgb = {v_rgb[3 * pix], v_rgb[3 * pix + 1], v_rgb[3 * pix + 2]};
      s.v_alpha = v_alpha != nullptr ? v_alpha[pix] : T(0);
      s.bg_dot = bg[0] * s.v_rgb.x + bg[1] * s.v_rgb.y + bg[2] * s.v_rgb.z;
      px[p] = T(tx0 + p % tw) + T(0.5);
      py[p] = T(ty0 + p / tw) + T(0.5);
      last[p] = fwd.last_contrib[pix];
      max_last = std::max(max_last, last[p]);
    }
    for (std::int32_t k = max_last - 1; k >= 0; --k) {
      const std::int32_t id = fwd.tile_ids[begin + k];
      const kernels::Splat2D<T>& s = fwd.splats[id];
      kernels::Vec2<T> v_mean2d{T(0), T(0)}, v_abs{T(0), T(0)};
      kernels::Sym2<T> v_conic{T(0), T(0), T(0)};
      kernels::Vec3<T> v_color{T(0), T(0), T(0)};
      T v_opacity = T(0);
      bool touched = false;
      int x0, x1, y0, y1;
      SplatPixelRange(s, tx0, ty0, tw, th, &x0, &x1, &y0, &y1);
      const T cutoff = kernels::SplatPowerCutoff(s.opacity);
      for (int ly = y0; ly < y1; ++ly)
        for (int lx = x0; lx < x1; ++lx) {
          const int p = ly * tw + lx;
          const T dx = s.mean2d.x - px[p], dy = s.mean2d.y - py[p];
          if (k >= last[p] || kernels::SplatPower(s.conic, dx, dy) < cutoff) continue;
          T vis;
          const T alpha = kernels::SplatAlpha(s.conic, s.opacity, dx, dy, &vis);
          if (alpha == T(0)) continue;
          touched = true;
          kernels::Vec3<T> vc;
          const T v_a = kernels::BlendBackwardStep(&state[p], s.color, alpha, &vc);
          v_color = v_color + vc;
          const kernels::Vec2<T> before = v_mean2d;
          kernels::SplatAlphaVjp(s.conic, s.opacity, dx, dy, vis, v_a, &v_conic, &v_mean2d,
                                 &v_opacity);
          v_abs.x += std::abs(v_mean2d.x - before.x);
          v_abs.y += std::abs(v_mean2d.y - before.y);
        }
      if (!touched) continue;
      T* a = acc.data() + std::size_t(id) * kStride;
      const T vals[kStride] = {v_mean2d.x, v_mean2d.y, v_conic.a, v_conic.b, v_conic.c, v_opacity,
                               v_color.x,  v_color.y,  v_color.z, v_abs.x,   v_abs.y};
      for (int j = 0; j < kStride; ++j) AtomicAdd(a + j, vals[j]);
    }
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
        const T* a = acc.data() + std::size_t(i) * kStride;
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
