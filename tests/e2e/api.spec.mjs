// What an app sees of a session beyond the token, in Chromium with the network stubbed (as in
// client.spec.mjs): the `signedin` and `statechange` events, the `idleExpiresAt` and
// `tokenExpiresAt` getters, the `logger`, and real input in the page's frames. Tests go through the public API
// only; time is Playwright's page clock.
import { test, expect } from "@playwright/test";
import { ORIGIN, servePackage } from "./support/serve-package.mjs";

const T0 = Date.parse("2030-01-07T09:00:00Z");
const SECOND = 1_000;
const MINUTE = 60_000;
const EVENTS = ["signedin", "statechange", "renewed", "idlewarning", "active", "expired", "error"];

// Runs in the page (and in every frame) before any of its scripts. `window.__stub`:
//   calls   requests made through window.fetch other than the package's files: { path, auth, at }
//   renew   the test's answer to a renew request, (call) => { status, body } | Error; default:
//           a new token t1, t2, … for 300 s
//   api     the test's answer to any other request (or a promise of it); default 200 "ok"
//   lines   what `logger` (an AuthLogger) was told: [level, message, at]
//   events  what listen(client) heard: { type, detail, at, state } (`state`: read in the listener)
function installStub() {
  const realFetch = window.fetch.bind(window);
  let issued = 0;
  const stub = (window.__stub = {
    calls: [],
    events: [],
    lines: [],
    renew: null,
    api: null,
    token(expiresIn = 300) {
      issued += 1;
      return { status: 200, body: JSON.stringify({ access_token: `t${issued}`, token_type: "Bearer", expires_in: expiresIn }) };
    },
    logger: Object.fromEntries(["debug", "info", "warn"].map((level) => [level, (line) => stub.lines.push([level, line, Date.now()])])),
    listen(client, types) {
      for (const type of types) {
        client.on(type, (detail) => stub.events.push({ type, detail, at: Date.now(), state: client.state }));
      }
    },
  });
  window.fetch = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.pathname.startsWith("/pkg/")) return realFetch(request);
    const call = { path: url.pathname, auth: request.headers.get("authorization"), at: Date.now() };
    stub.calls.push(call);
    const answer = url.pathname === "/auth/renew" ? (stub.renew?.(call) ?? stub.token()) : ((await stub.api?.(call)) ?? { status: 200, body: "ok" });
    if (answer instanceof Error) throw answer;
    return new Response(answer.body ?? null, { status: answer.status, headers: answer.headers ?? { "content-type": "application/json" } });
  };
}

/**
 * Opens the test page with the stub and imports the package as `window.pkg`. The page clock,
 * which the pages of a browser context share, is installed at T0 and paused (moved by `runFor`)
 * unless `clock` is false: a second tab of the same context.
 */
async function openPage(page, { clock = true } = {}) {
  if (clock) await page.clock.install({ time: T0 });
  await page.addInitScript(installStub);
  await servePackage(page);
  await page.evaluate(async () => {
    window.pkg = await import("/pkg/index.js");
  });
  if (clock) await page.clock.pauseAt(T0 + MINUTE);
}

/** `window.auth = await createAuthClient(options)`, its events recorded in `__stub.events`. */
async function newClient(page, options = {}, types = EVENTS) {
  await page.evaluate(
    async ([options, types]) => {
      window.auth = await pkg.createAuthClient(options);
      __stub.listen(auth, types);
    },
    [options, types],
  );
}

const signIn = (page, expiresIn = 300) =>
  page.evaluate((expiresIn) => auth.setSession({ access_token: "t0", token_type: "Bearer", expires_in: expiresIn }), expiresIn);
const now = (page) => page.evaluate(() => Date.now());
/** The events heard since the last call, without their times. */
const heard = (page) =>
  page.evaluate(() => __stub.events.splice(0).map(({ type, detail, state }) => ({ type, detail, state })));

test.describe("the session as an app sees it", () => {
  test("signedin and statechange: setSession signs in, each state change is told once, before its event", async ({ page }) => {
    await openPage(page);
    await newClient(page, { crossTab: false });
    const t = await now(page);
    await signIn(page, 3600);
    const expiresAt = t + 3600 * SECOND;
    expect(await heard(page)).toEqual([
      { type: "statechange", detail: { state: "active" }, state: "active" },
      { type: "signedin", detail: { expiresAt }, state: "active" },
      { type: "renewed", detail: { expiresAt }, state: "active" },
    ]);

    // Idle (an hour's token: no renewal on the way): warned at 14 min, a key press, torn down 15 min after it, then logout().
    await page.clock.runFor(14 * MINUTE);
    expect(await heard(page)).toEqual([
      { type: "statechange", detail: { state: "warning" }, state: "warning" },
      { type: "idlewarning", detail: { expiresAt: t + 15 * MINUTE }, state: "warning" },
    ]);
    await page.keyboard.press("Shift");
    const pressed = await now(page);
    expect(await heard(page)).toEqual([
      { type: "statechange", detail: { state: "active" }, state: "active" },
      { type: "active", detail: {}, state: "active" },
    ]);
    await page.clock.runFor(15 * MINUTE);
    const told = await page.evaluate(() => __stub.events.splice(0).map(({ type, detail, at }) => [type, detail, at]));
    expect(told.map(([type, detail, at]) => [type, detail, at - pressed])).toEqual([
      ["statechange", { state: "warning" }, 14 * MINUTE],
      ["idlewarning", { expiresAt: pressed + 15 * MINUTE }, 14 * MINUTE],
      ["statechange", { state: "expired" }, 15 * MINUTE],
      ["expired", { reason: "idle" }, 15 * MINUTE],
    ]);
    await page.evaluate(() => auth.logout());
    await page.evaluate(() => auth.logout());
    expect(await heard(page)).toEqual([{ type: "statechange", detail: { state: "signedOut" }, state: "signedOut" }]);

    // A renewal is no sign-in: an active user's token is renewed with `renewed` only.
    await signIn(page);
    await heard(page);
    await page.clock.runFor(MINUTE);
    await page.mouse.move(10, 10);
    await page.clock.runFor(3 * MINUTE + SECOND);
    expect((await heard(page)).map((e) => e.type)).toEqual(["renewed"]);
  });

  test("signedin: a successful start() signs in; a refused one stays signed out without a word", async ({ page }) => {
    await openPage(page);
    await newClient(page, { crossTab: false });
    const t = await now(page);
    expect(await page.evaluate(() => auth.start())).toBe(true);
    const expiresAt = t + 300 * SECOND;
    expect(await heard(page)).toEqual([
      { type: "statechange", detail: { state: "active" }, state: "active" },
      { type: "signedin", detail: { expiresAt }, state: "active" },
      { type: "renewed", detail: { expiresAt }, state: "active" },
    ]);
    await page.evaluate(() => auth.dispose());
    await page.evaluate(() => (__stub.renew = () => ({ status: 401, body: "{}" })));
    await newClient(page, { crossTab: false });
    expect(await page.evaluate(() => auth.start())).toBe(false);
    expect(await heard(page)).toEqual([]);
  });

  test("signedin: a tab joins the session another tab began, and hears its sign-out", async ({ page }) => {
    await openPage(page);
    const other = await page.context().newPage();
    await openPage(other, { clock: false });
    await newClient(page);
    await newClient(other);
    const t = await now(page);
    await signIn(page);
    const expiresAt = t + 300 * SECOND;
    await expect.poll(() => other.evaluate(() => __stub.events.length)).toBe(3);
    expect(await heard(other)).toEqual([
      { type: "statechange", detail: { state: "active" }, state: "active" },
      { type: "signedin", detail: { expiresAt }, state: "active" },
      { type: "renewed", detail: { expiresAt }, state: "active" },
    ]);
    expect(await other.evaluate(() => __stub.calls)).toEqual([]);
    await page.evaluate(() => auth.logout());
    await expect.poll(() => other.evaluate(() => __stub.events.length)).toBe(2);
    expect(await heard(other)).toEqual([
      { type: "statechange", detail: { state: "expired" }, state: "expired" },
      { type: "expired", detail: { reason: "remote" }, state: "expired" },
    ]);
  });

  test("idleExpiresAt and tokenExpiresAt: null until signed in, moved by real input, null after teardown", async ({ page }) => {
    await openPage(page);
    await newClient(page, { crossTab: false });
    const getters = () => page.evaluate(() => [auth.state, auth.idleExpiresAt, auth.tokenExpiresAt]);
    expect(await getters()).toEqual(["signedOut", null, null]);
    const t = await now(page);
    await signIn(page);
    expect(await getters()).toEqual(["active", t + 15 * MINUTE, t + 300 * SECOND]);

    // Trusted input moves the idle deadline (even input the client holds back until it needs
    // it: the getter reads it first); a script's events do not.
    await page.clock.runFor(2 * MINUTE);
    await page.mouse.move(20, 20);
    expect(await getters()).toEqual(["active", t + 17 * MINUTE, t + 300 * SECOND]);
    await page.clock.runFor(MINUTE);
    await page.evaluate(() => document.dispatchEvent(new KeyboardEvent("keydown", { key: "a", bubbles: true })));
    expect(await getters()).toEqual(["active", t + 17 * MINUTE, t + 300 * SECOND]);

    // The proactive renewal at 4 min (there was activity): the new token's expiry.
    await page.clock.runFor(MINUTE);
    await expect.poll(() => page.evaluate(() => __stub.calls.length)).toBe(1);
    const renewedAt = (await page.evaluate(() => __stub.calls[0].at));
    expect(renewedAt).toBe(t + 4 * MINUTE);
    await expect.poll(getters).toEqual(["active", t + 17 * MINUTE, renewedAt + 300 * SECOND]);

    // No more input: torn down at 17 min; the getters check the deadline themselves.
    await page.clock.setSystemTime(t + 17 * MINUTE);
    expect(await getters()).toEqual(["expired", null, null]);
    await page.evaluate(() => auth.dispose());
    expect(await getters()).toEqual(["signedOut", null, null]);
  });

  test("logger: one line per decision, at its level; nothing (not even its words' file) without one", async ({ page }) => {
    const loaded = [];
    page.on("request", (request) => request.url().endsWith("/pkg/log.js") && loaded.push(request.url()));
    await openPage(page);
    // Without a logger: a whole session, not a word, and log.js is never requested.
    await newClient(page, { crossTab: false }, []);
    await signIn(page);
    await page.clock.runFor(16 * MINUTE);
    expect(await page.evaluate(() => auth.state)).toBe("expired");
    await page.evaluate(() => auth.dispose());
    expect(loaded).toEqual([]);

    await page.evaluate(() => (window.auth = new pkg.AuthClient({ crossTab: false, logger: __stub.logger })));
    const iso = (ms) => new Date(ms).toISOString();
    const lines = async (count) => {
      await expect.poll(() => page.evaluate(() => __stub.lines.length)).toBe(count);
      return page.evaluate(() => __stub.lines.splice(0).map(([level, line]) => [level, line]));
    };
    const t = await now(page);
    await signIn(page);
    expect(await lines(1)).toEqual([["debug", `authpulse: renewal at ${iso(t + 4 * MINUTE)} if the user is active by then`]]);
    expect(loaded).toHaveLength(1);
    // No input: the renewal is skipped (said once), the user warned, then signed out.
    await page.clock.runFor(16 * MINUTE);
    expect(await lines(3)).toEqual([
      ["info", `authpulse: renewal skipped: no activity since ${iso(t)}`],
      ["info", `authpulse: idle warning: signed out at ${iso(t + 15 * MINUTE)} without activity`],
      ["info", `authpulse: signed out (idle), last activity ${iso(t)}`],
    ]);

    // A renew endpoint failing: the back-off's next attempt.
    await signIn(page);
    await lines(1);
    await page.evaluate(() => (__stub.renew = () => ({ status: 503, body: "{}" })));
    await page.mouse.move(30, 30);
    await page.clock.runFor(4 * MINUTE);
    const failed = await page.evaluate(() => __stub.calls.at(-1).at);
    expect(await lines(1)).toEqual([["warn", `authpulse: renewal failed (renew_failed), next attempt at ${iso(failed + SECOND)}`]]);
    await page.evaluate(() => (__stub.renew = null));
    await page.clock.runFor(SECOND);
    expect((await lines(1))[0][0]).toBe("debug"); // renewed: the next renewal scheduled

    // 401s: what is retried and what is not, and why.
    const renewals = () => page.evaluate(() => __stub.calls.filter((c) => c.path === "/auth/renew").length);
    const renewalsBefore = await renewals();
    // Renew requests are at least a second apart (rule 4): the page's clock is moved on while a
    // renewal after a 401 waits out the floor.
    await page.evaluate(() => {
      let gate;
      const slow = new Promise((resolve) => (gate = resolve));
      const refused = (challenge) => ({ status: 401, headers: { "www-authenticate": challenge }, body: "no" });
      const seen = new Set();
      __stub.api = async (call) => {
        if (call.path === "/api/slow" && !seen.has(call.path)) {
          seen.add(call.path);
          await slow;
          return refused('Bearer error="invalid_token"');
        }
        if (call.path === "/api/scope") return refused('Bearer error="insufficient_scope"');
        if (call.path === "/api/always" || (call.path === "/api/once" && !seen.has(call.path))) {
          seen.add(call.path);
          return refused('Bearer error="invalid_token"');
        }
        return { status: 200, body: "ok" };
      };
      // Sent with the current token; refused only once the token was renewed meanwhile.
      window.__late = auth.fetch("/api/slow").then((r) => r.status);
      window.__once = auth.fetch("/api/once").then((r) => r.status); // refused: renewed, retried
      window.__gate = gate;
    });
    await page.clock.runFor(2 * SECOND);
    const statuses = await page.evaluate(async () => {
      const statuses = [await __once];
      __gate();
      statuses.push(await __late); // retried with the newer token, no renewal
      statuses.push((await auth.fetch("/api/scope")).status);
      window.__always = auth.fetch("/api/always").then((r) => r.status);
      return statuses;
    });
    await page.clock.runFor(2 * SECOND);
    statuses.push(
      ...(await page.evaluate(async () => {
        const statuses = [await __always];
        const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode("x")), c.close()) });
        statuses.push((await auth.fetch("/api/always", { method: "POST", body: stream, duplex: "half" })).status);
        return statuses;
      })),
    );
    expect(statuses).toEqual([200, 200, 401, 401, 401]);
    const renewAt = expect.stringMatching(/^authpulse: renewal at \S+ if the user is active by then$/);
    expect(await lines(8)).toEqual([
      ["info", "authpulse: 401: renewing, then retrying once"],
      ["debug", renewAt],
      ["info", "authpulse: 401: retrying with the newer token"],
      ["info", "authpulse: 401 not retried: the challenge is not invalid_token"],
      ["info", "authpulse: 401: renewing, then retrying once"],
      ["debug", renewAt],
      ["info", "authpulse: 401 not retried: second 401"],
      ["warn", "authpulse: 401 not retried: a stream body cannot be sent again"],
    ]);
    expect(await renewals(), "one renewal for /api/once, one for /api/always; none for the late 401").toBe(renewalsBefore + 2);

    await page.evaluate(() => auth.logout());
    expect((await lines(1))[0][1]).toMatch(/^authpulse: signed out \(logout\), last activity /);
  });

  test("logger: an object, or an invalid_option TypeError naming it; a throwing logger stops nothing", async ({ page }) => {
    await openPage(page);
    await page.evaluate(() => pkg.init());
    const refused = await page.evaluate(() =>
      [console.log, "console", 1, true].map((logger) => {
        try {
          new pkg.AuthClient({ logger });
          return "accepted";
        } catch (error) {
          return [error.name, error.code, error.option, error.message];
        }
      }),
    );
    const message = 'authpulse: option "logger" must be an object with debug, info and warn methods';
    expect(refused).toEqual(Array(4).fill(["TypeError", "invalid_option", "logger", message]));
    const errors = [];
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    const kept = await page.evaluate(async () => {
      const auth = new pkg.AuthClient({ crossTab: false, logger: { debug() { throw new Error("no"); } } });
      auth.setSession({ access_token: "t0", expires_in: 300 });
      await import("/pkg/log.js"); // the client's import of it has resolved too
      await new Promise((resolve) => queueMicrotask(resolve));
      const result = [auth.state, (await auth.fetch("/api/x")).status];
      auth.dispose();
      return result;
    });
    expect(kept).toEqual(["active", 200]);
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toContain("authpulse: the logger threw");
  });

  test("activity in frames: input in same-origin frames counts, there before the client, added or reloaded later, nested, written by script; a cross-origin frame's is relayed with touch()", async ({
    page,
  }) => {
    const WIDGET = "http://widget.authpulse.test";
    await openPage(page);
    const html = (body) => ({ contentType: "text/html", body: `<!doctype html><body style="margin:0">${body}` });
    const box = "width:300px;height:120px;border:0;display:block";
    await page.route(`${ORIGIN}/editor.html*`, (route) => route.fulfill(html(`<textarea style="${box}"></textarea>`)));
    await page.route(`${ORIGIN}/outer.html`, (route) => route.fulfill(html(`<iframe id="inner" src="/editor.html" style="${box}"></iframe>`)));
    // An embedded widget on another origin: the host page cannot listen to it, so it tells the
    // host of its user's input, and the host calls touch() (the README's recipe).
    await page.route(`${WIDGET}/widget.html`, (route) =>
      route.fulfill(
        html(`<textarea style="${box}"></textarea><script>
          for (const type of ["keydown", "pointerdown"]) {
            addEventListener(type, (event) => event.isTrusted && parent.postMessage("activity", "${ORIGIN}"), true);
          }
        </script>`),
      ),
    );
    const addFrame = (id, src) =>
      page.evaluate(
        ([id, src, box]) =>
          new Promise((resolve) => {
            const frame = Object.assign(document.createElement("iframe"), { id, src });
            frame.style.cssText = box;
            frame.addEventListener("load", resolve, { once: true });
            document.body.append(frame);
          }),
        [id, src, box],
      );
    await addFrame("editor", "/editor.html");
    await newClient(page, { crossTab: false }, ["expired"]);
    const t = await now(page);
    await signIn(page, 3600);
    const getters = () => page.evaluate(() => [auth.state, auth.idleExpiresAt]);

    /** 16 minutes of `input` every 30 s; then the session is active, idle 15 min from the last. */
    const typeFor16Minutes = async (input, where) => {
      let last;
      for (let step = 1; step <= 32; step++) {
        await page.clock.runFor(30 * SECOND);
        await input(step);
        last = await now(page);
      }
      // (A frame's message to the page, the cross-origin relay, arrives a task later.)
      await expect.poll(getters, { message: where }).toEqual(["active", last + 15 * MINUTE]);
    };

    // A frame there before the client was created, reloaded half-way (a new document).
    const editor = page.frameLocator("#editor").locator("textarea");
    await editor.click();
    expect(await getters()).toEqual(["active", t + 15 * MINUTE]);
    await typeFor16Minutes(async (step) => {
      if (step === 16) {
        await page.evaluate(
          () => new Promise((resolve) => {
            const frame = document.getElementById("editor");
            frame.addEventListener("load", resolve, { once: true });
            frame.src = "/editor.html?again";
          }),
        );
        await editor.click();
      } else {
        await page.keyboard.press("KeyA");
      }
    }, "there before the client");
    expect(await now(page)).toBeGreaterThan(t + 15 * MINUTE);

    // A frame added after the client, with a frame inside it: the pointer moves over the inner one.
    await addFrame("outer", "/outer.html");
    const inner = await page.frameLocator("#outer").frameLocator("#inner").locator("textarea").boundingBox();
    await typeFor16Minutes((step) => page.mouse.move(inner.x + 10 + (step % 2) * 50, inner.y + 10 + (step % 3) * 20), "nested");

    // Frames an editor writes itself: srcdoc, and an empty frame filled with document.write
    // (which erases the listeners of the document it reopens; the frame's load follows).
    await addFrame("srcdoc", "about:blank");
    await page.evaluate(
      () => new Promise((resolve) => {
        const frame = document.getElementById("srcdoc");
        frame.addEventListener("load", resolve, { once: true });
        frame.removeAttribute("src");
        frame.srcdoc = "<!doctype html><textarea></textarea>";
      }),
    );
    await page.frameLocator("#srcdoc").locator("textarea").click();
    await typeFor16Minutes(() => page.keyboard.press("KeyC"), "srcdoc");
    await page.evaluate(
      () => new Promise((resolve) => {
        const frame = Object.assign(document.createElement("iframe"), { id: "written" });
        document.body.append(frame);
        frame.addEventListener("load", resolve, { once: true });
        const doc = frame.contentDocument;
        doc.open();
        doc.write("<!doctype html><body style='margin:0'><textarea style='width:300px;height:120px'></textarea>");
        doc.close();
      }),
    );
    await page.frameLocator("#written").locator("textarea").click();
    await typeFor16Minutes(() => page.keyboard.press("KeyD"), "document.write");

    // A cross-origin frame: its input reaches the client only through the host's touch().
    await page.evaluate(
      ([widget]) => addEventListener("message", (event) => event.origin === widget && event.data === "activity" && auth.touch()),
      [WIDGET],
    );
    await addFrame("widget", `${WIDGET}/widget.html`);
    const widget = page.frameLocator("#widget").locator("textarea");
    await widget.click();
    await typeFor16Minutes(() => page.keyboard.press("KeyB"), "cross-origin, touch()");
    expect(await page.evaluate(() => __stub.events)).toEqual([]);

    // Input nowhere: signed out 15 minutes after the last.
    const last = await now(page);
    await page.clock.runFor(15 * MINUTE);
    expect(await page.evaluate(() => __stub.events.map((e) => [e.type, e.detail, e.at]))).toEqual([
      ["expired", { reason: "idle" }, last + 15 * MINUTE],
    ]);
  });
});
