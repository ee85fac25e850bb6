# Third-party packages, found the documented way (see ../shared/BUILD-NOTES.md). Every one of them
# is a Debian 12 package that scripts/deps.sh installs. Modules link the imported targets.
find_package(TBB REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(OpenCV 4.6 REQUIRED COMPONENTS core imgproc imgcodecs features2d calib3d)

if(FACET_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(FACET_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
find_package(nlohmann_json REQUIRED)
if(FACET_BUILD_TESTS)
  find_package(JPEG REQUIRED)  # datasets tests write CMYK JPEGs with libjpeg
endif()
find_package(TinyGLTF REQUIRED)  # datasets/gltf.cpp; a shared library: never define TINYGLTF_IMPLEMENTATION
