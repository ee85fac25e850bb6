# Script mode: writes OUT from IN with the current git revision; touches OUT only when the text
# changes, so an unchanged tree does not relink.
execute_process(COMMAND git rev-parse --short=10 HEAD
  WORKING_DIRECTORY "${SOURCE_DIR}" OUTPUT_VARIABLE FACET_GIT_HASH
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT FACET_GIT_HASH)
  set(FACET_GIT_HASH "unknown")
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no
    WORKING_DIRECTORY "${SOURCE_DIR}" OUTPUT_VARIABLE dirty ERROR_QUIET)
  if(dirty)
    string(APPEND FACET_GIT_HASH "-dirty")
  endif()
endif()
set(FACET_VERSION "${VERSION}")
configure_file("${IN}" "${OUT}.new" @ONLY)
file(COPY_FILE "${OUT}.new" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.new")
