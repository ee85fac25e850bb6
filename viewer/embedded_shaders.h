// The SPIR-V of viewer/shaders/, compiled by glslc at build time and linked into facet_viewer
// (cmake/FacetShaders.cmake generates the definition), so `facet view` needs no shader files.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace facet::viewer {

// The SPIR-V words of the shader file `name` ("mesh.vert"); throws facet::Error for an unknown
// name. The words live as long as the program.
std::span<const std::uint32_t> EmbeddedShader(std::string_view name);

}  // namespace facet::viewer
