// Real user activity: trusted input events and the page becoming visible (rule 1). The engine
// needs activity once per threshold, so between two reports the pointer listeners are parked:
// removed once an event is held back, listening again at the next input, which the timer makes
// by the threshold at the latest. With no pointer listener, Chromium does not even dispatch
// pointer events to the page: a moving mouse then costs nothing. Key presses and touches stay
// heard (they are few) and keep the held-back time the latest.
const PARKED = ["pointermove", "pointerdown", "wheel"];
const ARMED = ["keydown", "touchstart"];
const LISTEN = { capture: true, passive: true };
const LAST_DATE_MS = 8.64e15; // the latest time a Date can hold

export class Activity {
  /** A trusted event's time not yet reported (it came before the threshold), 0 for none. */
  pending = 0;
  /** Events at or after this time (ms since the epoch) are reported at once. */
  threshold = 0;
  #parked = false;
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
        // the threshold is "never", beyond any date, and nothing needs it: the next input
        // listens again). Until then a pointer would tell nothing new.
        this.pending = now;
        this.#park(true);
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

  /** The held-back activity time (0 for none), forgetting it; parked listeners listen again. */
  take() {
    const at = this.pending;
    this.pending = 0;
    if (this.#parked) this.#park(false);
    return at;
  }

  stop() {
    this.#parked = false;
    this.#listen(removeEventListener);
  }

  #park(parked) {
    this.#parked = parked;
    for (const type of PARKED) (parked ? removeEventListener : addEventListener)(type, this.#onInput, LISTEN);
  }

  #listen(method) {
    for (const type of [...ARMED, ...PARKED]) method(type, this.#onInput, LISTEN);
    method.call(document, "visibilitychange", this.#onShow, LISTEN);
    for (const type of ["focus", "pageshow", "pagehide"]) method(type, this.#onShow, LISTEN);
  }
}
