// GaussianSplats: a 3D Gaussian Splatting scene as the files store it (Kerbl et al., "3D Gaussian
// Splatting for Real-Time Radiance Field Rendering", SIGGRAPH 2023), and its two file formats.
//
// Parameters are kept in the stored (pre-activation) form, so that reading and writing are exact:
//   opacity   logit; the renderer's opacity is sigmoid(opacity)
//   scale     log of the three standard deviations along the Gaussian's local axes
//   rotation  quaternion (w, x, y, z) as stored, not normalised; the renderer normalises it
//   colour    spherical-harmonic coefficients: DC (band 0) for R, G, B; the displayed colour of
//             band 0 alone is 0.5 + kShC0 * dc
//
// INRIA PLY (graphdeco-inria/gaussian-splatting, GaussianModel.save_ply): one "vertex" element of
// float properties x y z nx ny nz f_dc_0..2 f_rest_0..M-1 opacity scale_0..2 rot_0..3, with
// M = 3 * ((degree + 1)^2 - 1) = 0, 9, 24 or 45 for SH degree 0..3. f_rest is channel-major: the
// (degree + 1)^2 - 1 coefficients of R, then those of G, then those of B (save_ply transposes the
// [N, coefficients, 3] feature tensor to [N, 3, coefficients] before flattening). sh_rest below
// keeps exactly that order. INRIA's viewer, gsplat and SuperSplat load this layout.
//
// .splat (antimatter15/splat, convert.py): headerless 32-byte records, little endian:
//   position 3 x float32 | scale 3 x float32, linear (exp of the log-scale) |
//   RGBA 4 x uint8: RGB = (0.5 + kShC0 * dc) * 255, A = sigmoid(opacity) * 255 |
//   rotation 4 x uint8 (w, x, y, z): q / |q| * 128 + 128.
// The bytes are clipped to [0, 255] and truncated, as convert.py does. Only SH degree 0 survives.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

namespace facet::datasets {

// Y_0^0 = 1 / (2 sqrt(pi)), the band-0 spherical harmonic (as in the reference renderer).
inline constexpr float kShC0 = 0.28209479177387814f;

// The opacity (logit) ReadSplat gives a saturated alpha byte of 255; its float sigmoid is 1.
inline constexpr float kSplatSaturatedOpacity = 17.0f;

struct GaussianSplats {
  static constexpr int kMaxShDegree = 3;

  int sh_degree = 0;                          // 0-3
  std::vector<Eigen::Vector3f> positions{};   // scene units (the SfM frame)
  std::vector<Eigen::Vector3f> normals{};     // as stored (usually zeros), or empty
  std::vector<Eigen::Vector3f> sh_dc{};       // f_dc_0..2: band 0 of R, G, B
  std::vector<float> sh_rest{};               // NumShRest() per splat, INRIA order (above)
  std::vector<float> opacities{};             // logit
  std::vector<Eigen::Vector3f> log_scales{};  // log standard deviations
  std::vector<Eigen::Vector4f> rotations{};   // (w, x, y, z), not normalised

  // 3 * ((degree + 1)^2 - 1): the f_rest count of an SH degree (0, 9, 24, 45).
  static int NumShRest(int degree) { return 3 * ((degree + 1) * (degree + 1) - 1); }
  int NumShRest() const { return NumShRest(sh_degree); }

  std::size_t size() const { return positions.size(); }
  bool empty() const { return positions.empty(); }
  bool HasNormals() const { return !normals.empty(); }

  // Coefficient `k` (0 .. (degree + 1)^2 - 2, i.e. bands 1.. in order) of `channel` (0 R, 1 G,
  // 2 B) of splat `i`.
  float& ShRest(std::size_t i, int channel, int k) {
    return sh_rest[i * NumShRest() + channel * (NumShRest() / 3) + k];
  }
  float ShRest(std::size_t i, int channel, int k) const {
    return sh_rest[i * NumShRest() + channel * (NumShRest() / 3) + k];
  }

  // Resizes every per-splat array to `count` (normals only when present); new entries are zero.
  void Resize(std::size_t count);
  // Throws facet::Error when sh_degree is outside 0-3 or an array does not have one entry per
  // splat (sh_rest: NumShRest() per splat; normals: one per splat or none).
  void Check() const;
};

// The splats whose position lies in the box [box_min, box_max] (bounds included) and whose opacity
// sigmoid(logit) is at least min_opacity, in their order, with every attribute (normals when
// present). The viewer's crop box and opacity threshold (viewer::SplatDrawOptions) cull the same
// splats, so this exports what it shows. Throws facet::Error when splats.Check() fails, the box is
// not finite with box_min <= box_max, or min_opacity is outside [0, 1].
GaussianSplats CropSplats(const GaussianSplats& splats, const Eigen::Vector3f& box_min,
                          const Eigen::Vector3f& box_max, float min_opacity = 0.0f);

// Reads an INRIA-layout 3DGS PLY in any PLY encoding, with properties in any order and of any
// scalar type; unknown properties and elements are ignored. The SH degree comes from the number of
// f_rest_* properties (0, 9, 24, 45 -> 0..3; they must be f_rest_0 .. f_rest_{M-1}). Throws
// facet::Error naming the file for a missing property, another f_rest count, or a malformed file.
// `progress`, when given, is called with the fraction of splats read (0 to 1) every 65,536 splats
// and at the end (a viewer's progress bar for multi-million-splat files).
GaussianSplats ReadGaussianPly(const std::filesystem::path& path,
                               const std::function<void(double)>& progress = {});

// Writes the standard layout above, binary little endian float32 (normals as zeros when absent).
// Throws facet::Error when splats.Check() fails. Atomic (WriteFileAtomically).
void WriteGaussianPly(const std::filesystem::path& path, const GaussianSplats& splats);

struct SplatWriteOptions {
  // Order the records by decreasing exp(sum of log-scales) * sigmoid(opacity), as convert.py
  // does, so that viewers streaming the file draw the large, opaque splats first. The sort is
  // stable (ties keep their order); false keeps the input order.
  bool sort_by_importance = true;

  void Check() const {}  // every value is valid
};

// Reads a .splat file (degree 0). Byte codes decode to the centre of the interval the encoder's
// truncation maps to them: colour (b + 0.5) / 255 and alpha (a + 0.5) / 255 for a < 255, so that
// opacity stays finite. Alpha 255, which the encoder writes only when sigmoid(opacity) rounds to 1
// in float (opacity above about 16.6), decodes to opacity kSplatSaturatedOpacity = 17. Rotation
// decodes as (b - 128) / 128, as antimatter15's viewer does; scales are logged.
// Round-trip error, for displayed colours and opacities inside [0, 1): dc within
// 0.5 / 255 / kShC0 = 0.00695, sigmoid(opacity) within 0.5 / 255; each component of the
// normalised quaternion within 1 / 128. Re-encoding what was read reproduces the position, colour
// and alpha bytes exactly. Throws facet::Error when the file length is not a multiple of 32 or a
// scale is negative or NaN (zero gives -inf).
GaussianSplats ReadSplat(const std::filesystem::path& path);

// Writes a .splat file (see above). Bands above 0 are dropped; a zero quaternion is written as
// the identity. Throws facet::Error when splats.Check() fails. Atomic.
void WriteSplat(const std::filesystem::path& path, const GaussianSplats& splats,
                const SplatWriteOptions& options = {});

}  // namespace facet::datasets
