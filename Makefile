# The two commands a new user needs are `make demo` and `make test`; both set up what is missing.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)
export CHROMEDRIVER ?= /usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT ?= 120

.PHONY: demo test build setup setup-browser check size bench clean

## demo: build the package and the reference server, start it, print the URL
demo: setup build
	scripts/demo.sh

## test: every test (lint, native, in-browser, end-to-end) with a summary of counts
test: setup-browser
	scripts/test.sh

## build: the npm package in pkg/ (wasm-pack, release profile, wasm-opt -Oz)
build: setup
	scripts/build.sh

## size: gzip -9 size of what a browser downloads from pkg/
size: build
	scripts/size.sh

## bench: the comparison table of docs/BENCHMARKS.md
bench: setup-browser build
	scripts/bench.sh

setup:
	scripts/setup.sh

setup-browser:
	scripts/setup.sh browser

check:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --lib --test browser --target wasm32-unknown-unknown -- -D warnings
	cargo clippy --lib --test web --target wasm32-unknown-unknown --features web,reqwest -- -D warnings
	cargo clippy -p authpulse-rust-app --target wasm32-unknown-unknown -- -D warnings

clean:
	cargo clean
	rm -rf pkg test-results playwright-report examples/*/dist examples/*/dist-webpack
