// COLMAP sparse models: cameras, images and points3D, as binary (.bin) or text (.txt) files,
// byte-compatible with COLMAP 3.8 (Reconstruction::{Read,Write}{Cameras,Images,Points3D}{Binary,
// Text} in src/base/reconstruction.cc; format description in doc/format.rst).
//
// Binary layout (little endian; ids are COLMAP's camera_t = image_t = point2D_t = uint32,
// point3D_t = uint64):
//   cameras.bin   uint64 count; per camera: uint32 camera_id, int32 model_id, uint64 width,
//                 uint64 height, double params[NumParams(model_id)]
//   images.bin    uint64 count; per image: uint32 image_id, double qw qx qy qz, double tx ty tz,
//                 uint32 camera_id, char name[] (NUL-terminated), uint64 num_points2D, per
//                 keypoint: double x, double y, uint64 point3D_id (0xFFFFFFFFFFFFFFFF: none)
//   points3D.bin  uint64 count; per point: uint64 point3D_id, double x y z, uint8 r g b,
//                 double error, uint64 track_length, per element: uint32 image_id,
//                 uint32 point2D_idx
// Text layout: the same fields, space-separated, one line per camera and per 3D point, two lines
// per image (the pose line, then "X Y POINT3D_ID" triples with -1 for none), after COLMAP's
// '#' header lines. Numbers are printed as COLMAP prints them (17 significant digits, "%.17g"),
// which round-trips every double exactly: a text round trip is as lossless as a binary one.
//
// Conventions: (qw, qx, qy, qz, tx, ty, tz) is `cam_from_world` (world to camera; COLMAP's camera
// frame x right, y down, z forward); keypoints are in pixels with (0.5, 0.5) the centre of the
// top-left pixel. Camera model ids and parameter orders are COLMAP's (geometry/camera.h).
//
// Registered images only. COLMAP 3.8 writes only the registered images of a reconstruction (the
// count in images.bin is the number of registered images) and marks every image it reads as
// registered. So the readers give every image a pose, and the writers skip images without one;
// an unregistered image must not observe 3D points (COLMAP deregisters those observations), or
// the writers throw. Cameras are all written, used or not, as COLMAP does.
//
// Differences from COLMAP, all on the side of safety:
// - Writers write the stored quaternion (facet keeps it unit) rather than renormalising it, so
//   the bits survive; readers renormalise a quaternion only when its norm is off 1 by more than
//   4 machine epsilons (COLMAP always renormalises; a normalised quaternion's norm is within 2).
// - Writers sort by id (facet's maps are ordered); COLMAP's order follows its hash maps. Readers
//   accept any order.
// - Readers reject what COLMAP would accept silently or crash on: counts larger than the file can
//   hold (checked before any allocation), duplicate or reserved (all bits set) ids, non-finite
//   numbers, trailing bytes after the last record, widths or heights beyond 2^31 - 1, camera
//   models facet does not implement (FOV, SIMPLE_RADIAL_FISHEYE, RADIAL_FISHEYE,
//   THIN_PRISM_FISHEYE: undistort with `colmap image_undistorter` first), and dangling references
//   (Scene::Check runs after reading). Every error names the file and the byte offset or line.
// - The text reader takes the rest of the pose line as the image name, so names containing
//   spaces survive a facet round trip (COLMAP 3.8's text reader cuts them at the first space).
//   Writers refuse names that cannot be stored: empty names, names with NUL (binary) or with line
//   breaks or leading/trailing white space (text).
#pragma once

#include <filesystem>
#include <optional>

#include "datasets/scene.h"

namespace facet::datasets {

enum class ColmapFormat {
  kBinary,  // cameras.bin, images.bin, points3D.bin
  kText,    // cameras.txt, images.txt, points3D.txt
};

// The format of the complete model in `folder` (all three files of one format; binary wins when
// both are complete, as in COLMAP's Reconstruction::Read), or std::nullopt when there is none.
std::optional<ColmapFormat> FindColmapModel(const std::filesystem::path& folder);

// Reads the model in `folder`: binary when all three .bin files exist, else text when all three
// .txt files exist. Throws facet::Error when the folder holds no complete model (naming the
// files found and missing), or when a file is malformed or the model inconsistent.
Scene ReadColmapModel(const std::filesystem::path& folder);
Scene ReadColmapModelBinary(const std::filesystem::path& folder);
Scene ReadColmapModelText(const std::filesystem::path& folder);

// Writes cameras, images and points3D into `folder`, creating it (and its parents) when missing.
// The three are replaced together (datasets/detail/atomic_files.h): all are written to `.tmp`
// files and flushed first, then renamed, so an interrupted or failed write leaves the previous
// model intact; only a crash during the three renames themselves (microseconds) can leave a
// mixed model.
// Throws facet::Error, before writing anything, when the scene fails Scene::Check or cannot be
// stored (see "Registered images only" and the name rules above; every number must be finite).
void WriteColmapModelBinary(const std::filesystem::path& folder, const Scene& scene);
void WriteColmapModelText(const std::filesystem::path& folder, const Scene& scene);

}  // namespace facet::datasets
