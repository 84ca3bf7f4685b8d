// Completes the package wasm-pack generated in pkg/: the entry module `index.js` (the browser
// adapters and `createAuthClient`, from js/; scripts/build.sh then bundles wasm-bindgen's glue
// into it) and its types, and package.json pointing at them.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";

copyFileSync("js/index.js", "pkg/index.js");
copyFileSync("js/index.d.ts", "pkg/index.d.ts");

const pkg = JSON.parse(readFileSync("pkg/package.json", "utf8"));
pkg.name = "authpulse";
pkg.main = "index.js";
pkg.module = "index.js";
pkg.types = "index.d.ts";
pkg.exports = { ".": { types: "./index.d.ts", default: "./index.js" } };
// authpulse.js, wasm-bindgen's glue, is bundled into index.js by scripts/build.sh.
pkg.files = [...new Set([...(pkg.files ?? []), "index.js", "index.d.ts"])].filter((f) => f !== "authpulse.js");
pkg.sideEffects = false;
writeFileSync("pkg/package.json", JSON.stringify(pkg, null, 2) + "\n");
