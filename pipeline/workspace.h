// The folder `facet reconstruct photos/ -o OUT` fills (docs/architecture.md, "Workspace"). Its
// layout follows the Inria 3DGS convert.py one, so that other tools open it as it is:
//   OUT/distorted/            structure from motion on the photos as taken (`facet sfm`):
//     sparse/0/                 the model with the photos' own (distorted) cameras
//     database/                 features and matches cache, the mapper's checkpoint
//     sfm_summary.json
//   OUT/images/               undistorted, possibly downscaled copies of the registered photos
//   OUT/sparse/0/             their PINHOLE model (COLMAP binary): OUT is a COLMAP / Inria scene
//   OUT/splats.ply            the Gaussian splats (standard 3DGS PLY), splats_summary.json
//   OUT/renders/              held-out views: render | photo | error pictures
//   OUT/mesh.glb              the watertight coloured mesh, mesh_summary.json
//   OUT/thumbnails/           the mesh seen from three photos' cameras (`facet view --offscreen`)
//   OUT/nerf.bin              with --nerf: the NeRF snapshot, nerf_summary.json, nerf_renders/
//   OUT/checkpoints/          training state of an unfinished stage (--resume continues it)
//   OUT/stages.json           one record per stage: fingerprint, status, time, peak memory
//   OUT/log.txt               every run's detailed log, appended
//   OUT/report.html           the report
#pragma once

#include <filesystem>

namespace facet::pipeline {

struct Workspace {
  explicit Workspace(std::filesystem::path root_folder) : root(std::move(root_folder)) {}

  std::filesystem::path root;

  std::filesystem::path Distorted() const { return root / "distorted"; }
  std::filesystem::path DistortedModel() const { return Distorted() / "sparse" / "0"; }
  std::filesystem::path SfmSummary() const { return Distorted() / "sfm_summary.json"; }
  std::filesystem::path Images() const { return root / "images"; }
  std::filesystem::path Model() const { return root / "sparse" / "0"; }
  std::filesystem::path Splats() const { return root / "splats.ply"; }
  std::filesystem::path SplatsSummary() const { return root / "splats_summary.json"; }
  std::filesystem::path Renders() const { return root / "renders"; }
  std::filesystem::path Mesh() const { return root / "mesh.glb"; }
  std::filesystem::path MeshSummary() const { return root / "mesh_summary.json"; }
  std::filesystem::path Nerf() const { return root / "nerf.bin"; }
  std::filesystem::path NerfSummary() const { return root / "nerf_summary.json"; }
  std::filesystem::path NerfRenders() const { return root / "nerf_renders"; }
  std::filesystem::path Checkpoints() const { return root / "checkpoints"; }
  // The report's mesh pictures, mesh_0.png ... (facet view --offscreen at the photos' cameras).
  std::filesystem::path Thumbnails() const { return root / "thumbnails"; }
  std::filesystem::path Stages() const { return root / "stages.json"; }
  std::filesystem::path Log() const { return root / "log.txt"; }
  std::filesystem::path Report() const { return root / "report.html"; }
};

}  // namespace facet::pipeline
