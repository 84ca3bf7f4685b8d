// The JS API (contract section 1) in Chromium with the network stubbed: the built pkg/ is served
// on a fake origin, `window.fetch` is replaced before the package loads by a stub that records
// every request and answers from the test's script, and Playwright's clock moves time. Tests go
// through the public API only, and look at what the stub received.
import { test, expect } from "@playwright/test";
import { ORIGIN, servePackage } from "./support/serve-package.mjs";

const T0 = Date.parse("2030-01-07T09:00:00Z");
const SECOND = 1_000;
const MINUTE = 60_000;

// Runs in the page before any of its scripts. `window.__stub`:
//   calls    every request made through window.fetch (except the package's own files), in call
//            order: { url, path (same-origin pathname, else null), method, headers (lower-case
//            names), auth, body (text), credentials, keepalive, at, error? }
//   respond  the test's answer: (call, request) => { status, headers, body } | "passthrough"
//            (the real fetch, for data:/blob:) | an Error (rejects) | undefined (the default:
//            /auth/renew issues t1, t2, …; data:/blob: pass through; anything else 200 "ok")
//   events   every event of the clients given to listen(client), with its detail and time
function installFetchStub() {
  const realFetch = window.fetch.bind(window);
  let issued = 0;
  const stub = (window.__stub = {
    calls: [],
    events: [],
    respond: null,
    /** A renew answer with the next token, `t1`, `t2`, … */
    issue(expiresIn = 300) {
      issued += 1;
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ access_token: `t${issued}`, token_type: "Bearer", expires_in: expiresIn }),
      };
    },
    renews() {
      return stub.calls.filter((call) => call.path === "/auth/renew");
    },
    api() {
      return stub.calls.filter((call) => call.path !== "/auth/renew");
    },
    listen(client) {
      for (const type of ["renewed", "idlewarning", "active", "expired", "error"]) {
        client.on(type, (detail) => stub.events.push({ type, detail, at: Date.now() }));
      }
    },
    async read(response) {
      return {
        status: response.status,
        text: await response.text(),
        headers: Object.fromEntries(response.headers),
      };
    },
    async settle(promise) {
      try {
        return { ok: true, value: await promise };
      } catch (error) {
        return { ok: false, name: error?.name, message: String(error?.message ?? error), code: error?.code };
      }
    },
  });
  const defaultRespond = (call) => {
    if (call.path === "/auth/renew") return stub.issue();
    if (/^(data|blob):/.test(call.url)) return "passthrough";
    return { status: 200, headers: { "content-type": "text/plain" }, body: "ok" };
  };
  window.fetch = async function fetch(input, init) {
    const call = { url: "", path: null, method: "GET", headers: {}, auth: null, body: null, at: Date.now() };
    let request;
    try {
      request = new Request(input, init);
    } catch (error) {
      // What window.fetch refuses (a URL with credentials, a used body): recorded, then rejected.
      call.url = String(input instanceof Request ? input.url : input);
      try {
        call.headers = Object.fromEntries(new Headers(init?.headers ?? (input instanceof Request ? input.headers : {})));
      } catch {}
      call.auth = call.headers.authorization ?? null;
      call.error = String(error);
      stub.calls.push(call);
      throw error;
    }
    const url = new URL(request.url);
    if (url.origin === location.origin && url.pathname.startsWith("/pkg/")) return realFetch(request);
    Object.assign(call, {
      url: request.url,
      path: url.origin === location.origin && /^https?:$/.test(url.protocol) ? url.pathname : null,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      credentials: request.credentials,
      keepalive: request.keepalive,
    });
    call.auth = call.headers.authorization ?? null;
    stub.calls.push(call);
    call.body = request.body ? await request.clone().text() : null;
    const answer = (await stub.respond?.(call, request)) ?? defaultRespond(call);
    if (answer === "passthrough") return realFetch(request);
    if (answer instanceof Error) throw answer;
    return new Response(answer.body ?? null, { status: answer.status ?? 200, headers: answer.headers ?? {} });
  };
}

/**
 * Opens the test page with the clock installed at T0 and the stub in place, then imports the
 * package as `window.pkg`. `paused`: the clock stops at T0 + 1 min and moves only by `runFor`.
 */
async function openPage(page, { paused = false } = {}) {
  await page.clock.install({ time: T0 });
  await page.addInitScript(installFetchStub);
  await servePackage(page);
  await page.evaluate(async () => {
    window.pkg = await import("/pkg/index.js");
  });
  if (paused) await page.clock.pauseAt(T0 + MINUTE);
}

/** `window.auth = await createAuthClient(options)`, its events recorded in `__stub.events`. */
async function newClient(page, options = {}) {
  await page.evaluate(async (options) => {
    window.auth = await pkg.createAuthClient(options);
    __stub.listen(auth);
  }, options);
}

const signIn = (page, token = "t0", expiresIn = 3600) =>
  page.evaluate(
    ([token, expiresIn]) => auth.setSession({ access_token: token, token_type: "Bearer", expires_in: expiresIn }),
    [token, expiresIn],
  );
const state = (page) => page.evaluate(() => auth.state);
const now = (page) => page.evaluate(() => Date.now());
const calls = (page) => page.evaluate(() => __stub.calls);
const renews = (page) => page.evaluate(() => __stub.renews());
const events = (page, type) =>
  page.evaluate((type) => __stub.events.filter((event) => !type || event.type === type), type);
/** `auth.fetch(input)` in the page; what the app got and what the stub received meanwhile. */
const appFetch = (page, input = "/api/data", init = undefined) =>
  page.evaluate(
    async ([input, init]) => {
      const before = __stub.calls.length;
      const result = await __stub.settle(auth.fetch(input, init).then(__stub.read));
      return { ...result, calls: __stub.calls.slice(before) };
    },
    [input, init],
  );

test.describe("authpulse client with a stubbed network", () => {
  test("1. only trusted input counts: synthetic keydown/pointermove never extend the session, real input does", async ({
    page,
  }) => {
    await openPage(page, { paused: true });
    await newClient(page, { idleTimeoutMs: 60 * SECOND, warnBeforeIdleMs: 0 });
    await signIn(page);
    // The synthetic events do reach window's capture phase, where activity is heard.
    await page.evaluate(() => {
      window.__seen = 0;
      for (const type of ["keydown", "pointermove", "pointerdown", "wheel"]) {
        window.addEventListener(type, () => (window.__seen += 1), { capture: true, passive: true });
      }
    });
    for (let second = 10; second <= 50; second += 10) {
      await page.clock.runFor(10 * SECOND);
      await page.evaluate(() => {
        const at = { bubbles: true, cancelable: true, clientX: 40, clientY: 40 };
        document.dispatchEvent(new KeyboardEvent("keydown", { key: "a", bubbles: true }));
        document.dispatchEvent(new PointerEvent("pointermove", at));
        document.body.dispatchEvent(new PointerEvent("pointerdown", at));
        window.dispatchEvent(new WheelEvent("wheel", { deltaY: 10 }));
      });
      expect(await state(page), `synthetic events, ${second} s`).toBe("active");
    }
    expect(await page.evaluate(() => window.__seen)).toBe(20);
    await page.clock.runFor(10 * SECOND);
    expect(await state(page)).toBe("expired");
    expect((await events(page, "expired")).map((e) => e.detail)).toEqual([{ reason: "idle" }]);
    const after = await appFetch(page);
    expect(after.calls.map((c) => c.auth)).toEqual([null]);

    // The same timeline with the browser's own (trusted) input keeps the session.
    await signIn(page, "t9");
    const start = await now(page);
    for (let second = 10; second <= 50; second += 10) {
      await page.clock.runFor(10 * SECOND);
      if (second % 20 === 0) await page.keyboard.press("Shift");
      else await page.mouse.move(10 + second, 10 + second);
    }
    await page.clock.runFor(10 * SECOND);
    expect((await now(page)) - start).toBe(60 * SECOND);
    expect(await state(page)).toBe("active");
    await page.clock.runFor(49 * SECOND);
    expect(await state(page)).toBe("active");
    expect(await events(page, "expired")).toHaveLength(1);
    const during = await appFetch(page);
    expect(during.calls.map((c) => c.auth)).toEqual(["Bearer t9"]);
  });

  test("2. the bearer token goes only to allowed origins, never to other ports, schemes, hosts or data:/blob: URLs", async ({
    page,
  }) => {
    await openPage(page);
    await newClient(page, { allowedOrigins: [ORIGIN] });
    await signIn(page);
    const results = await page.evaluate(async () => {
      const blobUrl = URL.createObjectURL(new Blob(["blob-body"], { type: "text/plain" }));
      const cases = {
        relative: () => auth.fetch("/api/relative"),
        absolute: () => auth.fetch("http://app.authpulse.test/api/absolute"),
        urlObject: () => auth.fetch(new URL("/api/url-object", location.href)),
        requestObject: () => auth.fetch(new Request("/api/request-object")),
        otherPort: () => auth.fetch("http://app.authpulse.test:8080/x"),
        otherScheme: () => auth.fetch("https://app.authpulse.test/x"),
        subdomain: () => auth.fetch("http://api.app.authpulse.test/x"),
        suffixHost: () => auth.fetch("http://app.authpulse.test.evil.example/x"),
        userinfo: () => auth.fetch("http://app.authpulse.test@evil.example/"),
        protocolRelative: () => auth.fetch("//evil.example/x"),
        otherRequest: () => auth.fetch(new Request("https://evil.example/y")),
        data: () => auth.fetch("data:text/plain,data-body"),
        blob: () => auth.fetch(blobUrl),
      };
      const out = {};
      for (const [name, run] of Object.entries(cases)) {
        const before = __stub.calls.length;
        const result = await __stub.settle(run().then(__stub.read));
        out[name] = { ...result, calls: __stub.calls.slice(before) };
      }
      return out;
    });
    const allowed = {
      relative: `${ORIGIN}/api/relative`,
      absolute: `${ORIGIN}/api/absolute`,
      urlObject: `${ORIGIN}/api/url-object`,
      requestObject: `${ORIGIN}/api/request-object`,
    };
    for (const [name, url] of Object.entries(allowed)) {
      expect(results[name].ok, name).toBe(true);
      expect(results[name].calls.map((c) => [c.url, c.auth]), name).toEqual([[url, "Bearer t0"]]);
    }
    const others = {
      otherPort: "http://app.authpulse.test:8080/x",
      otherScheme: "https://app.authpulse.test/x",
      subdomain: "http://api.app.authpulse.test/x",
      suffixHost: "http://app.authpulse.test.evil.example/x",
      protocolRelative: "http://evil.example/x",
      otherRequest: "https://evil.example/y",
    };
    for (const [name, url] of Object.entries(others)) {
      expect(results[name].ok, name).toBe(true);
      expect(results[name].calls.map((c) => [c.url, c.auth]), name).toEqual([[url, null]]);
    }
    // window.fetch refuses a URL with credentials; whatever the client does, no token goes out.
    expect(results.userinfo.calls.filter((c) => c.auth !== null), "userinfo").toEqual([]);
    for (const name of ["data", "blob"]) {
      expect(results[name].ok, name).toBe(true);
      expect(results[name].value.text, name).toBe(`${name}-body`);
      expect(results[name].calls.map((c) => c.auth), name).toEqual([null]);
    }
    expect(await renews(page)).toEqual([]);
  });

  test("3. a caller's own Authorization header is never overwritten", async ({ page }) => {
    await openPage(page);
    await newClient(page);
    await signIn(page);
    const sent = await page.evaluate(async () => {
      await auth.fetch("/api/a", { headers: { Authorization: "Basic dXNlcjpwdw==" } });
      await auth.fetch(new Request("/api/b", { headers: { authorization: "Bearer mine" } }));
      await auth.fetch("/api/c", { headers: new Headers({ Authorization: "Custom c" }) });
      await auth.fetch("/api/d", { method: "POST", body: "x", headers: [["Authorization", "Bearer d"]] });
      await auth.fetch("/api/e");
      return __stub.calls.map((c) => [c.path, c.auth]);
    });
    expect(sent).toEqual([
      ["/api/a", "Basic dXNlcjpwdw=="],
      ["/api/b", "Bearer mine"],
      ["/api/c", "Custom c"],
      ["/api/d", "Bearer d"],
      ["/api/e", "Bearer t0"],
    ]);
  });

  test("4. a 401 invalid_token renews once and retries the same request, body included; a second 401 is returned as is", async ({
    page,
  }) => {
    await openPage(page);
    await newClient(page);
    await signIn(page);
    const out = await page.evaluate(async () => {
      const seen = new Set();
      __stub.respond = (call) => {
        if (call.path === "/auth/renew") return undefined;
        // Each path refuses its first request (and /api/always every one).
        if (call.path === "/api/always" || !seen.has(call.path)) {
          seen.add(call.path);
          return {
            status: 401,
            headers: { "www-authenticate": 'Bearer error="invalid_token"' },
            body: `refused ${call.path}`,
          };
        }
        return { status: 200, body: `ok ${call.path}` };
      };
      const form = new FormData();
      form.append("field", "value");
      form.append("file", new Blob(["file-content"], { type: "text/plain" }), "a.txt");
      const requests = {
        json: ["/api/json", { method: "POST", headers: { "content-type": "application/json", "x-custom": "1" }, body: JSON.stringify({ a: 1, b: [2] }) }],
        text: ["/api/text", { method: "PUT", body: "plain text body" }],
        form: ["/api/form", { method: "POST", body: form }],
        params: ["/api/params", { method: "POST", body: new URLSearchParams({ q: "x y" }) }],
        request: [new Request("/api/request", { method: "POST", body: "from a Request" })],
        always: ["/api/always", { method: "POST", body: "again" }],
      };
      const out = {};
      for (const [name, args] of Object.entries(requests)) {
        const before = __stub.calls.length;
        const result = await __stub.settle(auth.fetch(...args).then(__stub.read));
        out[name] = { ...result, calls: __stub.calls.slice(before) };
      }
      return out;
    });
    const normalize = (call) => {
      const boundary = /boundary=(.+)$/.exec(call.headers["content-type"] ?? "")?.[1];
      return boundary ? call.body.split(boundary).join("BOUNDARY") : call.body;
    };
    let token = 0;
    for (const name of ["json", "text", "form", "params", "request"]) {
      const { ok, value, calls } = out[name];
      expect(ok, name).toBe(true);
      expect(value.status, name).toBe(200);
      const [renew, ...rest] = calls.filter((c) => c.path === "/auth/renew");
      expect(rest, `${name}: one renewal`).toEqual([]);
      expect(renew.method, name).toBe("POST");
      expect(renew.credentials, name).toBe("include");
      expect(renew.headers["x-requested-with"], name).toBe("authpulse");
      expect(typeof JSON.parse(renew.body).idleMs, name).toBe("number");
      const api = calls.filter((c) => c.path !== "/auth/renew");
      expect(api.map((c) => c.auth), name).toEqual([token ? `Bearer t${token}` : "Bearer t0", `Bearer t${token + 1}`]);
      token += 1;
      const [first, retry] = api;
      expect(retry.url, name).toBe(first.url);
      expect(retry.method, name).toBe(first.method);
      expect(normalize(retry), name).toBe(normalize(first));
      expect(retry.body, name).not.toBeNull();
      expect(retry.headers["content-type"]?.split(";")[0], name).toBe(first.headers["content-type"]?.split(";")[0]);
    }
    expect(out.json.calls.filter((c) => c.path === "/api/json").map((c) => [c.method, c.body, c.headers["x-custom"]])).toEqual([
      ["POST", '{"a":1,"b":[2]}', "1"],
      ["POST", '{"a":1,"b":[2]}', "1"],
    ]);
    const form = out.form.calls.filter((c) => c.path === "/api/form");
    expect(form[1].headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(form[1].body).toContain('name="field"\r\n\r\nvalue');
    expect(form[1].body).toContain("file-content");

    // A second 401 goes back to the app as is, after exactly one renewal.
    const always = out.always;
    expect(always.ok).toBe(true);
    expect(always.value.status).toBe(401);
    expect(always.value.text).toBe("refused /api/always");
    expect(always.calls.filter((c) => c.path === "/auth/renew")).toHaveLength(1);
    expect(always.calls.filter((c) => c.path === "/api/always").map((c) => c.body)).toEqual(["again", "again"]);
    expect(await state(page)).toBe("active");
  });

  test("4b. bodyless requests are retried with the new token and their headers; a stream body is not replayed; the signal goes through", async ({
    page,
  }) => {
    await openPage(page);
    await newClient(page);
    await signIn(page);
    const out = await page.evaluate(async () => {
      const seen = new Set();
      const refuse = (call) => ({
        status: 401,
        headers: { "www-authenticate": 'Bearer error="invalid_token"' },
        body: `refused ${call.path}`,
      });
      __stub.respond = (call, request) => {
        if (call.path === "/auth/renew") return undefined;
        if (call.path === "/api/hang") {
          // Answers only when the caller's signal aborts the request it was given.
          return new Promise((resolve, reject) => {
            const abort = () => reject(new DOMException("aborted by the caller", "AbortError"));
            if (request.signal.aborted) abort();
            else request.signal.addEventListener("abort", abort);
          });
        }
        if (call.path === "/api/stream" || !seen.has(call.path)) {
          seen.add(call.path);
          return refuse(call);
        }
        return { status: 200, body: `ok ${call.path} ${call.method}` };
      };
      const run = async (...args) => {
        const before = __stub.calls.length;
        const result = await __stub.settle(auth.fetch(...args).then(__stub.read));
        return { ...result, calls: __stub.calls.slice(before).filter((c) => c.path !== "/auth/renew") };
      };
      const out = {};
      out.get = await run("/api/get", { headers: { "x-custom": "1" }, cache: "no-store" });
      out.request = await run(new Request("/api/request-get", { headers: { "x-custom": "2" } }));
      out.delete = await run("/api/delete", { method: "DELETE" });
      out.head = await run("/api/head", { method: "HEAD" });
      const controller = new AbortController();
      out.signal = await run("/api/signal", { signal: controller.signal });
      const hanging = auth.fetch("/api/hang", { signal: controller.signal });
      controller.abort();
      out.aborted = await __stub.settle(hanging);
      const stream = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode("streamed"));
          c.close();
        },
      });
      out.stream = await run("/api/stream", { method: "POST", body: stream, duplex: "half" });
      out.renews = __stub.renews().length;
      return out;
    });
    let token = 0;
    for (const [name, method] of [["get", "GET"], ["request", "GET"], ["delete", "DELETE"], ["head", "HEAD"], ["signal", "GET"]]) {
      const { ok, value, calls } = out[name];
      expect(ok, name).toBe(true);
      expect(value.status, name).toBe(200);
      expect(calls.map((c) => [c.method, c.auth, c.body]), name).toEqual([
        [method, `Bearer t${token}`, null],
        [method, `Bearer t${token + 1}`, null],
      ]);
      expect(calls[1].url, name).toBe(calls[0].url);
      token += 1;
    }
    expect(out.get.calls.map((c) => c.headers["x-custom"])).toEqual(["1", "1"]);
    expect(out.request.calls.map((c) => c.headers["x-custom"])).toEqual(["2", "2"]);
    expect(out.get.value.text).toBe("ok /api/get GET");
    // The caller's signal reaches window.fetch: aborting it rejects the call as fetch would.
    expect(out.aborted).toMatchObject({ ok: false, name: "AbortError" });
    // A streamed body cannot be sent twice: the 401 goes back to the caller.
    expect(out.stream.ok).toBe(true);
    expect(out.stream.value.status).toBe(401);
    expect(out.stream.calls.map((c) => [c.method, c.auth, c.body])).toEqual([["POST", `Bearer t${token}`, "streamed"]]);
    expect(out.renews).toBe(token);
  });

  test("5. a 403, and a 401 with another challenge (insufficient_scope), are returned untouched with no renewal", async ({
    page,
  }) => {
    await openPage(page);
    await newClient(page);
    await signIn(page);
    await page.evaluate(() => {
      __stub.respond = (call) => {
        if (call.path === "/api/forbidden") return { status: 403, headers: { "x-why": "role" }, body: "forbidden" };
        if (call.path === "/api/scope") {
          return {
            status: 401,
            headers: { "www-authenticate": 'Bearer error="insufficient_scope", scope="admin"' },
            body: "need admin",
          };
        }
        return undefined;
      };
    });
    const forbidden = await appFetch(page, "/api/forbidden", { method: "POST", body: "x" });
    expect(forbidden.value.status).toBe(403);
    expect(forbidden.value.text).toBe("forbidden");
    expect(forbidden.value.headers["x-why"]).toBe("role");
    expect(forbidden.calls.map((c) => [c.path, c.auth])).toEqual([["/api/forbidden", "Bearer t0"]]);

    const scope = await appFetch(page, "/api/scope");
    expect(scope.value.status).toBe(401);
    expect(scope.value.text).toBe("need admin");
    expect(scope.value.headers["www-authenticate"]).toContain("insufficient_scope");
    expect(scope.calls.map((c) => [c.path, c.auth])).toEqual([["/api/scope", "Bearer t0"]]);

    expect(await renews(page)).toEqual([]);
    expect(await state(page)).toBe("active");
    expect(await events(page, "expired")).toEqual([]);
  });

  test("6. the renew endpoint answering 401 signs out: the app gets the original 401, expired(session) once, no token after", async ({
    page,
  }) => {
    await openPage(page);
    await newClient(page);
    await signIn(page);
    await page.evaluate(() => {
      __stub.respond = (call) => {
        if (call.path === "/auth/renew") return { status: 401, body: "no session" };
        if (call.auth) {
          return {
            status: 401,
            headers: { "www-authenticate": 'Bearer error="invalid_token"', "x-original": "yes" },
            body: "original 401",
          };
        }
        return { status: 200, body: "anonymous ok" };
      };
    });
    const refused = await appFetch(page, "/api/data", { method: "POST", body: "payload" });
    expect(refused.ok).toBe(true);
    expect(refused.value.status).toBe(401);
    expect(refused.value.text).toBe("original 401");
    expect(refused.value.headers["x-original"]).toBe("yes");
    expect(refused.calls.map((c) => [c.path, c.auth])).toEqual([
      ["/api/data", "Bearer t0"],
      ["/auth/renew", null],
    ]);
    expect((await events(page, "expired")).map((e) => e.detail)).toEqual([{ reason: "session" }]);
    expect(await state(page)).toBe("expired");

    const next = await appFetch(page, "/api/next");
    expect(next.value.status).toBe(200);
    expect(next.calls.filter((c) => c.path === "/api/next").map((c) => c.auth)).toEqual([null]);
    expect(await events(page, "expired")).toHaveLength(1);
  });

  test("7. invalid options throw a TypeError naming the option, with a string code", async ({ page }) => {
    await openPage(page);
    const cases = [
      [{ idleTimeoutMs: -1 }, /idleTimeoutMs/],
      [{ idleTimeoutMs: "15" }, /idleTimeoutMs/],
      [{ idleTimeoutMs: 60_000, warnBeforeIdleMs: 60_000 }, /warnBeforeIdleMs/],
      [{ warnBeforeIdleMs: 20 * 60_000 }, /warnBeforeIdleMs/],
      [{ allowedOrigins: ["not a url"] }, /allowedOrigins/],
      [{ allowedOrigins: ["https://api.example/path"] }, /allowedOrigins/],
      [{ tokenEndpoint: "https://idp.example/token" }, /clientId/],
      [{ idleTimeout: 60_000 }, /idleTimeout(?!Ms)/],
    ];
    const results = await page.evaluate(async (cases) => {
      const out = [];
      for (const [options] of cases) {
        try {
          const client = await pkg.createAuthClient(options);
          client.dispose();
          out.push(null);
        } catch (e) {
          out.push({ isTypeError: e instanceof TypeError, message: String(e.message), code: e.code });
        }
      }
      return out;
    }, cases);
    cases.forEach(([options, names], i) => {
      const label = JSON.stringify(options);
      expect(results[i], label).not.toBeNull();
      expect(results[i].isTypeError, label).toBe(true);
      expect(results[i].message, label).toMatch(names);
      expect(typeof results[i].code, label).toBe("string");
    });
    // Valid options still build a client.
    const valid = await page.evaluate(async (origin) => {
      const client = await pkg.createAuthClient({
        idleTimeoutMs: 60_000,
        warnBeforeIdleMs: 0,
        allowedOrigins: [origin, "https://api.example"],
        tokenEndpoint: "https://idp.example/token",
        clientId: "spa",
      });
      const state = client.state;
      client.dispose();
      return state;
    }, ORIGIN);
    expect(valid).toBe("signedOut");
  });

  test("8. twenty concurrent fetches on an expired token share one renewal and all go out with the new token", async ({
    page,
  }) => {
    await openPage(page);
    await newClient(page);
    await signIn(page, "t0", 60);
    await page.clock.fastForward(61 * SECOND);
    const out = await page.evaluate(async () => {
      let release;
      const gate = new Promise((resolve) => (release = resolve));
      __stub.respond = async (call) => {
        if (call.path === "/auth/renew") {
          await gate;
          return __stub.issue();
        }
        return { status: 200, body: `ok ${call.auth}` };
      };
      const all = Promise.all(Array.from({ length: 20 }, (_, i) => auth.fetch(`/api/item/${i}`).then(__stub.read)));
      await new Promise((resolve) => setTimeout(resolve, 50));
      release();
      return { results: await all, calls: __stub.calls };
    });
    expect(out.calls.filter((c) => c.path === "/auth/renew")).toHaveLength(1);
    const api = out.calls.filter((c) => c.path !== "/auth/renew");
    expect(api).toHaveLength(20);
    expect(new Set(api.map((c) => c.auth))).toEqual(new Set(["Bearer t1"]));
    expect(out.results.map((r) => [r.status, r.text])).toEqual(Array(20).fill([200, "ok Bearer t1"]));
  });

  test("9. getAccessToken returns the token, renews first once it expired, and null when signed out", async ({ page }) => {
    await openPage(page);
    await newClient(page);
    expect(await page.evaluate(() => auth.getAccessToken())).toBeNull();
    await signIn(page, "t0", 60);
    expect(await page.evaluate(() => auth.getAccessToken())).toBe("t0");
    expect(await renews(page)).toEqual([]);
    await page.clock.fastForward(61 * SECOND);
    expect(await page.evaluate(() => auth.getAccessToken())).toBe("t1");
    expect(await renews(page)).toHaveLength(1);
    await page.evaluate(() => auth.logout());
    expect(await page.evaluate(() => auth.getAccessToken())).toBeNull();
  });

  test("10. on() returns a working unsubscribe; a throwing listener stops neither the others nor the client; unknown events throw", async ({
    page,
  }) => {
    await openPage(page);
    await newClient(page);
    const out = await page.evaluate(async () => {
      const seen = { a: 0, b: 0, thrower: 0 };
      const offThrower = auth.on("renewed", () => {
        seen.thrower += 1;
        throw new Error("listener bug");
      });
      const offA = auth.on("renewed", () => (seen.a += 1));
      auth.on("renewed", () => (seen.b += 1));
      const started = await auth.start();
      const afterStart = { ...seen };
      offA();
      offA();
      const token = await auth.getAccessToken();
      const unsubscribeType = typeof offThrower;
      let unknown;
      try {
        auth.on("nosuchevent", () => {});
        unknown = null;
      } catch (e) {
        unknown = { name: e.name, message: String(e.message) };
      }
      return { started, afterStart, unsubscribeType, token, unknown, state: auth.state };
    });
    expect(out.unsubscribeType).toBe("function");
    expect(out.started).toBe(true);
    expect(out.afterStart).toEqual({ a: 1, b: 1, thrower: 1 });
    expect(out.token).toBe("t1");
    expect(out.state).toBe("active");
    expect(out.unknown).not.toBeNull();
    expect(out.unknown.message).toContain("nosuchevent");

    // A second renewal reaches the remaining listeners only.
    await page.clock.fastForward(301 * SECOND);
    const later = await page.evaluate(async () => {
      const seen = [];
      auth.on("renewed", () => seen.push("late"));
      const token = await auth.getAccessToken();
      const res = await auth.fetch("/api/after");
      return { token, status: res.status, seen };
    });
    expect(later.token).toBe("t2");
    expect(later.status).toBe(200);
    expect(later.seen).toEqual(["late"]);
    expect((await calls(page)).filter((c) => c.path === "/api/after").map((c) => c.auth)).toEqual(["Bearer t2"]);
    expect(await events(page, "renewed")).toHaveLength(2);
  });

  test("11. a malformed token response is refused and the current token kept (setSession throws; renewal emits error)", async ({
    page,
  }) => {
    await openPage(page, { paused: true });
    await newClient(page);
    await signIn(page, "t0", 300);
    const thrown = await page.evaluate(() =>
      // (Without expires_in a token response is valid since the contract's rule 11 follows real
      // servers: 5 minutes, or exp − iat of a JWT.)
      [
        {},
        { access_token: "a", expires_in: 0 },
        { access_token: "a", expires_in: 5 },
        { access_token: "a\r\nX: y", expires_in: 60 },
        { access_token: "a", expires_in: 60, token_type: "DPoP" },
      ].map((response) => {
        try {
          auth.setSession(response);
          return null;
        } catch (e) {
          return { isTypeError: e instanceof TypeError, code: e.code };
        }
      }),
    );
    for (const result of thrown) {
      expect(result).not.toBeNull();
      expect(result.isTypeError).toBe(true);
      expect(result.code).toBe("bad_token_response");
    }
    expect(await page.evaluate(() => auth.getAccessToken())).toBe("t0");
    expect(await state(page)).toBe("active");
    expect(await events(page, "renewed")).toHaveLength(1);

    // The proactive renewal (an active user, 60 s before expiry) is answered with something that
    // is not JSON: an error event, and t0 still goes out while it is valid.
    await page.evaluate(() => {
      __stub.respond = (call) =>
        call.path === "/auth/renew"
          ? { status: 200, headers: { "content-type": "text/html" }, body: "<html>oops" }
          : { status: 200, body: "ok" };
    });
    await page.clock.runFor(SECOND);
    await page.evaluate(() => auth.touch());
    await page.clock.runFor(240 * SECOND);
    await expect.poll(async () => (await events(page, "error")).map((e) => e.detail.code)).toEqual([
      "bad_token_response",
    ]);
    expect(await renews(page)).toHaveLength(1);
    expect(typeof (await events(page, "error"))[0].detail.message).toBe("string");
    expect(await events(page, "expired")).toEqual([]);
    expect(await state(page)).toBe("active");
    const next = await appFetch(page, "/api/next");
    expect(next.calls.filter((c) => c.path === "/api/next").map((c) => c.auth)).toEqual(["Bearer t0"]);
  });

  test("11b. a renewal after a 401 answered with something that is not JSON: error event, the app gets the 401, no sign-out", async ({
    page,
  }) => {
    await openPage(page);
    await newClient(page);
    await signIn(page, "t0", 3600);
    await page.evaluate(() => {
      __stub.respond = (call) => {
        if (call.path === "/auth/renew") return { status: 200, headers: { "content-type": "text/html" }, body: "<html>oops" };
        return { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' }, body: "refused" };
      };
    });
    const refused = await appFetch(page, "/api/first");
    expect(refused.ok).toBe(true);
    expect(refused.value.status).toBe(401);
    expect(refused.value.text).toBe("refused");
    expect(refused.calls.map((c) => [c.path, c.auth])).toEqual([
      ["/api/first", "Bearer t0"],
      ["/auth/renew", null],
    ]);
    expect((await events(page, "error")).map((e) => e.detail.code)).toEqual(["bad_token_response"]);
    expect(await events(page, "expired")).toEqual([]);
  });

  test("12. logout tears down with reason logout, POSTs logoutUrl with keepalive, and later fetches carry no token", async ({
    page,
  }) => {
    await openPage(page);
    await newClient(page, { logoutUrl: "/auth/logout" });
    await signIn(page);
    await page.evaluate(() => auth.logout());
    expect((await events(page, "expired")).map((e) => e.detail)).toEqual([{ reason: "logout" }]);
    expect(await state(page)).toBe("signedOut");
    const logout = (await calls(page)).filter((c) => c.path === "/auth/logout");
    expect(logout.map((c) => [c.method, c.keepalive])).toEqual([["POST", true]]);
    const after = await appFetch(page, "/api/after");
    expect(after.value.status).toBe(200);
    expect(after.calls.map((c) => [c.path, c.auth])).toEqual([["/api/after", null]]);
  });

  test("13. dispose: later fetch rejects with code disposed and no timer fires again", async ({ page }) => {
    const pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    await openPage(page, { paused: true });
    await newClient(page, { logoutUrl: "/auth/logout" });
    await signIn(page, "t0", 60);
    await page.evaluate(() => auth.touch());
    await page.mouse.move(20, 20);
    await page.evaluate(() => auth.dispose());
    const callsBefore = (await calls(page)).length;
    const eventsBefore = (await events(page)).length;
    const rejected = await page.evaluate(() => __stub.settle(auth.fetch("/api/after")));
    expect(rejected.ok).toBe(false);
    expect(rejected.code).toBe("disposed");
    for (let i = 0; i < 60; i++) {
      await page.clock.runFor(MINUTE);
      if (i % 10 === 0) await page.mouse.move(30 + i, 30);
    }
    expect((await calls(page)).slice(callsBefore)).toEqual([]);
    expect((await events(page)).slice(eventsBefore)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  test("14. default idle timeline: warning at 14 min with expiresAt, a key press cancels it (active), expired(idle) at 15 min", async ({
    page,
  }) => {
    await openPage(page, { paused: true });
    await newClient(page);
    await signIn(page, "t0", 3600);
    await page.keyboard.press("Shift");
    const first = await now(page);

    await page.clock.runFor(14 * MINUTE - SECOND);
    expect(await events(page, "idlewarning")).toEqual([]);
    expect(await state(page)).toBe("active");
    await page.clock.runFor(SECOND);
    const warnings = await events(page, "idlewarning");
    expect(warnings.map((e) => [e.at - first, e.detail])).toEqual([[14 * MINUTE, { expiresAt: first + 15 * MINUTE }]]);
    expect(await state(page)).toBe("warning");

    // A real key press 30 s into the warning cancels it.
    await page.clock.runFor(30 * SECOND);
    await page.keyboard.press("a");
    const second = await now(page);
    expect((await events(page, "active")).map((e) => [e.at, e.detail])).toEqual([[second, {}]]);
    expect(await state(page)).toBe("active");
    await page.clock.runFor(first + 15 * MINUTE + SECOND - second);
    expect(await events(page, "expired")).toEqual([]);
    expect(await state(page)).toBe("active");

    // Then nothing: warning 14 min after the last key press, teardown at 15 min.
    await page.clock.runFor(second + 14 * MINUTE - (await now(page)));
    const again = (await events(page, "idlewarning")).slice(1);
    expect(again.map((e) => [e.at - second, e.detail])).toEqual([[14 * MINUTE, { expiresAt: second + 15 * MINUTE }]]);
    await page.clock.runFor(MINUTE - SECOND);
    expect(await events(page, "expired")).toEqual([]);
    await page.clock.runFor(SECOND);
    const expired = await events(page, "expired");
    expect(expired.map((e) => [e.at - second, e.detail])).toEqual([[15 * MINUTE, { reason: "idle" }]]);
    expect(await state(page)).toBe("expired");
    const after = await appFetch(page, "/api/after");
    expect(after.calls.filter((c) => c.path === "/api/after").map((c) => c.auth)).toEqual([null]);
  });

  test("15. start(): renew 200 resolves true (active, renewed with expiresAt); renew 401 resolves false (signedOut, no expired)", async ({
    page,
  }) => {
    await openPage(page);
    await newClient(page);
    const ok = await page.evaluate(async () => {
      const before = Date.now();
      const started = await auth.start();
      return { started, before, after: Date.now(), state: auth.state };
    });
    expect(ok.started).toBe(true);
    expect(ok.state).toBe("active");
    const [renew, ...more] = await renews(page);
    expect(more).toEqual([]);
    expect([renew.method, renew.credentials, renew.headers["x-requested-with"]]).toEqual(["POST", "include", "authpulse"]);
    const renewed = await events(page, "renewed");
    expect(renewed).toHaveLength(1);
    expect(renewed[0].detail.expiresAt).toBeGreaterThanOrEqual(ok.before + 300 * SECOND);
    expect(renewed[0].detail.expiresAt).toBeLessThanOrEqual(ok.after + 300 * SECOND);
    expect((await appFetch(page, "/api/x")).calls.map((c) => c.auth)).toEqual(["Bearer t1"]);

    // A second client whose session is gone.
    const refused = await page.evaluate(async () => {
      auth.dispose();
      __stub.respond = (call) => (call.path === "/auth/renew" ? { status: 401, body: "no session" } : undefined);
      const client = await pkg.createAuthClient({});
      const seen = [];
      for (const type of ["renewed", "expired", "error"]) client.on(type, (detail) => seen.push({ type, detail }));
      const before = __stub.calls.length;
      const started = await client.start();
      const state = client.state;
      const token = await client.getAccessToken();
      client.dispose();
      return { started, state, token, seen, calls: __stub.calls.slice(before).map((c) => c.path) };
    });
    expect(refused.started).toBe(false);
    expect(refused.state).toBe("signedOut");
    expect(refused.token).toBeNull();
    expect(refused.seen).toEqual([]);
    expect(refused.calls[0]).toBe("/auth/renew");
  });
});
