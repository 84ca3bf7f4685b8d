// The packed package, installed and used as users install and use it: `npm pack` of pkg/ into
// target/npm/authpulse.tgz, then the projects that depend on that tarball.
//   tests/package      its types under tsc 5 and 7; Node (import, require, SSR); Jest + jsdom
//   examples/vite-app  vanilla TypeScript: Vitest + jsdom unit tests, `vite build`, webpack 5
//   examples/react-app authpulse/react: Vitest + jsdom unit tests, `vite build`
// The end-to-end suite (tests/e2e/examples.spec.mjs) then runs the builds and the Vite dev
// server in Chromium against the reference server.
//
//   node scripts/packed.mjs install   pack pkg/ and `npm ci` each project (the registry's packages
//                                     at the versions of its package-lock.json, and the tarball);
//                                     where that ran since the lockfile last changed, only the
//                                     tarball is unpacked again (what npm does with it)
//   node scripts/packed.mjs types     the type tests (tests/package/types.mjs)
//   node scripts/packed.mjs run       everything else above
// Each step prints its output, then one line `==> N passed, M failed` (scripts/test.sh counts it).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const TARBALL = join(ROOT, "target/npm/authpulse.tgz");
const PROJECTS = ["tests/package", "examples/vite-app", "examples/react-app"];
const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", CI: "1" };
let passed = 0;
let failed = 0;

// Runs a command in a project, its output passed through; returns its status and output.
function sh(dir, command, args) {
  console.log(`\n-- ${dir}: ${command} ${args.join(" ")}`);
  const child = spawnSync(command, args, { cwd: join(ROOT, dir), env, encoding: "utf8", maxBuffer: 64 << 20 });
  const output = `${child.stdout ?? ""}${child.stderr ?? ""}${child.error ? String(child.error) : ""}`;
  process.stdout.write(output);
  return { ok: child.status === 0, output };
}

// A step that counts as one test: passed when the command succeeds.
function check(dir, command, args) {
  const { ok } = sh(dir, command, args);
  ok ? passed++ : failed++;
  return ok;
}

// A step whose command reports its own counts; `parse(output)` -> [passed, failed].
function counted(dir, command, args, parse) {
  const { ok, output } = sh(dir, command, args);
  const [p, f] = parse(output);
  passed += p;
  failed += f || (ok ? 0 : 1);
}

const bin = (dir, name) => join(ROOT, dir, "node_modules/.bin", name);
const tap = (output) => [Number(output.match(/^# pass (\d+)/m)?.[1] ?? 0), Number(output.match(/^# fail (\d+)/m)?.[1] ?? 0)];
const summary = (output) => {
  const [, p = 0, f = 0] = output.match(/^==> (\d+) passed, (\d+) failed/m) ?? [];
  return [Number(p), Number(f)];
};
// Vitest's and Jest's summary: `Tests  1 failed | 3 passed (4)` / `Tests:       1 failed, 3 passed, 4 total`.
const tests = (output) => {
  const line = output.match(/^\s*Tests:?\s+(.*)$/m)?.[1] ?? "";
  return [Number(line.match(/(\d+) passed/)?.[1] ?? 0), Number(line.match(/(\d+) failed/)?.[1] ?? 0)];
};

function install() {
  mkdirSync(join(ROOT, "target/npm"), { recursive: true });
  rmSync(TARBALL, { force: true });
  const packed = sh("pkg", "npm", ["pack", "--pack-destination", join(ROOT, "target/npm"), "--loglevel=error"]);
  if (!packed.ok) return void failed++;
  renameSync(join(ROOT, "target/npm", packed.output.trim().split("\n").pop()), TARBALL);
  for (const dir of PROJECTS) {
    // npm ci takes a file: dependency from the npm cache when the lockfile pins its integrity:
    // the lockfiles leave it out, so that the tarball just packed is the one installed.
    const lock = JSON.parse(readFileSync(join(ROOT, dir, "package-lock.json"), "utf8"));
    if (lock.packages?.["node_modules/authpulse"]?.integrity) {
      console.log(`${dir}/package-lock.json pins the integrity of authpulse: delete that line (it is rebuilt on every build)`);
      failed++;
      continue;
    }
    const installed = join(ROOT, dir, "node_modules/.package-lock.json");
    const fresh = existsSync(installed) && statSync(installed).mtimeMs > statSync(join(ROOT, dir, "package-lock.json")).mtimeMs;
    if (fresh) {
      // Vite's pre-bundled dependencies are keyed by the lockfile, which does not change here.
      rmSync(join(ROOT, dir, "node_modules/.vite"), { recursive: true, force: true });
      rmSync(join(ROOT, dir, "node_modules/authpulse"), { recursive: true, force: true });
      mkdirSync(join(ROOT, dir, "node_modules/authpulse"));
      if (!check(dir, "tar", ["-xzf", TARBALL, "-C", "node_modules/authpulse", "--strip-components=1"])) continue;
    } else if (!check(dir, "npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"])) continue;
    if (!readFileSync(join(ROOT, dir, "node_modules/authpulse/index.js")).equals(readFileSync(join(ROOT, "pkg/index.js")))) {
      console.log(`${dir}: node_modules/authpulse is not the package in pkg/`);
      passed--;
      failed++;
    }
  }
}

function run() {
  counted("tests/package", "node", ["--test", "--test-reporter=tap", "node.test.mjs"], tap);
  counted("tests/package", bin("tests/package", "jest"), ["--ci"], tests);
  for (const dir of ["examples/vite-app", "examples/react-app"]) {
    counted(dir, bin(dir, "vitest"), ["run"], tests);
    // `tsc && vite build`: the app type-checks against the package's types, then builds.
    check(dir, "npm", ["run", "build", "--silent"]);
  }
  check("examples/vite-app", "npm", ["run", "build:webpack", "--silent"]);
}

const command = process.argv[2];
if (command === "install") install();
else if (command === "types") counted("tests/package", "node", ["types.mjs"], summary);
else if (command === "run") run();
else {
  console.error("usage: node scripts/packed.mjs install|types|run");
  process.exit(2);
}
console.log(`==> ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
