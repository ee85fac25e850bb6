# Third-party packages, found the documented way (see ../shared/BUILD-NOTES.md). Every one of them
# is a Debian 12 package that scripts/deps.sh installs. Modules link the imported targets; a
# package is found here even before the module that uses it exists, so a missing one fails at
# configure time on a fresh machine rather than in a later issue.
find_package(TBB REQUIRED)                            # core: ParallelFor
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)                          # apps
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(OpenCV 4.6 REQUIRED COMPONENTS core imgproc imgcodecs features2d calib3d)
find_package(nlohmann_json REQUIRED)                  # datasets: transforms.json
find_package(TinyGLTF REQUIRED)                       # datasets: .glb; a shared library, so never define TINYGLTF_IMPLEMENTATION
find_package(Ceres 2.1 REQUIRED)                      # sfm: bundle adjustment
find_package(nanoflann REQUIRED)                      # geometry: nearest neighbours
find_package(Vulkan 1.3 REQUIRED COMPONENTS glslc)    # viewer
find_package(glfw3 3.3 REQUIRED)                      # viewer
find_package(PkgConfig REQUIRED)
pkg_check_modules(IMGUI REQUIRED IMPORTED_TARGET imgui)  # viewer; Dear ImGui 1.86 has no CMake config

if(FACET_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
  find_package(JPEG REQUIRED)  # datasets tests write CMYK JPEGs with libjpeg
endif()
if(FACET_BUILD_TESTS OR FACET_BUILD_BENCH)
  # Open3D is an oracle for tests and benchmarks only, never linked into the library or the viewer
  # (it exports its own ImGui symbols). No version: its config demands an exact match.
  find_package(Open3D REQUIRED)
endif()
if(FACET_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
