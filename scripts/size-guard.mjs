// The size guard (a test of scripts/test.sh): fails when what a browser downloads grows past the
// budget in .size-limit.json at the repository root. The file follows the `size-limit`
// convention, `[{ "name", "path": [files], "gzip": true, "limit": "20400 B" }]`; the size is the
// sum over the files of `gzip -9 -c FILE` (GNU gzip, as scripts/size.sh and docs/BENCHMARKS.md
// count it; Node's zlib, which size-limit uses, differs by about 1 %). Sizes are deterministic, so
// this is a test, not a benchmark. Raising the budget is a deliberate change of that file.
// Usage: node scripts/size-guard.mjs [CONFIG]   (default: .size-limit.json, paths relative to it)
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

const UNITS = { B: 1, kB: 1000, KB: 1000, KiB: 1024 };

/** "20400 B", "20.4 kB" or a number of bytes. */
export function parseLimit(limit) {
  if (typeof limit === "number" && Number.isFinite(limit)) return limit;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|KiB)\s*$/.exec(String(limit));
  if (!match) throw new Error(`limit ${JSON.stringify(limit)} is not "N B", "N kB" or "N KiB"`);
  return Math.round(Number(match[1]) * UNITS[match[2]]);
}

export const gzip9 = (file) => execFileSync("gzip", ["-9", "-c", file], { maxBuffer: 1 << 26 }).length;

/** Every check of `configFile`, measured: [{ name, files: [{ path, gzip }], size, limit, ok }]. */
export function measure(configFile) {
  const checks = JSON.parse(readFileSync(configFile, "utf8"));
  if (!Array.isArray(checks) || checks.length === 0) throw new Error(`${configFile}: expected a non-empty array of checks`);
  return checks.map((check, i) => {
    const name = check.name ?? `check ${i + 1}`;
    if (check.gzip !== true) throw new Error(`${name}: only "gzip": true (gzip -9) is supported`);
    const paths = [check.path].flat();
    if (paths.length === 0 || paths.some((p) => typeof p !== "string")) throw new Error(`${name}: "path" must name the files`);
    const files = paths.map((path) => ({ path, gzip: gzip9(resolve(dirname(configFile), path)) }));
    const size = files.reduce((sum, f) => sum + f.gzip, 0);
    const limit = parseLimit(check.limit);
    return { name, files, size, limit, ok: size <= limit };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const configFile = resolve(process.argv[2] ?? ".size-limit.json");
  let results;
  try {
    results = measure(configFile);
  } catch (error) {
    console.error(`size guard: ${error.message}`);
    process.exit(1);
  }
  for (const { name, files, size, limit, ok } of results) {
    const parts = files.map((f) => `${f.path} ${f.gzip}`).join(" + ");
    const margin = limit - size;
    console.log(`${ok ? "ok  " : "FAIL"} ${name}: ${size} bytes gzip -9 (${parts}), budget ${limit}: ${margin >= 0 ? `${margin} bytes to spare` : `${-margin} bytes over`}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  if (failed) {
    console.log(`The package grew past its budget. If the bytes are worth it, raise "limit" in ${configFile} in the same commit and say why (see docs/BENCHMARKS.md, "The size budget").`);
  }
  console.log(`size: ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
