// Compiles without an error: every option, method, event and getter of the contract (section 1),
// as an app writes them. Checked by types.mjs with `strict`, lib ES2020 + DOM, skipLibCheck false.
import {
  AuthClient,
  createAuthClient,
  init,
  type AuthClientOptions,
  type AuthError,
  type AuthErrorCode,
  type AuthEvent,
  type AuthEventMap,
  type AuthLogger,
  type AuthState,
  type ExpiredReason,
  type RenewErrorCode,
  type TokenResponse,
} from "authpulse";

const logger: AuthLogger = console;
const options: AuthClientOptions = {
  renewUrl: "/auth/renew",
  tokenEndpoint: "https://idp.example/token",
  clientId: "spa",
  revokeUrl: "https://idp.example/revoke",
  idleTimeoutMs: 15 * 60_000,
  warnBeforeIdleMs: 60_000,
  renewBeforeExpiryMs: 60_000,
  maxSessionMs: null,
  allowedOrigins: [location.origin, "https://api.example"],
  crossTab: true,
  logoutUrl: "/auth/logout",
  logger,
};
const nulls: AuthClientOptions = { revokeUrl: null, renewBeforeExpiryMs: null, maxSessionMs: 8 * 3_600_000, logoutUrl: null, logger: null };

export async function app(): Promise<void> {
  // Every source init() takes.
  await init();
  await init("/assets/authpulse_bg.wasm");
  await init(new URL("https://cdn.example/authpulse_bg.wasm"));
  await init(new Request("/authpulse_bg.wasm"));
  await init(fetch("/authpulse_bg.wasm"));
  await init(await fetch("/authpulse_bg.wasm"));
  await init(new ArrayBuffer(8));
  await init(new Uint8Array(8));
  await init(await WebAssembly.compile(new Uint8Array(8)));
  const loaded: void = await init();

  const auth: AuthClient = await createAuthClient(options);
  const plain = new AuthClient();
  const other = await createAuthClient();
  new AuthClient(nulls).dispose();

  const resumed: boolean = await auth.start();
  const tokens: TokenResponse = { access_token: "a", expires_in: 300, token_type: "Bearer", refresh_token: "r" };
  auth.setSession(tokens);
  auth.setSession({ access_token: "a", expires_in: "3599" });
  auth.setSession({ access_token: "a" });
  const response: Response = await auth.fetch("/api/me");
  await auth.fetch(new Request("/api/me"), { method: "POST", body: "{}" });
  await auth.fetch(new URL("https://api.example/items"), { headers: { "X-Trace": "1" } });
  const token: string | null = await auth.getAccessToken();
  auth.touch();
  await auth.logout();

  const state: AuthState = auth.state;
  const idle: number | null = auth.idleExpiresAt;
  const expiry: number | null = auth.tokenExpiresAt;

  const offs: Array<() => void> = [
    auth.on("signedin", ({ expiresAt }) => expiresAt.toFixed()),
    auth.on("statechange", ({ state }) => state satisfies AuthState),
    auth.on("renewed", ({ expiresAt }) => new Date(expiresAt)),
    auth.on("idlewarning", ({ expiresAt }) => expiresAt - Date.now()),
    auth.on("active", (detail) => detail),
    auth.on("expired", ({ reason }) => {
      const why: ExpiredReason = reason;
      if (why === "idle" || why === "session" || why === "maxSession" || why === "logout" || why === "remote") return;
    }),
    auth.on("error", ({ code, message, status }) => {
      const c: RenewErrorCode = code;
      return `${c} ${message} ${status ?? ""}`;
    }),
  ];
  offs.forEach((off) => off());

  // A listener for any event, through the map.
  const every = <K extends AuthEvent>(name: K, listener: (detail: AuthEventMap[K]) => void) => auth.on(name, listener);
  every("statechange", ({ state }) => state);

  try {
    new AuthClient({ idleTimeoutMs: -1 });
  } catch (error) {
    const e = error as AuthError;
    const code: AuthErrorCode = e.code;
    const option: string | undefined = e.option;
    if (code === "wasm_load_failed" || code === "wasm_blocked" || code === "not_initialized" || code === "unsupported_environment") {
      console.warn(e.message, option);
    }
  }

  auth.dispose();
  plain.dispose();
  other.dispose();
  console.log(loaded, resumed, response.status, token, state, idle, expiry);
}
