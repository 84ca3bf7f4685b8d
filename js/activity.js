// Real user activity: trusted input events and the page becoming visible (rule 1). Between two
// reports the listener only records the time: the engine needs activity once per threshold.
const INPUT = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"];
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
    for (const type of INPUT) method(type, this.#onInput, LISTEN);
    method.call(document, "visibilitychange", this.#onShow, LISTEN);
    for (const type of ["focus", "pageshow", "pagehide"]) method(type, this.#onShow, LISTEN);
  }
}
