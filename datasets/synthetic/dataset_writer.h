// Writes the built-in synthetic scene to disk (what `facet synth` produces):
//
//   images/NNNNN.png          the photos (sRGB PNG)
//   transforms.json           cameras and poses for NeRF/3DGS tools (nerfstudio style)
//   ground_truth/sparse/      cameras.txt, images.txt, points3D.txt (empty): the exact cameras as a
//                             COLMAP text model, image names relative to images/
//   ground_truth/mesh.ply     the object's closed surface (binary PLY, metres), for Chamfer scores
//   ground_truth/crop.txt     the box a reconstruction of the scene is cropped to before it is
//                             compared with mesh.ply (`facet eval --mesh ... --crop-file`): the
//                             object's bounds grown by 3 cm, from 1 cm above the floor (the
//                             object's underside touches the floor and is never seen)
//   depth/NNNNN.png           with --rgbd: 16-bit depth, 5000 units per metre (TUM), 0 = none
//   rgb.txt depth.txt         with --rgbd: TUM index files (30 frames per second) and
//   groundtruth.txt           the trajectory (world_from_cam), so the folder reads as a TUM
//                             sequence (ReadTumSequence, datasets/rgbd.h)
//   cameras.txt               with --rgbd: the camera (COLMAP text, one camera, facet's pixel
//                             convention: f = focal_factor * max(W, H), cx = W/2), which
//                             ReadTumSequence prefers to TUM's default 525 px intrinsics
//
// Every file is written atomically; the same options and seed give the same bytes.
#pragma once

#include <filesystem>

#include "datasets/synthetic/synthetic_scene.h"

namespace facet::datasets::synthetic {

// Renders every view (with a progress bar) and writes the folder above; creates `folder` if
// needed. Returns the scene that was written.
SyntheticScene WriteSyntheticDataset(const SynthOptions& options,
                                     const std::filesystem::path& folder);

}  // namespace facet::datasets::synthetic
