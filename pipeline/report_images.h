// The images of report.html: conversion to RGB, downscaling, PNG encoding into base64 data URIs,
// and the held-out views' error maps (declared in report.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/image.h"

namespace facet::pipeline {

// Standard base64 (RFC 4648, with '=' padding).
std::string Base64(std::span<const std::uint8_t> bytes);

// 1-, 3- or 4-channel 8-bit image as 3-channel RGB (gray replicated, alpha dropped).
ImageU8 ToRgb(const ImageU8& image);

// The image scaled down (area averaging, aspect kept) to at most `max_width` pixels wide; a copy
// when it is already narrow enough.
ImageU8 DownscaleToWidth(const ImageU8& image, int max_width);

// "data:image/png;base64,..." for an 8-bit image of 1, 3 or 4 channels. Throws facet::Error for
// an empty image or when encoding fails.
std::string PngDataUri(const ImageU8& image);

}  // namespace facet::pipeline
