// Where the wasm bytes go: `twiggy top` of a build that keeps the name section (the same release
// artifact and wasm-opt flags as pkg/, plus -g), items grouped by what they are.
// Usage: node bench/wasm-size.mjs NAMED.wasm OUT.json
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const [wasm, outFile] = process.argv.slice(2);
const items = JSON.parse(execFileSync("twiggy", ["top", "-f", "json", wasm], { maxBuffer: 1 << 26 }));

// The name section exists only in this build, so shares are of the rest: pkg/'s wasm.
const names = items.filter((i) => /" subsection$|"name" section/.test(i.name));
const code = items.filter((i) => !names.includes(i));
const total = code.reduce((s, i) => s + i.shallow_size, 0);

const GROUPS = [
  ["wasm-bindgen shims and glue", /shim|^__wbg|^__wbindgen|^__externref|wasm_bindgen/],
  ["exported functions (bodies inlined)", /^[a-z][a-z0-9]*_[A-Za-z0-9]+$/],
  ["allocator", /dlmalloc|talc|__rdl_|__rust_(alloc|dealloc|realloc)|raw_vec|RawVec|finish_grow/],
  ["core::fmt (formatting)", /fmt::|Formatter|as core(\[[0-9a-f]+\])?::fmt/],
  ["serde", /serde/],
  ["panics and bounds checks", /panic|unwrap_failed|expect_failed|_fail\b|slice_error|index_out_of_bounds|len_mismatch/],
  ["core::str / unicode", /core(\[[0-9a-f]+\])?::(str|unicode|char)/],
  ["js-sys / web-sys / futures", /js_sys|web_sys|wasm_bindgen_futures|futures_/],
  ["data segments (strings, tables)", /^data segment/],
  ["imports, exports, tables, sections", /^(import|export|elem\[|table\[|global\[|memory\[|type\[|custom section)/],
];
const OTHER = "other (std, alloc, generics)";
// authpulse's own code, one group per top-level module (authpulse::core, ::engine, ...).
const groupOf = (name) =>
  /authpulse::(\w+)/.exec(name)?.[0] ?? GROUPS.find(([, re]) => re.test(name))?.[0] ?? OTHER;
const groups = new Map();
for (const item of code) {
  const group = groupOf(item.name);
  groups.set(group, (groups.get(group) ?? 0) + item.shallow_size);
}
const shorten = (name) =>
  name
    .replace(/\[[0-9a-f]{16}\]/g, "")
    .replace(/::h[0-9a-f]{16}$/, "")
    .replace(/dlmalloc::dlmalloc::Dlmalloc<dlmalloc::sys::System>/, "Dlmalloc");

const result = {
  namedBytes: items.reduce((s, i) => s + i.shallow_size, 0),
  codeBytes: total,
  top: code.slice(0, 12).map((i) => ({ name: shorten(i.name), bytes: i.shallow_size, share: i.shallow_size / total })),
  groups: [...groups].map(([name, bytes]) => ({ name, bytes, share: bytes / total })).sort((a, b) => b.bytes - a.bytes),
};
writeFileSync(outFile, JSON.stringify(result, null, 2));
