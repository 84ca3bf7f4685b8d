// Real user activity: trusted input events in the page and in its same-origin frames, and the
// page becoming visible (rule 1). The engine needs activity once per threshold (at most
// ACTIVITY_RESOLUTION_MS, 5 s, after the latest input), so between two reports the listener only
// records the time, and the pointer listeners are parked: removed once an event is held back,
// listening again when it is handed over, which the timer makes by the threshold at the latest.
// With no pointer listener Chromium does not even dispatch pointer events to the page: a moving
// mouse then runs no code of ours. Key presses, pointer presses and touches stay heard (they are
// few) and keep the held-back time the latest.
const PARKED = ["pointermove", "wheel"];
const INPUT = ["keydown", "pointerdown", "touchstart", ...PARKED];
const LISTEN = { capture: true, passive: true };

export class Activity {
  /** A trusted event's time not yet reported (it came before the threshold), by both clocks. */
  #wall = 0;
  #mono = 0;
  /** Events at or after this time (performance.now(), or Date.now() for `#wallThreshold`) are reported at once. */
  #threshold = 0;
  #wallThreshold = 0;
  #parked = false;
  /** The documents whose windows have our listeners. */
  #known = new WeakSet();
  /** The page's window, and same-origin frames in shadow roots (their windows are not the page's `frames`). */
  #roots = [window];
  #onInput;
  #onShow;
  #findShadowFrame;

  /**
   * `report(wall, mono)`: activity to hand to the engine now; `wakeBy(mono)`: an event was held
   * back, so the timer must fire by then; `show(hidden, visible, wall, mono)`: the page was
   * shown, focused or hidden.
   */
  constructor(report, wakeBy, show) {
    this.#onInput = (event) => {
      if (!event.isTrusted) return;
      // A frame (re)loaded, or rewritten by document.open(), which erased its listeners: its
      // `load` reaches the capture phase of its parent's document (an image's too: it has no
      // window, and is skipped).
      if (event.type === "load") return this.#frame(event.target.contentWindow, addEventListener, INPUT, true);
      const wall = Date.now();
      const mono = performance.now();
      // Either clock: after a sleep the wall clock has moved on while the monotonic one has not.
      if (mono >= this.#threshold || wall >= this.#wallThreshold) report(wall, mono);
      else {
        // Held back until the threshold at the latest: the timer fires by then (signed out,
        // the threshold is Infinity, and nothing needs it).
        if (!this.#wall && this.#threshold < Infinity) wakeBy(this.#threshold);
        this.#wall = wall;
        this.#mono = mono;
        // Until then a pointer would tell nothing new.
        if (!this.#parked) this.#park(removeEventListener);
      }
    };
    // A page being hidden or left may be frozen next; one the user made visible is activity.
    this.#onShow = (event) => {
      const hidden = event.type === "pagehide" || document.visibilityState === "hidden";
      show(hidden, event.type === "visibilitychange" && event.isTrusted && !hidden, Date.now(), performance.now());
    };
    // The focus is in a frame in a shadow root (a web component's editor): its `load` never
    // reached us (it does not leave the shadow root), nor is it one of the page's `frames`; it
    // is listened to from now on. Looked for when the page's window loses the focus, and at
    // every input to the client (the focus may have come from another frame, unseen).
    this.#findShadowFrame = () => {
      let element = document.activeElement;
      let shadowed = false;
      while (element?.shadowRoot?.activeElement) {
        element = element.shadowRoot.activeElement;
        shadowed = true;
      }
      const win = shadowed && element.contentWindow;
      if (win) {
        if (!this.#roots.includes(win)) this.#roots.push(win);
        this.#frame(win, addEventListener, [], false); // a new document: every listener
      }
    };
    this.#listen(addEventListener);
  }

  /** The engine's threshold (a performance.now() reading), and Date.now() − performance.now(). */
  setThreshold(threshold, offset) {
    this.#threshold = threshold;
    this.#wallThreshold = threshold + offset;
  }

  /** Hands the held-back activity to `report(wall, mono)`, forgetting it; parked listeners listen again. */
  flush(report) {
    this.#findShadowFrame();
    if (this.#wall) report(this.#wall, this.#mono);
    this.#wall = 0;
    if (this.#parked) this.#park(addEventListener);
  }

  stop() {
    this.#parked = false;
    this.#listen(removeEventListener);
  }

  #park(method) {
    this.#parked = method === removeEventListener;
    this.#each(method, PARKED, false);
  }

  #listen(method) {
    this.#each(method, INPUT, true);
    method.call(document, "visibilitychange", this.#onShow, LISTEN);
    for (const type of ["focus", "pageshow", "pagehide"]) method(type, this.#onShow, LISTEN);
    method("blur", this.#findShadowFrame, LISTEN);
  }

  // The frames of a shadow root that were removed, or navigated to another origin (reading
  // their frameElement throws), are let go.
  #each(method, types, all) {
    if (this.#roots.length > 1) {
      this.#roots = this.#roots.filter((win) => {
        try {
          return win === window || win.frameElement?.isConnected;
        } catch {}
      });
    }
    for (const win of this.#roots) this.#frame(win, method, types, all);
  }

  // `types` on the window of `win` and of every same-origin frame below it: a user typing in an
  // embedded editor is active. Input is heard on each window, the first target of its capture
  // phase, so that no listener of the page on the document or below can stop it before us;
  // `load` on each document (a frame's `load` does not reach its parent's window). A document
  // seen for the first time, or with `all`, gets (or loses) every listener. A cross-origin frame
  // throws here and is skipped: it cannot be observed (the page can relay its activity with touch()).
  #frame(win, method, types, all) {
    try {
      const doc = win.document;
      const adding = method === addEventListener;
      if (all || (adding && !this.#known.has(doc))) {
        types = INPUT;
        method.call(doc, "load", this.#onInput, LISTEN);
        if (adding) this.#known.add(doc);
        else this.#known.delete(doc);
      }
      for (const type of types) method.call(win, type, this.#onInput, LISTEN);
      for (let i = 0; i < win.length; i++) this.#frame(win[i], method, types, all);
    } catch {}
  }
}
