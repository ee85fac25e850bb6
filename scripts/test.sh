#!/usr/bin/env bash
# The README's test command: install dependencies, configure, build, run every CPU test.
#   scripts/test.sh                 release preset (CUDA compiled when nvcc is found)
#   CI=true scripts/test.sh         ci preset (CUDA compiled for sm_90, warnings as errors)
#   FACET_PRESET=asan scripts/test.sh   any preset from CMakePresets.json
#   FACET_SKIP_ASAN=1 scripts/test.sh   skip the sanitizer run of the corruption tests
# GPU tests (label "gpu") are left to scripts/gpu-check.sh on a machine with a GPU. The fuzz tests
# (label "fuzz": thousands of corrupted files per reader) run a second time under AddressSanitizer
# and UBSan, where a memory error in a reader becomes a failure instead of silent damage.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

preset="${FACET_PRESET:-}"
if [[ -z "$preset" ]]; then
  preset=release
  if [[ "${CI:-}" == "true" ]]; then
    if [[ -x /usr/local/cuda/bin/nvcc ]] || command -v nvcc >/dev/null; then
      preset=ci
    else
      echo "test.sh: no nvcc on this machine; CI falls back to the release preset (CPU only)"
    fi
  fi
fi
jobs="$(nproc)"
# ccache hits across clones in other folders (CI builds a fresh clone): hash paths relative to here.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"

echo "test.sh: configuring with preset '$preset'"
cmake --preset "$preset" >/dev/null
echo "test.sh: building with $jobs jobs"
cmake --build --preset "$preset" -j "$jobs"
status=0
if [[ "${FACET_SKIP_ASAN:-0}" != "1" && "$preset" != "asan" ]]; then
  echo "test.sh: corruption tests under AddressSanitizer + UBSan (asan preset)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs" --target datasets_fuzz_test
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/asan --output-on-failure -L fuzz -j2 --no-tests=error || status=1
fi
echo "test.sh: testing"
ctest --test-dir "build/$preset" --output-on-failure -LE gpu -j2 --no-tests=error || status=1
exit "$status"
