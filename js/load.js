// Loading the WebAssembly module, once. The module comes from the package's own URL by default,
// or from what the app hands to `init(source)`: a URL, a Response, the bytes or a compiled
// WebAssembly.Module (for bundlers and CDNs that serve the .wasm elsewhere). What arrives is
// checked before it is compiled, so that the usual failures — a bundler or dev server that did
// not ship the .wasm and answered with a page instead, a Content-Security-Policy without
// 'wasm-unsafe-eval' — reject with a coded error that says what to change.
import { initSync } from "./authpulse.js";
import { codedError } from "./errors.js";

let loading = null;
/** Whether the module is loaded: an AuthClient can be built. */
export let ready = false;

/** Loads the module once; a failed load may be tried again. Resolves to nothing. */
export function init(source) {
  loading ??= load(source).then(
    () => void (ready = true),
    (error) => {
      loading = null;
      throw error;
    },
  );
  return loading;
}

// The package's .wasm, next to this module. Vite's dev server pre-bundles dependencies into
// node_modules/.vite/deps/ without their assets (vitejs/vite#8427) and answers that URL with the
// app's index.html; it still serves the package's own directory, two levels up.
function packageUrl() {
  const url = new URL("authpulse_bg.wasm", import.meta.url);
  return url.pathname.includes("/node_modules/.vite/deps/") ? new URL("../../authpulse/authpulse_bg.wasm", url) : url;
}

async function load(source = packageUrl()) {
  let where = "the module given to init()";
  try {
    if (typeof source === "string" || source instanceof URL || source instanceof Request) {
      where = source.url ?? String(source);
      // Node, and test runners on it (Vitest, Jest): no fetch for file: URLs, so the file is read.
      const fs = where.startsWith("file:") && globalThis.process?.getBuiltinModule?.("fs");
      source = fs ? fs.readFileSync(new URL(where)) : fetch(source);
    }
    let module = await source;
    let why = "its bytes start";
    if (module instanceof Response) {
      where = module.url || where;
      why = `it answered ${module.status} ${module.headers.get("content-type")}`;
      if (!module.ok) throw notWasm(where, why);
      why += " starting";
      module = await module.arrayBuffer();
    }
    if (!(module instanceof WebAssembly.Module)) {
      // "\0asm": anything else is not a module, typically an HTML page served in its place.
      const head = new Uint8Array(module.buffer ?? module, module.byteOffset, Math.min(4, module.byteLength));
      if (`${head}` !== "0,97,115,109") throw notWasm(where, `${why} ${JSON.stringify(String.fromCharCode(...head))}`);
      module = await WebAssembly.compile(module);
    }
    initSync(module);
  } catch (error) {
    if (error?.code === "wasm_load_failed") throw error;
    // Chromium and WebKit name 'unsafe-eval' / 'wasm-unsafe-eval'; Firefox says "CSP".
    if (/unsafe-eval|CSP/.test(error)) {
      throw codedError(Error, "wasm_blocked", `the page's Content-Security-Policy blocks WebAssembly: add 'wasm-unsafe-eval' to its script-src (${error})`);
    }
    throw notWasm(where, error);
  }
}

const notWasm = (where, why) =>
  codedError(
    Error,
    "wasm_load_failed",
    `${where} is not authpulse's WebAssembly module (${why}). Serve node_modules/authpulse/authpulse_bg.wasm and pass its URL (in Node, its bytes) to init(); Vite's dev server: optimizeDeps.exclude ["authpulse"]; esbuild, Rollup: copy the file. See https://github.com/authpulse/authpulse#bundlers`,
  );
