import { createAuthClient } from "authpulse";
import { mountApp } from "./app";

const root = document.getElementById("app")!;
// logger: why it renewed, why it signed the user out, on the console.
createAuthClient({ renewUrl: "/auth/renew", logoutUrl: "/auth/logout", logger: console }).then(
  (auth) => mountApp(root, auth),
  // An AuthError: wasm_load_failed and wasm_blocked say what to change.
  (error: unknown) => (root.textContent = String(error)),
);
