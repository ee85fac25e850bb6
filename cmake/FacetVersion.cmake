# core/version.cpp is generated at build time (not configure time) so that `facet --version`
# names the commit that was actually built.
set(FACET_VERSION_IN "${PROJECT_SOURCE_DIR}/cmake/version.cpp.in")
set(FACET_VERSION_OUT "${PROJECT_BINARY_DIR}/generated/core/version.cpp")
add_custom_target(facet_version_file
  BYPRODUCTS "${FACET_VERSION_OUT}"
  COMMAND ${CMAKE_COMMAND}
    -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DIN=${FACET_VERSION_IN} -DOUT=${FACET_VERSION_OUT}
    -DVERSION=${PROJECT_VERSION}
    -P ${PROJECT_SOURCE_DIR}/cmake/WriteVersion.cmake
  COMMENT "Stamping the git revision into version.cpp"
  VERBATIM)
