#!/usr/bin/env bash
# The README's demo command: install dependencies, build, and run the most complete stage facet
# has on its built-in synthetic scene. It grows with the pipeline; it never fakes output.
#   scripts/demo.sh [OUTPUT_DIR]    (default: demo-out/)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${1:-demo-out}"

bash scripts/deps.sh
preset="${FACET_PRESET:-release}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)" --target facet
facet="build/$preset/bin/facet"

echo
"$facet" --version
echo
# Stage 1 of the pipeline that exists today: the built-in synthetic scene, a photo set of a known
# object with ground-truth cameras and mesh. Later stages (SfM, splatting, meshing) run on it here
# as they land.
"$facet" synth -o "$out/synthetic"
echo
echo "demo.sh: the synthetic scene is in $out/synthetic:"
for entry in "$out"/synthetic/*; do
  if [[ -d "$entry" ]]; then
    echo "  $(basename "$entry")/  ($(find "$entry" -type f | wc -l) files)"
  else
    echo "  $(basename "$entry")"
  fi
done
