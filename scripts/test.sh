#!/usr/bin/env bash
# Runs every test and ends with one summary of what ran:
#   check    cargo fmt, clippy -D warnings (native and wasm32)
#   native   cargo test --workspace: the core's unit, scenario and property tests, the server's
#   install  the packed package (npm pack of pkg/) into tests/package and examples/*, whose other
#            packages npm installs from the registry at their lockfiles' versions
#   types    its types under tsc 5 and 7: a consumer of the whole API compiles, mistakes do not
#   package  Node (import, require, SSR), Jest + jsdom, the examples' Vitest + jsdom unit tests,
#            their `vite build` and the webpack 5 build (scripts/packed.mjs)
#   browser  wasm-bindgen-test in headless Chromium: the browser adapters and the JS facade
#   unit     the JavaScript adapters on Node's test runner, their browser APIs replaced (tests/js)
#   size     the size guard: pkg/'s wasm + index.js (gzip -9) within the budget in .size-limit.json,
#            and the guard's own tests
#   web      wasm-bindgen-test in headless Chromium: the Rust driver (features web, reqwest), and
#            its doc examples compiled for wasm32
#   e2e      Playwright in Debian's Chromium: the built pkg/ (and the Rust example app, beside
#            it) against the reference server, and the examples built and under the Vite dev server
#   e2e-firefox, e2e-webkit, e2e-chromium
#            the contract's engine-dependent scenarios (tests/engines) in Debian's Firefox ESR,
#            WebKitGTK (under Xvfb) and Chromium, one scenario list for all three
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
# node's test runner (spec reporter) closes with `ℹ pass N` and `ℹ fail M`.
node_test_counts() {
  awk '$2 == "pass" && $3 ~ /^[0-9]+$/ { p = $3 } $2 == "fail" && $3 ~ /^[0-9]+$/ { f = $3 } END { print p + 0, f + 0 }' "$1"
}

# scripts/packed.mjs ends each step with `==> N passed, M failed`.
packed_counts() {
  awk '/^==> [0-9]+ passed, [0-9]+ failed/ { p = $2; f = $4 } END { print p + 0, f + 0 }' "$1"
}

# node --test closes with `# pass N` and `# fail M`; the size guard with `size: N passed, M failed`.
node_counts() {
  awk '/^# pass [0-9]+$/ { p += $3 } /^# fail [0-9]+$/ { f += $3 }
       /^size: [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 } END { print p + 0, f + 0 }' "$1"
}

size_guard() {
  node --test scripts/size-guard.test.mjs && node scripts/size-guard.mjs
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
stage install none node scripts/packed.mjs install
stage types packed_counts node scripts/packed.mjs types
stage package packed_counts node scripts/packed.mjs run
stage unit node_counts node --test tests/js/
stage size node_counts size_guard
stage browser cargo_counts cargo test --target wasm32-unknown-unknown --test browser
stage web cargo_counts web
stage e2e playwright_counts npx playwright test
engines=(node --test-reporter=spec tests/engines/run.mjs)
stage e2e-firefox node_test_counts "${engines[@]}" firefox
stage e2e-webkit node_test_counts xvfb-run -a "${engines[@]}" webkit
stage e2e-chromium node_test_counts "${engines[@]}" chromium

total_passed=0
total_failed=0
printf '\n==== summary\n'
for name in "${order[@]}"; do
  printf '%-12s %5s passed %4s failed %5ss\n' "$name" "${passed[$name]}" "${failed[$name]}" "${seconds[$name]}"
  if [ "$name" != check ] && [ "$name" != build ] && [ "$name" != install ]; then
    total_passed=$((total_passed + passed[$name]))
    total_failed=$((total_failed + failed[$name]))
  fi
done
if [ ${#broken[@]} -gt 0 ]; then
  printf 'failed stages: %s (logs in %s)\n' "${broken[*]}" "$logs"
fi
echo "total: $total_passed passed, $total_failed failed"
[ ${#broken[@]} = 0 ]
