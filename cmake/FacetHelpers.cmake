# facet_add_library / facet_add_test / facet_add_bench: the only way targets are made, so that
# every module gets the same standard, warnings, include root and CUDA handling.

# Warnings for facet's own code. Third-party headers come in through imported targets, whose
# include directories are SYSTEM, so they do not trip -Werror.
function(facet_set_warnings target)
  set(cxx_flags -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
                -Woverloaded-virtual -Wimplicit-fallthrough)
  if(FACET_WERROR)
    list(APPEND cxx_flags -Werror)
  endif()
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${cxx_flags}>)
  if(FACET_WITH_CUDA)
    set(cuda_flags --extended-lambda --expt-relaxed-constexpr -Xcompiler=-Wall,-Wextra)
    if(FACET_WERROR)
      list(APPEND cuda_flags --Werror=all-warnings -Xcompiler=-Werror)
    endif()
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:${cuda_flags}>)
  endif()
endfunction()

# facet_add_library(NAME core SRCS a.cpp ... [CUDA_SRCS k.cu ...]
#                   [PUBLIC_LINK ...] [PRIVATE_LINK ...])
# Creates facet_<NAME> with alias facet::<NAME>. CUDA_SRCS are compiled only when the CUDA fast
# path is built; the library then defines FACET_WITH_CUDA=1 for itself and its users.
function(facet_add_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;CUDA_SRCS;PUBLIC_LINK;PRIVATE_LINK" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_SRCS)
    message(FATAL_ERROR "facet_add_library needs NAME and SRCS")
  endif()
  set(target facet_${ARG_NAME})
  set(srcs ${ARG_SRCS})
  if(FACET_WITH_CUDA)
    list(APPEND srcs ${ARG_CUDA_SRCS})
  endif()
  add_library(${target} STATIC ${srcs})
  add_library(facet::${ARG_NAME} ALIAS ${target})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_LINK} PRIVATE ${ARG_PRIVATE_LINK})
  if(FACET_WITH_CUDA)
    target_compile_definitions(${target} PUBLIC FACET_WITH_CUDA=1)
    target_link_libraries(${target} PUBLIC CUDA::cudart_static)
    set_target_properties(${target} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
  endif()
  facet_set_warnings(${target})
endfunction()

# facet_add_test(NAME core_test SRCS ... [CUDA_SRCS ...] [LINK ...] [LABELS ...] [DEFINITIONS ...]
#                [TIMEOUT seconds] [ENVIRONMENT VAR=value ...])
# One GoogleTest binary; each TEST becomes a ctest entry carrying LABELS. Tests with label
# "gpu" are excluded from the default run (`ctest -LE gpu`) and skip themselves without a device.
function(facet_add_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;CUDA_SRCS;LINK;LABELS;DEFINITIONS;ENVIRONMENT"
                        ${ARGN})
  set(srcs ${ARG_SRCS})
  if(FACET_WITH_CUDA)
    list(APPEND srcs ${ARG_CUDA_SRCS})
  endif()
  if(NOT srcs)
    return()
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${ARG_NAME} ${srcs})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LINK} GTest::gtest GTest::gtest_main)
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${ARG_NAME} PRIVATE
    FACET_SOURCE_DIR="${PROJECT_SOURCE_DIR}" ${ARG_DEFINITIONS})
  facet_set_warnings(${ARG_NAME})
  set(labels ${ARG_LABELS})
  if(NOT labels)
    set(labels unit)
  endif()
  gtest_discover_tests(${ARG_NAME}
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
    PROPERTIES LABELS "${labels}" TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${ARG_ENVIRONMENT}"
    DISCOVERY_MODE PRE_TEST)
endfunction()

# facet_add_bench(NAME core_bench SRCS ... [CUDA_SRCS ...] [LINK ...])
function(facet_add_bench)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;CUDA_SRCS;LINK" ${ARGN})
  set(srcs ${ARG_SRCS})
  if(FACET_WITH_CUDA)
    list(APPEND srcs ${ARG_CUDA_SRCS})
  endif()
  add_executable(${ARG_NAME} ${srcs})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LINK} benchmark::benchmark)
  facet_set_warnings(${ARG_NAME})
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)
endfunction()
