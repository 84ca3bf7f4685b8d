// Part 1, size: gzip -9 of what a browser downloads. authpulse: the files of pkg/; each
// alternative: `esbuild --bundle --minify --format=esm` of its public entry (react external).
// Usage: node bench/size.mjs OUT.json
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
const outDir = join(root, "target", "bench", "bundles");
mkdirSync(outDir, { recursive: true });

const gzip9 = (file) => execFileSync("gzip", ["-9", "-c", file], { maxBuffer: 1 << 26 }).length;
const version = (name) =>
  JSON.parse(readFileSync(join(benchDir, "node_modules", name, "package.json"), "utf8")).version;

const result = { authpulse: null, alternatives: [] };

// What a browser downloads: index.js bundles wasm-bindgen's glue (scripts/build.sh).
const pkgFiles = ["authpulse_bg.wasm", "index.js"];
try {
  const files = pkgFiles.map((f) => {
    const path = join(root, "pkg", f);
    return { file: f, raw: statSync(path).size, gzip: gzip9(path) };
  });
  result.authpulse = {
    version: JSON.parse(readFileSync(join(root, "pkg", "package.json"), "utf8")).version,
    files,
    raw: files.reduce((s, f) => s + f.raw, 0),
    gzip: files.reduce((s, f) => s + f.gzip, 0),
  };
} catch (error) {
  result.authpulse = { error: `pkg/ not built (${error.code ?? error.message})` };
}

const alternatives = [
  { name: "oidc-client-ts" },
  { name: "keycloak-js" },
  { name: "@auth0/auth0-spa-js" },
  { name: "react-idle-timer", external: ["react", "react-dom"] },
];
for (const alt of alternatives) {
  const outfile = join(outDir, `${alt.name.replace(/[@/]/g, "_")}.min.js`);
  // The package itself is the entry point: esbuild resolves it as an import would (browser
  // platform, `exports`/`module` fields), so every public export is kept.
  await build({
    entryPoints: [alt.name],
    absWorkingDir: benchDir,
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    external: alt.external ?? [],
    outfile,
    logLevel: "error",
  });
  result.alternatives.push({
    name: alt.name,
    version: version(alt.name),
    raw: statSync(outfile).size,
    gzip: gzip9(outfile),
  });
}
const part = (n) => result.alternatives.find((a) => a.name === n);
result.combined = {
  name: "keycloak-js + react-idle-timer",
  gzip: part("keycloak-js").gzip + part("react-idle-timer").gzip,
  raw: part("keycloak-js").raw + part("react-idle-timer").raw,
};

writeFileSync(process.argv[2], JSON.stringify(result, null, 2));
console.error(`size: ${JSON.stringify(result)}`);
