#include "datasets/exif.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace facet::datasets {
namespace fs = std::filesystem;
namespace {

// Bounds-checked reads from a TIFF block in its byte order. Every accessor returns std::nullopt
// instead of reading past the end.
class TiffReader {
 public:
  TiffReader(std::span<const std::uint8_t> bytes, bool big_endian)
      : bytes_(bytes), big_endian_(big_endian) {}

  std::size_t size() const { return bytes_.size(); }
  bool Fits(std::uint64_t offset, std::uint64_t length) const {
    return offset <= bytes_.size() && length <= bytes_.size() - offset;
  }
  std::optional<std::uint16_t> U16(std::uint64_t offset) const {
    if (!Fits(offset, 2)) return std::nullopt;
    const std::uint8_t* p = bytes_.data() + offset;
    return static_cast<std::uint16_t>(big_endian_ ? (p[0] << 8) | p[1] : (p[1] << 8) | p[0]);
  }
  std::optional<std::uint32_t> U32(std::uint64_t offset) const {
    if (!Fits(offset, 4)) return std::nullopt;
    const std::uint8_t* p = bytes_.data() + offset;
    return big_endian_ ? (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                             (std::uint32_t{p[2]} << 8) | p[3]
                       : (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) |
                             (std::uint32_t{p[1]} << 8) | p[0];
  }
  const std::uint8_t* Data(std::uint64_t offset) const { return bytes_.data() + offset; }

 private:
  std::span<const std::uint8_t> bytes_;
  bool big_endian_;
};

// TIFF 6.0 field types and their sizes in bytes.
constexpr std::uint16_t kAscii = 2, kShort = 3, kLong = 4, kRational = 5;
int TypeSize(std::uint16_t type) {
  static constexpr std::array<int, 13> kSizes = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8};
  return type < kSizes.size() ? kSizes[type] : 0;
}

// One 12-byte IFD entry; `value_offset` is where its value lives (inline when it fits 4 bytes).
struct Entry {
  std::uint16_t tag = 0;
  std::uint16_t type = 0;
  std::uint32_t count = 0;
  std::uint64_t value_offset = 0;
};

std::optional<Entry> ReadEntry(const TiffReader& tiff, std::uint64_t at) {
  const auto tag = tiff.U16(at), type = tiff.U16(at + 2);
  const auto count = tiff.U32(at + 4), pointer = tiff.U32(at + 8);
  if (!tag || !type || !count || !pointer) return std::nullopt;
  const int size = TypeSize(*type);
  if (size == 0) return std::nullopt;
  const std::uint64_t bytes = std::uint64_t{*count} * static_cast<std::uint64_t>(size);
  Entry entry{*tag, *type, *count, bytes <= 4 ? at + 8 : std::uint64_t{*pointer}};
  if (!tiff.Fits(entry.value_offset, bytes)) return std::nullopt;
  return entry;
}

// The first value of an integer (SHORT or LONG) entry.
std::optional<std::uint32_t> Integer(const TiffReader& tiff, const Entry& e) {
  if (e.count < 1) return std::nullopt;
  if (e.type == kShort) return tiff.U16(e.value_offset);
  if (e.type == kLong) return tiff.U32(e.value_offset);
  return std::nullopt;
}

// The first value of an unsigned RATIONAL (or integer) entry, when finite and positive.
std::optional<double> Positive(const TiffReader& tiff, const Entry& e) {
  double value = 0.0;
  if (e.type == kRational && e.count >= 1) {
    const auto num = tiff.U32(e.value_offset), den = tiff.U32(e.value_offset + 4);
    if (!num || !den || *den == 0) return std::nullopt;
    value = static_cast<double>(*num) / static_cast<double>(*den);
  } else if (const auto integer = Integer(tiff, e)) {
    value = *integer;
  }
  if (!(value > 0.0) || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::string Ascii(const TiffReader& tiff, const Entry& e) {
  if (e.type != kAscii) return {};
  const char* begin = reinterpret_cast<const char*>(tiff.Data(e.value_offset));
  std::string text(begin, begin + e.count);
  text = text.substr(0, text.find('\0'));
  while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.pop_back();
  return text;
}

// Calls visit(entry) for every well-formed entry of the IFD at `offset`. False when the IFD
// itself lies outside the block.
template <typename Visit>
bool ForEachEntry(const TiffReader& tiff, std::uint64_t offset, Visit&& visit) {
  const auto count = tiff.U16(offset);
  if (!count || !tiff.Fits(offset + 2, std::uint64_t{*count} * 12)) return false;
  for (std::uint32_t i = 0; i < *count; ++i) {
    if (const auto entry = ReadEntry(tiff, offset + 2 + 12 * std::uint64_t{i})) visit(*entry);
  }
  return true;
}

std::uint16_t BigEndian16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t BigEndian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

// Reads exactly `n` bytes or throws, naming the file and where the data ran out.
void ReadExactly(std::ifstream& in, std::uint8_t* out, std::size_t n, const fs::path& path,
                 const char* what) {
  const auto at = static_cast<long long>(in.tellg());
  in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
  FACET_CHECK(in.gcount() == static_cast<std::streamsize>(n),
              "cannot read the header of '{}': the file ends inside the {} at byte {} (the file is "
              "truncated or not an image; re-export it)",
              path.string(), what, at);
}

bool IsStartOfFrame(std::uint8_t marker) {
  // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC).
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

ImageHeader ReadJpegHeader(std::ifstream& in, const fs::path& path, std::uint64_t file_size) {
  ImageHeader header;
  header.format = ImageFormat::kJpeg;
  in.seekg(2);  // past SOI
  std::vector<std::uint8_t> segment;
  for (;;) {
    // A marker is 0xFF (possibly repeated as fill bytes) followed by a non-0xFF code.
    std::uint8_t byte = 0;
    ReadExactly(in, &byte, 1, path, "JPEG marker");
    FACET_CHECK(byte == 0xFF,
                "cannot read the header of '{}': expected a JPEG marker at byte {}, found 0x{:02X} "
                "(the file is corrupt)",
                path.string(), static_cast<long long>(in.tellg()) - 1, byte);
    std::uint8_t marker = 0xFF;
    while (marker == 0xFF) ReadExactly(in, &marker, 1, path, "JPEG marker");
    const auto marker_at = static_cast<long long>(in.tellg()) - 2;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length field
    FACET_CHECK(marker != 0xD9 && marker != 0xDA,
                "cannot read the header of '{}': the JPEG has no frame header before byte {} "
                "(the file is corrupt)",
                path.string(), marker_at);
    std::uint8_t length_bytes[2];
    ReadExactly(in, length_bytes, 2, path, "JPEG segment length");
    const std::uint16_t length = BigEndian16(length_bytes);
    const std::uint64_t data_at = static_cast<std::uint64_t>(in.tellg());
    FACET_CHECK(length >= 2 && data_at + length - 2 <= file_size,
                "cannot read the header of '{}': the JPEG segment 0x{:02X} at byte {} claims {} "
                "bytes, past the end of the {}-byte file (the file is truncated or corrupt)",
                path.string(), marker, marker_at, length, file_size);
    const std::size_t data_length = length - 2u;
    if (IsStartOfFrame(marker)) {
      std::uint8_t sof[6];
      FACET_CHECK(data_length >= 6,
                  "cannot read the header of '{}': the JPEG frame header at byte {} is {} bytes, "
                  "shorter than 6",
                  path.string(), marker_at, data_length);
      ReadExactly(in, sof, 6, path, "JPEG frame header");
      header.bit_depth = sof[0];
      header.stored_height = BigEndian16(sof + 1);
      header.stored_width = BigEndian16(sof + 3);
      header.channels = sof[5];
      FACET_CHECK(header.stored_width > 0 && header.stored_height > 0 && header.channels > 0,
                  "cannot read the header of '{}': the JPEG frame header at byte {} gives size "
                  "{}x{} with {} components (the file is corrupt, or uses DNL heights, which "
                  "facet does not read)",
                  path.string(), marker_at, header.stored_width, header.stored_height,
                  header.channels);
      return header;
    }
    static constexpr std::uint8_t kExifId[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (marker == 0xE1 && !header.exif && data_length > sizeof(kExifId)) {
      segment.resize(data_length);
      ReadExactly(in, segment.data(), data_length, path, "APP1 segment");
      if (std::memcmp(segment.data(), kExifId, sizeof(kExifId)) == 0) {
        header.exif = ParseExifTiff(std::span(segment).subspan(sizeof(kExifId)));
      }
    } else {
      in.seekg(static_cast<std::streamoff>(data_at + data_length));
    }
  }
}

ImageHeader ReadPngHeader(std::ifstream& in, const fs::path& path) {
  // Signature (8) + IHDR length (4) + "IHDR" (4) + width, height (8) + depth, colour type (2).
  std::uint8_t bytes[26];
  ReadExactly(in, bytes, sizeof(bytes), path, "PNG header");
  FACET_CHECK(BigEndian32(bytes + 8) == 13 && std::memcmp(bytes + 12, "IHDR", 4) == 0,
              "cannot read the header of '{}': the PNG does not start with an IHDR chunk at byte "
              "8 (the file is corrupt)",
              path.string());
  const std::uint32_t width = BigEndian32(bytes + 16), height = BigEndian32(bytes + 20);
  FACET_CHECK(width > 0 && height > 0 && width <= 0x7fffffffu && height <= 0x7fffffffu,
              "cannot read the header of '{}': the PNG size {}x{} at byte 16 is invalid",
              path.string(), width, height);
  ImageHeader header;
  header.format = ImageFormat::kPng;
  header.stored_width = static_cast<int>(width);
  header.stored_height = static_cast<int>(height);
  header.bit_depth = bytes[24];
  switch (bytes[25]) {  // colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
    case 0:
      header.channels = 1;
      break;
    case 2:
    case 3:
      header.channels = 3;
      break;
    case 4:
      header.channels = 2;
      break;
    case 6:
      header.channels = 4;
      break;
    default:
      FACET_THROW("cannot read the header of '{}': unknown PNG colour type {} at byte 25",
                  path.string(), bytes[25]);
  }
  return header;
}

}  // namespace

std::optional<ExifInfo> ParseExifTiff(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 8) return std::nullopt;
  bool big_endian = false;
  if (bytes[0] == 'M' && bytes[1] == 'M') {
    big_endian = true;
  } else if (!(bytes[0] == 'I' && bytes[1] == 'I')) {
    return std::nullopt;
  }
  const TiffReader tiff(bytes, big_endian);
  const auto magic = tiff.U16(2);
  const auto ifd0 = tiff.U32(4);
  if (!magic || *magic != 42 || !ifd0) return std::nullopt;

  ExifInfo info;
  std::optional<std::uint32_t> exif_ifd;
  const bool ok = ForEachEntry(tiff, *ifd0, [&](const Entry& e) {
    switch (e.tag) {
      case 0x010F:
        info.make = Ascii(tiff, e);
        break;
      case 0x0110:
        info.model = Ascii(tiff, e);
        break;
      case 0x0112:
        if (const auto v = Integer(tiff, e); v && *v >= 1 && *v <= 8) {
          info.orientation = static_cast<int>(*v);
        }
        break;
      case 0x8769:
        exif_ifd = Integer(tiff, e);
        break;
      default:
        break;
    }
  });
  if (!ok) return std::nullopt;
  if (!exif_ifd) return info;
  ForEachEntry(tiff, *exif_ifd, [&](const Entry& e) {
    switch (e.tag) {
      case 0x920A:
        info.focal_length_mm = Positive(tiff, e);
        break;
      case 0xA405:
        info.focal_length_35mm = Positive(tiff, e);
        break;
      case 0xA20E:
        info.focal_plane_x_resolution = Positive(tiff, e);
        break;
      case 0xA20F:
        info.focal_plane_y_resolution = Positive(tiff, e);
        break;
      case 0xA210: {
        const auto unit = Integer(tiff, e);
        static constexpr double kUnitMm[] = {0.0, 0.0, 25.4, 10.0, 1.0, 0.001};
        info.focal_plane_unit_mm = std::nullopt;
        if (unit && *unit >= 2 && *unit <= 5) info.focal_plane_unit_mm = kUnitMm[*unit];
        break;
      }
      case 0xA002:
      case 0xA003:
        if (const auto v = Integer(tiff, e); v && *v > 0 && *v <= 0x7fffffffu) {
          (e.tag == 0xA002 ? info.pixel_x_dimension : info.pixel_y_dimension) =
              static_cast<int>(*v);
        }
        break;
      default:
        break;
    }
  });
  return info;
}

ImageHeader ReadImageHeader(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  FACET_CHECK(in.good(), "cannot open '{}' (check that the file exists and is readable)",
              path.string());
  std::error_code ec;
  const std::uint64_t file_size = fs::file_size(path, ec);
  FACET_CHECK(!ec, "cannot read the size of '{}': {}", path.string(), ec.message());
  std::uint8_t magic[8] = {};
  in.read(reinterpret_cast<char*>(magic), sizeof(magic));
  const auto got = static_cast<std::size_t>(in.gcount());
  in.clear();
  static constexpr std::uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (got == 8 && std::memcmp(magic, kPng, 8) == 0) {
    in.seekg(0);
    return ReadPngHeader(in, path);
  }
  if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
    return ReadJpegHeader(in, path, file_size);
  }
  FACET_THROW("cannot read '{}': not a JPEG or PNG file (convert it, or remove it from the input)",
              path.string());
}

}  // namespace facet::datasets
