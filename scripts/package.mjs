// Completes the package wasm-pack generated in pkg/: the entry modules and their types, the
// licenses, and package.json. scripts/build.sh then bundles the adapters (js/, one file each) and
// wasm-bindgen's glue into index.js (and index.cjs), and removes the rest.
//
// Entries: `authpulse` (index.js; index.cjs for Node's and Jest's `require`, which cannot load
// ES modules) and `authpulse/react` (react.js, importing index.js; no React code in the main
// entry). Bundlers take the ES module through the "module" condition, so an app never gets both.
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from "node:fs";

const fail = (message) => {
  console.error(`package: ${message}`);
  process.exit(1);
};

for (const file of readdirSync("js")) copyFileSync(`js/${file}`, `pkg/${file}`);
for (const file of ["LICENSE-MIT", "LICENSE-APACHE"]) copyFileSync(file, `pkg/${file}`);
// The types of the CommonJS entries: the same declarations, found through "require".
copyFileSync("js/index.d.ts", "pkg/index.d.cts");
const reactTypes = readFileSync("js/react.d.ts", "utf8");
if (!reactTypes.includes('from "./index.js"')) fail('js/react.d.ts does not import from "./index.js"');
writeFileSync("pkg/react.d.cts", reactTypes.replaceAll('from "./index.js"', 'from "./index.cjs"'));

// The glue, edited where it is evaluated and where it is bigger than what index.js uses.
// Importing the package must not throw anywhere: the glue builds its TextDecoder and TextEncoder
// when it is evaluated, and Jest's jsdom environment has neither. They are built on first use
// instead (a client checks that they exist before it is built: index.js `supported`).
const gluePath = "pkg/authpulse.js";
let glue = readFileSync(gluePath, "utf8");
const lazy = [
  [
    "let cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });\ncachedTextDecoder.decode();\n",
    "let cachedTextDecoder = null;\n",
  ],
  [
    "if (numBytesDecoded >= MAX_SAFARI_DECODE_BYTES) {",
    "if (cachedTextDecoder === null || numBytesDecoded >= MAX_SAFARI_DECODE_BYTES) {",
  ],
  [
    "const cachedTextEncoder = new TextEncoder();\n",
    "const cachedTextEncoder = typeof TextEncoder === 'function' ? new TextEncoder() : {};\n",
  ],
];
// Left out, unused: Engine's Symbol.dispose (the client frees it), and initSync's handling of
// wasm-bindgen's older argument forms (load.js hands it a compiled module).
const unused = [
  ["if (Symbol.dispose) Engine.prototype[Symbol.dispose] = Engine.prototype.free;\n", ""],
  [
    "    if (module !== undefined) {\n        if (Object.getPrototypeOf(module) === Object.prototype) {\n            ({module} = module)\n        } else {\n            console.warn('using deprecated parameters for `initSync()`; pass a single object instead')\n        }\n    }\n",
    "",
  ],
];
for (const [from, to] of [...lazy, ...unused]) {
  if (glue.split(from).length !== 2) fail(`${gluePath} does not contain this once:\n${from}`);
  glue = glue.replace(from, to);
}
writeFileSync(gluePath, glue);

const pkg = JSON.parse(readFileSync("pkg/package.json", "utf8"));
const entry = (name) => ({
  module: `./${name}.js`,
  require: { types: `./${name}.d.cts`, default: `./${name}.cjs` },
  default: { types: `./${name}.d.ts`, default: `./${name}.js` },
});
Object.assign(pkg, {
  name: "authpulse",
  homepage: "https://github.com/authpulse/authpulse#readme",
  main: "index.cjs",
  module: "index.js",
  types: "index.d.ts",
  exports: {
    ".": entry("index"),
    "./react": entry("react"),
    "./authpulse_bg.wasm": "./authpulse_bg.wasm",
    "./package.json": "./package.json",
  },
  files: [
    "index.js",
    "index.cjs",
    "index.d.ts",
    "index.d.cts",
    "react.js",
    "react.cjs",
    "react.d.ts",
    "react.d.cts",
    // The words of the logger's lines, imported by index.js when an app sets a logger.
    "log.js",
    "authpulse_bg.wasm",
    "LICENSE-MIT",
    "LICENSE-APACHE",
  ],
  sideEffects: false,
  peerDependencies: { react: ">=18" },
  peerDependenciesMeta: { react: { optional: true } },
});
writeFileSync("pkg/package.json", JSON.stringify(pkg, null, 2) + "\n");
