// Conversions between the file formats facet reads and writes: the library side of
// `facet convert` (apps/convert.cpp only parses the command line and prints the summary).
//
// Supported conversions (input -> output), and what they keep:
//   COLMAP model (folder, .bin or .txt) -> COLMAP model, binary or text: everything, bit for bit
//                                          (see datasets/colmap_model.h; bin -> txt -> bin gives
//                                          identical files).
//                                       -> transforms.json: cameras and poses (nerfstudio layout;
//                                          SIMPLE_RADIAL/RADIAL become OPENCV, see
//                                          datasets/transforms_json.h); keypoints and 3D points
//                                          are dropped. file_path = the COLMAP image name, which
//                                          readers resolve against the json's folder: write the
//                                          json into the COLMAP image folder, or move it there.
//                                       -> point-cloud PLY or PCD: the sparse 3D points with their
//                                          colours (PLY: float64 positions, lossless; PCD:
//                                          float32).
//   transforms.json                     -> COLMAP model: cameras (one per distinct intrinsics,
//                                          ids from 1) and poses (image ids 1.. in file order),
//                                          no keypoints or 3D points. Image names are the
//                                          file_path values relative to the json's folder ("./"
//                                          dropped, ".png" added when there is no extension), so
//                                          the json's folder is COLMAP's image_path.
//   3DGS PLY  -> .splat                 SH band 0 only; colour, opacity and rotation quantised to
//                                       8 bits, positions and scales float32 (error bounds in
//                                       datasets/gaussian_splats.h); normals dropped.
//   .splat    -> 3DGS PLY               SH degree 0, zero normals.
//   mesh PLY  -> .glb, .glb -> mesh PLY positions float32, normals and vertex colours kept;
//                                       coordinates pass through unchanged (no axis change).
//   PCD -> point-cloud PLY, point-cloud PLY -> PCD   points, normals and colours; float32
//   positions.
//
// Input formats are told by the input itself: a folder (or one of its cameras/images/points3D
// .bin/.txt files) holding a COLMAP model; .json; .ply, classified by its header (an f_dc_0 vertex
// property: 3DGS; a non-empty "face" element: mesh; otherwise points); .splat; .pcd; .glb.
// Output formats come from ConvertOptions::to, or else from the output's name: .json, .ply
// (whose kind follows the input), .splat, .glb, .pcd, and an existing folder or a name without
// an extension for a COLMAP model.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace facet::datasets {

enum class DataFormat {
  kColmapBinary,    // COLMAP sparse model folder, cameras/images/points3D.bin
  kColmapText,      // the same as .txt files
  kTransformsJson,  // Blender/nerfstudio transforms.json
  kGaussianPly,     // INRIA 3DGS PLY
  kSplat,           // antimatter15 .splat
  kMeshPly,         // PLY with faces
  kGlb,             // glTF 2.0 binary mesh
  kPointPly,        // PLY without faces (point cloud)
  kPcd,             // PCL point cloud
};

// "COLMAP model (binary)", "transforms.json", "3DGS PLY", ... for messages.
std::string_view DataFormatName(DataFormat format);

// The values of ConvertOptions::to (and of `facet convert --to`).
inline constexpr std::array<std::string_view, 7> kConvertTargets = {
    "colmap-bin", "colmap-txt", "transforms", "ply", "splat", "glb", "pcd"};

struct ConvertOptions {
  // Output format: one of kConvertTargets, or empty to decide from the output's name.
  std::string to{};
  // Text encoding where the output has one: COLMAP .txt, ASCII PLY (mesh, points), ASCII PCD.
  bool text = false;
  // .splat output: order records by importance as convert.py does (false keeps the input order).
  bool sort_splats = true;

  // Throws facet::Error when `to` is neither empty nor one of kConvertTargets.
  void Check() const;
};

// The format of an existing input (see the top of this file), or std::nullopt when its name does
// not say (an unknown extension). Throws facet::Error when `input` does not exist, is a folder
// without a complete COLMAP model, or is a .ply whose header cannot be read.
std::optional<DataFormat> DetectInputFormat(const std::filesystem::path& input);

// The outcome of deciding what a conversion would do. An unsupported request (unknown input or
// output type, a pair with no conversion, --text where there is no text encoding) is an expected
// outcome, reported in `problem`, not thrown.
struct ConversionPlan {
  std::optional<DataFormat> input{};   // detected input format
  std::optional<DataFormat> output{};  // chosen output format, when supported
  std::string problem{};               // empty when supported; else what cannot be done and why

  bool Supported() const { return problem.empty() && input && output; }
};

// Detects the input and chooses the output format. Throws facet::Error only as
// DetectInputFormat does (a missing or unreadable input); never writes anything.
ConversionPlan PlanConversion(const std::filesystem::path& input,
                              const std::filesystem::path& output, const ConvertOptions& options);

// The supported conversions, one per line (each indented by two spaces, no final newline), for
// error messages and --help.
std::string SupportedConversionsText();

// Performs a supported plan: reads `input`, writes `output` (creating its parent folders; a
// COLMAP model's folder itself). Returns one line saying what was read (with counts) and what
// was written. Throws facet::Error for an unsupported plan or when reading or writing fails.
std::string Convert(const std::filesystem::path& input, const std::filesystem::path& output,
                    const ConversionPlan& plan, const ConvertOptions& options);

// PlanConversion, then Convert; an unsupported request throws facet::Error with the problem and
// the list of supported conversions.
std::string ConvertFile(const std::filesystem::path& input, const std::filesystem::path& output,
                        const ConvertOptions& options = {});

}  // namespace facet::datasets
