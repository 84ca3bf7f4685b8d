// The size guard itself (scripts/size-guard.mjs): it passes at its budget and fails one byte past
// it, on files made here, through the same command scripts/test.sh runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzip9, parseLimit } from "./size-guard.mjs";

const guard = fileURLToPath(new URL("./size-guard.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "size-guard-"));
writeFileSync(join(dir, "a.wasm"), randomBytes(3000));
writeFileSync(join(dir, "b.js"), "export const x = 1;\n".repeat(200));
const size = gzip9(join(dir, "a.wasm")) + gzip9(join(dir, "b.js"));

const run = (limit, extra = {}) => {
  const config = join(dir, `limit-${Math.random()}.json`);
  writeFileSync(config, JSON.stringify([{ name: "pair", path: ["a.wasm", "b.js"], gzip: true, limit, ...extra }]));
  return spawnSync(process.execPath, [guard, config], { encoding: "utf8" });
};

test("passes at the budget, fails one byte past it, naming the overshoot", () => {
  const at = run(`${size} B`);
  assert.equal(at.status, 0, at.stdout + at.stderr);
  assert.match(at.stdout, /size: 1 passed, 0 failed/);
  const over = run(`${size - 1} B`);
  assert.equal(over.status, 1, over.stdout + over.stderr);
  assert.match(over.stdout, /1 bytes over/);
  assert.match(over.stdout, /size: 0 passed, 1 failed/);
});

test("limits in bytes, kB (1000) and KiB (1024)", () => {
  assert.equal(parseLimit("20400 B"), 20400);
  assert.equal(parseLimit("20.4 kB"), 20400);
  assert.equal(parseLimit("2 KiB"), 2048);
  assert.equal(parseLimit(512), 512);
  assert.throws(() => parseLimit("20 MB"), /not "N B"/);
});

test("a budget it cannot read, or sizes other than gzip, fail rather than pass", () => {
  assert.equal(run("a lot").status, 1);
  assert.equal(run(`${size} B`, { gzip: false }).status, 1);
  assert.equal(run(`${size} B`, { path: ["missing.js"] }).status, 1);
});
