// The example apps as their users run them, in Chromium against the reference server: each
// installed from the packed package (scripts/packed.mjs install), built with `vite build` (served
// by the reference server, as a static site beside its API) and run under the Vite dev server with
// no configuration for authpulse (its proxy forwards /auth and /api); the vanilla one also built
// with webpack 5. Driven through their own UI: sign in, an API call carrying the token, a renewal,
// the idle warning, and the idle sign-out, on Playwright's fake clock moved in step with the
// server's (support/harness.mjs).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { App, test, expect, T0, SECOND, MINUTE, tracePageNetwork } from "./support/harness.mjs";
import { ROOT } from "./support/server.mjs";

const EXAMPLES = join(ROOT, "examples");
const renewalsIn = (log) => log.requests.filter((r) => r.path === "/auth/renew");

// Counts the tab channels the page's clients open: one client, one channel (crossTab).
function countChannels() {
  const Native = window.BroadcastChannel;
  window.__channels = { opened: 0, closed: 0 };
  window.BroadcastChannel = class extends Native {
    constructor(name) {
      super(name);
      if (String(name).startsWith("authpulse/")) window.__channels.opened++;
    }
    close() {
      if (this.name.startsWith("authpulse/")) window.__channels.closed++;
      super.close();
    }
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** `vite` (the dev server) in an example, its proxy aimed at `serverUrl`; resolves to its URL. */
async function startVite(example, serverUrl) {
  const port = await freePort();
  const child = spawn(join(EXAMPLES, example, "node_modules/.bin/vite"), ["--host", "127.0.0.1", "--port", String(port), "--strictPort"], {
    cwd: join(EXAMPLES, example),
    env: { ...process.env, AUTHPULSE_SERVER: serverUrl, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = [];
  child.stderr.setEncoding("utf8").on("data", (chunk) => output.push(chunk));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vite did not start:\n${output.join("")}`)), 60_000);
    child.once("exit", (code) => reject(new Error(`vite exited with ${code}:\n${output.join("")}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      output.push(`${line}\n`);
      const local = line.match(/Local:\s+(http\S+)/);
      if (local) {
        clearTimeout(timer);
        resolve(local[1].replace(/\/$/, ""));
      }
    });
  });
  return {
    url,
    output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The app at `url` with the harness's clock and network trace; the page's requests in `requests`. */
async function openExample(page, server, url) {
  const app = new App(page, server);
  app.requests = [];
  app.console = [];
  page.on("request", (request) => app.requests.push(request.url()));
  page.on("console", (message) => app.console.push(message.text()));
  await page.addInitScript(tracePageNetwork);
  await page.addInitScript(countChannels);
  await page.clock.install({ time: T0 - SECOND });
  await page.clock.pauseAt(T0);
  await server.setClock(T0);
  await page.goto(`${url}/`);
  return app;
}

// The scenario every example passes, through its own UI.
async function useTheApp(app, server) {
  const { page } = app;
  const state = page.locator('[data-id="state"]');
  // start() found no session: the login form.
  await expect(state).toHaveText("signedOut", { timeout: 30_000 });

  // The app's own login, then authpulse's session.
  await page.locator('input[name="password"]').fill("alice");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(state).toHaveText("active");
  await expect(page.locator('[data-id="tokens"]')).toHaveText("1");

  // auth.fetch carries the token.
  await page.getByRole("button", { name: "Call /api/me" }).click();
  await expect(page.locator('[data-id="result"]')).toHaveText(/^200 \{.*"username":"alice"/);
  await app.settle();
  const me = (await server.log()).requests.filter((r) => r.path === "/api/me");
  expect(me.map((r) => [r.bearer, r.token, r.status])).toEqual([[true, "valid", 200]]);

  // An active user's 5-minute token is renewed a minute before it expires.
  await app.userInput();
  await app.advance(4 * MINUTE + 30 * SECOND);
  await expect(page.locator('[data-id="tokens"]')).toHaveText("2");
  expect(renewalsIn(await server.log()).filter((r) => r.status === 200)).toHaveLength(1);

  // No input since T0: the warning at 14 minutes, signed out at 15.
  await app.advance(14 * MINUTE - app.now + T0);
  await expect(state).toHaveText("warning");
  await expect(page.getByRole("button", { name: "Stay signed in" })).toBeVisible();
  await app.advance(MINUTE);
  await expect(state).toHaveText("expired");
  await expect(page.locator('[data-id="notice"]')).toHaveText("Signed out (idle).");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  const late = (await server.log()).requests.filter((r) => r.atMs >= T0 + 15 * MINUTE && r.bearer);
  expect(late, "no token after the idle deadline").toEqual([]);
  expect(await page.evaluate(() => window.__channels), "one client, one tab channel").toEqual({ opened: 1, closed: 0 });
  // The logger's words (log.js, a file the bundler kept apart) reached the console.
  expect(app.console).toContain(`authpulse: signed out (idle), last activity ${new Date(T0).toISOString()}`);
}

// The trace of client and server (support/harness.mjs) when a scenario fails.
async function traced(app, scenario) {
  try {
    await scenario();
  } catch (error) {
    console.log(`\n---- trace (client and server) ----\n${await app.trace()}\n----`);
    throw error;
  }
}

for (const example of ["vite-app", "react-app"]) {
  test.describe(`examples/${example}`, () => {
    test.beforeAll(() => {
      const missing = ["node_modules/authpulse", "dist/index.html"].filter((p) => !existsSync(join(EXAMPLES, example, p)));
      if (missing.length) throw new Error(`examples/${example}: no ${missing.join(", ")}: run \`node scripts/packed.mjs install\` and \`run\` first`);
    });

    test.describe("built with vite build", () => {
      test.use({ serverArgs: ["--www", join(EXAMPLES, example, "dist")] });

      test("served beside the API: sign in, API call with the token, renewal, idle warning and sign-out", async ({ page, server }) => {
        const app = await openExample(page, server, server.url);
        await traced(app, () => useTheApp(app, server));
        expect(app.requests.filter((u) => u.endsWith(".wasm")), "the module Vite emitted").toEqual([
          expect.stringMatching(new RegExp(`^${server.url}/assets/authpulse_bg-[\\w-]+\\.wasm$`)),
        ]);
      });
    });

    test("under the Vite dev server, with no authpulse configuration: the same", async ({ page, server }) => {
      const vite = await startVite(example, server.url);
      try {
        const app = await openExample(page, server, vite.url);
        await traced(app, () => useTheApp(app, server));
        // Vite pre-bundled the package into node_modules/.vite/deps/, without its .wasm: the
        // module came from the package's own directory.
        expect(app.requests.filter((u) => u.includes("/node_modules/.vite/deps/authpulse"))).not.toEqual([]);
        expect(app.requests.filter((u) => u.endsWith(".wasm"))).toEqual([`${vite.url}/node_modules/authpulse/authpulse_bg.wasm`]);
      } catch (error) {
        console.log(`vite's output:\n${vite.output.join("")}`);
        throw error;
      } finally {
        await vite.stop();
      }
    });
  });
}

test.describe("examples/vite-app built with webpack 5", () => {
  const dist = join(EXAMPLES, "vite-app", "dist-webpack");
  test.use({ serverArgs: ["--www", dist] });

  test("the module is emitted beside the code and the app works", async ({ page, server }) => {
    if (!existsSync(join(dist, "index.html"))) throw new Error("examples/vite-app: no dist-webpack/: run `node scripts/packed.mjs run` first");
    const app = await openExample(page, server, server.url);
    await traced(app, () => useTheApp(app, server));
    expect(app.requests.filter((u) => u.endsWith(".wasm"))).toEqual([expect.stringMatching(new RegExp(`^${server.url}/[\\w-]+\\.wasm$`))]);
  });
});
