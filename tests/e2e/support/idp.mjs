// The identity provider of the end-to-end tests (support/idp-process.mjs: oidc-provider in a
// child process) and the app's own origin (a static server for tests/e2e/fixtures and pkg/), so
// that the page, the provider and, in the session strategy's test, the renew endpoint each have
// an origin of their own.
//
// An `Idp` has what the harness's `App` expects of a server (`setClock`, `log`, `echoLog`,
// `stderr`), so `app.advance()` moves the provider's clock with the page's.
import { fork } from "node:child_process";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT } from "./server.mjs";

const CHILD = fileURLToPath(new URL("./idp-process.mjs", import.meta.url));
const FIXTURES = join(ROOT, "tests", "e2e", "fixtures");
const PKG = join(ROOT, "pkg");
const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html; charset=utf-8" };
const START_TIMEOUT_MS = 20_000;

/**
 * Serves tests/e2e/fixtures at `/` and pkg/ at `/pkg/` on 127.0.0.1 (an ephemeral port): the
 * app's origin. Resolves to { port, stop() }.
 */
export async function startStaticOrigin() {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const [base, rest] = path.startsWith("/pkg/") ? [PKG, path.slice(5)] : [FIXTURES, path.slice(1)];
    const file = normalize(join(base, rest));
    try {
      if (!file.startsWith(base + "/")) throw new Error("outside");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    stop: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections(); // a page still open keeps its connections alive
      }),
  };
}

/**
 * Starts the provider for a public client `clientId` of the app at `appOrigin`, which signs in
 * at `redirectUri`. Resolves once it listens.
 */
export async function startIdp({ appOrigin, clientId, redirectUri, accessTokenSecs = 120 }) {
  const child = fork(CHILD, [JSON.stringify({ appOrigin, clientId, redirectUri, accessTokenSecs })], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, NODE_ENV: "test" },
  });
  const stderr = [];
  const keep = (chunk) => {
    stderr.push(chunk);
    if (stderr.length > 200) stderr.shift();
  };
  child.stdout.setEncoding("utf8").on("data", keep);
  child.stderr.setEncoding("utf8").on("data", keep);
  const issuer = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the provider did not start: ${stderr.join("")}`)), START_TIMEOUT_MS);
    child.once("exit", (code) => reject(new Error(`the provider exited with ${code}: ${stderr.join("")}`)));
    child.on("message", function ready(message) {
      if (!message?.ready) return;
      clearTimeout(timer);
      child.off("message", ready);
      resolve(message.issuer);
    });
  });
  return new Idp(child, issuer, stderr);
}

export class Idp {
  #child;
  #next = 1;
  #pending = new Map();

  constructor(child, issuer, stderr) {
    this.#child = child;
    this.url = issuer;
    this.stderr = stderr;
    child.on("message", (message) => {
      const waiting = this.#pending.get(message?.id);
      if (!waiting) return;
      this.#pending.delete(message.id);
      if (message.ok) waiting.resolve(message.result);
      else waiting.reject(new Error(message.error));
    });
    child.once("exit", (code) => {
      for (const { reject } of this.#pending.values()) reject(new Error(`the provider exited with ${code}`));
      this.#pending.clear();
    });
  }

  #call(op, args) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ id, op, args });
    });
  }

  /** The provider's discovery document (endpoints as the app would learn them). */
  async discovery() {
    const response = await fetch(`${this.url}/.well-known/openid-configuration`);
    if (!response.ok) throw new Error(`discovery: ${response.status}`);
    return response.json();
  }

  /** Stops the provider's clock at `nowMs`. */
  setClock(nowMs) {
    return this.#call("clock", { nowMs });
  }

  /**
   * What the provider saw: { nowMs, requests: [{ atMs, method, path, token, status, origin,
   * cookies?, held? }], events: [{ atMs, name, … }], errors, renewals }; `token` is how the
   * provider judged a bearer token on arrival (none, valid, expired, unknown).
   */
  async log() {
    const log = await this.#call("log");
    const count = (name) => log.events.filter((e) => e.name === name).length;
    log.renewals = {
      refreshGrants: log.events.filter((e) => e.name === "grant.success" && e.grantType === "refresh_token").length,
      grantErrors: count("grant.error"),
      grantsRevoked: count("grant.revoked"),
    };
    return log;
  }

  /** The provider's events named `name` (all without a name). */
  async events(name) {
    const { events } = await this.#call("log");
    return name ? events.filter((e) => e.name === name) : events;
  }

  clearLog() {
    return this.#call("clearLog");
  }

  /** What the provider's store says of a refresh token: { found, consumed?, expired?, grant? }. */
  refreshToken(value) {
    return this.#call("refreshToken", { value });
  }

  /** What the provider's store says of an access token: { found, expired? }. */
  accessToken(value) {
    return this.#call("accessToken", { value });
  }

  /** Holds the next `count` POSTs to `path` before the provider sees them, until `release()`. */
  hold(path, count = 1) {
    return this.#call("hold", { path, count });
  }

  release() {
    return this.#call("release");
  }

  /** The provider issues its next `count` access tokens with a lifetime of `secs` seconds. */
  shortAccessTokens(secs, count = 1) {
    return this.#call("shortAccessTokens", { secs, count });
  }

  /** Token responses rewritten as another provider would send them ("expires_in-as-string"). */
  shim(name) {
    return this.#call("shim", { name });
  }

  /** The harness's trace reads an echo origin; the provider has none. */
  echoLog() {
    return { requests: [] };
  }

  async stop() {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  }
}
