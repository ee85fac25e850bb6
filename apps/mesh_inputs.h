// What `facet mesh` can mesh, recognised from the input path, and how each is loaded.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "datasets/rgbd.h"
#include "geometry/point_cloud.h"
#include "geometry/triangle_mesh.h"
#include "splatting/gaussians.h"
#include "splatting/splat_fusion.h"

namespace facet::apps {

enum class MeshInputKind {
  kRgbdTum,      // folder with rgb.txt and depth.txt
  kRgbdRedwood,  // folder with depth/ and image/ (or color/, rgb/)
  kSplats,       // 3DGS .ply, or a facet workspace holding splats.ply
  kPoints,       // point cloud .ply / .pcd, or a workspace / COLMAP model without splats
  kMesh,         // mesh .ply (with faces) or .glb
  kNerf,         // facet NeRF snapshot (nerf.bin, nerf/snapshot.h)
};

std::string_view ToString(MeshInputKind kind);

struct MeshInput {
  MeshInputKind kind = MeshInputKind::kPoints;
  std::filesystem::path path{};   // the file or folder given
  std::filesystem::path file{};   // the splats.ply / points / mesh file to read
  std::filesystem::path model{};  // COLMAP model with the cameras (splats, sparse points), if any
};

// The COLMAP model of a workspace (OUT/sparse/0), of a COLMAP layout (scene/sparse/0 or
// scene/sparse) or the folder itself. Throws facet::Error when there is none.
std::filesystem::path FindCameraModel(const std::filesystem::path& folder);

// Recognises `path`. Throws facet::Error saying what is accepted when it is none of the above.
MeshInput ClassifyMeshInput(const std::filesystem::path& path);

struct RgbdInputOptions {
  std::filesystem::path trajectory{};  // Redwood: the .log (default: the folder's only *.log)
  std::filesystem::path intrinsics{};  // cameras.txt (default: the folder's, else PrimeSense)
  double depth_scale = 0.0;            // raw units per metre; 0: the format's default
  // Keep only the frames with a pose and fail when there are none (TSDF fusion); false keeps
  // every frame, poses (the reference trajectory) where known (SLAM).
  bool require_poses = true;
};

// Reads an RGB-D folder. With require_poses, keeps the frames with a pose and throws facet::Error
// when no frame has one (TUM without groundtruth.txt, Redwood without a trajectory).
datasets::RgbdSequence ReadRgbdInput(const MeshInput& input, const RgbdInputOptions& options);

// The points of a point cloud file, or the sparse points of a COLMAP model; `camera_centers`
// receives the registered cameras' centres when the points come with a model.
geometry::PointCloud ReadPointsInput(const MeshInput& input,
                                     std::vector<Eigen::Vector3d>* camera_centers);

// The mesh of a .ply or .glb file.
geometry::TriangleMesh ReadMeshInput(const MeshInput& input);

// The trained Gaussians and the views to render them from: the model's registered cameras (at
// most `max_views`, evenly spread) or, without a model, `orbit_views` cameras around them.
struct SplatsInput {
  splatting::Gaussians model{};
  std::vector<splatting::SplatFusionView> views{};
  bool orbit = false;  // the views are an orbit, not the training cameras
};
SplatsInput ReadSplatsInput(const MeshInput& input, int max_views, int orbit_views,
                            int render_size);

}  // namespace facet::apps
