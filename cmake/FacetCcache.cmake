# Use ccache for C++ and CUDA when it is installed (CI and rebuilds get much faster).
find_program(FACET_CCACHE ccache)
if(FACET_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${FACET_CCACHE}")
  set(CMAKE_CUDA_COMPILER_LAUNCHER "${FACET_CCACHE}")
  message(STATUS "ccache: ${FACET_CCACHE}")
endif()
