// Builders for EXIF test files: an EXIF block ("Exif\0\0" + TIFF, either byte order) with IFD0
// and an Exif IFD, and its insertion into a JPEG as an APP1 segment.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/file_io.h"

namespace facet::testing {

// TIFF 6.0 section 2: header (byte order, 42, offset of IFD0), then IFDs of 12-byte entries
// (tag, type, count, value or offset; values of at most 4 bytes are stored inline, left-aligned).
class ExifBuilder {
 public:
  explicit ExifBuilder(bool big_endian = false) : big_endian_(big_endian) {}

  void Ifd0Short(std::uint16_t tag, std::uint16_t value) { ifd0_.push_back(Short(tag, value)); }
  void Ifd0Ascii(std::uint16_t tag, const std::string& text) {
    ifd0_.push_back({tag, kAscii, 0, {}, text});
  }
  void Make(const std::string& text) { Ifd0Ascii(0x010F, text); }
  void Model(const std::string& text) { Ifd0Ascii(0x0110, text); }
  void ExifShort(std::uint16_t tag, std::uint16_t value) { exif_.push_back(Short(tag, value)); }
  void ExifLong(std::uint16_t tag, std::uint32_t value) {
    exif_.push_back({tag, kLong, value, {}, {}});
  }
  void ExifRational(std::uint16_t tag, std::uint32_t num, std::uint32_t den) {
    exif_.push_back({tag, kRational, 0, {num, den}, {}});
  }

  // The TIFF structure alone: what datasets::ParseExifTiff takes.
  std::vector<std::uint8_t> BuildTiff() const {
    // Layout: header (8) | IFD0 (+ Exif IFD pointer) | Exif IFD | data area.
    const std::size_t n0 = ifd0_.size() + 1;
    const std::size_t ifd0_at = 8, exif_at = ifd0_at + 2 + 12 * n0 + 4;
    const std::size_t data_at = exif_at + 2 + 12 * exif_.size() + 4;
    std::vector<std::uint8_t> t;
    std::vector<std::uint8_t> data;
    auto put16 = [&](std::vector<std::uint8_t>& out, std::uint16_t v) {
      for (int i = 0; i < 2; ++i) out.push_back((v >> (8 * (big_endian_ ? 1 - i : i))) & 0xff);
    };
    auto put32 = [&](std::vector<std::uint8_t>& out, std::uint32_t v) {
      for (int i = 0; i < 4; ++i) out.push_back((v >> (8 * (big_endian_ ? 3 - i : i))) & 0xff);
    };
    t.push_back(big_endian_ ? 'M' : 'I');
    t.push_back(big_endian_ ? 'M' : 'I');
    put16(t, 42);
    put32(t, static_cast<std::uint32_t>(ifd0_at));
    auto entry = [&](const Field& f) {
      put16(t, f.tag);
      put16(t, f.type);
      if (f.type == kRational) {
        put32(t, 1);
        put32(t, static_cast<std::uint32_t>(data_at + data.size()));
        for (std::uint32_t v : f.rational) put32(data, v);
      } else if (f.type == kAscii) {
        std::vector<std::uint8_t> text(f.text.begin(), f.text.end());
        text.push_back(0);
        put32(t, static_cast<std::uint32_t>(text.size()));
        if (text.size() <= 4) {
          text.resize(4, 0);
          t.insert(t.end(), text.begin(), text.end());
        } else {
          put32(t, static_cast<std::uint32_t>(data_at + data.size()));
          data.insert(data.end(), text.begin(), text.end());
        }
      } else if (f.type == kShort) {
        put32(t, 1);
        put16(t, static_cast<std::uint16_t>(f.value));  // left-aligned in the 4-byte field
        put16(t, 0);
      } else {
        put32(t, 1);
        put32(t, f.value);
      }
    };
    put16(t, static_cast<std::uint16_t>(n0));
    for (const Field& f : ifd0_) entry(f);
    entry({0x8769, kLong, static_cast<std::uint32_t>(exif_at), {}, {}});
    put32(t, 0);
    put16(t, static_cast<std::uint16_t>(exif_.size()));
    for (const Field& f : exif_) entry(f);
    put32(t, 0);
    t.insert(t.end(), data.begin(), data.end());
    return t;
  }

  // "Exif\0\0" + BuildTiff(): the payload of a JPEG APP1 segment.
  std::vector<std::uint8_t> Build() const {
    static constexpr std::uint8_t kExifId[6] = {'E', 'x', 'i', 'f', 0, 0};
    const std::vector<std::uint8_t> tiff = BuildTiff();
    std::vector<std::uint8_t> block(std::begin(kExifId), std::end(kExifId));
    block.reserve(block.size() + tiff.size());  // (also keeps g++ 12's -Warray-bounds quiet)
    block.insert(block.end(), tiff.begin(), tiff.end());
    return block;
  }

 private:
  static constexpr std::uint16_t kAscii = 2, kShort = 3, kLong = 4, kRational = 5;
  struct Field {
    std::uint16_t tag = 0, type = 0;
    std::uint32_t value = 0;
    std::array<std::uint32_t, 2> rational{};
    std::string text{};
  };
  static Field Short(std::uint16_t tag, std::uint16_t value) {
    return {tag, kShort, value, {}, {}};
  }

  bool big_endian_;
  std::vector<Field> ifd0_, exif_;
};

// Inserts an APP1 segment holding `exif` right after the JPEG's SOI marker.
inline void InsertApp1(const std::filesystem::path& jpeg, const std::vector<std::uint8_t>& exif) {
  std::vector<std::uint8_t> bytes = ReadFile(jpeg);
  const std::size_t length = exif.size() + 2;
  std::vector<std::uint8_t> segment;
  segment.reserve(4 + exif.size());
  segment.push_back(0xFF);
  segment.push_back(0xE1);
  segment.push_back(static_cast<std::uint8_t>(length >> 8));
  segment.push_back(static_cast<std::uint8_t>(length & 0xff));
  segment.insert(segment.end(), exif.begin(), exif.end());
  bytes.insert(bytes.begin() + 2, segment.begin(), segment.end());
  WriteFileAtomically(jpeg, std::span<const std::uint8_t>(bytes));
}

}  // namespace facet::testing
