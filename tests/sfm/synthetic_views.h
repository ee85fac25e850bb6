// Rendered views of the synthetic scene for the sfm tests: images with exactly known cameras and
// poses, rendered once per test binary and size.
#pragma once

#include <Eigen/Core>

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "core/image.h"
#include "datasets/synthetic/synthetic_scene.h"

namespace facet::sfm::testing {

class OrbitViews {
 public:
  // `num_views` views evenly spaced on the orbit (seed 0), width x height, without noise.
  OrbitViews(int num_views, int width, int height, int supersampling) {
    datasets::synthetic::SynthOptions options;
    options.num_views = num_views;
    options.width = width;
    options.height = height;
    options.supersampling = supersampling;
    synthetic_ = datasets::synthetic::MakeSyntheticScene(options);
    renderer_ = std::make_unique<datasets::synthetic::Renderer>(
        datasets::synthetic::MakeRenderer(synthetic_));
    images_.resize(static_cast<std::size_t>(num_views));
  }

  int size() const { return static_cast<int>(images_.size()); }
  // View `index` in orbit order, rendered on first use.
  const ImageU8& Image(int index) {
    ImageU8& image = images_.at(static_cast<std::size_t>(index));
    if (image.empty()) {
      image = datasets::synthetic::RenderSyntheticView(synthetic_, *renderer_, index).rgb;
    }
    return image;
  }
  const geometry::Camera& Camera() const { return synthetic_.scene.cameras.begin()->second; }
  const geometry::Rigid3& CamFromWorld(int index) const {
    return *synthetic_.scene.images.at(synthetic_.image_order.at(index)).cam_from_world;
  }
  // Fundamental matrix of views (i, j): x_jᵀ F x_i = 0 for homogeneous pixels (COLMAP's
  // convention, pixel centres at +0.5, the same as the keypoints').
  Eigen::Matrix3d Fundamental(int i, int j) const {
    const geometry::Rigid3 j_from_i = CamFromWorld(j) * CamFromWorld(i).Inverse();
    const Eigen::Vector3d t = j_from_i.translation;
    Eigen::Matrix3d t_cross;
    t_cross << 0, -t.z(), t.y(), t.z(), 0, -t.x(), -t.y(), t.x(), 0;
    const Eigen::Matrix3d essential = t_cross * j_from_i.rotation.toRotationMatrix();
    const Eigen::Matrix3d k_inv = Camera().CalibrationMatrix().inverse();
    return k_inv.transpose() * essential * k_inv;
  }

 private:
  datasets::synthetic::SyntheticScene synthetic_{};
  std::unique_ptr<datasets::synthetic::Renderer> renderer_;  // refers to synthetic_'s mesh
  std::vector<ImageU8> images_;
};

// The orbit of that size, made once per test binary (views render on first use).
inline OrbitViews& RenderedOrbit(int num_views, int width, int height, int supersampling = 2) {
  static std::map<std::tuple<int, int, int, int>, std::unique_ptr<OrbitViews>> cache;
  std::unique_ptr<OrbitViews>& slot = cache[{num_views, width, height, supersampling}];
  if (!slot) slot = std::make_unique<OrbitViews>(num_views, width, height, supersampling);
  return *slot;
}

// Distance in pixels from x2 to the epipolar line F x1.
inline double EpipolarDistancePx(const Eigen::Matrix3d& f, const Eigen::Vector2d& x1,
                                 const Eigen::Vector2d& x2) {
  const Eigen::Vector3d line = f * x1.homogeneous();
  return std::abs(line.dot(x2.homogeneous())) / line.head<2>().norm();
}

}  // namespace facet::sfm::testing
