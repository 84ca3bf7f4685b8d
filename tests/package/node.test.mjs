// The packed package in Node, as a server (SSR) or a test runner loads it: importing never throws,
// a client is refused with `unsupported_environment` before anything is opened, nothing keeps the
// process alive, and the module loads from disk. Run with `node --test`.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const EXPORTS = ["AuthClient", "createAuthClient", "init"];

// Runs `source` (an ES module) in a new Node process; it must exit by itself. The timeout only
// stops a process that would otherwise never exit, which is the failure being tested for.
function run(source) {
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", source], { encoding: "utf8", timeout: 30_000 });
  assert.equal(child.error?.code, undefined, `the process did not exit by itself:\n${child.stdout}${child.stderr}`);
  assert.equal(child.status, 0, `${child.stdout}${child.stderr}`);
  return child.stdout;
}

test("the module's bytes that are not WebAssembly reject with wasm_load_failed, saying what came", async () => {
  const { init } = await import("authpulse");
  const page = new TextEncoder().encode("<!doctype html><title>app</title>");
  await assert.rejects(init(page), (error) => {
    assert.equal(error.code, "wasm_load_failed");
    assert.match(error.message, /the module given to init\(\) is not authpulse's WebAssembly module/);
    assert.match(error.message, /\(its bytes start "<!do"\)/);
    assert.match(error.message, /optimizeDeps\.exclude/);
    return true;
  });
  const response = new Response("<!doctype html>", { headers: { "content-type": "text/html" } });
  await assert.rejects(init(response), (error) => {
    assert.equal(error.code, "wasm_load_failed");
    assert.match(error.message, /it answered 200 text\/html starting "<!do"/);
    return true;
  });
  const missing = new URL("file:///nonexistent/authpulse_bg.wasm");
  await assert.rejects(init(missing), (error) => {
    assert.equal(error.code, "wasm_load_failed");
    assert.match(error.message, /^authpulse: file:\/\/\/nonexistent\/authpulse_bg\.wasm is not/);
    assert.match(error.message, /ENOENT/);
    return true;
  });
});

test("import: the API and nothing of wasm-bindgen's; a client is refused with unsupported_environment", async () => {
  const pkg = await import("authpulse");
  assert.deepEqual(Object.keys(pkg).sort(), EXPORTS);
  await assert.rejects(pkg.createAuthClient({}), { code: "unsupported_environment", message: /no window here/ });
  assert.throws(() => new pkg.AuthClient({}), { code: "unsupported_environment" });
});

test("init() loads the module from the package's directory; a failed load could be tried again", async () => {
  const { init, AuthClient } = await import("authpulse");
  assert.equal(await init(), undefined);
  assert.equal(await init(), undefined);
  // Loaded, a client is still refused: there is no page here.
  assert.throws(() => new AuthClient({}), { code: "unsupported_environment" });
});

test("require: the CommonJS entry (Node, Jest) has the same API; the .wasm and package.json are exported", () => {
  const pkg = require("authpulse");
  assert.deepEqual(Object.keys(pkg).sort(), EXPORTS);
  const wasm = readFileSync(require.resolve("authpulse/authpulse_bg.wasm"));
  assert.deepEqual([...wasm.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d]);
  assert.match(require("authpulse/package.json").version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof require("authpulse/react").AuthProvider, "function");
});

test("nothing keeps Node alive: import, createAuthClient, init and new AuthClient, then the process exits", () => {
  const out = run(`
    import { AuthClient, createAuthClient, init } from "authpulse";
    const codes = [];
    await createAuthClient({}).catch((e) => codes.push(e.code));
    await init();
    try { new AuthClient({ crossTab: true }); } catch (e) { codes.push(e.code); }
    console.log(codes.join(" "));
  `);
  assert.equal(out.trim(), "unsupported_environment unsupported_environment");
});

test("server-side rendering: <AuthProvider> renders its children loading, builds no client, throws nothing", async () => {
  const out = run(`
    import { createElement } from "react";
    import { renderToString } from "react-dom/server";
    import { AuthProvider, useAuth } from "authpulse/react";
    function Status() {
      const { client, loading, state } = useAuth();
      return createElement("p", null, JSON.stringify({ client, loading, state }));
    }
    console.log(renderToString(createElement(AuthProvider, { options: {} }, createElement(Status))));
  `);
  assert.equal(out.trim(), `<p>{&quot;client&quot;:null,&quot;loading&quot;:true,&quot;state&quot;:&quot;signedOut&quot;}</p>`);
});
