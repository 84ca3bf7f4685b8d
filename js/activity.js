// Real user activity: trusted input events and the page becoming visible (rule 1). Between two
// reports the listener only records the time: the engine needs activity once per threshold.
const INPUT = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"];
const LISTEN = { capture: true, passive: true };

export class Activity {
  /** A trusted event's time not yet reported (it came before the threshold), by both clocks. */
  #wall = 0;
  #mono = 0;
  /** Events at or after this time (performance.now(), or Date.now() for `#wallThreshold`) are reported at once. */
  #threshold = 0;
  #wallThreshold = 0;
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

  /** Hands the held-back activity to `report(wall, mono)`, forgetting it. */
  flush(report) {
    if (this.#wall) report(this.#wall, this.#mono);
    this.#wall = 0;
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
