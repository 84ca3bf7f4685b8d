// Shortens the names under which the wasm module and its JavaScript glue know each other, in both
// files of pkg/: wasm-bindgen names each import after its Rust path plus a 16-digit hash
// (`__wbg___wbindgen_string_get_7ce8eee7fd327545`), and those names, written once in the module
// and once in authpulse.js, are about 700 bytes of the gzipped download that compress badly; the
// exports (`engine_renewalAnswered`, `__wbindgen_malloc`, …) are another 500 bytes uncompressed.
// `memory` keeps its name: `init()` returns the exports to the app.
// Run before the glue is minified; stops the build if the glue does not have the shape below.
import { readFileSync, writeFileSync } from "node:fs";

const wasmPath = "pkg/authpulse_bg.wasm";
const gluePath = "pkg/authpulse.js";
const wasm = readFileSync(wasmPath);
let glue = readFileSync(gluePath, "utf8");

const fail = (message) => {
  console.error(`minify-imports: ${message}`);
  process.exit(1);
};

// Unsigned LEB128.
const readU32 = (bytes, at) => {
  let value = 0, shift = 0, byte;
  do {
    byte = bytes[at++];
    value |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  return [value >>> 0, at];
};
const u32 = (value) => {
  const out = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return Buffer.from(out);
};
const name = (text) => {
  const bytes = Buffer.from(text, "utf8");
  return Buffer.concat([u32(bytes.length), bytes]);
};

// `a` … `z`, `A` … `Z`, then two letters: valid JavaScript property names, none of them used
// as a key by the glue already (checked below).
const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const shortName = (index) =>
  index < letters.length ? letters[index] : letters[Math.floor(index / letters.length) - 1] + letters[index % letters.length];

if (wasm.readUInt32LE(0) !== 0x6d736100) fail(`${wasmPath} is not a wasm module`);
let at = 8;
let section = null;
while (at < wasm.length) {
  const id = wasm[at];
  const [size, body] = readU32(wasm, at + 1);
  if (id === 2) {
    section = { start: at, body, end: body + size };
    break;
  }
  at = body + size;
}
if (!section) fail("the module imports nothing");

let [count, p] = readU32(wasm, section.body);
const imports = [];
const renamed = new Map(); // old field name -> new
let module = null;
for (let i = 0; i < count; i++) {
  let length;
  [length, p] = readU32(wasm, p);
  const moduleName = wasm.toString("utf8", p, p + length);
  p += length;
  [length, p] = readU32(wasm, p);
  const field = wasm.toString("utf8", p, p + length);
  p += length;
  const kind = wasm[p];
  if (kind !== 0) fail(`import ${moduleName} ${field} is not a function`);
  const [, next] = readU32(wasm, p + 1); // type index
  const desc = wasm.subarray(p, next);
  p = next;
  if (module === null) module = moduleName;
  if (moduleName !== module) fail(`imports from two modules: ${module} and ${moduleName}`);
  if (!renamed.has(field)) renamed.set(field, shortName(renamed.size));
  imports.push({ field, desc });
}
if (p !== section.end) fail("the import section has trailing bytes");

// The glue's import object: `"./authpulse_bg.js": import0` and one `NAME: function(` per import.
const moduleKey = `${JSON.stringify(module)}: import0`;
if (glue.split(moduleKey).length !== 2) fail(`${gluePath} does not name the module once as ${moduleKey}`);
const shortModule = "a";
glue = glue.replace(moduleKey, `${JSON.stringify(shortModule)}: import0`);
for (const [field, short] of renamed) {
  const key = new RegExp(`(?<![\\w$])${field.replace(/\$/g, "\\$")}: function\\(`, "g");
  const found = glue.match(key)?.length ?? 0;
  if (found !== 1) fail(`${gluePath} defines the import ${field} ${found} times, not once`);
  if (new RegExp(`(?<![\\w$])${short}: function\\(`).test(glue)) fail(`${gluePath} already has a key ${short}`);
  glue = glue.replace(key, `${short}: function(`);
}

const entries = imports.map(({ field, desc }) => Buffer.concat([name(shortModule), name(renamed.get(field)), desc]));
const body = Buffer.concat([u32(imports.length), ...entries]);
let out = Buffer.concat([
  wasm.subarray(0, section.start),
  Buffer.from([2]),
  u32(body.length),
  body,
  wasm.subarray(section.end),
]);

// The exports, likewise: the glue reads each as `wasm.NAME` (`wasm` is the instance's exports).
// `memory` keeps its name (an app may read it from what `init()` returns); an export the glue
// never reads (wasm-bindgen's abort-handler globals) is dropped.
at = 8;
section = null;
while (at < out.length) {
  const id = out[at];
  const [size, body] = readU32(out, at + 1);
  if (id === 7) {
    section = { start: at, body, end: body + size };
    break;
  }
  at = body + size;
}
if (!section) fail("the module exports nothing");
[count, p] = readU32(out, section.body);
const exports = [];
for (let i = 0; i < count; i++) {
  let length;
  [length, p] = readU32(out, p);
  const field = out.toString("utf8", p, p + length);
  p += length;
  const [, next] = readU32(out, p + 1); // kind, then index
  exports.push({ field, desc: out.subarray(p, next) });
  p = next;
}
if (p !== section.end) fail("the export section has trailing bytes");
const kept = [];
for (const { field, desc } of exports) {
  const use = new RegExp(`(?<![\\w$])wasm\\.${field.replace(/\$/g, "\\$")}(?![\\w$])`, "g");
  const uses = glue.match(use)?.length ?? 0;
  if (field === "memory" || uses === 0) {
    if (field === "memory") kept.push({ field, short: field, desc });
    continue;
  }
  const short = shortName(kept.length - (kept.some((k) => k.field === "memory") ? 1 : 0));
  if (new RegExp(`(?<![\\w$])wasm\\.${short}(?![\\w$])`).test(glue)) fail(`${gluePath} already reads wasm.${short}`);
  glue = glue.replace(use, `wasm.${short}`);
  kept.push({ field, short, desc });
}
if (!kept.some((k) => k.field === "memory")) fail("the module does not export its memory");
for (const { field, short } of kept) {
  // Anything else naming an export (a string, a destructuring) would now miss it.
  if (field !== short && glue.includes(field)) fail(`${gluePath} names the export ${field} other than as wasm.${field}`);
}
const exportBody = Buffer.concat([u32(kept.length), ...kept.map(({ short, desc }) => Buffer.concat([name(short), desc]))]);
out = Buffer.concat([
  out.subarray(0, section.start),
  Buffer.from([7]),
  u32(exportBody.length),
  exportBody,
  out.subarray(section.end),
]);
if (!WebAssembly.validate(out)) fail("the rewritten module does not validate");
writeFileSync(wasmPath, out);
writeFileSync(gluePath, glue);
