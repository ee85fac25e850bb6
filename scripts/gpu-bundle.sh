#!/usr/bin/env bash
# Packs what a bare CUDA machine needs to run facet's GPU checks without building or installing
# anything (the device machine lent to some sessions has nvcc and CMake but none of facet's
# libraries, and cannot reach a package mirror): the CUDA test binaries, the GPU benchmarks and
# the facet program built here with CUDA, plus every shared library they load that is not glibc
# or CUDA's, into .gpu/bundle.tar.xz (about 60 MB). Run it there with
# `scripts/gpu-check.sh --prebuilt .gpu/bundle.tar.xz`.
#   scripts/gpu-bundle.sh [BUILD_DIR]   (default build/release, configured with FACET_CUDA on)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build/release}"
[[ -x "$build/bin/facet" ]] || { echo "gpu-bundle.sh: build $build first (with CUDA)" >&2; exit 1; }

mkdir -p .gpu
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
binaries=("$build/bin/facet")
while IFS= read -r file; do binaries+=("$file"); done < <(
  find "$build/tests" -type f -name '*_cuda_test' -perm -u+x
  find "$build/bench" -maxdepth 1 -type f \( -name '*cuda_bench' -o -name 'nerf_bench' \) -perm -u+x)
# Shared libraries, resolved here; glibc's own and the CUDA driver/runtime/cuBLAS come from the
# device image.
for binary in "${binaries[@]}"; do ldd "$binary"; done | awk '$3 ~ /^\// {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so|libcuda\.so|libcudart|libcublas' \
    >.gpu/libraries.txt
tar -chf - "${binaries[@]}" -T .gpu/libraries.txt 2>/dev/null | xz -T0 -6 >.gpu/bundle.tar.xz
echo "gpu-bundle.sh: ${#binaries[@]} programs and $(wc -l <.gpu/libraries.txt) libraries in" \
  ".gpu/bundle.tar.xz ($(du -h .gpu/bundle.tar.xz | cut -f1))"
