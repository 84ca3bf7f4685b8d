// The package's types as a user's compiler sees them, with the TypeScript versions of
// package.json (5.x and the native 7.x): each check prints `ok` or `not ok`, then a count.
//   tsconfig.json          every option, method, event and getter, and authpulse/react: no error
//   tsconfig.node16.json   the same package under Node16 resolution, from ESM and from CommonJS
//   tsconfig.mistakes.json each marked line of types/mistakes.ts fails with its code, nothing else
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const COMPILERS = { "typescript 5": "node_modules/typescript/bin/tsc", "typescript 7": "node_modules/typescript7/bin/tsc" };
let passed = 0;
let failed = 0;
const report = (ok, name, detail = "") => {
  ok ? passed++ : failed++;
  console.log(`${ok ? "ok" : "not ok"} - ${name}${detail ? `\n${detail.replace(/^/gm, "    ")}` : ""}`);
};

// tsc's diagnostics as "file:line TScode" (it exits non-zero when there are any).
function compile(tsc, project) {
  try {
    execFileSync(tsc, ["-p", project, "--pretty", "false"], { encoding: "utf8", stdio: "pipe" });
    return { errors: [], output: "" };
  } catch (error) {
    const output = `${error.stdout ?? ""}${error.stderr ?? ""}`;
    const errors = [...output.matchAll(/^(\S+)\((\d+),\d+\): error (TS\d+)/gm)].map(([, file, line, code]) => `${file}:${line} ${code}`);
    return { errors, output: output || String(error) };
  }
}

// Each marked line as [line, codes]: `// error TS2345` or `// error TS2345/TS2741`.
const marked = readFileSync("types/mistakes.ts", "utf8")
  .split("\n")
  .flatMap((line, i) => {
    const codes = line.match(/\/\/ error (TS\d+(?:\/TS\d+)*)/)?.[1];
    return codes ? [[`types/mistakes.ts:${i + 1}`, codes.split("/")]] : [];
  });

for (const [version, tsc] of Object.entries(COMPILERS)) {
  for (const project of ["tsconfig.json", "tsconfig.node16.json"]) {
    const { errors, output } = compile(tsc, project);
    report(errors.length === 0 && output === "", `${version}: ${project} compiles with no error`, output);
  }
  const { errors, output } = compile(tsc, "tsconfig.mistakes.json");
  const missing = marked.filter(([at, codes]) => !codes.some((code) => errors.includes(`${at} ${code}`)));
  const unexpected = errors.filter((e) => !marked.some(([at, codes]) => codes.some((code) => e === `${at} ${code}`)));
  report(
    marked.length > 0 && missing.length === 0 && unexpected.length === 0,
    `${version}: tsconfig.mistakes.json fails on each of its ${marked.length} marked lines and nowhere else`,
    [...missing.map(([at, codes]) => `no error: ${at} ${codes.join(" or ")}`), ...unexpected.map((e) => `unexpected: ${e}`), ...(missing.length + unexpected.length ? [output] : [])].join("\n"),
  );
}
console.log(`==> ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
