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

mkdir -p "$out"
echo
"$facet" --version
echo
echo "demo.sh: the pipeline stages are not in this build yet; the foundation (core library and"
echo "the facet program) is. See README.md for what each stage will run here."
"$facet" --help
