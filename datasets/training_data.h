// The training views of the 3DGS and NeRF trainers: posed PINHOLE cameras with their photos as
// 8-bit RGB (or RGBA), split into training and held-out views, plus the scene normalisation the
// 3DGS trainer's thresholds are scaled by (Kerbl et al. 2023; the Inria reference code's
// scene/dataset_readers.py).
//
// Inputs (what `facet splat <input>` and `facet nerf <input>` accept), recognised in this order:
//   (a) a facet workspace, the OUT folder of `facet sfm photos/ -o OUT`: OUT/sfm_summary.json and
//       the model OUT/sparse/0. The photos are in the summary's "image_dir" (absolute).
//   (b) a COLMAP model folder (cameras, images, points3D as .bin or .txt), or a folder holding
//       one in sparse/0. The photos are looked for in <model>/../../images, <model>/../images and
//       <model>/images (COLMAP's and the Inria sets' scene/images + scene/sparse/0 layouts).
//   (c) a transforms.json file, or a folder holding one (Blender/NeRF-synthetic, instant-ngp,
//       nerfstudio; datasets/transforms_json.h). RGBA photos are composited over
//       `TrainingDataOptions::background`; there are no 3D points, so the trainer initialises
//       the Gaussians at random.
// TrainingDataOptions::image_dir, when set, is the photo folder for (a) and (b) and nothing else
// is tried. Otherwise the first candidate folder that holds the first image (by name) is used;
// when none does, facet::Error lists every folder tried.
//
// Conventions: COLMAP's (datasets/scene.h): camera frame x right, y down, z forward;
// `cam_from_world` maps world points into the camera; pixel (0, 0) is the top-left corner of the
// image, so the first pixel's centre is (0.5, 0.5).
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "core/image.h"
#include "datasets/scene.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"

namespace facet::datasets {

struct TrainingDataOptions {
  // Photo folder for workspaces and COLMAP models; empty: the workspace's recorded folder, then
  // the COLMAP layouts above. Ignored for transforms.json (its file paths are relative to it).
  std::filesystem::path image_dir{};
  // Integer downscale factor >= 1 (Inria's -r 2, 4, 8): size = round(size / downscale).
  int downscale = 1;
  // Cap on the longer side in pixels after `downscale`, >= 0 (0: none); larger images are
  // downscaled further to fit.
  int max_size = 0;
  // Every Nth view, by sorted name, is held out for evaluation: index % N == 0, the Inria llffhold
  // convention (i % 8 == 0). >= 0; 0 holds out nothing.
  int holdout_every = 8;
  // sRGB colour in [0, 1] under RGBA transforms.json photos (NeRF-synthetic: white), and the
  // background the trainer renders those scenes over.
  Eigen::Vector3f background = Eigen::Vector3f::Ones();
  // transforms.json photos are kept as RGBA (4 channels: alpha opaque where the file has none)
  // instead of composited over `background`, for trainers that composite over a random colour
  // each step (NeRF, instant-ngp's RGBA training). Ignored for workspaces and COLMAP models.
  bool keep_alpha = false;
  // false: the cameras and poses only (rendering at given poses): no photo is looked for or read,
  // and the views' images are empty; the sizes, undistortion and downscaling still apply.
  bool load_images = true;

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

struct TrainingView {
  std::string name{};         // the image's name in the model (relative to the photo folder)
  geometry::Camera camera{};  // PINHOLE (fx, fy, cx, cy) at `image`'s size
  geometry::Rigid3 cam_from_world{};
  // RGB (RGBA with TrainingDataOptions::keep_alpha), 8 bits, resized (never float: bounds the
  // memory held).
  ImageU8 image{};
  bool held_out = false;  // true for the views in TrainingData::test
};

struct TrainingData {
  std::vector<TrainingView> train{};  // sorted by name
  std::vector<TrainingView> test{};   // sorted by name; held out (holdout_every)
  // The model as read (all images, original cameras and 3D points), for initialising the
  // Gaussians from its points.
  Scene scene{};
  // What the trainer renders over: TrainingDataOptions::background for transforms.json, black
  // for COLMAP inputs (the Inria default; their photos have no alpha).
  Eigen::Vector3f background = Eigen::Vector3f::Zero();
  bool has_points = false;  // scene.points3d is not empty
  // With keep_alpha: some photo has a pixel that is not opaque.
  bool has_alpha = false;
  // Inria's getNerfppNorm over the training views' camera centres: their mean, and 1.1 times the
  // largest distance of a centre from it (world units). The trainer scales its learning rate of
  // the positions and its densification thresholds by `scene_extent`. When all centres coincide
  // (one training view), scene_extent is 1 so that those thresholds stay finite and non-zero.
  Eigen::Vector3f camera_center = Eigen::Vector3f::Zero();
  float scene_extent = 1.0f;
  std::size_t image_bytes = 0;  // bytes of pixels held by train and test images
};

// Loads the registered images of `input` (see the top of this file), in parallel:
// - each photo is read as 8-bit RGB with its EXIF orientation applied (as `facet sfm` reads it;
//   when only the stored, unrotated size fits the camera, as in models COLMAP made, as stored)
//   and must have its camera's size, else facet::Error names the image;
// - cameras with distortion (any model but SIMPLE_PINHOLE and PINHOLE with non-zero distortion
//   parameters) are undistorted into PINHOLE cameras as COLMAP's image_undistorter does
//   (geometry::UndistortCamera with rescale and no blank pixels, then UndistortImage);
// - images are then downscaled with area averaging (OpenCV INTER_AREA) and the camera follows
//   (ScaleCamera).
// Throws facet::Error for an unrecognised input, a missing or malformed model, an image folder
// that cannot be found, a missing photo (naming it and the folder), no registered images, or no
// training views left after the hold-out.
TrainingData LoadTrainingData(const std::filesystem::path& input,
                              const TrainingDataOptions& options = {});

// `camera` (SIMPLE_PINHOLE or PINHOLE) for the same image resampled to width x height, corner to
// corner: fx, cx scale by width / camera.width and fy, cy by height / camera.height (COLMAP's
// pixel convention keeps the corner at 0, so the principal point scales like the focal length).
// Returns PINHOLE. Throws facet::Error for a camera with another model or a non-positive size.
geometry::Camera ScaleCamera(const geometry::Camera& camera, int width, int height);

// The size of a width x height image after TrainingDataOptions' downscale and max_size:
// round(size / downscale), then, if the longer side exceeds max_size, scaled so that it is
// max_size (each side rounded, at least 1).
Eigen::Vector2i TrainingImageSize(int width, int height, const TrainingDataOptions& options);

}  // namespace facet::datasets
