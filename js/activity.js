// Real user activity: trusted input events in the page and in its same-origin frames, and the
// page becoming visible (rule 1). Between two reports the listener only records the time: the
// engine needs activity once per threshold.
// Heard on each document, in the capture phase: the input, and `load` for a frame (re)loaded.
const INPUT = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart", "load"];
const LISTEN = { capture: true, passive: true };
const LAST_DATE_MS = 8.64e15; // the latest time a Date can hold

export class Activity {
  /** A trusted event's time not yet reported (it came before the threshold), 0 for none. */
  pending = 0;
  /** Events at or after this time (ms since the epoch) are reported at once. */
  threshold = 0;
  #onInput;
  #onShow;

  /**
   * `report(at)`: activity to hand to the engine now; `wakeBy(at)`: an event was held back, so
   * the timer must fire by `at`; `show(hidden, visible)`: the page was shown, focused or hidden.
   */
  constructor(report, wakeBy, show) {
    this.#onInput = (event) => {
      if (!event.isTrusted) return;
      // `load` does not bubble, but the capture phase of the document of a frame's parent has
      // it (an image's too: it has no window, and is skipped).
      if (event.type === "load") return this.#frame(event.target.contentWindow, addEventListener);
      const now = Date.now();
      if (now >= this.threshold) report(now);
      else if (this.pending) this.pending = now;
      else {
        // Held back until the threshold at the latest: the timer fires by then (signed out,
        // the threshold is "never", beyond any date, and nothing needs it).
        this.pending = now;
        if (this.threshold < LAST_DATE_MS) wakeBy(this.threshold);
      }
    };
    // A page being hidden or left may be frozen next; one the user made visible is activity.
    this.#onShow = (event) => {
      const hidden = event.type === "pagehide" || document.visibilityState === "hidden";
      show(hidden, event.type === "visibilitychange" && event.isTrusted && !hidden);
    };
    this.#listen(addEventListener);
  }

  /** The held-back activity time (0 for none), forgetting it. */
  take() {
    const at = this.pending;
    this.pending = 0;
    return at;
  }

  stop() {
    this.#listen(removeEventListener);
  }

  #listen(method) {
    this.#frame(window, method);
    method.call(document, "visibilitychange", this.#onShow, LISTEN);
    for (const type of ["focus", "pageshow", "pagehide"]) method(type, this.#onShow, LISTEN);
  }

  // The document of `win` and of every same-origin frame below it: a user typing in an embedded
  // editor is active. A cross-origin frame throws here and is skipped: it cannot be observed (the
  // page can relay its activity with touch()).
  #frame(win, method) {
    try {
      for (const type of INPUT) method.call(win.document, type, this.#onInput, LISTEN);
      for (let i = 0; i < win.length; i++) this.#frame(win[i], method);
    } catch {}
  }
}
