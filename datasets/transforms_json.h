// transforms.json: the camera file of the Blender/NeRF-synthetic sets (Mildenhall et al., NeRF,
// ECCV 2020), instant-ngp and nerfstudio.
//
// Intrinsics, at the top level or per frame (per-frame values override the top level):
//   camera_angle_x [, camera_angle_y]   horizontal [vertical] field of view in radians:
//                                       fl_x = 0.5 w / tan(0.5 camera_angle_x) (fl_y likewise,
//                                       or fl_y = fl_x when camera_angle_y is absent)
//   fl_x, fl_y, cx, cy, w, h            pixels (cx, cy default to w/2, h/2; same pixel
//                                       convention as COLMAP, corner of the image at 0, 0)
//   k1 k2 k3 k4 p1 p2                   distortion; camera_model "OPENCV_FISHEYE" makes k1-k4 the
//                                       fisheye coefficients, otherwise k1 k2 p1 p2 [k3] are
//                                       OpenCV's (OPENCV, or FULL_OPENCV when k3 != 0)
// When w/h are absent (the Blender sets), the size is read from the first frame's image header.
//
// Poses: `transform_matrix` is camera-to-world in OpenGL/Blender camera axes (x right, y up,
// looking along -z). facet uses COLMAP's camera axes (x right, y down, z forward), so with
// F = diag(1, -1, -1) (flipping y and z; F = F^-1 = F^T) and transform_matrix = [R_gl | c]:
//   world_from_cam = [R_gl F | c]
//   cam_from_world = [F R_gl^T | -F R_gl^T c]
// and the writer inverts this: R_gl = (R_cam_from_world)^T F, c = camera centre.
//
// Image names: `file_path` relative to the json's folder ("./train/r_0" becomes "train/r_0.png":
// a leading "./" is dropped and ".png" is added when the path has no extension, as the Blender
// sets expect).
#pragma once

#include <Eigen/Core>

#include <filesystem>
#include <string>
#include <vector>

#include "core/image.h"
#include "datasets/scene.h"

namespace facet::datasets {

struct TransformsReadOptions {
  // Colour composited under RGBA images: sRGB-encoded RGB in [0, 1] (255 * value is the 8-bit code
  // value; not linear light), as LoadRgbaOverBackground blends. NeRF-synthetic uses white.
  Eigen::Vector3f background = Eigen::Vector3f::Ones();
  // Largest allowed |R^T R - I| entry of a transform_matrix rotation; scaled or sheared matrices
  // beyond it are refused. In [0, 1).
  double rotation_tolerance = 1e-3;

  void Check() const;
};

struct TransformsFrame {
  ImageId image_id{};
  std::filesystem::path image_path{};  // json folder / file_path (+ ".png")
  std::filesystem::path mask_path{};   // nerfstudio "mask_path" resolved the same way; may be empty
};

struct TransformsDataset {
  Scene scene{};  // one camera per distinct intrinsics; images in file order
  std::vector<TransformsFrame> frames{};                 // one per image, in file order
  Eigen::Vector3f background = Eigen::Vector3f::Ones();  // from the read options (sRGB, [0, 1])
};

// Reads a transforms.json. Throws facet::Error naming the file and the frame (index and
// file_path) for missing or malformed fields, matrices that are not rigid, or unsupported camera
// models (EQUIRECTANGULAR, nerfstudio's perspective k4).
TransformsDataset ReadTransformsJson(const std::filesystem::path& path,
                                     const TransformsReadOptions& options = {});

struct TransformsWriteOptions {
  // Skip images without a pose (true) or refuse to write (false). Numbers are always written
  // with enough digits to read back bit-exact.
  bool skip_unregistered = true;

  void Check() const;
};

// Writes a nerfstudio-style transforms.json: intrinsics fl_x fl_y cx cy w h k1 k2 k3 k4 p1 p2 and
// camera_model at the top level when every written image shares one camera, per frame otherwise;
// frames with file_path (the image name) and transform_matrix (4x4, OpenGL axes). Camera models:
// SIMPLE_PINHOLE/PINHOLE as is, SIMPLE_RADIAL/RADIAL/OPENCV as OPENCV (k1 k2 p1 p2),
// FULL_OPENCV as OPENCV with k3 (only when k4 = k5 = k6 = 0: the rational part has no
// transforms.json field), OPENCV_FISHEYE as camera_model "OPENCV_FISHEYE" with k1-k4. Throws
// facet::Error for what cannot be represented. Atomic (WriteFileAtomically).
void WriteTransformsJson(const std::filesystem::path& path, const Scene& scene,
                         const TransformsWriteOptions& options = {});

// Loads an image as 8-bit RGB, compositing RGBA (or gray+alpha) over `background` (sRGB-encoded
// RGB in [0, 1]) in sRGB space, not linear light: out = round(alpha · colour + (1 - alpha) · 255 ·
// background) per 8-bit code value, alpha = A / 255. This is the NeRF-synthetic convention, which
// the models trained on it expect: NeRF's run_nerf.py (white_bkgd: rgb · a + (1 - a) on the PNG's
// values / 255) and nerfstudio's InputDataset (data/datasets/base_dataset.py: image[..., :3] ·
// alpha + alpha_color · (1 - alpha) on values / 255, alpha_color in [0, 1]). Images without alpha
// are returned as RGB unchanged.
ImageU8 LoadRgbaOverBackground(const std::filesystem::path& path,
                               const Eigen::Vector3f& background);

}  // namespace facet::datasets
