#!/usr/bin/env bash
# make docs: Doxygen over lib/'s headers and the stages' contract headers.
# Fails on any warning (an undocumented public function is one).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v doxygen >/dev/null || { echo "docs: doxygen is missing (make deps)" >&2; exit 1; }
mkdir -p build/docs
doxygen docs/Doxyfile
echo "docs: build/docs/html/index.html"
