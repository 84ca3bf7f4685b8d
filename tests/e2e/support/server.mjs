// The reference server (server/, built once by global-setup.mjs), one per test: in-memory
// database, test controls on, an ephemeral port, and this directory's fixtures as its www/.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const SERVER_BIN = join(ROOT, "target", "debug", "authpulse-server");
const FIXTURES = join(ROOT, "tests", "e2e", "fixtures");
const PKG = join(ROOT, "pkg");
const START_TIMEOUT_MS = 20_000;

/**
 * Starts a server with `args` added to the defaults, serving `www` (this directory's fixtures
 * unless given); resolves once it printed its URLs.
 */
export async function startServer(args = [], { www = FIXTURES } = {}) {
  const child = spawn(
    SERVER_BIN,
    ["--port", "0", "--db", ":memory:", "--test-controls", "--www", www, "--pkg", PKG, ...args],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn" } },
  );
  const stderr = [];
  child.stderr.setEncoding("utf8").on("data", (chunk) => {
    stderr.push(chunk);
    if (stderr.length > 200) stderr.shift();
  });
  const urls = await new Promise((resolve, reject) => {
    const found = {};
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr.join("")}`)), START_TIMEOUT_MS);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${stderr.join("")}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const listening = line.match(/^listening on (\S+)/);
      const echo = line.match(/^echo on (\S+)/);
      if (listening) found.url = listening[1];
      if (echo) found.echo = echo[1];
      if (found.url && found.echo) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  return new Server(child, urls.url.replace(/\/$/, ""), urls.echo.replace(/\/$/, ""), stderr);
}

export class Server {
  constructor(child, url, echoUrl, stderr) {
    this.child = child;
    this.url = url;
    this.echoUrl = echoUrl;
    this.stderr = stderr;
  }

  async call(method, path, body) {
    const response = await fetch(this.url + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? null : response.json();
  }

  /** Stops the server clock at `nowMs` (it moves only when a test moves it). */
  setClock(nowMs) {
    return this.call("POST", "/test/clock", { frozen: true, nowMs });
  }

  /** What the server saw: { nowMs, counts, renewals, requests: [{ seq, atMs, method, path, bearer, token, status, injected }] }. */
  log() {
    return this.call("GET", "/test/log");
  }

  clearLog() {
    return this.call("POST", "/test/log/clear");
  }

  /** A failure rule: { path, status?, count?, untilMs?, delayMs?, retryAfter? }. */
  fail(rule) {
    return this.call("POST", "/test/fail", rule);
  }

  /** What the echo origin received: { withAuthorization, requests: [{ headers, authorization, ... }] }. */
  echoLog() {
    return this.call("GET", "/test/echo");
  }

  async stop() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  }
}
