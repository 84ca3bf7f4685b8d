// The app's event listeners: `on` returns the unsubscribe function; a throwing listener stops
// neither the others nor the client.
import { codedError } from "./errors.js";

export const EVENTS = ["renewed", "idlewarning", "active", "expired", "error"];

export class Events {
  #listeners = new Map(EVENTS.map((name) => [name, new Set()]));

  /** Calls `listener(detail)` on each `event`; returns the function that unsubscribes it. */
  on(event, listener) {
    const set = this.#listeners.get(event);
    // The name only if it is a string: a Symbol or an object whose toString throws must still
    // get the coded TypeError.
    const name = typeof event === "string" ? `"${event}"` : `of type ${typeof event}`;
    if (!set) throw codedError(TypeError, "unknown_event", `unknown event ${name}; one of ${EVENTS.join(", ")}`);
    if (typeof listener !== "function") throw codedError(TypeError, "invalid_listener", "a listener must be a function");
    const entry = (detail) => listener(detail);
    set.add(entry);
    return () => void set.delete(entry);
  }

  emit(name, detail) {
    for (const listener of this.#listeners.get(name) ?? []) {
      try {
        listener(detail);
      } catch (error) {
        console.error("authpulse: an event listener threw", error);
      }
    }
  }

  clear() {
    this.#listeners.forEach((set) => set.clear());
  }
}
