// PCD (Point Cloud Library's point cloud data format, v0.7; pointclouds.org/documentation/
// tutorials/pcd_file_format.html and PCL's io/src/pcd_io.cpp).
//
// A text header of lines "KEY values": VERSION, FIELDS (names), SIZE (bytes per value: 1, 2, 4, 8),
// TYPE (I signed, U unsigned, F float), COUNT (values per field, default 1), WIDTH, HEIGHT (an
// organised cloud is WIDTH x HEIGHT; unorganised has HEIGHT 1), VIEWPOINT (ignored), POINTS
// (= WIDTH x HEIGHT), then DATA ascii | binary | binary_compressed, after which the data start.
//   ascii:              one point per line, the fields' values in order.
//   binary:             packed little-endian records, one per point, fields in order.
//   binary_compressed:  uint32 compressed size, uint32 uncompressed size, then LZF data (liblzf's
//                       format) that inflate to the fields stored one after another for all
//                       points (structure of arrays); padding fields named "_" are not stored.
//
// Fields used: x y z (required, one value each), normal_x normal_y normal_z (all or none), and
// colour as PCL packs it: "rgb" or "rgba", 4 bytes holding 0xAARRGGBB (a float's bits when TYPE
// is F, or an integer; in ASCII files an all-digit token is read as the integer, as PCL writes
// it, anything else as the float whose bits hold the colour). Other fields are skipped. Points
// with a NaN coordinate are dropped: PCL marks invalid points (e.g. in organised clouds) that way.
// Colours are 8-bit sRGB in the file and linear in PointCloud (see datasets/ply.h).
//
// Every count is checked against the file length before allocation, the decompressed size against
// the most LZF can expand the compressed bytes (264 output bytes per 3 input bytes) and against an
// absolute 1 GiB (larger binary_compressed files are refused: convert them to DATA binary), and
// the decompressor bounds-checks every literal run and back reference and grows its output only
// as it really decodes. Up front, the reader reserves at most 4 bytes per file byte per array
// (datasets/detail/reader_limits.h); beyond that the cloud grows with the points decoded.
#pragma once

#include <filesystem>

#include "geometry/point_cloud.h"

namespace facet::datasets {

enum class PcdFormat { kAscii, kBinary, kBinaryCompressed };

// Throws facet::Error naming the file and the line (header, ASCII data) or byte offset (binary)
// for a malformed or truncated file, missing x/y/z, or an unsupported SIZE/TYPE combination.
geometry::PointCloud ReadPcd(const std::filesystem::path& path);

// Writes x y z (float32), normal_x normal_y normal_z (float32) when present, and rgb when colours
// are present (TYPE F in binary encodings, as PCL writes PointXYZRGB, and U in ASCII), as an
// unorganised cloud (HEIGHT 1). Float positions keep 24 significant bits (|x| * 2^-24). Atomic.
void WritePcd(const std::filesystem::path& path, const geometry::PointCloud& cloud,
              PcdFormat format = PcdFormat::kBinary);

}  // namespace facet::datasets
