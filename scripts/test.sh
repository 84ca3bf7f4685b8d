#!/usr/bin/env bash
# Runs every test and ends with one summary of what ran:
#   check    cargo fmt, clippy -D warnings (native and wasm32)
#   native   cargo test --workspace: the core's unit, scenario and property tests, the server's
#   browser  wasm-bindgen-test in headless Chromium: the browser adapters and the JS facade
#   web      wasm-bindgen-test in headless Chromium: the Rust driver (features web, reqwest), and
#            its doc examples compiled for wasm32
#   e2e      Playwright in Debian's Chromium: the built pkg/ (and the Rust example app, beside
#            it) against the reference server
# Set-up (scripts/setup.sh browser) has run before, through `make test`.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}"

logs=target/test-logs
mkdir -p "$logs"
declare -A passed failed seconds
order=()
broken=()

# cargo and wasm-bindgen-test print `test result: ok. N passed; M failed; …` per binary.
cargo_counts() {
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
       END { print p + 0, f + 0 }' "$1"
}
# Playwright's list reporter closes with `  N passed (12.3s)` and `  M failed`.
playwright_counts() {
  awk '/^ +[0-9]+ passed/ { p = $1 } /^ +[0-9]+ failed/ { f = $1 } END { print p + 0, f + 0 }' "$1"
}

stage() { # stage NAME COUNTER COMMAND...
  local name=$1 counter=$2 start status
  shift 2
  order+=("$name")
  printf '\n==== %s: %s\n' "$name" "$*"
  start=$(date +%s)
  "$@" 2>&1 | tee "$logs/$name.log"
  status=${PIPESTATUS[0]}
  seconds[$name]=$(( $(date +%s) - start ))
  if [ "$counter" = none ]; then
    passed[$name]=$([ "$status" = 0 ] && echo 1 || echo 0)
    failed[$name]=$([ "$status" = 0 ] && echo 0 || echo 1)
  else
    read -r passed[$name] failed[$name] < <("$counter" "$logs/$name.log")
  fi
  if [ "$status" != 0 ]; then
    broken+=("$name")
    [ "${failed[$name]}" != 0 ] || failed[$name]=1
  fi
}

check() {
  cargo fmt --all -- --check &&
    cargo clippy --workspace --all-targets -- -D warnings &&
    cargo clippy --lib --test browser --target wasm32-unknown-unknown -- -D warnings &&
    cargo clippy --lib --test web --target wasm32-unknown-unknown --features web,reqwest -- -D warnings &&
    cargo clippy -p authpulse-rust-app --target wasm32-unknown-unknown -- -D warnings
}

web() {
  local target=wasm32-unknown-unknown features=web,reqwest
  cargo test --target $target --features $features --test web &&
    cargo test --target $target --features $features --doc
}

stage check none check
stage native cargo_counts cargo test --workspace
stage build none scripts/build.sh
[ -f pkg/authpulse_bg.wasm ] && scripts/size.sh
stage browser cargo_counts cargo test --target wasm32-unknown-unknown --test browser
stage web cargo_counts web
stage e2e playwright_counts npx playwright test

total_passed=0
total_failed=0
printf '\n==== summary\n'
for name in "${order[@]}"; do
  printf '%-8s %5s passed %4s failed %5ss\n' "$name" "${passed[$name]}" "${failed[$name]}" "${seconds[$name]}"
  if [ "$name" != check ] && [ "$name" != build ]; then
    total_passed=$((total_passed + passed[$name]))
    total_failed=$((total_failed + failed[$name]))
  fi
done
if [ ${#broken[@]} -gt 0 ]; then
  printf 'failed stages: %s (logs in %s)\n' "${broken[*]}" "$logs"
fi
echo "total: $total_passed passed, $total_failed failed"
[ ${#broken[@]} = 0 ]
