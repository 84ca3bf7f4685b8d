// The one timer: re-armed for the engine's next deadline, as a reading of the monotonic clock
// (performance.now(), which setTimeout follows); its callback hands the engine both clocks, so
// a late or throttled timer changes nothing.
const MAX_DELAY_MS = 2 ** 31 - 1;

export class Timer {
  #id = 0;
  /** When it fires (a performance.now() reading), or -1 when it is not armed. */
  at = -1;
  #fire;

  constructor(fire) {
    this.#fire = fire;
  }

  /** Fires at `at` (a performance.now() reading; -1: never), replacing what was armed. */
  arm(at) {
    clearTimeout(this.#id);
    this.at = at;
    if (at >= 0) {
      // Rounded up: setTimeout's delay is a whole number of milliseconds (WebIDL `long`), so
      // a fraction would be cut off and the timer fire before `at`, the engine see its
      // deadline not yet reached and the timer be armed again a millisecond on.
      const delay = Math.min(Math.max(Math.ceil(at - performance.now()), 0), MAX_DELAY_MS);
      this.#id = setTimeout(() => {
        this.at = -1;
        this.#fire();
      }, delay);
    }
  }

  cancel() {
    clearTimeout(this.#id);
  }
}
