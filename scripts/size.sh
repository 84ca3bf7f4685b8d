#!/usr/bin/env bash
# Prints the gzip -9 size of what a browser downloads from pkg/: the wasm module and index.js
# (the browser adapters with wasm-bindgen's glue bundled in).
set -euo pipefail
cd "$(dirname "$0")/.."
total=0
for f in pkg/authpulse_bg.wasm pkg/index.js; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  total=$((total + gz))
  printf '%-24s %8d bytes  %7d gzip -9\n' "$f" "$raw" "$gz"
done
printf '%-24s %8s        %7d gzip -9 (%d.%d KB)\n' "total" "" "$total" $((total / 1000)) $((total % 1000 / 100))
