// `facet eval --mesh`: a reconstructed mesh against a ground-truth surface (eval_mesh.cpp). The
// mesh is brought into the ground truth's frame by the similarity that aligns the model's
// cameras with the true ones (when the model is evaluated against ground-truth cameras), both
// surfaces are cropped to a box (a reconstruction of a whole scene holds more than the object the
// ground truth describes), and compared: Chamfer distance, accuracy, completeness and F-score
// (geometry::CompareSurfaces), the Chamfer also as a percentage of the ground truth's bounding-box
// diagonal; plus the watertightness of the whole mesh.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "geometry/sim3.h"

namespace facet::apps {

struct MeshEvalArgs {
  std::filesystem::path mesh;          // .glb or .ply
  std::filesystem::path ground_truth;  // the true surface (.ply or .glb)
  std::vector<double> crop{};          // MINX MINY MINZ MAXX MAXY MAXZ in the ground truth frame
  std::filesystem::path crop_file;     // the same six numbers in a text file ('#' comments)
  // F-score threshold as a fraction of the ground truth's bounding-box diagonal.
  double threshold_fraction = 0.005;
};

// Evaluates, appends the report lines to `text` and returns the figures as JSON. `gt_from_mesh`:
// the alignment (none: the mesh is already in the ground truth's frame). Throws facet::Error for
// unreadable meshes, a malformed crop or a crop that leaves either surface empty.
nlohmann::ordered_json EvaluateMesh(const MeshEvalArgs& args,
                                    const std::optional<geometry::Sim3>& gt_from_mesh,
                                    std::string* text);

}  // namespace facet::apps
