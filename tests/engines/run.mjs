// Runs the cross-engine scenarios (scenarios.mjs) in one engine, with node's test runner:
//   node --test-reporter=spec tests/engines/run.mjs firefox|webkit|chromium
// (WebKit under `xvfb-run -a`). Needs pkg/ built (scripts/build.sh); builds the reference server
// (debug, as the Playwright suite does) and the page's script, then one browser for all the
// scenarios, each in a fresh context with its own server. A failing scenario prints its
// timeline: every request the pages made, the client's events and what the server saw.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { build } from "esbuild";
import { ROOT } from "../e2e/support/server.mjs";
import { Scene } from "./harness.mjs";
import { scenarios } from "./scenarios.mjs";

const ENGINES = ["firefox", "webkit", "chromium"];
const engine = process.argv[2];
if (!ENGINES.includes(engine)) {
  console.error(`usage: run.mjs ${ENGINES.join("|")}`);
  process.exit(2);
}
const driver = await import(`./drivers/${engine}.mjs`);
const HERE = join(ROOT, "tests", "engines");
const WWW = join(ROOT, "target", "engines", "www");

/** The test app's site: the shared app.js, this suite's pages and the bundled page script. */
async function prepareSite() {
  if (!existsSync(join(ROOT, "pkg", "index.js"))) throw new Error("pkg/ is not built: run scripts/build.sh first");
  execFileSync("cargo", ["build", "--quiet", "-p", "authpulse-server"], { cwd: ROOT, stdio: "inherit" });
  mkdirSync(WWW, { recursive: true });
  copyFileSync(join(ROOT, "tests", "e2e", "fixtures", "app.js"), join(WWW, "app.js"));
  for (const page of ["app.html", "other.html"]) copyFileSync(join(HERE, "page", page), join(WWW, page));
  await build({
    entryPoints: [join(HERE, "page", "page.mjs")],
    outfile: join(WWW, "page.js"),
    bundle: true,
    format: "iife",
    target: "es2020",
    // Node-only branches of fake-timers (never taken in a page) require these.
    external: ["util", "timers"],
    logLevel: "warning",
  });
}

let browser;
before(async () => {
  await prepareSite();
  browser = await driver.launch();
});
after(async () => {
  if (!browser) return;
  console.log(`# ${engine}: ${browser.version}`);
  await browser.close();
});

for (const scenario of scenarios) {
  test(`${engine}: ${scenario.title}`, { timeout: 120_000 }, async () => {
    const scene = await Scene.start(browser, { www: WWW, serverArgs: scenario.serverArgs });
    try {
      await scenario.run(scene);
    } catch (error) {
      console.log(`\n---- trace of "${scenario.title}" in ${engine} ----\n${await scene.trace().catch((e) => e.message)}\n----`);
      throw error;
    } finally {
      await scene.close();
    }
  });
}
