// authpulse/react: the client for a React tree. <AuthProvider> owns one client (built once the
// module is loaded, disposed on unmount) and useAuth() reads it through useSyncExternalStore, so
// every component sees the same state in the same render. Kept out of the main entry: an app
// without React never loads this file.
import { createContext, createElement, useContext, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { AuthClient, init } from "./index.js";

// The events after which what useAuth() returns may have changed.
const EVENTS = ["signedin", "statechange", "renewed", "idlewarning", "active", "expired"];
const INITIAL = { client: null, loading: true, error: null, state: "signedOut", idleExpiresAt: null, tokenExpiresAt: null };

const Context = createContext(null);

// What useAuth() returns, as one immutable snapshot: a new object only when a field changed.
class Store {
  snapshot = INITIAL;
  #listeners = new Set();

  subscribe = (listener) => {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  };

  get = () => this.snapshot;

  set(changes) {
    const next = { ...this.snapshot, ...changes };
    if (Object.keys(next).every((key) => Object.is(next[key], this.snapshot[key]))) return;
    this.snapshot = next;
    for (const listener of this.#listeners) listener();
  }

  read(client) {
    this.set({ client, state: client.state, idleExpiresAt: client.idleExpiresAt, tokenExpiresAt: client.tokenExpiresAt });
  }
}

/**
 * Provides a client to its tree. With `options`, it builds one when it mounts (loading the module
 * first), calls `start()` unless `start` is false, and disposes it when it unmounts: under
 * StrictMode's mount, unmount, mount there is still one client. With `client`, it provides that
 * one and leaves it to its owner. `options` and `start` are read when the provider mounts; give
 * it a new `key` to start over with others.
 */
export function AuthProvider({ options, client: given = null, start = true, children }) {
  const [store] = useState(() => new Store());
  const mounted = useRef({ options, start });
  useEffect(() => {
    let live = true;
    let client = null;
    const off = [];
    (given ? Promise.resolve() : init())
      .then(() => {
        if (!live) return;
        client = given ?? new AuthClient(mounted.current.options);
        for (const name of EVENTS) off.push(client.on(name, () => store.read(client)));
        store.read(client);
        return mounted.current.start && client.start();
      })
      .then(
        () => live && store.set({ loading: false }),
        (error) => live && store.set({ loading: false, error }),
      );
    return () => {
      live = false;
      for (const unsubscribe of off) unsubscribe();
      if (!given) client?.dispose();
      store.set(INITIAL);
    };
  }, [store, given]);
  return createElement(Context.Provider, { value: store }, children);
}

/**
 * The provider's client and what it reports: `{ client, loading, error, state, idleExpiresAt,
 * tokenExpiresAt }`, read again after every event of the client. `client` is null while the
 * module loads; `loading` is true until `start()` settled; `error` is what loading, building or
 * starting the client threw. Throws outside an <AuthProvider>.
 */
export function useAuth() {
  const store = useContext(Context);
  if (!store) throw new Error("authpulse: useAuth() is called outside an <AuthProvider>");
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}
