// Completes the package wasm-pack generated in pkg/: the entry module `index.js` (the browser
// adapters, one file each in js/, composed by `AuthClient`; scripts/build.sh then bundles them
// and wasm-bindgen's glue into it) and its types, and package.json pointing at them.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";

// The adapters, one file each; scripts/build.sh bundles them into index.js and removes the rest.
for (const file of readdirSync("js")) copyFileSync(`js/${file}`, `pkg/${file}`);

const pkg = JSON.parse(readFileSync("pkg/package.json", "utf8"));
pkg.name = "authpulse";
pkg.main = "index.js";
pkg.module = "index.js";
pkg.types = "index.d.ts";
pkg.exports = { ".": { types: "./index.d.ts", default: "./index.js" } };
// authpulse.js, wasm-bindgen's glue, is bundled into index.js by scripts/build.sh.
// log.js: the words of the logger's lines, imported by index.js when an app sets a logger.
pkg.files = [...new Set([...(pkg.files ?? []), "index.js", "log.js", "index.d.ts"])].filter((f) => f !== "authpulse.js");
pkg.sideEffects = false;
writeFileSync("pkg/package.json", JSON.stringify(pkg, null, 2) + "\n");
