#!/usr/bin/env bash
# `make bench`: authpulse beside the alternatives (size, fetch overhead, activity cost, renewals,
# memory, start-up), printed as one Markdown table and written to docs/BENCHMARKS.md with the command that
# made it. Benchmarks print figures; they never fail on a number. A part that cannot run yet is
# reported as "not measured: <reason>".
# Run after `scripts/setup.sh browser` and `scripts/build.sh` (the Makefile does both).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
say() { printf 'bench: %s\n' "$*" >&2; }
start=$(date +%s)
if [ -n "${MAKELEVEL:-}" ]; then command_line="make bench"; else command_line="scripts/bench.sh"; fi

out=target/bench
mkdir -p "$out"
rm -f "$out"/*.json

# The alternatives and esbuild, pinned in bench/package-lock.json.
if [ ! -x bench/node_modules/.bin/esbuild ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
  say "installing the alternatives (npm ci --prefix bench)"
  npm ci --prefix bench --no-audit --no-fund --loglevel=error || exit 1
fi

say "1. size"
node bench/size.mjs "$out/size.json"

say "1. where the wasm bytes go (twiggy)"
if ! command -v twiggy >/dev/null; then
  say "installing twiggy from crates.io"
  cargo install twiggy --locked
fi
# The release artifact scripts/build.sh made (the same cargo features, so a no-op build), through
# wasm-bindgen and the wasm-opt flags of Cargo.toml's wasm-pack release profile plus -g, so the
# function names survive.
named=target/bench-pkg
features=$(sed -n 's/^wasm-pack build.* -- \(.*\) 1>&2$/\1/p' scripts/build.sh)
opt_flags=$(node -e '
  const toml = require("fs").readFileSync("Cargo.toml", "utf8");
  const section = toml.split("[package.metadata.wasm-pack.profile.release]")[1] ?? "";
  const line = /^wasm-opt\s*=\s*(\[.*\])/m.exec(section);
  console.log((line ? JSON.parse(line[1]) : ["-Oz"]).filter((f) => !/^--strip-(debug|dwarf)$/.test(f)).join(" "));')
# shellcheck disable=SC2086 # word splitting of the flag lists is intended
if cargo build --quiet --lib --release --target wasm32-unknown-unknown $features &&
  rm -rf "$named" &&
  wasm-bindgen --target web --out-dir "$named" --out-name authpulse \
    target/wasm32-unknown-unknown/release/authpulse.wasm &&
  wasm-opt $opt_flags -g "$named/authpulse_bg.wasm" -o "$named/authpulse_named.wasm"; then
  node bench/wasm-size.mjs "$named/authpulse_named.wasm" "$out/wasm.json"
fi

say "6. start-up: import to a ready client (headless Chromium)"
node bench/startup.mjs "$out/startup.json"

say "2-3. fetch overhead and activity cost (headless Chromium)"
node bench/overhead.mjs "$out/overhead.json"

say "4-5. renewals and memory (reference server, simulated time)"
if cargo build --quiet -p authpulse-server; then
  node bench/session.mjs target/debug/authpulse-server "$out/session.json"
else
  echo '{"failed": "not measured: the reference server does not build"}' >"$out/session.json"
fi

wall=$(($(date +%s) - start))
cp /proc/loadavg "$out/loadavg" 2>/dev/null || true
mkdir -p docs
node bench/report.mjs "$out" "$command_line" "$wall" >docs/BENCHMARKS.md
cat docs/BENCHMARKS.md
say "written to docs/BENCHMARKS.md in ${wall} s"
