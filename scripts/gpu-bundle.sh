#!/usr/bin/env bash
# Packs what a bare CUDA machine needs to run facet's GPU checks without building or installing
# anything (the device machine lent to some sessions has nvcc and CMake but none of facet's
# libraries, and cannot reach a package mirror): the CUDA test binaries, the GPU benchmarks,
# viewer_fps and the facet program built here with CUDA, plus every shared library they load that
# is not glibc or CUDA's, into .gpu/bundle.tar.xz (about 20 MB; with --facet-only, the program
# alone). OpenCV's optional codecs (GDAL, GDCM, OpenEXR), which facet never calls, are replaced by
# stand-ins (scripts/gpu/stub_library.py). Run it there with `scripts/gpu-check.sh --prebuilt
# .gpu/bundle.tar.xz`; data the check should use can travel in .gpu/ too (FACET_LEGO).
#   scripts/gpu-bundle.sh [BUILD_DIR] [--facet-only]   (default build/release, built with CUDA)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build/release}"
facet_only="${2:-}"
[[ -x "$build/bin/facet" ]] || { echo "gpu-bundle.sh: build $build first (with CUDA)" >&2; exit 1; }

mkdir -p .gpu/stubs
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
binaries=("$build/bin/facet")
if [[ "$facet_only" != "--facet-only" ]]; then
  while IFS= read -r file; do binaries+=("$file"); done < <(
    find "$build/tests" -type f -name '*_cuda_test' -perm -u+x
    find "$build/bench" -maxdepth 1 -type f \( -name '*cuda_bench' -o -name 'nerf_bench' \
      -o -name 'viewer_fps' \) -perm -u+x)
fi
imgcodecs="$(ldd "$build/bin/facet" | awk '/libopencv_imgcodecs/ {print $3}')"
for library in $(ldd "$imgcodecs" | awk '$1 ~ /^lib(gdal|gdcm(MSFF|DSED)|OpenEXR)/ {print $3}'); do
  name="$(basename "$library")"
  python3 scripts/gpu/stub_library.py "$imgcodecs" "$library" ".gpu/stubs/$name.c"
  cc -shared -fPIC -o ".gpu/stubs/$name" -Wl,-soname,"$name" ".gpu/stubs/$name.c"
done
# Shared libraries, resolved here; glibc's own and the CUDA driver/runtime/cuBLAS come from the
# device image.
for binary in "${binaries[@]}"; do LD_LIBRARY_PATH=.gpu/stubs ldd "$binary"; done |
  awk '$3 ~ /^\// {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so|libcuda\.so|libcudart|libcublas|\.gpu/stubs' \
    >.gpu/libraries.txt
tar -chf - "${binaries[@]}" .gpu/stubs/*.so* -T .gpu/libraries.txt 2>/dev/null |
  xz -T0 -6 >.gpu/bundle.tar.xz
echo "gpu-bundle.sh: ${#binaries[@]} programs and $(wc -l <.gpu/libraries.txt) libraries in" \
  ".gpu/bundle.tar.xz ($(du -h .gpu/bundle.tar.xz | cut -f1))"
