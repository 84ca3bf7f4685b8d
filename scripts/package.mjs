// Completes the package wasm-pack generated in pkg/: adds the entry module `index.js`, which
// re-exports the wasm-bindgen glue and adds `createAuthClient`, and points package.json at it.
import { readFileSync, writeFileSync } from "node:fs";

const entry = `import init, { AuthClient } from "./authpulse.js";
export { init, AuthClient };
let ready;
/** Loads the wasm module once (concurrent first calls share the load), then builds a client. */
export async function createAuthClient(options) {
  ready = ready || init().catch((error) => { ready = undefined; throw error; });
  await ready;
  return new AuthClient(options);
}
`;
const types = `import init, { AuthClient, AuthClientOptions } from "./authpulse.js";
export { init, AuthClient };
export * from "./authpulse.js";
/** Loads the wasm module once, then builds a client. */
export function createAuthClient(options?: AuthClientOptions): Promise<AuthClient>;
`;
writeFileSync("pkg/index.js", entry);
writeFileSync("pkg/index.d.ts", types);

const pkg = JSON.parse(readFileSync("pkg/package.json", "utf8"));
pkg.name = "authpulse";
pkg.main = "index.js";
pkg.module = "index.js";
pkg.types = "index.d.ts";
pkg.exports = { ".": { types: "./index.d.ts", default: "./index.js" } };
pkg.files = [...new Set([...(pkg.files ?? []), "index.js", "index.d.ts"])];
pkg.sideEffects = false;
writeFileSync("pkg/package.json", JSON.stringify(pkg, null, 2) + "\n");
