//! The core stays sans-IO: no browser bindings, no clock reads, no panicking shortcuts.

use std::fs;
use std::path::Path;

fn core_sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
    let mut files: Vec<(String, String)> = fs::read_dir(&dir)
        .expect("src/core exists")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| {
            let text = fs::read_to_string(&path).expect("readable source");
            // Unit tests may use anything; the rule is about the code that ships.
            let shipped = text.split("#[cfg(test)]").next().unwrap_or_default();
            // Doc comments may name what the core avoids.
            let code: Vec<&str> =
                shipped.lines().filter(|line| !line.trim_start().starts_with("//")).collect();
            let shipped = code.join("\n");
            (path.display().to_string(), shipped)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_core_imports_no_browser_bindings_and_reads_no_clock() {
    let sources = core_sources();
    assert!(sources.len() >= 8, "expected the core modules, found {}", sources.len());
    for (path, text) in sources {
        for forbidden in
            ["wasm_bindgen", "web_sys", "js_sys", "gloo", "SystemTime", "std::time", "Date::now"]
        {
            assert!(!text.contains(forbidden), "{path} mentions {forbidden}");
        }
    }
}

#[test]
fn the_core_does_not_unwrap_or_panic_outside_tests() {
    for (path, text) in core_sources() {
        for forbidden in [".unwrap()", ".expect(", "panic!(", "unreachable!(", "todo!("] {
            assert!(!text.contains(forbidden), "{path} contains {forbidden}");
        }
    }
}
