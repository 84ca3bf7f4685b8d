// Builds the reference server once for the whole run (each test starts its own process).
// pkg/ is not rebuilt here: `make test` builds it first; run scripts/build.sh for a fresh one.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./support/server.mjs";

export default function globalSetup() {
  execFileSync("cargo", ["build", "--quiet", "-p", "authpulse-server"], { cwd: ROOT, stdio: "inherit" });
  if (!existsSync(join(ROOT, "pkg", "index.js"))) {
    throw new Error("pkg/ is not built: run scripts/build.sh first");
  }
}
