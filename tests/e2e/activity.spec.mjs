// Activity between reports (js/activity.js): once a pointer event is held back, the pointer
// listeners are parked until the report threshold, so a moving mouse runs none of the client's
// code; the idle deadline still counts from the last real input within the threshold's
// resolution (5 s, or 1 % of a shorter idle timeout), key and pointer presses are still heard
// and counted exactly, and nothing after the deadline revives the session. The built pkg/ on a fake origin,
// Playwright's fake clock, trusted input through the browser; the network is never needed (the
// tokens outlive every test).
import { test, expect } from "@playwright/test";
import { MINUTE, SECOND, T0 } from "./support/harness.mjs";
import { servePackage } from "./support/serve-package.mjs";

const RESOLUTION = 5 * SECOND; // the core's ACTIVITY_RESOLUTION_MS
const POINTER = ["pointermove", "wheel"]; // parked between reports
const HEARD = ["pointerdown", "keydown", "touchstart"]; // always

// Before any script of the page: `__probe.listening(type, frame?)` is how many of the client's
// activity listeners (a capture listener also ever added for `wheel`: the tab adapter's own
// `keydown` and `pointerdown` listeners are not counted) listen for `type` on the page's window
// (or on the window of the frame with id `frame`), and `__probe.calls[type]` how often one was called.
function installProbe() {
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  const types = ["pointermove", "pointerdown", "wheel", "keydown", "touchstart"];
  const listeners = new WeakMap(); // window -> type -> Set of listeners
  const wrappers = new WeakMap();
  const activity = new WeakSet(); // listeners ever added for wheel
  const setOf = (win, type) => {
    if (!listeners.has(win)) listeners.set(win, Object.fromEntries(types.map((t) => [t, new Set()])));
    return listeners.get(win)[type];
  };
  const probe = (window.__probe = {
    calls: {},
    events: [],
    listening: (type, frame) => {
      // The frame with id `frame`, in the page or in a shadow root.
      const element = frame && (document.getElementById(frame) ?? [...document.querySelectorAll("*")].map((e) => e.shadowRoot?.getElementById(frame)).find(Boolean));
      return [...setOf(frame ? element.contentWindow : window, type)].filter((l) => activity.has(l)).length;
    },
  });
  const watched = (target, type, listener, options) =>
    target != null && target.window === target && types.includes(type) && typeof listener === "function" && options?.capture === true;
  EventTarget.prototype.addEventListener = function (type, listener, options) {
    if (!watched(this, type, listener, options)) return add.call(this, type, listener, options);
    if (!wrappers.has(listener)) {
      wrappers.set(listener, function (event) {
        probe.calls[event.type] = (probe.calls[event.type] ?? 0) + 1;
        return listener.call(this, event);
      });
    }
    setOf(this, type).add(listener);
    if (type === "wheel") activity.add(listener);
    return add.call(this, type, wrappers.get(listener), options);
  };
  EventTarget.prototype.removeEventListener = function (type, listener, options) {
    if (!watched(this, type, listener, options)) return remove.call(this, type, listener, options);
    setOf(this, type).delete(listener);
    return remove.call(this, type, wrappers.get(listener) ?? listener, options);
  };
}

/** A page at T0 + 1 min, clock paused, with `window.auth` signed in (a one-hour token). */
async function signedIn(page, options = {}) {
  await page.clock.install({ time: T0 });
  await page.addInitScript(installProbe);
  await servePackage(page);
  await page.clock.pauseAt(T0 + MINUTE);
  await page.evaluate(async (options) => {
    const { createAuthClient } = await import("/pkg/index.js");
    window.auth = await createAuthClient(options);
    for (const type of ["idlewarning", "active", "expired"]) {
      auth.on(type, (detail) => __probe.events.push({ type, detail, at: Date.now() }));
    }
    auth.setSession({ access_token: "t0", token_type: "Bearer", expires_in: 3600 });
  }, options);
  return page.evaluate(() => Date.now());
}

const now = (page) => page.evaluate(() => Date.now());
const state = (page) => page.evaluate(() => auth.state);
const calls = (page, type) => page.evaluate((type) => __probe.calls[type] ?? 0, type);
const listening = (page, types, frame) =>
  page.evaluate(([types, frame]) => types.map((t) => __probe.listening(t, frame)), [types, frame]);
const expiredAt = (page) =>
  page.evaluate(() => __probe.events.filter((e) => e.type === "expired").map((e) => [e.at, e.detail.reason]));
/** Moves the clock to `at` (ms since the epoch), firing the timers due on the way. */
const runTo = async (page, at) => page.clock.runFor(at - (await now(page)));
/**
 * Adds an iframe with id `id` loading `src`, styled `css`, to the page or (`shadow`) to the open
 * shadow root of a new element, as a web component would; resolves once it has loaded.
 */
const addFrame = (page, id, src, { css = "width:320px;height:120px;border:0;display:block", shadow = false } = {}) =>
  page.evaluate(
    ([id, src, css, shadow]) =>
      new Promise((resolve) => {
        const frame = Object.assign(document.createElement("iframe"), { id, src });
        frame.style.cssText = css;
        frame.addEventListener("load", resolve, { once: true });
        if (!shadow) return document.body.append(frame);
        const host = document.createElement("div");
        document.body.append(host);
        host.attachShadow({ mode: "open" }).append(frame);
      }),
    [id, src, css, shadow],
  );

for (const crossTab of [true, false]) {
  test(`a moving mouse reaches the client once per report interval; the pointer listeners are parked until the threshold (crossTab ${crossTab})`, async ({
    page,
  }) => {
    const start = await signedIn(page, { crossTab });
    expect(await listening(page, [...POINTER, ...HEARD])).toEqual([1, 1, 1, 1, 1]);
    // 60 moves and 20 wheel turns, 50 ms apart: 4 s, all before the threshold (5 s after sign-in).
    for (let i = 0; i < 60; i++) {
      await page.mouse.move(20 + i, 30 + (i % 5));
      if (i % 3 === 0) await page.mouse.wheel(0, 10);
      await page.clock.runFor(50);
    }
    expect(await calls(page, "pointermove"), "only the first move").toBe(1);
    expect(await calls(page, "wheel"), "parked before the first wheel turn").toBe(0);
    expect(await listening(page, [...POINTER, ...HEARD])).toEqual([0, 0, 1, 1, 1]);
    // The timer wakes at the threshold: the held move is reported and the listeners are back.
    await runTo(page, start + RESOLUTION);
    expect(await listening(page, POINTER)).toEqual([1, 1]);
    // The next move is reported at once or held back (then they are parked again); a move held
    // back parks them.
    await page.mouse.move(200, 200);
    await page.mouse.move(210, 200);
    await page.mouse.move(220, 200);
    expect(await calls(page, "pointermove")).toBeGreaterThanOrEqual(2);
    expect(await calls(page, "pointermove")).toBeLessThanOrEqual(3);
    expect(await listening(page, POINTER)).toEqual([0, 0]);
    expect(await state(page)).toBe("active");
  });

  test(`the idle deadline counts from the last move within 5 s, and a key press exactly (crossTab ${crossTab})`, async ({
    page,
  }) => {
    const start = await signedIn(page, { crossTab, warnBeforeIdleMs: 0 });
    // A minute of a busy mouse, a move every 500 ms; the last one at `last`.
    await page.clock.runFor(10 * SECOND);
    for (let i = 0; i < 120; i++) {
      await page.mouse.move(20 + (i % 300), 40 + (i % 7));
      await page.clock.runFor(500);
    }
    await page.mouse.move(10, 10);
    const last = await now(page);
    expect(last - start).toBe(10 * SECOND + 120 * 500);
    const moves = await calls(page, "pointermove");
    expect(moves, "about one call per 5 s of moving, not 121").toBeLessThanOrEqual(Math.ceil((last - start) / RESOLUTION) + 2);
    // Torn down 15 min after a move no more than 5 s before the last one: never later than
    // 15 min after the last move, never earlier than 5 s before that.
    await runTo(page, last + 15 * MINUTE - RESOLUTION);
    expect(await state(page)).toBe("active");
    await runTo(page, last + 15 * MINUTE);
    expect(await state(page)).toBe("expired");
    const [[at, reason]] = await expiredAt(page);
    expect(reason).toBe("idle");
    expect(at - (last + 15 * MINUTE)).toBeGreaterThan(-RESOLUTION);
    expect(at).toBeLessThanOrEqual(last + 15 * MINUTE);

    // A key press is heard even while the pointer listeners are parked, and it keeps the
    // deadline exact: 15 min after the press.
    await page.evaluate(() => auth.setSession({ access_token: "t1", token_type: "Bearer", expires_in: 3600 }));
    await page.mouse.move(30, 30); // held back: the pointer listeners are parked
    expect(await listening(page, ["pointermove", "keydown"])).toEqual([0, 1]);
    await page.clock.runFor(2 * SECOND);
    await page.keyboard.press("Shift");
    const press = await now(page);
    await runTo(page, press + 15 * MINUTE - 1);
    expect(await state(page)).toBe("active");
    await page.clock.runFor(1);
    expect(await state(page)).toBe("expired");
    expect((await expiredAt(page))[1]).toEqual([press + 15 * MINUTE, "idle"]);
  });
}

test("a pointer press is heard while the moves are parked, and sets the deadline exactly", async ({ page }) => {
  const start = await signedIn(page, { crossTab: false, warnBeforeIdleMs: 0 });
  await runTo(page, start + 20 * SECOND); // past the threshold: listening
  expect(await listening(page, POINTER)).toEqual([1, 1]);
  await page.mouse.move(100, 100);
  await page.clock.runFor(500);
  await page.mouse.move(120, 100); // held back: the moves are parked
  expect(await listening(page, [...POINTER, "pointerdown"])).toEqual([0, 0, 1]);
  await page.clock.runFor(SECOND);
  await page.mouse.down();
  await page.mouse.up();
  const press = await now(page);
  expect(await calls(page, "pointerdown")).toBe(1);
  await runTo(page, press + 15 * MINUTE - 1);
  expect(await state(page)).toBe("active");
  await page.clock.runFor(1);
  expect(await expiredAt(page)).toEqual([[press + 15 * MINUTE, "idle"]]);
});

test("no input after the deadline revives the session, held back or not; dispose removes the parked listeners too", async ({
  page,
}) => {
  const start = await signedIn(page, { crossTab: false });
  await page.clock.runFor(30 * SECOND);
  await page.mouse.move(40, 40); // reported or held: either way the last activity
  const moved = await now(page);
  await page.mouse.move(50, 50); // parked: not heard
  expect(await listening(page, POINTER)).toEqual([0, 0]);
  // The laptop sleeps past the deadline: the clock jumps, no timer fires.
  await page.clock.setSystemTime(moved + 15 * MINUTE + 30 * SECOND);
  await page.keyboard.press("a");
  await page.mouse.move(60, 60);
  await page.mouse.wheel(0, 20);
  await page.clock.runFor(RESOLUTION);
  for (let i = 0; i < 5; i++) {
    await page.mouse.move(70 + i, 70);
    await page.keyboard.press("b");
    await page.clock.runFor(SECOND);
  }
  expect(await state(page)).toBe("expired");
  const expired = await expiredAt(page);
  expect(expired.map(([, reason]) => reason)).toEqual(["idle"]);
  expect(expired[0][0]).toBeGreaterThanOrEqual(moved + 15 * MINUTE);
  expect(start).toBeLessThan(moved);

  // A new session, a move held back, then dispose: nothing of the client listens any more.
  await page.evaluate(() => auth.setSession({ access_token: "t1", token_type: "Bearer", expires_in: 3600 }));
  await page.mouse.move(80, 80);
  expect(await listening(page, POINTER)).toEqual([0, 0]);
  await page.evaluate(() => auth.dispose());
  await page.clock.runFor(MINUTE);
  await page.mouse.move(90, 90);
  expect(await listening(page, [...POINTER, ...HEARD])).toEqual([0, 0, 0, 0, 0]);
});

test("in a same-origin frame too: a move there is heard once, the frame's pointer listeners are parked with the page's and come back with them", async ({
  page,
}) => {
  const start = await signedIn(page, { crossTab: false });
  await page.route("**/frame.html", (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><body style='margin:0;height:300px'>frame" }),
  );
  await addFrame(page, "f", "/frame.html", { css: "position:fixed;left:0;top:0;width:400px;height:300px;border:0" });
  expect(await listening(page, [...POINTER, ...HEARD], "f")).toEqual([1, 1, 1, 1, 1]);
  // Moves over the frame, all before the threshold: one call, then nothing listens for
  // pointers in the frame nor in the page; keys are still heard in both.
  for (let i = 0; i < 20; i++) {
    await page.mouse.move(50 + i, 50);
    await page.clock.runFor(100);
  }
  expect(await calls(page, "pointermove")).toBe(1);
  expect(await listening(page, [...POINTER, ...HEARD], "f")).toEqual([0, 0, 1, 1, 1]);
  expect(await listening(page, [...POINTER, ...HEARD])).toEqual([0, 0, 1, 1, 1]);
  await runTo(page, start + RESOLUTION);
  expect(await listening(page, POINTER, "f")).toEqual([1, 1]);
  expect(await listening(page, POINTER)).toEqual([1, 1]);
  // The move was counted: the deadline is 15 min after it, within the resolution.
  const expires = await page.evaluate(() => auth.idleExpiresAt);
  expect(expires).toBeGreaterThanOrEqual(start + 15 * MINUTE);
  expect(expires).toBeLessThanOrEqual(start + RESOLUTION + 15 * MINUTE);
  expect(await state(page)).toBe("active");
});

test("an app's capture listener on the document that stops pointer moves does not hide them: ours are on the window, heard first", async ({
  page,
}) => {
  const start = await signedIn(page, { crossTab: false, warnBeforeIdleMs: 0 });
  // A drag layer added after the client, as an app would: it stops every move from reaching
  // any other listener of the document.
  await page.evaluate(() => document.addEventListener("pointermove", (event) => event.stopImmediatePropagation(), true));
  let last;
  for (let i = 0; i < 80; i++) {
    await page.mouse.move(20 + i, 40);
    last = await now(page);
    await page.clock.runFor(500);
  }
  expect(await calls(page, "pointermove"), "heard once per report interval, all along").toBeGreaterThanOrEqual(7);
  const expires = await page.evaluate(() => auth.idleExpiresAt);
  expect(expires).toBeGreaterThan(last + 15 * MINUTE - RESOLUTION);
  expect(expires).toBeLessThanOrEqual(last + 15 * MINUTE);
  expect(start).toBeLessThan(last);
});

test("a same-origin frame in a shadow root (its load never reaches the page, nor is it one of its frames) is listened to once the user moves into it", async ({
  page,
}) => {
  await signedIn(page, { crossTab: false, warnBeforeIdleMs: 0 });
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.route("http://widget.authpulse.test/", (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><body style='margin:0'><textarea></textarea>" }),
  );
  await page.route("**/editor.html", (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><body style='margin:0'><textarea style='width:300px;height:100px'></textarea>" }),
  );
  // A web component adds the editor after the client was built; another, a cross-origin widget.
  await addFrame(page, "shadowed", "/editor.html", { shadow: true });
  await addFrame(page, "widget", "http://widget.authpulse.test/", { shadow: true, css: "width:200px;height:80px;border:0" });
  // The user visits the widget (which cannot be listened to), comes back to the page, then types
  // in the editor for 16 minutes, a key every 30 s: still signed in, 15 min from the last key.
  await page.locator("#widget").contentFrame().locator("textarea").click();
  await page.mouse.click(600, 400);
  await page.locator("#shadowed").contentFrame().locator("textarea").click();
  let last;
  for (let i = 0; i < 32; i++) {
    await page.clock.runFor(30 * SECOND);
    await page.keyboard.press("KeyA");
    last = await now(page);
  }
  expect(await state(page)).toBe("active");
  expect(await page.evaluate(() => auth.idleExpiresAt)).toBe(last + 15 * MINUTE);
  // Its pointer listeners are parked with the page's, and dispose() removes all of them.
  expect(await listening(page, [...POINTER, ...HEARD], "shadowed")).toEqual([1, 1, 1, 1, 1]);
  await page.mouse.move(5, 5);
  await page.mouse.move(8, 5);
  expect(await listening(page, [...POINTER, ...HEARD], "shadowed")).toEqual([0, 0, 1, 1, 1]);
  await page.evaluate(() => auth.dispose());
  expect(await listening(page, [...POINTER, ...HEARD], "shadowed")).toEqual([0, 0, 0, 0, 0]);
  expect(await listening(page, [...POINTER, ...HEARD])).toEqual([0, 0, 0, 0, 0]);
  expect(errors).toEqual([]);
});

test("a frame in a shadow root that gets the focus from another frame (the page sees no event) is found at the client's next input", async ({
  page,
}) => {
  await signedIn(page, { crossTab: false, warnBeforeIdleMs: 0 });
  const body = "<!doctype html><body style='margin:0'><textarea style='width:300px;height:100px'></textarea>";
  await page.route("**/*.html", (route) => route.fulfill({ contentType: "text/html", body }));
  for (const id of ["first", "second"]) await addFrame(page, id, `/${id}.html`, { shadow: true });
  await page.locator("#first").contentFrame().locator("textarea").click(); // the page blurs: found
  await page.locator("#second").contentFrame().locator("textarea").click(); // no event in the page
  expect(await listening(page, ["keydown"], "first")).toEqual([1]);
  expect(await listening(page, ["keydown"], "second")).toEqual([0]);
  await page.evaluate(() => auth.getAccessToken()); // any input to the client looks again
  expect(await listening(page, ["keydown"], "second")).toEqual([1]);
  await page.clock.runFor(30 * SECOND);
  await page.keyboard.press("KeyA");
  const typed = await now(page);
  expect(await page.evaluate(() => auth.idleExpiresAt)).toBe(typed + 15 * MINUTE);
});
