// Ground-truth cameras of two benchmarks, converted to facet's conventions (COLMAP's camera axes:
// x right, y down, z forward; cam_from_world poses; COLMAP's pixel convention, the first pixel's
// centre at (0.5, 0.5): see geometry/camera.h).
//
// Strecha et al., "On benchmarking camera calibration and multi-view stereo for high resolution
// imagery", CVPR 2008: one text file `NNNN.jpg.camera` per photo with 26 numbers:
//   K (3x3, row-major) | 3 radial distortion values (all zero) | R (3x3 row-major, camera-to-world
//   rotation: its columns are the camera axes in the world) | C (camera centre in the world, m) |
//   width height.
// World to camera: x_cam = R^T (X - C), i.e. cam_from_world = [R^T | -R^T C].
// Pixel convention of K: taken as given (no half-pixel shift). Neither the paper nor the
// dataset's files state where pixel (0, 0) is, and the principal point (fountain-P11: 1520.69,
// 1006.81 at 3072x2048, ~16 px off-centre) cannot tell a 0.5 px shift apart. The peers that read
// these files use K unchanged: openMVG's SfM_Data_GT_Loader_Strecha
// (src/software/SfM/io_readGTStrecha.hpp, which evaluates openMVG's SfM against them) and other
// published readers (e.g. readCalibrationOrientation_Strecha.m in LauraFJulia/TFT_vs_Fund). Read
// as COLMAP's convention, scaling K's first two rows by s is exact, which is how images_q4/K.txt
// (exactly K / 4) was made. If K were OpenCV's, the error would be a uniform 0.5 px principal-point
// shift at full size (0.125 px at q4): at f = 2760 px a 0.01 deg tilt, below the 0.03-0.05 deg
// rotation errors SfM reaches on this set with the principal point refined.
//
// DTU MVS (Jensen et al., CVPR 2014) as converted by IDR/NeuS (`cameras.txt` here): per view a
// line "view i", a 4x4 world_mat whose top 3x4 is the projection P = K [R | t] for the 1600x1200
// images, and a 4x4 scale_mat mapping the unit sphere around the object to world coordinates.
// P is split into K and [R | t] by an RQ decomposition (Hartley & Zisserman, 2nd ed., sec. 6.2.4).
// P's pixels are OpenCV's (the first pixel's centre at 0, 0: IDR and NeuS cast rays through
// integer pixel indices, e.g. NeuS models/dataset.py gen_rays_at, linspace(0, W - 1)), so the
// reader converts it to facet's convention, P' = T P with T = [1 0 0.5; 0 1 0.5; 0 0 1], before
// scaling to a smaller image by S = diag(s, s, 1): P_s = S T P. The order matters: downsampling by
// s maps the image's corner (0, 0) to itself and its extent W to s W, so it is a pure scale only
// in the corner convention; scaling OpenCV pixels by s and shifting after would leave the
// principal point off by 0.5 (1 - s) px (0.375 px at q4). This assumes images_q4 were resampled by
// area (q4 pixel i covers full-size pixels 4i..4i+3), as an image resize does.
#pragma once

#include <Eigen/Core>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "geometry/camera.h"
#include "geometry/rigid3.h"

namespace facet::datasets {

struct StrechaCamera {
  geometry::Camera camera{};          // PINHOLE fx, fy, cx, cy at the (scaled) image size
  geometry::Rigid3 cam_from_world{};  // metres
};

struct StrechaReadOptions {
  // Image scale: K's first two rows and the size are multiplied by it (0.25 for images_q4, whose
  // K.txt is exactly K / 4). In (0, 1].
  double image_scale = 1.0;

  void Check() const;
};

// Reads one .camera file. Throws facet::Error naming the file (and line) when it does not hold
// exactly 26 numbers, K is not an upper-triangular zero-skew calibration with K(2,2) = 1, the
// distortion is non-zero, R is not a rotation (|R^T R - I| > 1e-4 or det R < 0), or the size is
// not positive.
StrechaCamera ReadStrechaCamera(const std::filesystem::path& path,
                                const StrechaReadOptions& options = {});

// Every `*.camera` file of a folder, keyed by the image name (file name minus ".camera", e.g.
// "0000.jpg"). Throws facet::Error when there is none.
std::map<std::string, StrechaCamera> ReadStrechaCameras(const std::filesystem::path& folder,
                                                        const StrechaReadOptions& options = {});

// P = s K [R | t] split into K (upper triangular, K(2,2) = 1, positive focal lengths) and a
// proper rotation R (det +1), for any non-zero scale s (negative too). Throws facet::Error when
// P's left 3x3 block is singular.
struct ProjectionDecomposition {
  Eigen::Matrix3d calibration = Eigen::Matrix3d::Identity();  // K, may carry skew K(0,1)
  geometry::Rigid3 cam_from_world{};
};
ProjectionDecomposition DecomposeProjection(const Eigen::Matrix<double, 3, 4>& projection);

struct DtuCamera {
  int view = 0;  // the "view i" index
  // PINHOLE from `calibration`, whose skew is dropped (scan24: |K(0,1)| < 6e-4 px).
  geometry::Camera camera{};
  // Full K incl. skew, in facet's pixel convention at the scaled size: S T K_input.
  Eigen::Matrix3d calibration = Eigen::Matrix3d::Identity();
  geometry::Rigid3 cam_from_world{};  // world units of DTU (millimetres)
  // S T P: the input P in facet's pixel convention, scaled; equals calibration [R | t] up to scale.
  Eigen::Matrix<double, 3, 4> projection = Eigen::Matrix<double, 3, 4>::Zero();
  Eigen::Matrix4d world_from_normalized = Eigen::Matrix4d::Identity();  // the scale_mat
};

struct DtuReadOptions {
  // Image scale: P is left-multiplied by S = diag(s, s, 1), after the half-pixel shift T (see
  // above), and the size scaled (0.25 for images_q4, 400x300). In (0, 1].
  double image_scale = 1.0;
  int full_width = 1600;   // size of the images P refers to; > 0
  int full_height = 1200;  // > 0

  void Check() const;
};

// Reads an IDR/NeuS-style DTU cameras.txt. Throws facet::Error naming the file and line for
// malformed or missing numbers, a last matrix row other than 0 0 0 1, or a singular P.
std::vector<DtuCamera> ReadDtuCameras(const std::filesystem::path& path,
                                      const DtuReadOptions& options = {});

}  // namespace facet::datasets
