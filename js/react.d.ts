// Types of authpulse/react: a provider and a hook over one AuthClient (useSyncExternalStore).
import type { ReactElement, ReactNode } from "react";
import type { AuthClient, AuthClientOptions, AuthError, AuthState } from "./index.js";

/** Props of `<AuthProvider>`: `options` for a client it builds and owns, or a `client` of yours. */
export interface AuthProviderProps {
  /** The options of the client the provider builds when it mounts (read once). */
  options?: AuthClientOptions;
  /** A client built elsewhere: provided as is, never disposed by the provider. */
  client?: AuthClient | null;
  /** Resume through the auth session (`client.start()`) once the client is built. Default true. */
  start?: boolean;
  children?: ReactNode;
}

/** What `useAuth()` returns: read again after every event of the client. */
export interface AuthSnapshot {
  /** The client; `null` while the module loads, and when building it failed (see `error`). */
  client: AuthClient | null;
  /** `true` until the client is built and its `start()` settled. */
  loading: boolean;
  /** What loading the module, building the client or `start()` threw (e.g. `wasm_load_failed`). */
  error: AuthError | null;
  /** The client's `state`; "signedOut" while loading. */
  state: AuthState;
  /**
   * The client's `idleExpiresAt` as of its last event: exact while `state` is "warning" (the
   * deadline a "stay signed in" dialog counts down to); activity moves it without an event.
   */
  idleExpiresAt: number | null;
  /** The client's `tokenExpiresAt` (ms since the epoch), or `null`. */
  tokenExpiresAt: number | null;
}

/**
 * Provides a client to its tree. With `options` it builds one when it mounts (after loading the
 * module), calls `start()` unless `start` is false, and disposes it when it unmounts — one client
 * under StrictMode too.
 */
export function AuthProvider(props: AuthProviderProps): ReactElement;

/** The nearest `<AuthProvider>`'s client and state; throws outside one. */
export function useAuth(): AuthSnapshot;
