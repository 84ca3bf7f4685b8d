// The app's other tabs (crossTab): a BroadcastChannel for the engine's tab messages, and Web
// Locks so that one tab at a time renews.
const TAB_TOKEN = 2; // a tab message carrying a new token: [2, token, receivedAt, expiresAt, …]
// How long a tab whose turn to renew came waits for another tab's newer token to reach it.
const NEWER_TOKEN_WAIT_MS = 1_000;
// Firefox keeps no page that holds a Web Lock in the back/forward cache, and decides so before
// `pagehide`: the mark is let go when the page may be leaving, and taken again when it is shown
// again or the user is still there (the navigation did not happen).
const BACK = ["pageshow", "pointerdown", "keydown"];
const LISTEN = { capture: true, passive: true };

export class Tabs {
  #channel;
  #expiresAt = 0; // expiry of this tab's token, 0 for none
  #mark = null; // { release, granted, expiresAt }: the lock `${name} ${expiresAt}` held for the token this tab got
  #unmarked = 0; // the expiry whose mark was let go as the page may be leaving, to take again
  #onLeave = () => {
    const expiresAt = this.#mark?.expiresAt;
    if (expiresAt) {
      this.#markToken(0);
      this.#unmarked = expiresAt;
    }
  };
  #onBack = () => {
    if (this.#unmarked) this.#markToken(this.#unmarked);
  };

  /** Opens the channel `name`; `receive(data)` gets every message of the other tabs. */
  constructor(name, receive) {
    this.#channel = new BroadcastChannel(name);
    this.#channel.onmessage = (event) => receive(event.data);
    this.#listen(addEventListener);
  }

  post(message) {
    this.#channel.postMessage(message);
    if (message[0] === TAB_TOKEN) this.#markToken(message[3]);
  }

  /** This tab stored a token expiring at `expiresAt`, or tore down (0). */
  stored(expiresAt) {
    this.#expiresAt = expiresAt;
    if (!expiresAt) this.#markToken(0);
  }

  // One renewal for all tabs: the tabs take turns under a Web Lock, and a tab whose turn comes
  // after another tab's new token reached it finds its renewal cancelled (the engine cancels it
  // on that token). The message may reach it after its turn came: the lock manager is the one
  // ordered authority, so a tab that got a token holds a second lock named after its expiry,
  // taken before the turn passes on; a tab whose turn comes while a newer token's lock is held
  // waits for that token instead of renewing (a starting tab, with no token, waits for the
  // answers to its hello). Without Web Locks, `send` runs at once.
  async turn(signal, send) {
    const locks = globalThis.navigator?.locks;
    if (!locks) return send();
    try {
      await locks.request(this.#channel.name, { signal }, async () => {
        await nextTask();
        if (!signal.aborted && (await this.#newerTokenElsewhere(locks))) {
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, NEWER_TOKEN_WAIT_MS);
            signal.addEventListener("abort", () => resolve(clearTimeout(timer)), { once: true });
          });
        }
        if (signal.aborted) return;
        await send();
        await this.#mark?.granted;
      });
    } catch {
      // Aborted while waiting for the lock: another tab's token made it needless, or it timed out.
    }
  }

  close() {
    this.#listen(removeEventListener);
    this.#mark?.release();
    this.#channel.close();
  }

  #listen(method) {
    method("beforeunload", this.#onLeave, LISTEN);
    for (const type of BACK) method(type, this.#onBack, LISTEN);
  }

  async #newerTokenElsewhere(locks) {
    const prefix = `${this.#channel.name} `;
    const { held = [] } = await locks.query();
    return held.some(({ name }) => name.startsWith(prefix) && Number(name.slice(prefix.length)) > this.#expiresAt);
  }

  // Holds the lock that tells the tabs this tab got the token expiring at `expiresAt` (0: none).
  #markToken(expiresAt) {
    this.#mark?.release();
    this.#mark = null;
    this.#unmarked = 0;
    const locks = globalThis.navigator?.locks;
    if (!expiresAt || !locks) return;
    let release, granted;
    const held = new Promise((resolve) => (release = resolve));
    this.#mark = { release, granted: new Promise((resolve) => (granted = resolve)), expiresAt };
    locks.request(`${this.#channel.name} ${expiresAt}`, { mode: "shared" }, () => (granted(), held)).catch(() => granted());
  }
}

// A macrotask turn that the page's fake clocks and timer throttling leave alone.
function nextTask() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve(channel.port1.close());
    channel.port2.postMessage(0);
  });
}
