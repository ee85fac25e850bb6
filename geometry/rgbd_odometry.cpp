#include "geometry/rgbd_odometry.h"

#include <Eigen/Cholesky>
#include <Eigen/Geometry>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "geometry/detail/twist.h"
#include "geometry/kernels/rgbd_odometry.h"

namespace facet::geometry {

void RgbdPyramidOptions::Check() const {
  FACET_CHECK(std::isfinite(depth_min) && depth_min >= 0.0,
              "RgbdPyramidOptions::depth_min must be >= 0 and finite (got {})", depth_min);
  FACET_CHECK(std::isfinite(depth_max) && depth_max > depth_min,
              "RgbdPyramidOptions::depth_max must be finite and > depth_min = {} (got {})",
              depth_min, depth_max);
  FACET_CHECK(std::isfinite(max_relative_depth_jump) && max_relative_depth_jump > 0.0,
              "RgbdPyramidOptions::max_relative_depth_jump must be > 0 (got {})",
              max_relative_depth_jump);
}

void RgbdOdometryOptions::Check() const {
  FACET_CHECK(!iterations_per_level.empty(),
              "RgbdOdometryOptions::iterations_per_level must name at least one level");
  for (const int n : iterations_per_level) {
    FACET_CHECK(n >= 0, "RgbdOdometryOptions::iterations_per_level entries must be >= 0 (got {})",
                n);
  }
  FACET_CHECK(std::isfinite(max_correspondence_distance) && max_correspondence_distance > 0.0,
              "RgbdOdometryOptions::max_correspondence_distance must be > 0 (got {})",
              max_correspondence_distance);
  FACET_CHECK(max_normal_angle_deg > 0.0 && max_normal_angle_deg <= 180.0,
              "RgbdOdometryOptions::max_normal_angle_deg must be in (0, 180] (got {})",
              max_normal_angle_deg);
  FACET_CHECK(std::isfinite(geometric_huber) && geometric_huber > 0.0,
              "RgbdOdometryOptions::geometric_huber must be > 0 (got {})", geometric_huber);
  FACET_CHECK(std::isfinite(intensity_weight) && intensity_weight >= 0.0,
              "RgbdOdometryOptions::intensity_weight must be >= 0 (got {})", intensity_weight);
  FACET_CHECK(std::isfinite(intensity_huber) && intensity_huber > 0.0,
              "RgbdOdometryOptions::intensity_huber must be > 0 (got {})", intensity_huber);
  FACET_CHECK(std::isfinite(min_update) && min_update >= 0.0,
              "RgbdOdometryOptions::min_update must be >= 0 (got {})", min_update);
  FACET_CHECK(min_correspondences >= 6,
              "RgbdOdometryOptions::min_correspondences must be >= 6 (got {})",
              min_correspondences);
}

namespace {

constexpr int kRowGrain = 8;  // rows per task: fixed, so that the reductions are deterministic

template <typename F>
void ForRows(int height, F&& f) {
  oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<int>(0, height, kRowGrain),
                            [&](const oneapi::tbb::blocked_range<int>& rows) {
                              for (int y = rows.begin(); y != rows.end(); ++y) f(y);
                            });
}

kernels::OdometryCamera ToOdometryCamera(const Camera& camera) {
  const Eigen::Vector2d principal = camera.PrincipalPoint();
  return {float(camera.FocalX()), float(camera.FocalY()), float(principal.x()),
          float(principal.y()),   camera.width,           camera.height};
}

void FillVertices(RgbdPyramidLevel* level) {
  const kernels::OdometryCamera c = ToOdometryCamera(level->camera);
  level->vertices.Reset(c.width, c.height, 3, 0.0f);
  ForRows(c.height, [&](int y) {
    const float* d = level->depth.view().Row(y);
    float* v = level->vertices.view().Row(y);
    const float ry = (float(y) + 0.5f - c.cy) / c.fy;
    for (int x = 0; x < c.width; ++x) {
      if (!(d[x] > 0.0f)) continue;
      v[3 * x] = d[x] * (float(x) + 0.5f - c.cx) / c.fx;
      v[3 * x + 1] = d[x] * ry;
      v[3 * x + 2] = d[x];
    }
  });
  std::int64_t valid = 0;
  for (std::size_t i = 0; i < level->depth.size(); ++i) valid += level->depth.data()[i] > 0.0f;
  level->valid_pixels = valid;
}

bool Continuous(float a, float b, float jump) {
  return a > 0.0f && b > 0.0f && std::fabs(a - b) <= jump * std::min(a, b);
}

// Normals from the cross product of the vertex map's central differences.
void NormalsFromDepth(RgbdPyramidLevel* level, float jump) {
  const int w = level->camera.width, h = level->camera.height;
  level->normals.Reset(w, h, 3, 0.0f);
  const ImageView<const float> d = level->depth.view();
  const ImageView<const float> v = level->vertices.view();
  ForRows(h, [&](int y) {
    if (y == 0 || y == h - 1) return;
    float* n = level->normals.view().Row(y);
    for (int x = 1; x + 1 < w; ++x) {
      const float c = d(x, y);
      if (!Continuous(c, d(x - 1, y), jump) || !Continuous(c, d(x + 1, y), jump) ||
          !Continuous(c, d(x, y - 1), jump) || !Continuous(c, d(x, y + 1), jump)) {
        continue;
      }
      const Eigen::Vector3f du(v(x + 1, y, 0) - v(x - 1, y, 0), v(x + 1, y, 1) - v(x - 1, y, 1),
                               v(x + 1, y, 2) - v(x - 1, y, 2));
      const Eigen::Vector3f dv(v(x, y + 1, 0) - v(x, y - 1, 0), v(x, y + 1, 1) - v(x, y - 1, 1),
                               v(x, y + 1, 2) - v(x, y - 1, 2));
      Eigen::Vector3f normal = dv.cross(du);
      const float norm = normal.norm();
      if (!(norm > 0.0f)) continue;
      normal /= norm;
      const Eigen::Vector3f p(v(x, y, 0), v(x, y, 1), v(x, y, 2));
      if (normal.dot(p) > 0.0f) normal = -normal;
      for (int k = 0; k < 3; ++k) n[3 * x + k] = normal[k];
    }
  });
}

// Sobel / 8 of the intensity, NaN unless the 3x3 neighbourhood has depth.
void Gradients(RgbdPyramidLevel* level) {
  const int w = level->camera.width, h = level->camera.height;
  level->gradients.Reset(w, h, 2, std::numeric_limits<float>::quiet_NaN());
  const ImageView<const float> d = level->depth.view();
  const ImageView<const float> in = level->intensity.view();
  ForRows(h, [&](int y) {
    if (y == 0 || y == h - 1) return;
    float* g = level->gradients.view().Row(y);
    for (int x = 1; x + 1 < w; ++x) {
      bool valid = true;
      for (int dy = -1; dy <= 1 && valid; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) valid = valid && d(x + dx, y + dy) > 0.0f;
      }
      if (!valid) continue;
      g[2 * x] = ((in(x + 1, y - 1) + 2.0f * in(x + 1, y) + in(x + 1, y + 1)) -
                  (in(x - 1, y - 1) + 2.0f * in(x - 1, y) + in(x - 1, y + 1))) *
                 0.125f;
      g[2 * x + 1] = ((in(x - 1, y + 1) + 2.0f * in(x, y + 1) + in(x + 1, y + 1)) -
                      (in(x - 1, y - 1) + 2.0f * in(x, y - 1) + in(x + 1, y - 1))) *
                     0.125f;
    }
  });
}

// The next level: 2x2 means of depth (only when the four are valid and continuous), intensity and
// (with a model) normals.
RgbdPyramidLevel Downsample(const RgbdPyramidLevel& fine, bool model_normals, float jump) {
  RgbdPyramidLevel coarse;
  const int w = fine.camera.width / 2, h = fine.camera.height / 2;
  FACET_CHECK(w >= 8 && h >= 8, "MakeRgbdPyramid: level of {}x{} pixels is smaller than 8x8", w, h);
  coarse.camera = PyramidCamera(fine.camera, 1);
  coarse.depth.Reset(w, h, 1, 0.0f);
  const bool with_intensity = !fine.intensity.empty();
  if (with_intensity) coarse.intensity.Reset(w, h, 1, 0.0f);
  if (model_normals) coarse.normals.Reset(w, h, 3, 0.0f);
  const ImageView<const float> d = fine.depth.view();
  ForRows(h, [&](int y) {
    for (int x = 0; x < w; ++x) {
      const float a = d(2 * x, 2 * y), b = d(2 * x + 1, 2 * y), c = d(2 * x, 2 * y + 1),
                  e = d(2 * x + 1, 2 * y + 1);
      if (with_intensity) {
        const ImageView<const float> in = fine.intensity.view();
        coarse.intensity(x, y) = 0.25f * (in(2 * x, 2 * y) + in(2 * x + 1, 2 * y) +
                                          in(2 * x, 2 * y + 1) + in(2 * x + 1, 2 * y + 1));
      }
      const float lo = std::min(std::min(a, b), std::min(c, e));
      const float hi = std::max(std::max(a, b), std::max(c, e));
      if (!(lo > 0.0f) || hi - lo > jump * lo) continue;
      coarse.depth(x, y) = 0.25f * (a + b + c + e);
      if (model_normals) {
        Eigen::Vector3f n = Eigen::Vector3f::Zero();
        for (int k = 0; k < 4; ++k) {
          const int fx = 2 * x + (k & 1), fy = 2 * y + (k >> 1);
          n += Eigen::Vector3f(fine.normals(fx, fy, 0), fine.normals(fx, fy, 1),
                               fine.normals(fx, fy, 2));
        }
        const float norm = n.norm();
        if (norm > 0.5f) {
          for (int k = 0; k < 3; ++k) coarse.normals(x, y, k) = n[k] / norm;
        }
      }
    }
  });
  return coarse;
}

}  // namespace

Camera PyramidCamera(const Camera& camera, int level) {
  FACET_CHECK(
      camera.model == CameraModelId::kPinhole || camera.model == CameraModelId::kSimplePinhole,
      "PyramidCamera needs a PINHOLE or SIMPLE_PINHOLE camera (got {})", camera.ModelName());
  FACET_CHECK(level >= 0 && level < 16, "PyramidCamera: level must be in [0, 15] (got {})", level);
  const double scale = 1.0 / double(1 << level);
  const Eigen::Vector2d principal = camera.PrincipalPoint();
  Camera c;
  c.model = CameraModelId::kPinhole;
  c.width = camera.width >> level;
  c.height = camera.height >> level;
  FACET_CHECK(c.width > 0 && c.height > 0, "PyramidCamera: level {} of a {}x{} camera is empty",
              level, camera.width, camera.height);
  c.params = {camera.FocalX() * scale, camera.FocalY() * scale, principal.x() * scale,
              principal.y() * scale};
  return c;
}

RgbdPyramid MakeRgbdPyramid(ImageView<const float> depth_m, ImageView<const std::uint8_t> rgb,
                            const Camera& camera, int levels, const RaycastMaps* model,
                            const RgbdPyramidOptions& options) {
  options.Check();
  camera.Check();
  FACET_CHECK(
      camera.model == CameraModelId::kPinhole || camera.model == CameraModelId::kSimplePinhole,
      "MakeRgbdPyramid needs a PINHOLE or SIMPLE_PINHOLE camera (got {}); undistort first",
      camera.ModelName());
  FACET_CHECK(levels >= 1, "MakeRgbdPyramid: levels must be >= 1 (got {})", levels);
  FACET_CHECK(depth_m.width() == camera.width && depth_m.height() == camera.height &&
                  depth_m.channels() == 1,
              "MakeRgbdPyramid: depth is {}x{}x{}, expected the camera's {}x{} with 1 channel",
              depth_m.width(), depth_m.height(), depth_m.channels(), camera.width, camera.height);
  FACET_CHECK(rgb.empty() || (rgb.width() == camera.width && rgb.height() == camera.height &&
                              rgb.channels() >= 3),
              "MakeRgbdPyramid: colour is {}x{}x{}, expected the camera's {}x{} with 3 or 4 "
              "channels",
              rgb.width(), rgb.height(), rgb.channels(), camera.width, camera.height);
  FACET_CHECK(model == nullptr || (model->normals_in_cam.width() == camera.width &&
                                   model->normals_in_cam.height() == camera.height &&
                                   model->normals_in_cam.channels() == 3),
              "MakeRgbdPyramid: the model's normal map does not have the camera's size");
  const float jump = float(options.max_relative_depth_jump);
  const float depth_min = float(options.depth_min), depth_max = float(options.depth_max);

  RgbdPyramid pyramid;
  pyramid.levels.reserve(levels);
  RgbdPyramidLevel& base = pyramid.levels.emplace_back();
  base.camera = camera;
  const Eigen::Vector2d principal = camera.PrincipalPoint();
  base.camera.model = CameraModelId::kPinhole;
  base.camera.params = {camera.FocalX(), camera.FocalY(), principal.x(), principal.y()};
  const int w = camera.width, h = camera.height;
  base.depth.Reset(w, h, 1, 0.0f);
  if (!rgb.empty()) base.intensity.Reset(w, h, 1, 0.0f);
  ForRows(h, [&](int y) {
    const float* in = depth_m.Row(y);
    float* out = base.depth.view().Row(y);
    for (int x = 0; x < w; ++x) {
      const float v = in[x];
      out[x] = (v > depth_min && v <= depth_max && std::isfinite(v)) ? v : 0.0f;
    }
    if (!rgb.empty()) {
      const std::uint8_t* c = rgb.Row(y);
      float* gray = base.intensity.view().Row(y);
      const int channels = rgb.channels();
      for (int x = 0; x < w; ++x) {
        const std::uint8_t* p = c + std::ptrdiff_t(x) * channels;
        gray[x] = (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) * (1.0f / 255.0f);
      }
    }
  });
  if (model != nullptr) base.normals = Image<float>::FromView(model->normals_in_cam.view());
  for (int l = 1; l < levels; ++l) {
    pyramid.levels.push_back(Downsample(pyramid.levels[l - 1], model != nullptr, jump));
  }
  for (RgbdPyramidLevel& level : pyramid.levels) {
    FillVertices(&level);
    if (model == nullptr) NormalsFromDepth(&level, jump);
    if (!level.intensity.empty() && options.gradients) Gradients(&level);
  }
  return pyramid;
}

namespace {

// Sum of a[i] * b[i] in float, eight interleaved partial sums (a fixed order, which the compiler
// can vectorise).
float Dot(const float* a, const float* b, int n) {
  float partial[8] = {};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) partial[k] += a[i + k] * b[i + k];
  }
  for (; i < n; ++i) partial[i & 7] += a[i] * b[i];
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

// One image row's residual rows (Jacobian, residual, weight), stored by component, then summed
// into the normal equations with vector loops.
class RowBuffer {
 public:
  explicit RowBuffer(int capacity) : capacity_(capacity), data_(std::size_t(9) * capacity) {}
  void Clear() { n_ = 0; }
  void Add(const float j[6], float r, float w) {
    for (int a = 0; a < 6; ++a) data_[std::size_t(a) * capacity_ + n_] = j[a];
    data_[std::size_t(6) * capacity_ + n_] = r;
    data_[std::size_t(7) * capacity_ + n_] = w;
    ++n_;
  }
  void AccumulateInto(kernels::OdometrySums* sums) {
    if (n_ == 0) return;
    const float* w = Column(7);
    const float* r = Column(6);
    float* wj = data_.data() + std::size_t(8) * capacity_;
    int e = 0;
    for (int a = 0; a < 6; ++a) {
      const float* ja = Column(a);
      for (int i = 0; i < n_; ++i) wj[i] = w[i] * ja[i];
      for (int b = a; b < 6; ++b) sums->jtj[e++] += double(Dot(wj, Column(b), n_));
      sums->jtr[a] += double(Dot(wj, r, n_));
    }
    for (int i = 0; i < n_; ++i) wj[i] = w[i] * r[i];
    sums->cost += double(Dot(wj, r, n_));
  }

 private:
  const float* Column(int c) const { return data_.data() + std::size_t(c) * capacity_; }
  int capacity_;
  int n_ = 0;
  std::vector<float> data_;
};

// The sums of one level's residuals under `target_from_source`.
kernels::OdometrySums Accumulate(const RgbdPyramidLevel& source, const RgbdPyramidLevel& target,
                                 const Rigid3& target_from_source,
                                 const RgbdOdometryOptions& options, bool information) {
  const Eigen::Matrix3f r = target_from_source.rotation.toRotationMatrix().cast<float>();
  const Eigen::Vector3f t = target_from_source.translation.cast<float>();
  const kernels::OdometryCamera tc = ToOdometryCamera(target.camera);
  const float max_d2 =
      float(options.max_correspondence_distance * options.max_correspondence_distance);
  const float min_cos = float(std::cos(options.max_normal_angle_deg * M_PI / 180.0));
  const float k_geo = float(options.geometric_huber);
  const float k_int = float(options.intensity_huber);
  const float lambda = float(options.intensity_weight);
  const bool photometric = lambda > 0.0f && !source.intensity.empty() && !target.gradients.empty();
  const ImageView<const float> tv = target.vertices.view();
  const ImageView<const float> tn = target.normals.view();
  const ImageView<const float> tg = target.gradients.view();
  const ImageView<const float> ti = target.intensity.view();
  const int height = source.camera.height, width = source.camera.width;
  return oneapi::tbb::parallel_deterministic_reduce(
      oneapi::tbb::blocked_range<int>(0, height, kRowGrain), kernels::OdometrySums{},
      [&](const oneapi::tbb::blocked_range<int>& rows, kernels::OdometrySums sums) {
        RowBuffer rows_buffer(2 * width);
        for (int y = rows.begin(); y != rows.end(); ++y) {
          const float* sv = source.vertices.view().Row(y);
          const float* sn = source.normals.view().Row(y);
          const float* si = photometric ? source.intensity.view().Row(y) : nullptr;
          rows_buffer.Clear();
          for (int x = 0; x < width; ++x) {
            if (!(sv[3 * x + 2] > 0.0f)) continue;
            const Eigen::Vector3f ps = Eigen::Map<const Eigen::Vector3f>(sv + 3 * x);
            const Eigen::Vector3f pe = r * ps + t;
            const float p[3] = {pe.x(), pe.y(), pe.z()};
            float u = 0, v = 0;
            if (!kernels::ProjectPoint(tc, p, &u, &v)) continue;
            if (!(u >= 0.0f && v >= 0.0f && u < float(tc.width) && v < float(tc.height))) continue;
            const int i = int(u), j = int(v);
            const float* q = &tv(i, j, 0);
            const float* n = &tn(i, j, 0);
            if (!(q[2] > 0.0f) || (n[0] == 0.0f && n[1] == 0.0f && n[2] == 0.0f)) continue;
            const float d[3] = {p[0] - q[0], p[1] - q[1], p[2] - q[2]};
            const float d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            if (!(d2 <= max_d2)) continue;
            if (sn[3 * x] != 0.0f || sn[3 * x + 1] != 0.0f || sn[3 * x + 2] != 0.0f) {
              const Eigen::Vector3f ns = r * Eigen::Map<const Eigen::Vector3f>(sn + 3 * x);
              if (ns.x() * n[0] + ns.y() * n[1] + ns.z() * n[2] < min_cos) continue;
            }
            float jac[6];
            const float rg = kernels::PointToPlaneResidual(p, q, n, jac);
            rows_buffer.Add(jac, rg, kernels::HuberWeight(rg, k_geo));
            ++sums.correspondences;
            sums.squared_distance_sum += d2;
            if (information) kernels::AddOdometryInformation(q, &sums);
            if (photometric) {
              float sample[3];
              if (kernels::SampleBilinear(tg.data(), tg.row_stride(), 2, tc.width, tc.height, u, v,
                                          2, sample) &&
                  kernels::SampleBilinear(ti.data(), ti.row_stride(), 1, tc.width, tc.height, u, v,
                                          1, sample + 2)) {
                const float ri = kernels::PhotometricResidual(tc, p, sample[2], sample[0],
                                                              sample[1], si[x], jac);
                rows_buffer.Add(jac, ri, lambda * kernels::HuberWeight(ri, k_int));
              }
            }
          }
          rows_buffer.AccumulateInto(&sums);
        }
        return sums;
      },
      [](kernels::OdometrySums a, const kernels::OdometrySums& b) {
        kernels::AddOdometrySums(b, &a);
        return a;
      });
}

}  // namespace

RgbdOdometryResult RegisterRgbd(const RgbdPyramid& source, const RgbdPyramid& target,
                                const Rigid3& init_target_from_source,
                                const RgbdOdometryOptions& options) {
  options.Check();
  const int levels = int(options.iterations_per_level.size());
  FACET_CHECK(int(source.levels.size()) >= levels && int(target.levels.size()) >= levels,
              "RegisterRgbd: the options use {} levels, the pyramids have {} (source) and {} "
              "(target)",
              levels, source.levels.size(), target.levels.size());
  FACET_CHECK(init_target_from_source.rotation.coeffs().allFinite() &&
                  init_target_from_source.translation.allFinite(),
              "RegisterRgbd: the initial pose is not finite");

  RgbdOdometryResult result;
  result.target_from_source =
      Rigid3(init_target_from_source.rotation.normalized(), init_target_from_source.translation);
  bool well_posed = true;
  for (int level = levels - 1; level >= 0; --level) {
    const RgbdPyramidLevel& s = source.levels[level];
    const RgbdPyramidLevel& t = target.levels[level];
    for (int iteration = 0; iteration < options.iterations_per_level[level]; ++iteration) {
      const kernels::OdometrySums sums =
          Accumulate(s, t, result.target_from_source, options, false);
      if (sums.correspondences < 6) {
        well_posed = false;
        break;
      }
      const Eigen::Matrix<double, 6, 6> jtj = detail::SymmetricFromUpper(sums.jtj);
      const Eigen::Matrix<double, 6, 1> jtr =
          Eigen::Map<const Eigen::Matrix<double, 6, 1>>(sums.jtr);
      const Eigen::LDLT<Eigen::Matrix<double, 6, 6>> ldlt(jtj);
      const Eigen::Matrix<double, 6, 1> xi = ldlt.solve(-jtr);
      // A pivot this small leaves a motion unconstrained (a plane seen without texture).
      const Eigen::Matrix<double, 6, 1> pivots = ldlt.vectorD();
      if (ldlt.info() != Eigen::Success || !xi.allFinite() ||
          !(pivots.minCoeff() > 1e-10 * pivots.maxCoeff())) {
        well_posed = false;
        break;
      }
      result.target_from_source = detail::RigidFromTwist(xi) * result.target_from_source;
      ++result.iterations;
      if (xi.norm() < options.min_update) break;
    }
  }
  const kernels::OdometrySums final_sums =
      Accumulate(source.levels[0], target.levels[0], result.target_from_source, options, true);
  const std::int64_t valid = source.levels[0].valid_pixels;
  result.fitness = valid > 0 ? double(final_sums.correspondences) / double(valid) : 0.0;
  result.inlier_rmse =
      final_sums.correspondences > 0
          ? std::sqrt(final_sums.squared_distance_sum / double(final_sums.correspondences))
          : 0.0;
  result.information = detail::SymmetricFromUpper(final_sums.info);
  result.success = well_posed && final_sums.correspondences >= options.min_correspondences;
  return result;
}

}  // namespace facet::geometry
