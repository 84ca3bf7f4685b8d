// Real user activity: trusted input events in the page and in its same-origin frames, and the
// page becoming visible (rule 1). The engine needs activity once per threshold (at most
// ACTIVITY_RESOLUTION_MS, 5 s, after the latest input), so between two reports the listener only
// records the time, and the pointer listeners are parked: removed once an event is held back,
// listening again when it is handed over, which the timer makes by the threshold at the latest.
// With no pointer listener Chromium does not even dispatch pointer events to the page: a moving
// mouse then runs no code of ours. Key presses, pointer presses and touches stay heard (they are
// few) and keep the held-back time the latest.
// Heard on each document, in the capture phase: the input, and `load` for a frame (re)loaded.
const PARKED = ["pointermove", "wheel"];
const INPUT = ["keydown", "pointerdown", "touchstart", "load", ...PARKED];
const LISTEN = { capture: true, passive: true };

export class Activity {
  /** A trusted event's time not yet reported (it came before the threshold), by both clocks. */
  #wall = 0;
  #mono = 0;
  /** Events at or after this time (performance.now(), or Date.now() for `#wallThreshold`) are reported at once. */
  #threshold = 0;
  #wallThreshold = 0;
  #parked = false;
  #onInput;
  #onShow;

  /**
   * `report(wall, mono)`: activity to hand to the engine now; `wakeBy(mono)`: an event was held
   * back, so the timer must fire by then; `show(hidden, visible, wall, mono)`: the page was
   * shown, focused or hidden.
   */
  constructor(report, wakeBy, show) {
    this.#onInput = (event) => {
      if (!event.isTrusted) return;
      // `load` does not bubble, but the capture phase of the document of a frame's parent has
      // it (an image's too: it has no window, and is skipped).
      if (event.type === "load") return this.#frame(event.target.contentWindow, addEventListener, INPUT);
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
    this.#listen(addEventListener);
  }

  /** The engine's threshold (a performance.now() reading), and Date.now() − performance.now(). */
  setThreshold(threshold, offset) {
    this.#threshold = threshold;
    this.#wallThreshold = threshold + offset;
  }

  /** Hands the held-back activity to `report(wall, mono)`, forgetting it; parked listeners listen again. */
  flush(report) {
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
    this.#frame(window, method, PARKED);
  }

  #listen(method) {
    this.#frame(window, method, INPUT);
    method.call(document, "visibilitychange", this.#onShow, LISTEN);
    for (const type of ["focus", "pageshow", "pagehide"]) method(type, this.#onShow, LISTEN);
  }

  // The document of `win` and of every same-origin frame below it: a user typing in an embedded
  // editor is active. A cross-origin frame throws here and is skipped: it cannot be observed (the
  // page can relay its activity with touch()).
  #frame(win, method, types) {
    try {
      for (const type of types) method.call(win.document, type, this.#onInput, LISTEN);
      for (let i = 0; i < win.length; i++) this.#frame(win[i], method, types);
    } catch {}
  }
}
