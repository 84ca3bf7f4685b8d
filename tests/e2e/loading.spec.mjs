// Loading the package in Chromium where it goes wrong for users: a Content-Security-Policy, a
// .wasm URL answered by the app's index.html, a client built before the module loaded, and every
// kind of source `init(source)` takes. The pages are served by `page.route` on a fake origin.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { test, expect } from "@playwright/test";

const ORIGIN = "http://app.authpulse.test";
const PKG = fileURLToPath(new URL("../../pkg/", import.meta.url));
const INDEX_HTML = "<!doctype html><title>app</title>";

/**
 * Serves `/` (an HTML page with `headers` and `body`), `/app.js` (the module `script`, which sets
 * `window.outcome`), `/pkg/*` from pkg/, and `files`: { path: { status?, type, body } }.
 * Anything else is the app's index.html, as a single-page app's server answers.
 */
async function serve(page, { headers = {}, script = "", files = {} } = {}) {
  await page.route(`${ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/") {
      return route.fulfill({ contentType: "text/html", headers, body: `${INDEX_HTML}<script type="module" src="/app.js"></script>` });
    }
    if (path === "/app.js") return route.fulfill({ contentType: "text/javascript", headers, body: script });
    if (files[path]) return route.fulfill({ status: files[path].status ?? 200, contentType: files[path].type, body: files[path].body });
    if (path.startsWith("/pkg/") && !path.includes("..")) {
      try {
        const body = await readFile(`${PKG}${path.slice("/pkg/".length)}`);
        return route.fulfill({ contentType: path.endsWith(".wasm") ? "application/wasm" : "text/javascript", body });
      } catch {
        // not in pkg/: the fallback below
      }
    }
    return route.fulfill({ contentType: "text/html", body: INDEX_HTML });
  });
}

// A module script that runs `body` (which may `await` and uses `pkg`) and records how it ended.
const outcomeOf = (body) => `
  const pkg = await import("/pkg/index.js");
  try {
    window.outcome = { ok: await (async () => { ${body} })() };
  } catch (e) {
    window.outcome = { code: e.code, name: e.name, message: e.message };
  }`;

async function outcome(page, options) {
  await serve(page, options);
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(() => window.outcome !== undefined);
  return page.evaluate(() => window.outcome);
}

const makeClient = `const auth = await pkg.createAuthClient({ crossTab: false }); const state = auth.state; auth.dispose(); return state;`;

test.describe("Content-Security-Policy", () => {
  test("script-src 'self': createAuthClient rejects with wasm_blocked, naming 'wasm-unsafe-eval'", async ({ page }) => {
    const result = await outcome(page, { headers: { "Content-Security-Policy": "script-src 'self'" }, script: outcomeOf(makeClient) });
    console.log(`what a user sees: ${result.name}: ${result.message}`);
    expect(result.code).toBe("wasm_blocked");
    expect(result.name).toBe("Error");
    expect(result.message).toMatch(/^authpulse: the page's Content-Security-Policy blocks WebAssembly: add 'wasm-unsafe-eval' to its script-src \(/);
  });

  test("script-src 'self' 'wasm-unsafe-eval': the module loads and a client is built", async ({ page }) => {
    const result = await outcome(page, {
      headers: { "Content-Security-Policy": "script-src 'self' 'wasm-unsafe-eval'" },
      script: outcomeOf(makeClient),
    });
    expect(result).toEqual({ ok: "signedOut" });
  });
});

test.describe("a .wasm URL that does not answer the module", () => {
  test("answered by the app's index.html (a dev server's fallback): wasm_load_failed names the URL, what came and the fix", async ({ page }) => {
    const result = await outcome(page, { script: outcomeOf(`await pkg.init("/assets/authpulse_bg.wasm"); return "loaded";`) });
    console.log(`what a user sees: ${result.name}: ${result.message}`);
    expect(result.code).toBe("wasm_load_failed");
    expect(result.message).toContain(`authpulse: ${ORIGIN}/assets/authpulse_bg.wasm is not authpulse's WebAssembly module (it answered 200 text/html starting "<!do")`);
    expect(result.message).toContain('optimizeDeps.exclude ["authpulse"]');
    expect(result.message).toContain("https://github.com/authpulse/authpulse#bundlers");
  });

  test("a 404 for the package's own .wasm: wasm_load_failed; a later init(source) loads it", async ({ page }) => {
    const wasm = await readFile(`${PKG}authpulse_bg.wasm`);
    const result = await outcome(page, {
      files: {
        "/pkg/authpulse_bg.wasm": { status: 404, type: "text/plain", body: "not found" },
        "/static/authpulse_bg.wasm": { type: "application/wasm", body: wasm },
      },
      script: outcomeOf(`
        const first = await pkg.createAuthClient({}).then(() => null, (e) => [e.code, e.message]);
        await pkg.init("/static/authpulse_bg.wasm");
        ${makeClient.replace("return state;", "return [first, state];")}`),
    });
    const [[code, message], state] = result.ok;
    expect(code).toBe("wasm_load_failed");
    expect(message).toContain(`authpulse: ${ORIGIN}/pkg/authpulse_bg.wasm is not authpulse's WebAssembly module (it answered 404 text/plain)`);
    expect(state).toBe("signedOut");
  });

  test("served as application/octet-stream with the right bytes: it loads", async ({ page }) => {
    const wasm = await readFile(`${PKG}authpulse_bg.wasm`);
    const result = await outcome(page, {
      files: { "/cdn/authpulse_bg.wasm": { type: "application/octet-stream", body: wasm } },
      script: outcomeOf(`await pkg.init("/cdn/authpulse_bg.wasm"); ${makeClient}`),
    });
    expect(result).toEqual({ ok: "signedOut" });
  });
});

test("Vite's dev server moves the code to /node_modules/.vite/deps/ and not the .wasm: the package's own directory is used", async ({ page }) => {
  const [code, wasm] = await Promise.all([readFile(`${PKG}index.js`, "utf8"), readFile(`${PKG}authpulse_bg.wasm`)]);
  const result = await outcome(page, {
    files: {
      "/node_modules/.vite/deps/authpulse.js": { type: "text/javascript", body: code },
      "/node_modules/authpulse/authpulse_bg.wasm": { type: "application/wasm", body: wasm },
    },
    script: `
      const pkg = await import("/node_modules/.vite/deps/authpulse.js");
      const auth = await pkg.createAuthClient({ crossTab: false });
      window.outcome = { ok: auth.state };`,
  });
  expect(result).toEqual({ ok: "signedOut" });
});

test("new AuthClient() before the module is loaded throws not_initialized with the fix", async ({ page }) => {
  const result = await outcome(page, { script: outcomeOf(`return new pkg.AuthClient({});`) });
  console.log(`what a user sees: ${result.name}: ${result.message}`);
  expect(result).toEqual({
    code: "not_initialized",
    name: "Error",
    message: "authpulse: the WebAssembly module is not loaded: `await init()` before `new AuthClient()`, or use `await createAuthClient()`",
  });
});

test.describe("init(source): every kind of source loads the module once", () => {
  const sources = {
    "a URL": `new URL("/pkg/authpulse_bg.wasm", location.href)`,
    "a Request": `new Request("/pkg/authpulse_bg.wasm")`,
    "a Response": `await fetch("/pkg/authpulse_bg.wasm")`,
    "a promise of a Response": `fetch("/pkg/authpulse_bg.wasm")`,
    "an ArrayBuffer": `await (await fetch("/pkg/authpulse_bg.wasm")).arrayBuffer()`,
    "a Uint8Array view": `new Uint8Array(await (await fetch("/pkg/authpulse_bg.wasm")).arrayBuffer())`,
    "a WebAssembly.Module": `await WebAssembly.compileStreaming(fetch("/pkg/authpulse_bg.wasm"))`,
  };
  for (const [name, source] of Object.entries(sources)) {
    test(name, async ({ page }) => {
      const result = await outcome(page, {
        script: outcomeOf(`
          const loaded = await pkg.init(${source});
          const again = await pkg.init("/nowhere.wasm");
          const auth = new pkg.AuthClient({ crossTab: false });
          auth.setSession({ access_token: "t", expires_in: 300 });
          const state = auth.state;
          auth.dispose();
          return [loaded, again, state];`),
      });
      expect(result).toEqual({ ok: [undefined, undefined, "active"] });
    });
  }
});
