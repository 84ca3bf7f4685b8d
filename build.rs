// The npm package's module (feature `bundle`, scripts/build.sh) needs little stack: 64 KiB
// instead of the default 1 MiB keeps its linear memory small (the stack is part of it from the
// first page). Only there: the Rust driver (feature `web`), its tests and the apps that link it
// run futures, reqwest and web-sys glue, and keep the default.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let bundle = std::env::var_os("CARGO_FEATURE_BUNDLE").is_some();
    let wasm32 = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    if bundle && wasm32 {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=65536");
    }
}
