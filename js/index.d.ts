// Types of the authpulse package: the API of docs/CONTRACT.md section 1, declared by hand (no
// wasm-bindgen internals). They compile with `strict`, `lib` ES2020 + DOM and `skipLibCheck: false`.

/**
 * Loads the WebAssembly module, once (`createAuthClient` calls it). `source`: where the module is,
 * for bundlers and CDNs that serve it elsewhere than next to this file — its URL, a `Response` (or
 * a promise of one), its bytes, or a compiled `WebAssembly.Module`. By default: the package's
 * `authpulse_bg.wasm` (in Node, read from disk). Later calls resolve once the first load did; a
 * failed load may be tried again.
 *
 * Rejects with an `AuthError`: `wasm_load_failed` when what arrived is not the module (the message
 * names the URL and the fix), `wasm_blocked` when a Content-Security-Policy forbids WebAssembly
 * (add `'wasm-unsafe-eval'` to `script-src`).
 */
export function init(
  source?: string | URL | Request | Response | PromiseLike<Response> | BufferSource | WebAssembly.Module,
): Promise<void>;

/**
 * One line per decision of the client (why it renewed, why it signed the user out); `console`
 * will do. The lines' words are loaded with the first one (`log.js`, next to `index.js`).
 */
export interface AuthLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

/** Options of `new AuthClient(options)` and `createAuthClient(options)`. */
export interface AuthClientOptions {
  /** Session strategy (default): POSTed with the auth-session cookie. Default "/auth/renew". */
  renewUrl?: string;
  /** Refresh-token strategy: the OAuth 2.0 token endpoint (needs `clientId`). */
  tokenEndpoint?: string;
  /** Refresh-token strategy: the public client's id. */
  clientId?: string;
  /** Refresh-token strategy: where refresh tokens are revoked on teardown (RFC 7009). */
  revokeUrl?: string | null;
  /** Real-user inactivity before teardown, in ms. Default 15 minutes. */
  idleTimeoutMs?: number;
  /** 'idlewarning' this long before an idle teardown, in ms; 0 turns it off. Default 60 s. */
  warnBeforeIdleMs?: number;
  /** Proactive renewal margin, in ms. Default min(60 s, token lifetime / 4), at most lifetime / 2. */
  renewBeforeExpiryMs?: number | null;
  /** Absolute cap from sign-in, in ms, whatever the activity. */
  maxSessionMs?: number | null;
  /** The only origins that ever receive the bearer token. Default: the page's origin. */
  allowedOrigins?: string[];
  /** Share activity, tokens and sign-out between same-origin tabs. Default true. */
  crossTab?: boolean;
  /** POSTed (keepalive) on teardown to end the server session. */
  logoutUrl?: string | null;
  /** Told of each decision, one line each (`console` will do). Default: silent. */
  logger?: AuthLogger | null;
}

/** An OAuth 2.0 token response (RFC 6749 section 5.1), as `setSession` takes it. */
export interface TokenResponse {
  access_token: string;
  /** Lifetime in seconds from receipt (a number or a string of digits). Absent: a JWT's `exp − iat`, else 5 min. */
  expires_in?: number | string;
  /** "Bearer" (any case) or absent. */
  token_type?: string;
  refresh_token?: string;
}

/** What `state` reports. */
export type AuthState = "signedOut" | "active" | "warning" | "expired";

/** Why tokens were torn down. */
export type ExpiredReason = "idle" | "session" | "maxSession" | "logout" | "remote";

/** The `code` of an `error` event. */
export type RenewErrorCode = "renew_network_error" | "renew_failed" | "renew_timeout" | "bad_token_response";

/** Every event and the type of its `detail`. Times are ms since the epoch. */
export interface AuthEventMap {
  /** A session began in this tab: `setSession`, a successful `start()`, or another tab's session joined. */
  signedin: { expiresAt: number };
  /** `state` changed. */
  statechange: { state: AuthState };
  /** A new access token was stored. */
  renewed: { expiresAt: number };
  /** `warnBeforeIdleMs` before an idle teardown. */
  idlewarning: { expiresAt: number };
  /** Activity after a warning cancelled it. */
  active: {};
  /** Tokens were torn down. */
  expired: { reason: ExpiredReason };
  /** A renewal failed for a reason other than a rejected session. */
  error: { code: RenewErrorCode; message: string; status?: number };
}

/** The name of an event. */
export type AuthEvent = keyof AuthEventMap;

/** The `code` of an error authpulse throws or rejects with. */
export type AuthErrorCode =
  | "invalid_option"
  | "bad_token_response"
  | "unknown_event"
  | "invalid_listener"
  | "disposed"
  | "not_initialized"
  | "unsupported_environment"
  | "wasm_load_failed"
  | "wasm_blocked";

/** An `Error`/`TypeError` thrown or rejected by authpulse, with a stable `code`. */
export interface AuthError extends Error {
  code: AuthErrorCode;
  /** For `invalid_option`: the option's name. */
  option?: string;
}

/** Keeps a user signed in while they really use the app; signs them out after real inactivity. */
export class AuthClient {
  /**
   * Validates `options` (a `TypeError` with code `invalid_option` names the offending one). Throws
   * `unsupported_environment` without a `window` and `document` (on a server, in Node) before it
   * opens anything, and `not_initialized` before `init()` resolved.
   */
  constructor(options?: AuthClientOptions);
  /** Resumes through the auth session: one renewal; resolves to `true` if signed in. */
  start(): Promise<boolean>;
  /** Signs in with the token response of the app's own login; a malformed one throws. */
  setSession(tokenResponse: TokenResponse): void;
  /** `window.fetch` with the bearer token for allowed origins, renewed when needed, and one retry on 401. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** A fresh access token (renewed first if near expiry), or `null` when signed out. */
  getAccessToken(): Promise<string | null>;
  /** App-reported activity: counts like a user event. */
  touch(): void;
  /** Tears down now (reason `logout`) and ends the server session. */
  logout(): Promise<void>;
  /** Calls `listener` with each `event`'s detail; returns the function that unsubscribes it. */
  on<K extends AuthEvent>(event: K, listener: (detail: AuthEventMap[K]) => void): () => void;
  /** Deadlines checked first. */
  readonly state: AuthState;
  /** When the idle teardown is due (ms since the epoch), or `null` when not signed in. */
  readonly idleExpiresAt: number | null;
  /** When the current access token expires (ms since the epoch), or `null` when there is none. */
  readonly tokenExpiresAt: number | null;
  /** Removes every listener, timer and request of this client and forgets its tokens. */
  dispose(): void;
}

/** Loads the WebAssembly module once (`init()`), then builds a client. */
export function createAuthClient(options?: AuthClientOptions): Promise<AuthClient>;
